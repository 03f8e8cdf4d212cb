// Who an action actually moves, learned from Kept's random holdouts (campaigns, journeys, imported
// experiments, the worklist holdout). A churn or buy score says who is likely to leave or buy; it
// does not say whom a mail changes. Ranking by risk sends the effort to customers already gone
// (nothing moves them) and, ranking by buy probability, to customers who would buy anyway. Only a
// randomised comparison sees the difference an action makes, so everything here is estimated from
// trials: one row per (customer, random assignment), treated or held out, and whether they bought.
//
// - effectByType: the plain holdout comparison per group (stage, value band, risk band).
// - fitUplift: a per-customer uplift model, two binned logistic regressions (treated rows, control
//   rows; the "T-learner"), cross-fitted so that every trial gets an uplift from models that never
//   saw it, and judged on those held-out uplifts by the Qini curve and the observed uplift of the top.
// - policyValue: what ranking by expected incremental value would have earned against treating
//   everyone, estimated on held-out uplifts.
// - priorUplift: a structural prior for when there are too few trials for a model.
// - rankByIncrementalValue: the worklist order, uplift x value - cost.
//
// Trials pooled from several sources mix their treated shares: when a source treats 90 % and
// another 50 %, and their base rates differ, the pooled treated-minus-control difference carries
// that mix. Give the source as a feature (and as a grouping to effectByType) when the
// splits differ. A customer in several trials may sit in a training fold and a held-out fold at
// once; with a few hundred coefficients per model that leaks little.
import { compareMeans, compareProportions } from '../campaigns/measurement.ts';
import type { Comparison } from '../campaigns/measurement.ts';
import { random } from '../shared/random.ts';
import { type Interval, bootstrapIntervals } from './evaluate.ts';
import { type BinnedLogistic, type Columns, fitBinnedLogistic, predictBinned } from './learn.ts';

/** One randomised assignment of one customer. */
export interface Trial {
  customerId: number;
  /** Where the randomisation happened: 'campaign:12', 'journey:3', 'import:…', 'worklist'. */
  source: string;
  treated: boolean;
  /** Bought within the window after the assignment. */
  outcome: 0 | 1;
  /** Revenue within the window, for reporting. */
  value: number;
}

export interface GroupEffect {
  grouping: string;
  group: string;
  /** Trials in the arm, and how many of them bought. */
  treated: { n: number; x: number };
  control: { n: number; x: number };
  /** Purchase rates; the difference is treated - control with its 95 % interval. NaN when an arm is empty. */
  treatedRate: number;
  controlRate: number;
  difference: number;
  low: number;
  high: number;
  p: number;
  /** Revenue per customer within the window, treated against control; null when an arm is empty. */
  revenuePerCustomer: Comparison | null;
  /** Fewer than 30 trials in either arm: too few to read the difference. */
  small: boolean;
}

/** Below this many trials in either arm a group's difference is flagged, as campaign reports do. */
const smallArm = 30;

/** The holdout comparison per group of each grouping, and pooled over all trials. */
export function effectByType(
  trials: Trial[],
  groups: { name: string; codes: Int32Array; names: string[] }[],
): { overall: GroupEffect; groups: GroupEffect[] } {
  for (const g of groups)
    if (g.codes.length !== trials.length)
      throw new RangeError(`effectByType: grouping ${g.name} has ${g.codes.length} rows for ${trials.length} trials`);
  return {
    overall: groupEffect(trials, Int32Array.from(trials.keys()), 'all', 'all'),
    groups: groups.flatMap((g) => split(trials, g)),
  };
}

function split(trials: Trial[], g: { name: string; codes: Int32Array; names: string[] }): GroupEffect[] {
  const members: number[][] = Array.from({ length: g.names.length + 1 }, () => []);
  g.codes.forEach((code, row) => {
    members[code >= 0 && code < g.names.length ? code : g.names.length].push(row);
  });
  return members.flatMap((rows, code) =>
    rows.length === 0 ? [] : [groupEffect(trials, Int32Array.from(rows), g.name, g.names[code] ?? 'missing')],
  );
}

