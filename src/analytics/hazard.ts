// Drivers of leaving: a discrete-time hazard model of lapsing, fitted with the complementary log-log
// link so that exp(coefficient) reads as the hazard ratio of the continuous-time proportional-hazards
// (Cox) model behind it. Pure functions over CustomerHistory (history.ts); days throughout.
//
// The person-period data, in the words the docs quote:
// - Calendar periods of `periodDays` (30), the last one ending `lapseDays` (180) before as-of, so that
//   every period's outcome is already known; the first starts after the earliest first order.
// - A customer is at risk in a period when, at its start s, they have ordered before s and their
//   last order before s is at most `lapseDays` before s (active, not yet lapsed).
// - The period is an event (a lapse) when they place no order in [s, s + lapseDays): their final
//   silence begins here. They then leave the risk set until their next order (won back, they re-enter).
// - What the model sees at s: for each experience kind seen in at least `minKindCount` (30) customers,
//   whether they had one in (s - windowDays, s] (`experience:late_delivery`); `followed_up`, whether a
//   problem in that window was followed up within `followUpDays` (2) by s (its hazard ratio is that
//   of a follow-up given a problem); the acquisition channel (`channel:web`) and the category bought
//   most (`category:shoes`), each against its most common value, values of fewer than minKindCount
//   customers pooled as 'other'; `trial` (exactly one order before s); `log_orders`, log(1 + orders
//   before s); and the baseline hazard by days since the last order (`since:0-7` ... up to lapseDays).
//
// A consequence of the definition: a lapse can only begin in the first period after an order. When
// the period before did not lapse, an order came within lapseDays of its start; if none came since,
// it is still ahead, inside this period's window. The since-bands past the period length therefore
// hold no events; fitHazard gives them a hazard of 0 (the maximum-likelihood answer) and fits the
// rest without their rows, which carry no information. The finer bands within the first period keep
// "how long they had already been silent" from being read as the effect of an experience.
import { twoSidedP } from '../campaigns/measurement.ts';
import type { CustomerHistory } from './history.ts';

export interface HazardOptions {
  periodDays: number;
  lapseDays: number;
  windowDays: number;
  followUpDays: number;
  minKindCount: number;
}

/** Person-period rows: a dense row-major design whose first `baseline` columns are the interval dummies (one 1 per row). */
export interface HazardDesign {
  names: string[];
  baseline: number;
  x: Float64Array;
  event: Uint8Array;
  /** The definition the rows were built with; the model keeps it to read a customer the same way. */
  options?: HazardOptions;
}

export interface PersonPeriods extends HazardDesign {
  customer: Int32Array;
  /** Period start of each row. */
  start: Float64Array;
  options: HazardOptions;
}

export interface HazardTerm {
  name: string;
  label: string;
  coefficient: number;
  se: number;
  /** exp(coefficient), with its 95 % interval. */
  hazardRatio: number;
  low: number;
  high: number;
  p: number;
}

/** An interval dummy: the hazard per period at every covariate 0; null coefficient (hazard 0) without events. */
export interface BaselineTerm {
  name: string;
  label: string;
  rows: number;
  events: number;
  coefficient: number | null;
  hazard: number;
  low: number;
  high: number;
}

/** Plain data (it is stored as JSON and read back for post-mortems). */
export interface HazardModel {
  model: 'cloglog-hazard';
  covariates: HazardTerm[];
  baseline: BaselineTerm[];
  /** Covariates that never applied in a fitted row, left out of the fit. */
  dropped: string[];
  logLikelihood: number;
  rows: number;
  events: number;
  iterations: number;
  converged: boolean;
  definition: HazardOptions | null;
}

export interface Driver {
  name: string;
  label: string;
  hazardRatio: number;
  low: number;
  high: number;
  /** The latest such experience. */
  at: number;
}

const defaults: HazardOptions = { periodDays: 30, lapseDays: 180, windowDays: 90, followUpDays: 2, minKindCount: 30 };
const z95 = 1.959964;
const sinceEdges = [7, 14, 30, 90, 180, 365, 730];
const words = (kind: string) => kind.replaceAll('_', ' ');

