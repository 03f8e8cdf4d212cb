// The repeat-buying models: BG/NBD (Fader, Hardie & Lee 2005), MBG/NBD (Batislam, Denizel &
// Filiztekin 2007), Pareto/NBD (Schmittlein et al. 1987, as in FHL 2005) and the Gamma-Gamma spend
// model (Fader & Hardie 2013). Every formula is in log space; the fits work on grouped sufficient
// statistics, so their cost does not grow with the number of orders (or of customers with the same
// history), and they never read the clock: the same data give the same parameters, bit for bit.
import { digamma, lbeta, lgamma, log2F1, logAddExp, logPowerIntegral } from './special.ts';
import { minimiseWithSample } from './optimize.ts';

/** Customers sharing one history: x repeat purchases, the last at tx, observed for T (model time units). */
export interface HistoryGroup {
  x: number;
  tx: number;
  T: number;
  count: number;
}

export interface BgNbd {
  r: number;
  alpha: number;
  a: number;
  b: number;
}
/** As BG/NBD, but a customer may also drop out right after the first purchase. */
export interface MbgNbd {
  r: number;
  alpha: number;
  a: number;
  b: number;
}
export interface ParetoNbd {
  r: number;
  alpha: number;
  s: number;
  beta: number;
}
export interface GammaGamma {
  p: number;
  q: number;
  gamma: number;
}

export interface FitOptions {
  /**
   * With more history groups than this, the optimum is found on a uniform sample of customers and
   * then polished on all of them (or, with polish false, taken from the sample: for a model that is
   * only compared, not used for scoring).
   */
  sampleAbove?: number;
  polish?: boolean;
}

/** A deterministic, uniform (systematic) sample of about `size` customers, as history groups. */
export function sampleGroups(groups: HistoryGroup[], size: number): HistoryGroup[] {
  const total = groups.reduce((sum, g) => sum + g.count, 0);
  if (total <= size) return groups;
  const step = total / size;
  const sample: HistoryGroup[] = [];
  let next = step / 2;
  let seen = 0;
  for (const g of groups) {
    let picked = 0;
    while (next < seen + g.count) {
      picked++;
      next += step;
    }
    seen += g.count;
    if (picked > 0) sample.push({ ...g, count: picked });
  }
  return sample;
}

const defaultSampleAbove = 20_000;

export interface FitOutcome<P> {
  params: P;
  /**
   * The fit was made on a sample of customers only (not polished on all); its log-likelihood is
   * then that of the sample, of `sampleCustomers` customers.
   */
  sampled?: boolean;
  sampleCustomers?: number;
  logLikelihood: number;
  converged: boolean;
  /** Starting points that reached the same optimum. */
  startsAgreeing: number;
  starts: number;
  regularised: boolean;
  /**
   * The fit found no dropout in the history (dropout parameters at the edge of their range, or a
   * negligible mean dropout): P(alive) is then near 1 for everyone, whenever they last bought, and
   * carries no information. Always false for Gamma-Gamma.
   */
  dropoutDegenerate: boolean;
  warnings: string[];
}

/** Below this many repeat buyers the fit is pulled towards typical values (a weak prior) and says so. */
export const smallDataRepeaters = 100;
const priorSd = 1.0;

/**
 * Log-parameters are kept within this distance of a data-scaled centre. Beyond it a model has
 * degenerated (e.g. r and alpha growing without bound when every customer buys at the same rate,
 * as with subscriptions); the fit stops at the bound and says so.
 */
const logBound = 9;
/**
 * How far a point lies outside the box around the centre (0 inside). Outside, objectives are taken
 * at the nearest point of the box plus a steep penalty on the distance, so the optimiser slides to
 * the edge instead of stalling on a cliff.
 */
function boxed(logParams: number[], centre: number[]): { inside: number[]; excess: number } {
  let excess = 0;
  const inside = logParams.map((v, i) => {
    const d = v - centre[i];
    if (Math.abs(d) <= logBound) return v;
    excess += (Math.abs(d) - logBound) ** 2;
    return centre[i] + Math.sign(d) * logBound;
  });
  return { inside, excess };
}
const boundPenalty = 1e4;
/** -1 or 1 for a log-parameter at the lower or upper edge of the box, else 0. */
const edgeOf = (logParams: number[], centre: number[], i: number) =>
  Math.abs(logParams[i] - centre[i]) > logBound - 0.05 ? Math.sign(logParams[i] - centre[i]) : 0;