function groupEffect(trials: Trial[], rows: Int32Array, grouping: string, group: string): GroupEffect {
  const arm = () => ({ n: 0, x: 0, revenue: 0, squares: 0 });
  const t = arm();
  const c = arm();
  for (const row of rows) {
    const trial = trials[row];
    const a = trial.treated ? t : c;
    a.n++;
    a.x += trial.outcome;
    a.revenue += trial.value;
    a.squares += trial.value * trial.value;
  }
  const both = t.n > 0 && c.n > 0;
  const purchase = both ? compareProportions(t, c) : null;
  return {
    grouping,
    group,
    treated: { n: t.n, x: t.x },
    control: { n: c.n, x: c.x },
    treatedRate: t.n > 0 ? t.x / t.n : Number.NaN,
    controlRate: c.n > 0 ? c.x / c.n : Number.NaN,
    difference: purchase?.difference ?? Number.NaN,
    low: purchase?.low ?? Number.NaN,
    high: purchase?.high ?? Number.NaN,
    p: purchase?.p ?? Number.NaN,
    revenuePerCustomer: both
      ? compareMeans({ n: t.n, sum: t.revenue, squares: t.squares }, { n: c.n, sum: c.revenue, squares: c.squares })
      : null,
    small: Math.min(t.n, c.n) < smallArm,
  };
}

// ---------------------------------------------------------------------------------------------
// The uplift model.

/** Fewest trials, and fewest buyers and non-buyers, each arm needs before a per-customer model is fitted. */
export const minimumTrials = { rows: 100, outcomes: 10 };

export interface UpliftOptions {
  /** Cross-fitting folds. Default 5. */
  folds?: number;
  /** Seeds the folds' shuffle and the order of tied uplifts. Default 1. */
  seed?: number;
  /** Passed to fitBinnedLogistic. */
  bins?: number;
  l2?: number;
  maxRows?: number;
}

export interface UpliftModels {
  treated: BinnedLogistic;
  control: BinnedLogistic;
}

export interface QiniPoint {
  share: number;
  /** Extra buyers per customer of the base from treating the top `share` by predicted uplift. */
  gain: number;
  /** The same for a random choice of that share. */
  random: number;
}

export interface Qini {
  /** At shares 0, 0.02, ..., 1. */
  points: QiniPoint[];
  /** Area between the Qini curve and the random line (extra buyers per customer x share). */
  area: number;
  /** area / the same area of the perfect ranking: 1 at best, about 0 for a random one, below 0 when worse. */
  coefficient: number;
}

export interface TopUplift extends Interval {
  share: number;
  treated: number;
  control: number;
}

export interface UpliftFit {
  rows: number;
  treated: { n: number; x: number };
  control: { n: number; x: number };
  folds: number;
  /** Each trial's uplift, p(buy | treated) - p(buy | control), from the models that did not see its fold. */
  heldOut: Float64Array;
  qini: Qini;
  /** Observed treated rate - control rate among the top share by held-out uplift, with its 95 % interval. */
  topK: TopUplift[];
  /** Fitted on every trial, for scoring customers now. */
  models: UpliftModels;
}

const topShares = [0.1, 0.2, 0.3, 0.5];
const qiniPoints = 50;

/**
 * Two-model uplift, cross-fitted: for each fold, a treated model and a control model on the other
 * folds predict the fold, and its uplift is the difference. The full-data models score new
 * customers. The reason instead when either arm is too small to learn from.
 */