/** A covariate in plain words ("a late delivery in the last 90 days"). */
function labelOf(name: string, o: HazardOptions): string {
  const [prefix, value] = name.includes(':')
    ? [name.slice(0, name.indexOf(':')), name.slice(name.indexOf(':') + 1)]
    : [name, ''];
  if (prefix === 'experience')
    return `${/^[aeiou]/.test(value) ? 'an' : 'a'} ${words(value)} in the last ${o.windowDays} days`;
  if (prefix === 'channel') return `acquired through ${words(value)}`;
  if (prefix === 'category') return `buys mostly ${words(value)}`;
  if (prefix === 'since') return `${value} days since the last order`;
  if (name === 'followed_up')
    return `a problem in the last ${o.windowDays} days followed up within ${o.followUpDays} days`;
  if (name === 'trial') return 'one order so far';
  if (name === 'log_orders') return 'log(1 + orders so far)';
  return words(name);
}

/** Values of a customer attribute as dummy columns: rare ones pooled as 'other', the most common the reference. */
function levels(values: string[], minCount: number, prefix: string) {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const pooled = (v: string) => ((counts.get(v) ?? 0) < minCount ? 'other' : v);
  const sizes = new Map<string, number>();
  for (const v of values) sizes.set(pooled(v), (sizes.get(pooled(v)) ?? 0) + 1);
  const ordered = [...sizes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const names = ordered
    .slice(1)
    .map(([v]) => `${prefix}:${v}`)
    .sort();
  return { names, of: (v: string) => names.indexOf(`${prefix}:${pooled(v)}`) };
}

/** Calls `row` for each period the customer is at risk in (see the header). */
function walk(
  h: CustomerHistory,
  starts: Float64Array,
  o: HazardOptions,
  row: (s: number, before: number, since: number, event: boolean) => void,
) {
  const orders = h.orders;
  const n = orders.length;
  if (n === 0) return;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= orders[0].at) lo = mid + 1;
    else hi = mid;
  }
  let p = 0;
  let lapsedAfter = -1;
  for (let j = lo; j < starts.length; j++) {
    const s = starts[j];
    while (p < n && orders[p].at < s) p++;
    const since = s - orders[p - 1].at;
    if (since > o.lapseDays || p === lapsedAfter) continue;
    const event = p === n || orders[p].at >= s + o.lapseDays;
    if (event) lapsedAfter = p;
    row(s, p, since, event);
  }
}