function boundWarnings(model: string, names: string[], logParams: number[], centre: number[]): string[] {
  const hit = names.filter((_, i) => edgeOf(logParams, centre, i) !== 0);
  return hit.length
    ? [
        `${model}: ${hit.join(', ')} reached the edge of the plausible range: the data show little of the heterogeneity the model assumes (customers buy at very similar rates); scores are usable, parameters are not meaningful`,
      ]
    : [];
}
/** Below this, a mean dropout (per purchase, or per purchase interval) shows no dropout at all. */
const negligibleDropout = 1e-4;
/**
 * The edges of a purchase-and-dropout model, said for what they are. Log-parameters are [rate shape,
 * rate scale, dropout first, dropout second]; `dropoutVanishes` is the direction of each dropout
 * parameter in which dropout disappears (BG family: a → 0, b → ∞; Pareto/NBD: s → 0, β → ∞).
 * Rates at the edge: customers buy at very similar rates, scores stay usable. Dropout vanishing
 * (or a negligible mean dropout): P(alive) is near 1 for everyone and its scores are not usable.
 * Both dropout parameters growing together: everyone drops out at about the same rate.
 */
function edgeReport(
  model: string,
  names: string[],
  logParams: number[],
  centre: number[],
  meanDropout: number,
): { warnings: string[]; dropoutDegenerate: boolean } {
  const edges = names.map((_, i) => edgeOf(logParams, centre, i));
  const dropoutVanishes = [-1, 1];
  const vanishing = [2, 3].filter((i) => edges[i] === dropoutVanishes[i - 2]);
  // Both growing without bound (a, b → ∞) keeps the mean dropout: not a vanishing one.
  const dropoutDegenerate =
    (vanishing.length > 0 && !(edges[2] === 1 && edges[3] === 1)) || meanDropout < negligibleDropout;
  const warnings = boundWarnings(model, names.slice(0, 2), logParams, centre);
  const dropout = [2, 3].filter((i) => edges[i] !== 0).map((i) => names[i]);
  if (dropoutDegenerate)
    warnings.push(
      `${model}: no dropout is visible in this history${dropout.length ? ` (${dropout.join(', ')} reached the edge of the plausible range)` : ''}: the fitted chance of dropping out is negligible, so P(alive) is near 1 for everyone however long ago they bought; P(alive) carries no information and scores based on it are not usable`,
    );
  else if (dropout.length)
    warnings.push(
      `${model}: ${dropout.join(', ')} reached the edge of the plausible range: the data show little heterogeneity in dropout (customers drop out at very similar rates); scores are usable, parameters are not meaningful`,
    );
  return { warnings, dropoutDegenerate };
}

const penalty = (logParams: number[], logPrior: number[]) =>
  logParams.reduce((sum, v, i) => sum + (v - logPrior[i]) ** 2 / (2 * priorSd ** 2), 0);

function summarise(groups: HistoryGroup[]) {
  let customers = 0;
  let repeaters = 0;
  let purchases = 0;
  let exposure = 0;
  for (const g of groups) {
    customers += g.count;
    if (g.x > 0) repeaters += g.count;
    purchases += g.x * g.count;
    exposure += g.T * g.count;
  }
  return { customers, repeaters, purchases, exposure };
}

function fitWarnings(
  converged: boolean,
  agreeing: number,
  starts: number,
  regularised: boolean,
  repeaters: number,
  model: string,
): string[] {
  const warnings: string[] = [];
  if (!converged)
    warnings.push(
      `${model}: the optimiser did not converge; the parameters are the best found and should not be trusted`,
    );
  else if (agreeing < Math.min(2, starts))
    warnings.push(
      `${model}: only ${agreeing} of ${starts} starting points reached this optimum; the likelihood may have several`,
    );
  if (regularised)
    warnings.push(
      `${model}: only ${repeaters} repeat buyers (under ${smallDataRepeaters}); estimates are pulled towards typical values`,
    );
  return warnings;
}

/** A total log-likelihood that, given `gradient`, also writes its derivatives by the parameters there. */
type Likelihood<P> = (params: P, gradient?: number[]) => number;

/**
 * The objective minimised: minus the log-likelihood by log-parameters, inside the box (plus the weak
 * prior on small data), with the box penalty outside; and its gradient, when asked.
 */
function logObjective<P>(
  likelihood: Likelihood<P>,
  toParams: (values: number[]) => P,
  logPrior: number[],
  regularised: boolean,
): (v: number[], gradient?: number[]) => number {
  return (v, gradient) => {
    const { inside: w, excess } = boxed(v, logPrior);
    const value =
      -likelihood(toParams(w.map(Math.exp)), gradient) +
      (regularised ? penalty(w, logPrior) : 0) +
      boundPenalty * excess;
    // By the log-parameters: the likelihood's part only inside the box, the penalties' as they are.
    gradient?.forEach((g, i) => {
      const d = v[i] - logPrior[i];
      gradient[i] =
        Math.abs(d) <= logBound
          ? -g * Math.exp(w[i]) + (regularised ? (w[i] - logPrior[i]) / priorSd ** 2 : 0)
          : 2 * boundPenalty * (Math.abs(d) - logBound) * Math.sign(d);
    });
    return value;
  };
}