export function fitUplift(
  columns: Columns,
  treated: Uint8Array,
  outcome: Uint8Array,
  options: UpliftOptions = {},
): UpliftFit | { reason: string } {
  const n = treated.length;
  if (outcome.length !== n) throw new RangeError(`fitUplift: ${outcome.length} outcomes for ${n} trials`);
  // A short column would be read past its end as NaN, i.e. "missing", without a word.
  for (const [name, column] of [
    ...Object.entries(columns.numeric),
    ...Object.entries(columns.categorical).map(([name, c]) => [name, c.codes] as const),
  ])
    if (column.length !== n)
      throw new RangeError(`fitUplift: column ${name} has ${column.length} rows for ${n} trials`);
  const arms = [0, 1].map((arm) => {
    let rows = 0;
    let buyers = 0;
    for (let i = 0; i < n; i++)
      if (treated[i] === arm) {
        rows++;
        buyers += outcome[i] ? 1 : 0;
      }
    return { n: rows, x: buyers };
  });
  const { rows: minRows, outcomes: minOutcomes } = minimumTrials;
  const short = arms.find((a) => a.n < minRows || a.x < minOutcomes || a.n - a.x < minOutcomes);
  if (short)
    return {
      reason:
        `${arms[1].n} treated trials (${arms[1].x} bought) and ${arms[0].n} held out (${arms[0].x} bought): ` +
        `an uplift model needs at least ${minRows} trials, ${minOutcomes} buyers and ${minOutcomes} non-buyers in each arm`,
    };
  const k = options.folds ?? 5;
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`fitUplift: ${k} folds; cross-fitting needs at least 2`);
  const seed = options.seed ?? 1;
  const fitOptions = { bins: options.bins, l2: options.l2, maxRows: options.maxRows };
  const fitArm = (rows: Int32Array, arm: number) => {
    const mine = rows.filter((r) => treated[r] === arm);
    return fitBinnedLogistic(
      pickRows(columns, mine),
      Uint8Array.from(mine, (r) => outcome[r]),
      fitOptions,
    );
  };

  const folds = upliftFolds(treated, outcome, k, seed);
  const heldOut = new Float64Array(n);
  for (let fold = 0; fold < k; fold++) {
    const train = Int32Array.from(folds.keys()).filter((r) => folds[r] !== fold);
    const test = Int32Array.from(folds.keys()).filter((r) => folds[r] === fold);
    const uplift = scoreUplift({ treated: fitArm(train, 1), control: fitArm(train, 0) }, pickRows(columns, test));
    test.forEach((r, j) => {
      heldOut[r] = uplift[j];
    });
  }
  const everyone = Int32Array.from(folds.keys());
  const models = { treated: fitArm(everyone, 1), control: fitArm(everyone, 0) };

  const order = rankOrder(heldOut, seed);
  const topK = topShares.map((share): TopUplift => {
    const top = order.subarray(0, Math.round(share * n));
    const t = { n: 0, x: 0 };
    const c = { n: 0, x: 0 };
    for (const r of top) {
      const a = treated[r] ? t : c;
      a.n++;
      a.x += outcome[r] ? 1 : 0;
    }
    const comparison = t.n > 0 && c.n > 0 ? compareProportions(t, c) : null;
    return {
      share,
      treated: t.n,
      control: c.n,
      value: comparison?.difference ?? Number.NaN,
      low: comparison?.low ?? Number.NaN,
      high: comparison?.high ?? Number.NaN,
    };
  });
  return {
    rows: n,
    treated: arms[1],
    control: arms[0],
    folds: k,
    heldOut,
    qini: qini(heldOut, treated, outcome),
    topK,
    models,
  };
}

/** The rows `pick` of columns; churn.ts's rowsOf with plain loops, a third of the fitting time at 100k trials. */
function pickRows(columns: Columns, pick: Int32Array): Columns {
  const numeric: Columns['numeric'] = {};
  for (const [name, values] of Object.entries(columns.numeric)) {
    const out = new Float64Array(pick.length);
    for (let k = 0; k < pick.length; k++) out[k] = values[pick[k]];
    numeric[name] = out;
  }
  const categorical: Columns['categorical'] = {};
  for (const [name, column] of Object.entries(columns.categorical)) {
    const codes = new Int32Array(pick.length);
    for (let k = 0; k < pick.length; k++) codes[k] = column.codes[pick[k]];
    categorical[name] = { codes, names: column.names };
  }
  return { numeric, categorical };
}

/** Uplift of every row: the treated model's chance of a purchase minus the control model's. */
export function scoreUplift(models: UpliftModels, columns: Columns): Float64Array {
  const p1 = predictBinned(models.treated, columns);
  const p0 = predictBinned(models.control, columns);
  for (let i = 0; i < p1.length; i++) p1[i] -= p0[i];
  return p1;
}

/**
 * Folds stratified by arm x outcome: each of the four cells shuffled (seeded) and dealt round-robin,
 * so every training set holds both arms with their purchase rates.
 */
export function upliftFolds(treated: Uint8Array, outcome: Uint8Array, k: number, seed: number): Int32Array {
  const rng = random(seed);
  const folds = new Int32Array(treated.length);
  for (let cell = 0; cell < 4; cell++) {
    const rows = Int32Array.from(treated.keys()).filter((r) => (treated[r] ? 2 : 0) + (outcome[r] ? 1 : 0) === cell);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows.forEach((r, i) => {
      folds[r] = i % k;
    });
  }
  return folds;
}