/** The person-period rows of every customer (definitions in the header). */
export function personPeriods(
  histories: CustomerHistory[],
  asOf: number,
  options: Partial<HazardOptions> = {},
): PersonPeriods {
  const o: HazardOptions = { ...defaults, ...options };
  let earliest = Number.POSITIVE_INFINITY;
  for (const h of histories) if (h.orders.length) earliest = Math.min(earliest, h.orders[0].at);
  const startList: number[] = [];
  for (let s = asOf - o.lapseDays - o.periodDays; s > earliest; s -= o.periodDays) startList.push(s);
  const starts = Float64Array.from(startList.reverse());

  const kindCustomers = new Map<string, number>();
  for (const h of histories)
    for (const kind of new Set(h.experiences.map((e) => e.kind)))
      kindCustomers.set(kind, (kindCustomers.get(kind) ?? 0) + 1);
  const kinds = [...kindCustomers]
    .filter(([, n]) => n >= o.minKindCount)
    .map(([kind]) => kind)
    .sort();
  const channels = levels(
    histories.map((h) => h.channel ?? 'unknown'),
    o.minKindCount,
    'channel',
  );
  const categories = levels(
    histories.map((h) => h.category ?? 'unknown'),
    o.minKindCount,
    'category',
  );
  const edges = [...sinceEdges.filter((e) => e < o.lapseDays), o.lapseDays];
  const names = [
    ...edges.map((e, i) => `since:${i === 0 ? 0 : edges[i - 1] + 1}-${e}`),
    ...kinds.map((kind) => `experience:${kind}`),
    'followed_up',
    ...channels.names,
    ...categories.names,
    'trial',
    'log_orders',
  ];
  const width = names.length;
  const column = new Map(names.map((name, i) => [name, i]));
  const followedColumn = names.indexOf('followed_up');
  const trialColumn = names.indexOf('trial');
  const ordersColumn = names.indexOf('log_orders');

  let rows = 0;
  const count = () => {
    rows++;
  };
  for (const h of histories) walk(h, starts, o, count);
  const x = new Float64Array(rows * width);
  const event = new Uint8Array(rows);
  const customer = new Int32Array(rows);
  const start = new Float64Array(rows);
  let r = 0;
  for (const h of histories) {
    const experiences = h.experiences;
    const kindColumn = Int32Array.from(experiences, (e) => column.get(`experience:${e.kind}`) ?? -1);
    // When a follow-up of a problem became known (it counts only once it happened, and in time).
    const followedKnown = Float64Array.from(experiences, (e) =>
      e.valence === 'problem' && e.followedUpAt !== null && e.followedUpAt - e.at <= o.followUpDays
        ? e.followedUpAt
        : Number.POSITIVE_INFINITY,
    );
    const dummy = (found: { names: string[]; of: (v: string) => number }, v: string) =>
      found.of(v) < 0 ? -1 : names.indexOf(found.names[found.of(v)]);
    const channelColumn = dummy(channels, h.channel ?? 'unknown');
    const categoryColumn = dummy(categories, h.category ?? 'unknown');
    let lo = 0;
    let hi = 0;
    walk(h, starts, o, (s, before, since, lapsed) => {
      const at = r * width;
      let band = 0;
      while (since > edges[band]) band++;
      x[at + band] = 1;
      while (hi < experiences.length && experiences[hi].at <= s) hi++;
      while (lo < hi && experiences[lo].at <= s - o.windowDays) lo++;
      for (let j = lo; j < hi; j++) {
        if (kindColumn[j] >= 0) x[at + kindColumn[j]] = 1;
        if (followedKnown[j] <= s) x[at + followedColumn] = 1;
      }
      if (channelColumn >= 0) x[at + channelColumn] = 1;
      if (categoryColumn >= 0) x[at + categoryColumn] = 1;
      if (before === 1) x[at + trialColumn] = 1;
      x[at + ordersColumn] = Math.log1p(before);
      event[r] = lapsed ? 1 : 0;
      customer[r] = h.customerId;
      start[r] = s;
      r++;
    });
  }
  return { names, baseline: edges.length, x, event, customer, start, options: o };
}

/** Lower Cholesky factor of the symmetric q x q matrix a (row-major), or null when it is not positive definite. */
function cholesky(a: Float64Array, q: number): Float64Array | null {
  const l = new Float64Array(q * q);
  for (let i = 0; i < q; i++)
    for (let j = 0; j <= i; j++) {
      let sum = a[i * q + j];
      for (let k = 0; k < j; k++) sum -= l[i * q + k] * l[j * q + k];
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * q + i] = Math.sqrt(sum);
      } else l[i * q + j] = sum / l[j * q + j];
    }
  return l;
}

/** Solves L L' x = b. */
function solve(l: Float64Array, q: number, b: Float64Array): Float64Array {
  const y = Float64Array.from(b);
  for (let i = 0; i < q; i++) {
    for (let k = 0; k < i; k++) y[i] -= l[i * q + k] * y[k];
    y[i] /= l[i * q + i];
  }
  for (let i = q - 1; i >= 0; i--) {
    for (let k = i + 1; k < q; k++) y[i] -= l[k * q + i] * y[k];
    y[i] /= l[i * q + i];
  }
  return y;
}

/** Per parameter: its slot among the dense ones (non-zero in a quarter of the fitted rows or more), else -1. */
type DenseSlots = Int32Array;