// ---------------------------------------------------------------------------------------------
// BG/NBD and MBG/NBD: a customer active at some moment buys at rate λ (gamma across customers) and
// drops out with chance p (beta across customers) right after a purchase: after each repeat purchase
// in BG/NBD, after the first purchase too in MBG/NBD. With n such chances taken (n = x, or x + 1),
//   L = Γ(r+x)/Γ(r) α^r [B(a, b+n)/B(a,b) (α+T)^-(r+x) + B(a+1, b+n-1)/B(a,b) (α+tx)^-(r+x)],
// the second term (dropped out at the last purchase, tx) only when n > 0.

/** Dropout chances taken by a history of x repeat purchases. */
const chancesAfterFirst = { bgnbd: 0, mbgnbd: 1 } as const;
type DropoutModel = keyof typeof chancesAfterFirst;

export function bgnbdLogLikelihood(
  { r, alpha, a, b }: BgNbd,
  { x, tx, T }: Pick<HistoryGroup, 'x' | 'tx' | 'T'>,
): number {
  const common = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) - lbeta(a, b);
  const stays = lbeta(a, b + x) - (r + x) * Math.log(alpha + T);
  if (x === 0) return common + stays;
  const dropped = lbeta(a + 1, b + x - 1) - (r + x) * Math.log(alpha + tx);
  return common + logAddExp(stays, dropped);
}

/** Distinct values and, per item, the index of its value: logs are taken once per distinct value. */
function distinct(values: number[]): { values: Float64Array; index: Int32Array } {
  const unique = [...new Set(values)];
  const at = new Map(unique.map((v, i) => [v, i]));
  return { values: Float64Array.from(unique), index: Int32Array.from(values, (v) => at.get(v)!) };
}

function dropoutLikelihood(groups: HistoryGroup[], model: DropoutModel): Likelihood<BgNbd | MbgNbd> {
  const first = chancesAfterFirst[model];
  // Gamma and beta functions depend on x only, the logs on T or tx only: each is computed once per
  // distinct value, not once per group.
  const xs = distinct(groups.map((g) => g.x));
  const Ts = distinct(groups.map((g) => g.T));
  const txs = distinct(groups.map((g) => g.tx));
  const n = groups.length;
  const gx = Float64Array.from(groups, (g) => g.x);
  const gc = Float64Array.from(groups, (g) => g.count);
  const stays = new Float64Array(xs.values.length);
  const dropped = new Float64Array(xs.values.length);
  const logT = new Float64Array(Ts.values.length);
  const logTx = new Float64Array(txs.values.length);
  // For the gradient: per distinct x, the customers and their total weight on "still active at T".
  const customers = new Float64Array(xs.values.length);
  const stayWeight = new Float64Array(xs.values.length);
  for (let i = 0; i < n; i++) customers[xs.index[i]] += gc[i];
  const total = customers.reduce((sum, c) => sum + c, 0);
  return ({ r, alpha, a, b }, gradient) => {
    const base = -lgamma(r) + r * Math.log(alpha) - lbeta(a, b);
    xs.values.forEach((x, i) => {
      const lg = lgamma(r + x) + base;
      const chances = x + first;
      stays[i] = lg + lbeta(a, b + chances);
      dropped[i] = chances > 0 ? lg + lbeta(a + 1, b + chances - 1) : -Infinity;
    });
    Ts.values.forEach((T, i) => {
      logT[i] = Math.log(alpha + T);
    });
    txs.values.forEach((tx, i) => {
      logTx[i] = Math.log(alpha + tx);
    });
    let sum = 0;
    if (!gradient) {
      for (let i = 0; i < n; i++) {
        const x = gx[i];
        const xi = xs.index[i];
        const s = stays[xi] - (r + x) * logT[Ts.index[i]];
        if (x + first === 0) {
          sum += gc[i] * s;
        } else {
          const d = dropped[xi] - (r + x) * logTx[txs.index[i]];
          sum += gc[i] * (s > d ? s + Math.log1p(Math.exp(d - s)) : d + Math.log1p(Math.exp(s - d)));
        }
      }
      return sum;
    }
    // Each group's likelihood mixes "still active" (s) and "dropped out after tx" (d); the
    // derivative of each part is weighted by its share w of the group's likelihood.
    stayWeight.fill(0);
    let dr = 0;
    let dAlpha = 0;
    for (let i = 0; i < n; i++) {
      const x = gx[i];
      const xi = xs.index[i];
      const c = gc[i];
      const lT = logT[Ts.index[i]];
      const s = stays[xi] - (r + x) * lT;
      if (x + first === 0) {
        sum += c * s;
        stayWeight[xi] += c;
        dr -= c * lT;
        dAlpha -= (c * r) / (alpha + Ts.values[Ts.index[i]]);
        continue;
      }
      const lTx = logTx[txs.index[i]];
      const d = dropped[xi] - (r + x) * lTx;
      let w: number;
      if (s > d) {
        const e = Math.exp(d - s);
        sum += c * (s + Math.log1p(e));
        w = 1 / (1 + e);
      } else {
        const e = Math.exp(s - d);
        sum += c * (d + Math.log1p(e));
        w = e / (1 + e);
      }
      stayWeight[xi] += c * w;
      dr -= c * (w * lT + (1 - w) * lTx);
      dAlpha -= c * (r + x) * (w / (alpha + Ts.values[Ts.index[i]]) + (1 - w) / (alpha + txs.values[txs.index[i]]));
    }
    // The parts that depend on x only, summed per distinct x.
    let da = 0;
    let db = 0;
    const [psiR, psiA, psiB, psiAB] = [digamma(r), digamma(a), digamma(b), digamma(a + b)];
    xs.values.forEach((x, i) => {
      const c = customers[i];
      const w = stayWeight[i];
      const chances = x + first;
      const psiABN = digamma(a + b + chances);
      dr += c * (digamma(r + x) - psiR);
      da += c * (psiAB - psiA) + w * (psiA - psiABN) + (chances > 0 ? (c - w) * (digamma(a + 1) - psiABN) : 0);
      db +=
        c * (psiAB - psiB) +
        w * (digamma(b + chances) - psiABN) +
        (chances > 0 ? (c - w) * (digamma(b + chances - 1) - psiABN) : 0);
    });
    gradient[0] = dr + total * Math.log(alpha);
    gradient[1] = dAlpha + (total * r) / alpha;
    gradient[2] = da;
    gradient[3] = db;
    return sum;
  };
}