/** Rows by score, highest first; ties in a seeded random order, so the row order of the input never decides. */
function rankOrder(score: ArrayLike<number>, seed: number): Int32Array {
  const rng = random(seed ^ 0x5bd1e995);
  const key = Float64Array.from({ length: score.length }, () => rng());
  return Int32Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[b] - score[a] || key[a] - key[b]);
}

/**
 * The Qini curve of a ranking on randomised trials, and its Qini coefficient as Radcliffe (2007)
 * defines it and sklift's qini_auc_score computes it: the area between the curve and the random line
 * divided by the same area for the perfect ranking of these trials, the one that puts every treated
 * buyer first and every control buyer last (no ranking can do better on the observed outcomes). Read
 * it as the share of the attainable ranking gain the scores reach; the perfect ranking also exploits
 * chance (treated buyers who would have bought anyway), so a flawless uplift model scores well below 1.
 */
export function qini(score: ArrayLike<number>, treated: Uint8Array, outcome: Uint8Array): Qini {
  if (score.length !== treated.length || outcome.length !== treated.length)
    throw new RangeError('qini: score, treated and outcome need one entry per trial');
  const curve = qiniCurve(score, treated, outcome);
  const ideal = Float64Array.from(treated, (t, i) => (outcome[i] ? (t ? 1 : -1) : 0));
  const best = qiniCurve(ideal, treated, outcome);
  const area = areaOverRandom(curve);
  return {
    points: Array.from({ length: qiniPoints + 1 }, (_, j) => {
      const share = j / qiniPoints;
      return { share, gain: interpolate(curve, share), random: share * curve.gain[curve.gain.length - 1] };
    }),
    area,
    coefficient: area / areaOverRandom(best),
  };
}

/**
 * The Qini curve (Radcliffe 2007) at the end of each run of tied scores. Among the top k rows,
 * treated buyers - control buyers x treated / control (the control count scaled to the treated's; 0
 * before the first control row) are the extra buyers among the treated; divided by all treated trials
 * rather than all trials, it reads as the extra buyers per customer of the base from treating the
 * top k / n of them, whatever the treated share. Tied rows enter together, so the curve is a
 * straight line across them.
 */
function qiniCurve(score: ArrayLike<number>, treated: Uint8Array, outcome: Uint8Array) {
  const n = score.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  const share = [0];
  const gain = [0];
  let nT = 0;
  let nC = 0;
  let yT = 0;
  let yC = 0;
  let allTreated = 0;
  for (let i = 0; i < n; i++) allTreated += treated[i] ? 1 : 0;
  for (let k = 0; k < n; k++) {
    const r = order[k];
    if (treated[r]) {
      nT++;
      yT += outcome[r] ? 1 : 0;
    } else {
      nC++;
      yC += outcome[r] ? 1 : 0;
    }
    if (k + 1 < n && score[order[k + 1]] === score[r]) continue;
    share.push((k + 1) / n);
    gain.push(allTreated > 0 ? (yT - (nC > 0 ? (yC * nT) / nC : 0)) / allTreated : 0);
  }
  return { share, gain };
}

/** Trapezoid area between the curve and the straight line from (0, 0) to its end. */
function areaOverRandom(curve: { share: number[]; gain: number[] }): number {
  const end = curve.gain[curve.gain.length - 1];
  let area = 0;
  for (let j = 1; j < curve.share.length; j++) {
    const width = curve.share[j] - curve.share[j - 1];
    area += (width * (curve.gain[j] + curve.gain[j - 1])) / 2;
  }
  return area - end / 2;
}

function interpolate(curve: { share: number[]; gain: number[] }, at: number): number {
  let j = 1;
  while (j < curve.share.length - 1 && curve.share[j] < at) j++;
  const [s0, s1] = [curve.share[j - 1], curve.share[j]];
  const w = s1 > s0 ? Math.min(1, Math.max(0, (at - s0) / (s1 - s0))) : 1;
  return curve.gain[j - 1] + w * (curve.gain[j] - curve.gain[j - 1]);
}

// ---------------------------------------------------------------------------------------------
// Acting on uplift.

export interface PolicyValue {
  customers: number;
  /** Customers the policy would treat: held-out uplift x value - cost > 0. */
  targeted: number;
  shareTargeted: number;
  /** Net incremental value per customer of the base, treating as the policy says. */
  policy: Interval;
  /** The same, treating everyone. */
  everyone: Interval;
  /** policy - everyone: what the ranking saves (or loses, below 0) per customer. */
  saving: Interval;
}