/** One pass over the fitted rows: log-likelihood, score and observed information at beta. */
function pass(
  design: HazardDesign,
  fitted: Uint8Array,
  parameter: Int32Array,
  slots: DenseSlots,
  beta: Float64Array,
): { logLikelihood: number; score: Float64Array; information: Float64Array } {
  const { x, event } = design;
  const width = design.names.length;
  const q = beta.length;
  const score = new Float64Array(q);
  // Each unordered pair of parameters is added once, on either side of the diagonal; folded at the end.
  const sums = new Float64Array(q * q);
  // Dense columns go into blocks of rows, their pairs summed as contiguous dot products; a sparse
  // column's few non-zeros are paired one by one (a person-period row is mostly indicators at 0).
  const dense = Int32Array.from({ length: slots.reduce((n, slot) => Math.max(n, slot + 1), 0) }, (_, d) =>
    slots.indexOf(d),
  );
  const D = dense.length;
  const B = 128;
  const block = new Float64Array(D * B);
  const weighted = new Float64Array(D * B);
  const index = new Int32Array(width);
  const value = new Float64Array(width);
  let filled = 0;
  const flush = () => {
    for (let a = 0; a < D; a++)
      for (let b = a; b < D; b++) {
        const wa = a * B;
        const xb = b * B;
        let s0 = 0;
        let s1 = 0;
        let r = 0;
        for (; r + 1 < filled; r += 2) {
          s0 += weighted[wa + r] * block[xb + r];
          s1 += weighted[wa + r + 1] * block[xb + r + 1];
        }
        if (r < filled) s0 += weighted[wa + r] * block[xb + r];
        sums[dense[a] * q + dense[b]] += s0 + s1;
      }
    filled = 0;
  };
  let logLikelihood = 0;
  for (let i = 0; i < event.length; i++) {
    if (!fitted[i]) continue;
    let m = 0;
    let eta = 0;
    const at = i * width;
    for (let c = 0; c < width; c++) {
      const k = parameter[c];
      if (k < 0) continue;
      const v = x[at + c];
      if (slots[k] >= 0) block[slots[k] * B + filled] = v;
      if (v === 0) continue;
      eta += beta[k] * v;
      if (slots[k] < 0) {
        index[m] = k;
        value[m] = v;
        m++;
      }
    }
    // cloglog: P(event) = 1 - exp(-lambda), lambda = exp(eta); u and w are the first and minus the
    // second derivative of the row's log-likelihood in eta.
    const lambda = Math.exp(Math.max(-50, Math.min(50, eta)));
    let u: number;
    let w: number;
    if (!event[i]) {
      logLikelihood -= lambda;
      u = -lambda;
      w = lambda;
    } else {
      logLikelihood += Math.log(-Math.expm1(-lambda));
      if (lambda > 50) {
        u = lambda * Math.exp(-lambda);
        w = lambda * (lambda - 1) * Math.exp(-lambda);
      } else {
        const e1 = Math.expm1(lambda);
        const g = lambda < 1e-5 ? lambda * lambda * (0.5 + lambda / 3) : lambda * (e1 + 1) - e1;
        u = lambda / e1;
        w = (lambda * g) / (e1 * e1);
      }
    }
    for (let d = 0; d < D; d++) {
      const v = block[d * B + filled];
      score[dense[d]] += u * v;
      weighted[d * B + filled] = w * v;
    }
    for (let a = 0; a < m; a++) {
      const wa = w * value[a];
      const row = index[a] * q;
      score[index[a]] += u * value[a];
      for (let b = a; b < m; b++) sums[row + index[b]] += wa * value[b];
      for (let d = 0; d < D; d++) sums[row + dense[d]] += wa * block[d * B + filled];
    }
    if (++filled === B) flush();
  }
  flush();
  const information = new Float64Array(q * q);
  for (let a = 0; a < q; a++) {
    information[a * q + a] = sums[a * q + a];
    for (let b = a + 1; b < q; b++) information[a * q + b] = information[b * q + a] = sums[a * q + b] + sums[b * q + a];
  }
  return { logLikelihood, score, information };
}

/**
 * Fits the cloglog discrete-time hazard model by Newton-Raphson on the log-likelihood with a tiny
 * ridge (default 1e-6 x rows) for stability and a weak prior on the covariates (below); standard
 * errors from the inverse of the penalised information.
 */