/**
 * The total log-likelihood as a function of the parameters, with the data laid out for speed; given
 * `gradient`, its derivatives by r, alpha, a and b are written there too.
 */
export const bgnbdLikelihood = (groups: HistoryGroup[]): Likelihood<BgNbd> => dropoutLikelihood(groups, 'bgnbd');
/** As bgnbdLikelihood, for MBG/NBD. */
export const mbgnbdLikelihood = (groups: HistoryGroup[]): Likelihood<MbgNbd> => dropoutLikelihood(groups, 'mbgnbd');

export const bgnbdTotalLogLikelihood = (params: BgNbd, groups: HistoryGroup[]) => bgnbdLikelihood(groups)(params);

const modelNames = { bgnbd: 'BG/NBD', mbgnbd: 'MBG/NBD' } as const;

function fitDropoutModel(groups: HistoryGroup[], options: FitOptions, model: DropoutModel): FitOutcome<BgNbd> {
  const name = modelNames[model];
  const stats = summarise(groups);
  if (stats.repeaters === 0) throw new Error(`${name} needs at least one customer with a repeat purchase`);
  const meanRate = stats.purchases / stats.exposure;
  const logPrior = [0, Math.log(1 / meanRate), 0, Math.log(3)];
  const regularised = stats.repeaters < smallDataRepeaters;
  const toParams = ([r, alpha, a, b]: number[]) => ({ r, alpha, a, b });
  const likelihood = dropoutLikelihood(groups, model);
  const objective = logObjective(likelihood, toParams, logPrior, regularised);
  const starts = [
    [1, 1, 1, 3],
    [0.3, 0.3, 0.8, 2.5],
    [3, 3, 2, 6],
  ].map(([r, scale, a, b]) => [Math.log(r), Math.log((r * scale) / meanRate), Math.log(a), Math.log(b)]);
  const large = groups.length > (options.sampleAbove ?? defaultSampleAbove);
  const sampled = large
    ? dropoutLikelihood(sampleGroups(groups, options.sampleAbove ?? defaultSampleAbove), model)
    : undefined;
  const fit = minimiseWithSample(objective, sampled && logObjective(sampled, toParams, logPrior, regularised), starts, {
    polish: options.polish ?? true,
    gradient: true,
  });
  fit.x = boxed(fit.x, logPrior).inside;
  const params = toParams(fit.x.map(Math.exp));
  const edges = edgeReport(name, ['r', 'alpha', 'a', 'b'], fit.x, logPrior, params.a / (params.a + params.b));
  return {
    params,
    logLikelihood: likelihood(params),
    converged: fit.converged,
    startsAgreeing: fit.agreeing,
    starts: fit.starts,
    sampled: large && options.polish === false,
    regularised,
    dropoutDegenerate: edges.dropoutDegenerate,
    warnings: [
      ...fitWarnings(fit.converged, fit.agreeing, fit.starts, regularised, stats.repeaters, name),
      ...edges.warnings,
    ],
  };
}

export const fitBgNbd = (groups: HistoryGroup[], options: FitOptions = {}): FitOutcome<BgNbd> =>
  fitDropoutModel(groups, options, 'bgnbd');