/**
 * What "treat only where held-out uplift x value at stake > cost" would have earned against
 * treating everyone, per customer, on the trials themselves.
 *
 * In plain words: the policy picks a set of customers. Because treatment was assigned at random,
 * the treated and the held-out customers inside that set are alike but for the treatment, so the
 * difference between them is what treating the set brings. For a set S the estimate is
 *
 *   net(S) = (mean of outcome x value among S's treated - the same among S's held out - cost) x |S|
 *
 * i.e. the difference in means of value won, within the set. With one value for all it is the
 * (treated rate - control rate) x value x |S| - cost x |S| of a campaign report; weighting each
 * purchase by its own value keeps it right when uplift and value go together, which is exactly
 * where a policy ranking by uplift x value aims. "Everyone" is the same with S = all trials. Both are
 * divided by the number of customers; the saving is their difference, with a 95 % percentile
 * bootstrap interval (resampling customers, the policy's choice held fixed: the uplifts are held
 * out, so each customer's choice never saw their own outcome). NaN when a targeted set has an arm
 * with no trials.
 */
export function policyValue(
  input: {
    /** Held-out uplift per trial (fitUplift's heldOut). */
    uplift: ArrayLike<number>;
    /** Value at stake per trial: what the customer is worth if they buy (or stay). */
    value: ArrayLike<number>;
    treated: Uint8Array;
    outcome: Uint8Array;
    /** Cost of one action. */
    cost: number;
  },
  options: { resamples?: number; seed?: number } = {},
): PolicyValue {
  const { uplift, value, treated, outcome, cost } = input;
  const n = treated.length;
  if (uplift.length !== n || value.length !== n || outcome.length !== n)
    throw new RangeError('policyValue: uplift, value, treated and outcome need one entry per trial');
  const target = Uint8Array.from({ length: n }, (_, i) => (uplift[i] * value[i] - cost > 0 ? 1 : 0));
  const won = Float64Array.from({ length: n }, (_, i) => (outcome[i] ? value[i] : 0));
  const net = (rows: Int32Array, only: Uint8Array | null) => {
    let nT = 0;
    let nC = 0;
    let sT = 0;
    let sC = 0;
    for (const r of rows) {
      if (only && !only[r]) continue;
      if (treated[r]) {
        nT++;
        sT += won[r];
      } else {
        nC++;
        sC += won[r];
      }
    }
    const size = nT + nC;
    if (size === 0) return 0;
    if (nT === 0 || nC === 0) return Number.NaN;
    return ((sT / nT - sC / nC - cost) * size) / rows.length;
  };
  const intervals = bootstrapIntervals(
    n,
    {
      policy: (rows) => net(rows, target),
      everyone: (rows) => net(rows, null),
      saving: (rows) => net(rows, target) - net(rows, null),
    },
    { resamples: options.resamples ?? 200, seed: options.seed ?? 1 },
  );
  const targeted = target.reduce((sum, t) => sum + t, 0);
  return {
    customers: n,
    targeted,
    shareTargeted: n > 0 ? targeted / n : 0,
    policy: intervals.policy,
    everyone: intervals.everyone,
    saving: intervals.saving,
  };
}

/**
 * A customer's uplift before there are trials enough for a model: effect x max(0, pAlive - pBuy).
 *
 * An action can only change a customer who is still there to hear it (p_alive) and who would not
 * have bought without it (1 - the chance of buying anyway, which is pBuy / pAlive among the alive).
 * The chance of being both is pAlive - pBuy: the movable pool. A customer already gone (pAlive near
 * 0) and one who buys anyway (pBuy near pAlive) both have no pool and so no uplift, however urgent
 * their risk score looks. `effect` is the share of the pool an action converts, the one number
 * a holdout can give: the measured difference divided by the mean pool of those it was measured on.
 */
export function priorUplift(pAlive: number, pBuy: number, effect: number): number {
  return effect * Math.max(0, pAlive - pBuy);
}

/** Worklist order: items by expected incremental value, uplift x value - cost, highest first (ties by position). */
export function rankByIncrementalValue(items: { uplift: number; value: number; cost: number }[]): {
  order: Int32Array;
  expected: Float64Array;
} {
  const expected = Float64Array.from(items, (item) => item.uplift * item.value - item.cost);
  const order = Int32Array.from(items.keys()).sort((a, b) => expected[b] - expected[a] || a - b);
  return { order, expected };
}