export function fitHazard(
  design: HazardDesign,
  options: { ridge?: number; prior?: number; maxIterations?: number } = {},
): HazardModel {
  const { names, x, event, baseline: bands } = design;
  const width = names.length;
  const n = event.length;
  if (x.length !== n * width) throw new RangeError('fitHazard: x is not rows x names');
  if (!(bands >= 1 && bands <= width)) throw new RangeError('fitHazard: needs at least one baseline column');
  const o = design.options ?? defaults;
  // One scan: each row's band, and per band how often each column is non-zero.
  const bandRows = new Float64Array(bands);
  const bandEvents = new Float64Array(bands);
  const bandOf = new Int32Array(n);
  const nonZeroByBand = new Float64Array(bands * width);
  for (let i = 0; i < n; i++) {
    const at = i * width;
    let b = 0;
    while (b < bands && x[at + b] === 0) b++;
    if (b === bands) throw new RangeError(`fitHazard: row ${i} has no baseline column`);
    bandOf[i] = b;
    bandRows[b]++;
    bandEvents[b] += event[i];
    for (let c = bands; c < width; c++) if (x[at + c] !== 0) nonZeroByBand[b * width + c]++;
  }
  // A band without events has hazard 0 at the optimum, and its rows then add nothing: leave them out.
  const fitted = Uint8Array.from(bandOf, (b) => (bandEvents[b] > 0 ? 1 : 0));
  const nonZero = new Float64Array(width);
  let rows = 0;
  for (let b = 0; b < bands; b++) {
    if (bandEvents[b] === 0) continue;
    rows += bandRows[b];
    nonZero[b] = bandRows[b];
    for (let c = bands; c < width; c++) nonZero[c] += nonZeroByBand[b * width + c];
  }
  const parameter = new Int32Array(width).fill(-1);
  const columns: number[] = [];
  for (let c = 0; c < width; c++) if (nonZero[c] > 0) parameter[c] = columns.push(c) - 1;
  const q = columns.length;
  const slots: DenseSlots = new Int32Array(q).fill(-1);
  let denseCount = 0;
  columns.forEach((c, k) => {
    if (nonZero[c] >= rows / 4) slots[k] = denseCount++;
  });
  const ridge = options.ridge ?? 1e-6 * rows;
  // Hazard ratios get a weak normal prior, log HR ~ N(0, 1) (a ratio beyond about 7 needs real
  // evidence): where a covariate separates the events (no customer with it ever lapses) the
  // estimate stays finite and its interval wide, instead of running to 1e22. With thousands of
  // rows it moves a well-measured ratio by well under its standard error. Baselines only get `ridge`.
  const prior = options.prior ?? 1;
  const penalty = Float64Array.from(columns, (c) => (c < bands ? ridge : ridge + prior));
  const maxIterations = options.maxIterations ?? 50;

  // Start at each band's own rate: usually 4-6 Newton steps from there.
  let beta = new Float64Array(q);
  for (let b = 0; b < bands; b++)
    if (parameter[b] >= 0) beta[parameter[b]] = Math.log(-Math.log(1 - Math.min(0.999, bandEvents[b] / bandRows[b])));
  const penalised = (fit: ReturnType<typeof pass>, at: Float64Array) =>
    fit.logLikelihood - 0.5 * at.reduce((sum, v, k) => sum + penalty[k] * v * v, 0);
  let current = pass(design, fitted, parameter, slots, beta);
  let objective = penalised(current, beta);
  let iterations = 0;
  let converged = false;
  const factor = (information: Float64Array) => {
    for (let jitter = ridge; ; jitter = Math.max(10 * jitter, 1e-8)) {
      const a = Float64Array.from(information);
      for (let k = 0; k < q; k++) a[k * q + k] += jitter + penalty[k] - ridge;
      const l = cholesky(a, q);
      if (l) return l;
    }
  };
  while (iterations < maxIterations) {
    const gradient = current.score.map((g, k) => g - penalty[k] * beta[k]);
    const step = solve(factor(current.information), q, gradient);
    const decrement = gradient.reduce((sum, g, k) => sum + g * step[k], 0);
    if (decrement / 2 < 1e-10 * (1 + Math.abs(objective))) {
      converged = true;
      break;
    }
    iterations++;
    for (let t = 1; ; t /= 2) {
      const next = beta.map((b, k) => b + t * step[k]);
      const fit = pass(design, fitted, parameter, slots, next);
      const value = penalised(fit, next);
      if (value >= objective - 1e-12 * Math.abs(objective) || t < 1e-3) {
        beta = next;
        current = fit;
        objective = value;
        break;
      }
    }
  }

  const l = factor(current.information);
  const se = new Float64Array(q);
  for (let k = 0; k < q; k++) {
    // (A^-1)_kk is the squared norm of column k of L^-1.
    const y = new Float64Array(q);
    y[k] = 1 / l[k * q + k];
    for (let i = k + 1; i < q; i++) {
      let sum = 0;
      for (let j = k; j < i; j++) sum -= l[i * q + j] * y[j];
      y[i] = sum / l[i * q + i];
    }
    se[k] = Math.sqrt(y.reduce((sum, v) => sum + v * v, 0));
  }
  const covariates: HazardTerm[] = [];
  const dropped: string[] = [];
  for (let c = bands; c < width; c++) {
    const k = parameter[c];
    if (k < 0) {
      dropped.push(names[c]);
      continue;
    }
    covariates.push({
      name: names[c],
      label: labelOf(names[c], o),
      coefficient: beta[k],
      se: se[k],
      hazardRatio: Math.exp(beta[k]),
      low: Math.exp(beta[k] - z95 * se[k]),
      high: Math.exp(beta[k] + z95 * se[k]),
      p: twoSidedP(beta[k] / se[k]),
    });
  }
  const hazardAt = (eta: number) => -Math.expm1(-Math.exp(eta));
  const baseline: BaselineTerm[] = [];
  for (let b = 0; b < bands; b++) {
    if (bandRows[b] === 0) continue;
    const k = parameter[b];
    const term = { name: names[b], label: labelOf(names[b], o), rows: bandRows[b], events: bandEvents[b] };
    baseline.push(
      k < 0
        ? // No events in this many rows: the exact one-sided 97.5 % upper bound.
          { ...term, coefficient: null, hazard: 0, low: 0, high: 1 - 0.025 ** (1 / bandRows[b]) }
        : {
            ...term,
            coefficient: beta[k],
            hazard: hazardAt(beta[k]),
            low: hazardAt(beta[k] - z95 * se[k]),
            high: hazardAt(beta[k] + z95 * se[k]),
          },
    );
  }
  return {
    model: 'cloglog-hazard',
    covariates,
    baseline,
    dropped,
    logLikelihood: current.logLikelihood,
    rows: n,
    events: event.reduce((sum, e) => sum + e, 0),
    iterations,
    converged,
    definition: design.options ?? null,
  };
}