export const fitMbgNbd = (groups: HistoryGroup[], options: FitOptions = {}): FitOutcome<MbgNbd> =>
  fitDropoutModel(groups, options, 'mbgnbd');

/** 1 / (1 + e^logOdds), without overflow. */
const inverseLogit = (logOdds: number) =>
  logOdds > 0 ? Math.exp(-logOdds) / (1 + Math.exp(-logOdds)) : 1 / (1 + Math.exp(logOdds));

/** Probability the customer is still active; 1 for a customer without repeat purchases (the model's assumption). */
export function bgnbdPAlive({ r, alpha, a, b }: BgNbd, x: number, tx: number, T: number): number {
  if (x === 0) return 1;
  return inverseLogit(Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx)));
}

/** Probability the customer is still active; below 1 even without repeat purchases. */
export function mbgnbdPAlive({ r, alpha, a, b }: MbgNbd, x: number, tx: number, T: number): number {
  return inverseLogit(Math.log(a) - Math.log(b + x) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx)));
}

/**
 * Expected purchases in (T, T + t] of a customer still active at T: it depends on x and T only, and
 * times P(alive) it is the conditional expectation.
 */
export function bgnbdExpectedIfAlive({ r, alpha, a, b }: BgNbd, t: number, x: number, T: number): number {
  if (t <= 0) return 0;
  const z = t / (alpha + T + t);
  const logH = (r + x) * Math.log((alpha + T) / (alpha + T + t)) + log2F1(r + x, b + x, a + b + x - 1, z);
  return ((a + b + x - 1) / (a - 1)) * -Math.expm1(logH);
}

/**
 * As bgnbdExpectedIfAlive, for MBG/NBD: an active customer's dropout chance has the posterior
 * beta(a, b + x + 1), one more survived chance than in BG/NBD.
 */
export function mbgnbdExpectedIfAlive({ r, alpha, a, b }: MbgNbd, t: number, x: number, T: number): number {
  return bgnbdExpectedIfAlive({ r, alpha, a, b: b + 1 }, t, x, T);
}

/** Expected purchases in (T, T + t] given the history. */
export function bgnbdConditionalExpected(params: BgNbd, t: number, x: number, tx: number, T: number): number {
  return bgnbdExpectedIfAlive(params, t, x, T) * bgnbdPAlive(params, x, tx, T);
}

export function mbgnbdConditionalExpected(params: MbgNbd, t: number, x: number, tx: number, T: number): number {
  return mbgnbdExpectedIfAlive(params, t, x, T) * mbgnbdPAlive(params, x, tx, T);
}

/** Expected repeat purchases of a new customer in their first t time units. */
export function bgnbdUnconditionalExpected({ r, alpha, a, b }: BgNbd, t: number): number {
  if (t <= 0) return 0;
  const logH = r * Math.log(alpha / (alpha + t)) + log2F1(r, b, a + b - 1, t / (alpha + t));
  return ((a + b - 1) / (a - 1)) * -Math.expm1(logH);
}

/**
 * As bgnbdUnconditionalExpected, for MBG/NBD: E[(1-p)/p (1 - e^-λpt)], the new customer surviving
 * the first purchase with chance 1 - p.
 */
export function mbgnbdUnconditionalExpected({ r, alpha, a, b }: MbgNbd, t: number): number {
  if (t <= 0) return 0;
  const logH = r * Math.log(alpha / (alpha + t)) + log2F1(r, b + 1, a + b, t / (alpha + t));
  return (b / (a - 1)) * -Math.expm1(logH);
}

/**
 * Probability that a customer active at T buys in (T, T + t]. In both models dropout happens only
 * at a purchase, so an active customer fails to buy exactly when the gamma-mixed Poisson count is
 * zero; λ's posterior given activity is gamma(r + x, α + T).
 */
export function bgnbdBuyIfAlive({ r, alpha }: BgNbd | MbgNbd, t: number, x: number, T: number): number {
  return t <= 0 ? 0 : -Math.expm1(-(r + x) * Math.log1p(t / (alpha + T)));
}
export const mbgnbdBuyIfAlive: (params: MbgNbd, t: number, x: number, T: number) => number = bgnbdBuyIfAlive;

/** Probability of at least one purchase in (T, T + t] given the history. */
export const bgnbdPBuy = (params: BgNbd, t: number, x: number, tx: number, T: number) =>
  bgnbdBuyIfAlive(params, t, x, T) * bgnbdPAlive(params, x, tx, T);
export const mbgnbdPBuy = (params: MbgNbd, t: number, x: number, tx: number, T: number) =>
  mbgnbdBuyIfAlive(params, t, x, T) * mbgnbdPAlive(params, x, tx, T);

// ---------------------------------------------------------------------------------------------
// Pareto/NBD: purchases at rate λ (gamma(r, α)) until an exponential dropout time at rate μ
// (gamma(s, β)). Integrating the dropout time τ out over (tx, T],
//   L = Γ(r+x)/Γ(r) α^r β^s [(α+T)^-(r+x) (β+T)^-s + s ∫ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ],
// and the integral, by Gauss-Legendre (logPowerIntegral), gives the derivatives by every parameter
// as integrals of the same integrand times ln(α+τ), 1/(α+τ), ln(β+τ), 1/(β+τ): no ₂F₁, whose series
// converge slowly for some histories and units, and an exact gradient for BFGS.

/** ln of the "dropped out between tx and T" part, without the Γ(r+x)/Γ(r) α^r β^s factor. */
const paretoLogGone = ({ r, alpha, s, beta }: ParetoNbd, x: number, tx: number, T: number, moments?: Float64Array) =>
  tx < T ? Math.log(s) + logPowerIntegral(alpha, r + x, beta, s + 1, tx, T, moments) : -Infinity;
const paretoLogAlive = ({ r, alpha, s, beta }: ParetoNbd, x: number, T: number) =>
  -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);

export function paretoLogLikelihood(params: ParetoNbd, { x, tx, T }: Pick<HistoryGroup, 'x' | 'tx' | 'T'>): number {
  const { r, alpha, s, beta } = params;
  const common = lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  return common + logAddExp(paretoLogAlive(params, x, T), paretoLogGone(params, x, tx, T));
}

/** As bgnbdLikelihood, for Pareto/NBD: derivatives by r, alpha, s and beta. */
export function paretoLikelihood(groups: HistoryGroup[]): Likelihood<ParetoNbd> {
  const xs = distinct(groups.map((g) => g.x));
  const n = groups.length;
  const gx = Float64Array.from(groups, (g) => g.x);
  const gtx = Float64Array.from(groups, (g) => g.tx);
  const gT = Float64Array.from(groups, (g) => g.T);
  const gc = Float64Array.from(groups, (g) => g.count);
  const customers = new Float64Array(xs.values.length);
  for (let i = 0; i < n; i++) customers[xs.index[i]] += gc[i];
  const total = customers.reduce((sum, c) => sum + c, 0);
  const lgammaRX = new Float64Array(xs.values.length);
  const moments = new Float64Array(4);
  return (params, gradient) => {
    const { r, alpha, s, beta } = params;
    xs.values.forEach((x, i) => {
      lgammaRX[i] = lgamma(r + x);
    });
    let sum = total * (-lgamma(r) + r * Math.log(alpha) + s * Math.log(beta));
    let dr = 0;
    let dAlpha = 0;
    let ds = 0;
    let dBeta = 0;
    for (let i = 0; i < n; i++) {
      const x = gx[i];
      const T = gT[i];
      const c = gc[i];
      const alive = paretoLogAlive(params, x, T);
      const gone = paretoLogGone(params, x, gtx[i], T, gradient && moments);
      const both = logAddExp(alive, gone);
      sum += c * (lgammaRX[xs.index[i]] + both);
      if (!gradient) continue;
      // Each part's derivatives weighted by its share of the group's likelihood.
      const w = Math.exp(alive - both);
      const v = gone === -Infinity ? 0 : Math.exp(gone - both);
      dr -= c * (w * Math.log(alpha + T) + v * moments[0]);
      dAlpha -= c * (r + x) * (w / (alpha + T) + v * moments[1]);
      ds += c * (-w * Math.log(beta + T) + v * (1 / s - moments[2]));
      dBeta -= c * ((w * s) / (beta + T) + v * (s + 1) * moments[3]);
    }
    if (gradient) {
      const psiR = digamma(r);
      xs.values.forEach((x, i) => {
        dr += customers[i] * (digamma(r + x) - psiR);
      });
      gradient[0] = dr + total * Math.log(alpha);
      gradient[1] = dAlpha + (total * r) / alpha;
      gradient[2] = ds + total * Math.log(beta);
      gradient[3] = dBeta + (total * s) / beta;
    }
    return sum;
  };
}

export const paretoTotalLogLikelihood = (params: ParetoNbd, groups: HistoryGroup[]) => paretoLikelihood(groups)(params);