const harmfulByModel = new WeakMap<HazardModel, Map<string, HazardTerm>>();
/** The model's experience kinds whose hazard ratio is clearly above 1. */
function harmful(model: HazardModel): Map<string, HazardTerm> {
  let found = harmfulByModel.get(model);
  if (!found) {
    found = new Map(
      model.covariates
        .filter((c) => c.name.startsWith('experience:') && c.low > 1)
        .map((c) => [c.name.slice('experience:'.length), c]),
    );
    harmfulByModel.set(model, found);
  }
  return found;
}

function driversBetween(model: HazardModel, history: CustomerHistory, from: number, to: number): Driver[] {
  const terms = harmful(model);
  const latest = new Map<string, Driver>();
  for (const e of history.experiences) {
    const t = terms.get(e.kind);
    if (t && e.at > from && e.at <= to)
      latest.set(e.kind, {
        name: t.name,
        label: t.label,
        hazardRatio: t.hazardRatio,
        low: t.low,
        high: t.high,
        at: e.at,
      });
  }
  return [...latest.values()].sort((a, b) => b.hazardRatio - a.hazardRatio);
}

/** What raises this customer's risk of leaving now: their experiences in the window whose hazard ratio is clearly above 1, strongest first. */
export function customerDrivers(
  model: HazardModel,
  history: CustomerHistory,
  asOf: number,
  options: Partial<HazardOptions> = {},
): Driver[] {
  const windowDays = options.windowDays ?? model.definition?.windowDays ?? defaults.windowDays;
  return driversBetween(model, history, asOf - windowDays, asOf);
}

/**
 * The likely cause of a lapse whose final silence began at `lapseAt` (the last order): the strongest
 * clearly harmful experience the model would have seen in the period the lapse was counted in, i.e.
 * in the window before lapseAt or in the period after it; null when none (no recorded problem).
 */
export function lapseCause(
  model: HazardModel,
  history: CustomerHistory,
  lapseAt: number,
): (Driver & { kind: string }) | null {
  const o = model.definition ?? defaults;
  const [top] = driversBetween(model, history, lapseAt - o.windowDays, lapseAt + o.periodDays);
  return top ? { ...top, kind: top.name.slice('experience:'.length) } : null;
}