export function fitParetoNbd(groups: HistoryGroup[], options: FitOptions = {}): FitOutcome<ParetoNbd> {
  const stats = summarise(groups);
  if (stats.repeaters === 0) throw new Error('Pareto/NBD needs at least one customer with a repeat purchase');
  const meanRate = stats.purchases / stats.exposure;
  const logPrior = [0, Math.log(1 / meanRate), 0, Math.log(1 / meanRate)];
  const regularised = stats.repeaters < smallDataRepeaters;
  const toParams = ([r, alpha, s, beta]: number[]) => ({ r, alpha, s, beta });
  const likelihood = paretoLikelihood(groups);
  const starts = [
    [0.5, 1, 0.5, 1],
    [1, 0.5, 1, 2],
    [0.3, 2, 0.3, 0.5],
  ].map(([r, scaleA, s, scaleB]) => [
    Math.log(r),
    Math.log((r * scaleA) / meanRate),
    Math.log(s),
    Math.log((s * scaleB) / meanRate),
  ]);
  const large = groups.length > (options.sampleAbove ?? defaultSampleAbove);
  const sample = large ? sampleGroups(groups, options.sampleAbove ?? defaultSampleAbove) : undefined;
  const sampleLikelihood = sample && paretoLikelihood(sample);
  // The likelihood is smooth with an exact gradient: BFGS from every start, not Nelder-Mead.
  const fit = minimiseWithSample(
    logObjective(likelihood, toParams, logPrior, regularised),
    sampleLikelihood && logObjective(sampleLikelihood, toParams, logPrior, regularised),
    starts,
    { polish: options.polish ?? true, gradient: true, smooth: true },
  );
  fit.x = boxed(fit.x, logPrior).inside;
  const params = toParams(fit.x.map(Math.exp));
  const kept = sampleLikelihood && options.polish === false;
  // Dropout is negligible when it rarely comes before the next purchase: E[μ] against E[λ].
  const edges = edgeReport(
    'Pareto/NBD',
    ['r', 'alpha', 's', 'beta'],
    fit.x,
    logPrior,
    params.s / params.beta / (params.r / params.alpha),
  );
  return {
    params,
    // A fit kept on its sample reports the sample's likelihood.
    logLikelihood: kept ? sampleLikelihood(params) : likelihood(params),
    converged: fit.converged,
    startsAgreeing: fit.agreeing,
    starts: fit.starts,
    sampled: large && options.polish === false,
    sampleCustomers: kept ? sample!.reduce((count, g) => count + g.count, 0) : undefined,
    regularised,
    dropoutDegenerate: edges.dropoutDegenerate,
    warnings: [
      ...fitWarnings(fit.converged, fit.agreeing, fit.starts, regularised, stats.repeaters, 'Pareto/NBD'),
      ...edges.warnings,
    ],
  };
}

export function paretoPAlive(params: ParetoNbd, x: number, tx: number, T: number): number {
  const logOdds = paretoLogGone(params, x, tx, T) - paretoLogAlive(params, x, T);
  return logOdds === -Infinity ? 1 : inverseLogit(logOdds);
}

/** (β+T)/(s−1) · [1 − ((β+T)/(β+T+t))^(s−1)], with its limit at s = 1. */
function paretoHorizon(s: number, base: number, t: number): number {
  const logRatio = Math.log(base / (base + t));
  return Math.abs(s - 1) < 1e-9 ? -base * logRatio : (base * -Math.expm1((s - 1) * logRatio)) / (s - 1);
}

/** As bgnbdExpectedIfAlive, for Pareto/NBD. */
export function paretoExpectedIfAlive({ r, alpha, s, beta }: ParetoNbd, t: number, x: number, T: number): number {
  if (t <= 0) return 0;
  return ((r + x) / (alpha + T)) * paretoHorizon(s, beta + T, t);
}

export function paretoConditionalExpected(params: ParetoNbd, t: number, x: number, tx: number, T: number): number {
  return t <= 0 ? 0 : paretoExpectedIfAlive(params, t, x, T) * paretoPAlive(params, x, tx, T);
}

export function paretoUnconditionalExpected({ r, alpha, s, beta }: ParetoNbd, t: number): number {
  return (r / alpha) * paretoHorizon(s, beta, t);
}

/**
 * Probability that a customer active at T buys in (T, T + t]: the next purchase comes before both
 * the dropout and T + t. Given λ and μ that is λ/(λ+μ) (1 − e^−(λ+μ)t) = ∫₀ᵗ λ e^−λu e^−μu du, and
 * with the posteriors gamma(r', α') and gamma(s, β') (r' = r + x, α' = α + T, β' = β + T),
 *   ∫₀ᵗ (r'/α') (1 + u/α')^−(r'+1) (1 + u/β')^−s du,
 * which for s → 0 is the NBD's 1 − (1 + t/α')^−r'.
 */
export function paretoBuyIfAlive({ r, alpha, s, beta }: ParetoNbd, t: number, x: number, T: number): number {
  if (t <= 0) return 0;
  const rx = r + x;
  const logP =
    Math.log(rx) +
    rx * Math.log(alpha + T) +
    s * Math.log(beta + T) +
    logPowerIntegral(alpha, rx + 1, beta, s, T, T + t);
  return Math.min(1, Math.exp(logP));
}

export const paretoPBuy = (params: ParetoNbd, t: number, x: number, tx: number, T: number) =>
  paretoBuyIfAlive(params, t, x, T) * paretoPAlive(params, x, tx, T);

// ---------------------------------------------------------------------------------------------
// Gamma-Gamma

/** Repeat buyers' spend: x repeat purchases with mean spend zbar (> 0). */
export interface SpendHistory {
  x: number;
  zbar: number;
}

/** The Gamma-Gamma log-likelihood as a function of the parameters, with the data laid out for speed. */
export function gammaGammaLikelihood(spends: SpendHistory[]): (params: GammaGamma) => number {
  const n = spends.length;
  const xs = Float64Array.from(spends, (h) => h.x);
  const spent = Float64Array.from(spends, (h) => h.x * h.zbar);
  // Σ (p·x − 1)·ln zbar = p·Σ x·ln zbar − Σ ln zbar: two constants.
  let xLogZ = 0;
  let logZ = 0;
  const byX = new Map<number, number>();
  for (const { x, zbar } of spends) {
    xLogZ += x * Math.log(zbar);
    logZ += Math.log(zbar);
    byX.set(x, (byX.get(x) ?? 0) + 1);
  }
  const counts = [...byX.entries()];
  return ({ p, q, gamma }) => {
    let sum = p * xLogZ - logZ;
    for (const [x, count] of counts)
      sum += count * (lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * Math.log(gamma) + p * x * Math.log(x));
    for (let i = 0; i < n; i++) sum -= (p * xs[i] + q) * Math.log(gamma + spent[i]);
    return sum;
  };
}

export const gammaGammaTotalLogLikelihood = (params: GammaGamma, spends: SpendHistory[]) =>
  gammaGammaLikelihood(spends)(params);

export function fitGammaGamma(spends: SpendHistory[], options: FitOptions = {}): FitOutcome<GammaGamma> {
  if (spends.length === 0) throw new Error('Gamma-Gamma needs at least one repeat buyer with positive spend');
  const meanSpend = spends.reduce((sum, h) => sum + h.zbar, 0) / spends.length;
  const regularised = spends.length < smallDataRepeaters;
  // A typical shape: p = 2, q = 3, gamma giving the observed mean spend.
  const logPrior = [Math.log(2), Math.log(3), Math.log(meanSpend)];
  const objectiveOf = (l: (params: GammaGamma) => number) =>
    logObjective(l, ([p, q, gamma]) => ({ p, q, gamma }), logPrior, regularised);
  const likelihood = gammaGammaLikelihood(spends);
  const limit = options.sampleAbove ?? defaultSampleAbove;
  const step = spends.length / limit;
  const sample =
    spends.length > limit ? Array.from({ length: limit }, (_, i) => spends[Math.floor((i + 0.5) * step)]) : undefined;
  const starts = [
    [1, 1, 1],
    [2, 3, 1],
    [5, 5, 0.5],
  ].map(([p, q, share]) => [Math.log(p), Math.log(q), Math.log(share * meanSpend)]);
  const fit = minimiseWithSample(objectiveOf(likelihood), sample && objectiveOf(gammaGammaLikelihood(sample)), starts, {
    polish: true,
  });
  fit.x = boxed(fit.x, logPrior).inside;
  const [p, q, gamma] = fit.x.map(Math.exp);
  const params = { p, q, gamma };
  const warnings = [
    ...fitWarnings(fit.converged, fit.agreeing, fit.starts, regularised, spends.length, 'Gamma-Gamma'),
    ...boundWarnings('Gamma-Gamma', ['p', 'q', 'gamma'], fit.x, logPrior),
  ];
  if (q <= 1)
    warnings.push(
      'Gamma-Gamma: q <= 1, so the mean spend is not finite; expected order values fall back to observed means',
    );
  return {
    params,
    logLikelihood: likelihood(params),
    converged: fit.converged,
    startsAgreeing: fit.agreeing,
    starts: fit.starts,
    regularised,
    dropoutDegenerate: false,
    warnings,
  };
}

/** Expected spend per order given x repeat purchases of mean zbar; the population mean for x = 0. */
export function gammaGammaExpectedSpend({ p, q, gamma }: GammaGamma, x: number, zbar: number): number {
  return (p * (gamma + x * zbar)) / (p * x + q - 1);
}

/**
 * The same fit in another time unit: rates scale (alpha, beta divide by the factor) and every
 * likelihood term gains factor^x (the density of x purchase times; the dropout parts of BG/NBD and
 * MBG/NBD are chances, without a unit), so LL grows by Σx·ln(factor).
 */
export function rescaleFit<P extends BgNbd | MbgNbd | ParetoNbd>(
  fit: FitOutcome<P>,
  factor: number,
  totalRepeatPurchases: number,
): FitOutcome<P> {
  const params = {
    ...fit.params,
    alpha: fit.params.alpha / factor,
    ...('beta' in fit.params ? { beta: fit.params.beta / factor } : {}),
  } as P;
  return { ...fit, params, logLikelihood: fit.logLikelihood + totalRepeatPurchases * Math.log(factor) };
}
