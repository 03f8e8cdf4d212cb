// How good a probability forecast was, against what then happened: ranking (ROC AUC, average
// precision), accuracy (Brier, log-loss), calibration by bins, the gains curve, and bootstrap
// intervals so a number is shown with its uncertainty. Pure functions on plain arrays.
import { random } from '../shared/random.ts';

/** Scores of the positive rows and of the negative rows, each sorted ascending (native typed sorts, no comparator). */
function splitSorted(scores: ArrayLike<number>, labels: Uint8Array, what: string) {
  if (scores.length !== labels.length)
    throw new RangeError(`${what}: ${scores.length} scores for ${labels.length} labels`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i] ? 1 : 0;
  const positive = new Float64Array(positives);
  const negative = new Float64Array(labels.length - positives);
  let p = 0;
  let q = 0;
  for (let i = 0; i < labels.length; i++) {
    const s = scores[i];
    // A NaN would sort to one end and silently count as the best (or worst) score.
    if (Number.isNaN(s)) throw new RangeError(`${what}: score ${i} is NaN`);
    if (labels[i]) positive[p++] = s;
    else negative[q++] = s;
  }
  return { positive: positive.sort(), negative: negative.sort() };
}

/**
 * Area under the ROC curve: the chance a random buyer scores above a random non-buyer, ties counting
 * half. NaN when either class is empty.
 */
export function rocAuc(scores: ArrayLike<number>, labels: Uint8Array): number {
  const { positive, negative } = splitSorted(scores, labels, 'rocAuc');
  if (positive.length === 0 || negative.length === 0) return Number.NaN;
  // For each positive (ascending), the negatives strictly below and equal to it, by two pointers.
  let below = 0;
  let belowOrEqual = 0;
  let pairs = 0; // integer and half-integer sums stay exact in a double up to 2^52
  for (let i = 0; i < positive.length; i++) {
    const s = positive[i];
    while (below < negative.length && negative[below] < s) below++;
    if (belowOrEqual < below) belowOrEqual = below;
    while (belowOrEqual < negative.length && negative[belowOrEqual] <= s) belowOrEqual++;
    pairs += below + (belowOrEqual - below) / 2;
  }
  return pairs / (positive.length * negative.length);
}

/**
 * Average precision, step-wise as scikit-learn's average_precision_score: the sum over distinct score
 * thresholds (highest first) of the recall gained times the precision there. NaN without positives.
 */
export function prAuc(scores: ArrayLike<number>, labels: Uint8Array): number {
  const { positive, negative } = splitSorted(scores, labels, 'prAuc');
  if (positive.length === 0) return Number.NaN;
  let i = positive.length - 1;
  let j = negative.length - 1;
  let truePositives = 0;
  let falsePositives = 0;
  let sum = 0;
  // Walk the distinct thresholds downwards; tied rows enter together, as one threshold.
  while (i >= 0) {
    const threshold = Math.max(positive[i], j >= 0 ? negative[j] : -Infinity);
    let gained = 0;
    while (i >= 0 && positive[i] === threshold) {
      gained++;
      i--;
    }
    while (j >= 0 && negative[j] === threshold) {
      falsePositives++;
      j--;
    }
    truePositives += gained;
    if (gained > 0) sum += (gained * truePositives) / (truePositives + falsePositives);
  }
  return sum / positive.length;
}

/**
 * ROC AUC and average precision of any rows of one forecast (row numbers, repeats allowed, as a
 * bootstrap draws them), exactly as rocAuc and prAuc of the rows picked: the scores are ranked once
 * and each set of rows is counted by rank instead of sorted again, so hundreds of resamples cost
 * little more than one.
 */
export function rankedFigures(
  scores: ArrayLike<number>,
  labels: Uint8Array,
): { rocAuc: (rows: Int32Array) => number; prAuc: (rows: Int32Array) => number } {
  if (scores.length !== labels.length)
    throw new RangeError(`rankedFigures: ${scores.length} scores for ${labels.length} labels`);
  const n = scores.length;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // A NaN would sort to one end and silently count as the best (or worst) score.
    if (Number.isNaN(scores[i])) throw new RangeError(`rankedFigures: score ${i} is NaN`);
    sorted[i] = scores[i] + 0; // -0 and 0 are one score, as < and === see them
  }
  sorted.sort();
  // The distinct scores ascending, and each row's rank among them.
  let distinct = 0;
  for (let i = 0; i < n; i++) if (i === 0 || sorted[i] !== sorted[distinct - 1]) sorted[distinct++] = sorted[i];
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const s = scores[i] + 0;
    let low = 0;
    let high = distinct - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (sorted[mid] < s) low = mid + 1;
      else high = mid;
    }
    rank[i] = low;
  }
  // Positive and negative rows by rank; the walks over the ranks leave them at 0 again.
  const positive = new Float64Array(distinct);
  const negative = new Float64Array(distinct);
  const count = (rows: Int32Array) => {
    let positives = 0;
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k];
      if (labels[row]) {
        positive[rank[row]]++;
        positives++;
      } else negative[rank[row]]++;
    }
    return positives;
  };
  return {
    rocAuc: (rows) => {
      const positives = count(rows);
      const negatives = rows.length - positives;
      // As rocAuc: each positive adds the negatives below it and half those equal to it.
      let below = 0;
      let pairs = 0;
      for (let r = 0; r < distinct; r++) {
        if (positive[r] > 0) pairs += positive[r] * (below + negative[r] / 2);
        below += negative[r];
        positive[r] = 0;
        negative[r] = 0;
      }
      return positives === 0 || negatives === 0 ? Number.NaN : pairs / (positives * negatives);
    },
    prAuc: (rows) => {
      const positives = count(rows);
      // As prAuc: the distinct thresholds downwards, tied rows entering together.
      let truePositives = 0;
      let falsePositives = 0;
      let sum = 0;
      for (let r = distinct - 1; r >= 0; r--) {
        const gained = positive[r];
        falsePositives += negative[r];
        truePositives += gained;
        if (gained > 0) sum += (gained * truePositives) / (truePositives + falsePositives);
        positive[r] = 0;
        negative[r] = 0;
      }
      return positives === 0 ? Number.NaN : sum / positives;
    },
  };
}

/** Mean squared difference between the forecast probability and the 0/1 outcome. */
export function brierScore(p: ArrayLike<number>, labels: Uint8Array): number {
  if (p.length !== labels.length) throw new RangeError(`brierScore: ${p.length} forecasts for ${labels.length} labels`);
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += (p[i] - labels[i]) ** 2;
  return sum / p.length;
}

/** Mean negative log-likelihood; the chance given to the outcome is clipped at 1e-15 (as scikit-learn) so a confident miss costs 34.5, not Infinity. */
export function logLoss(p: ArrayLike<number>, labels: Uint8Array): number {
  if (p.length !== labels.length) throw new RangeError(`logLoss: ${p.length} forecasts for ${labels.length} labels`);
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    // the chance given to what happened, clipped on that side so both kinds of miss cost the same
    sum -= Math.log(Math.min(Math.max(labels[i] ? p[i] : 1 - p[i], 1e-15), 1));
  }
  return sum / p.length;
}

/** Row numbers ordered by score, ascending; ties by row number so the order never depends on the sort. */
function orderBy(scores: ArrayLike<number>): Int32Array {
  const order = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => scores[a] - scores[b] || a - b);
}

export interface CalibrationBin {
  from: number;
  to: number;
  customers: number;
  predicted: number;
  observed: number;
}

/** Equal-count bins by forecast: the mean forecast beside the observed rate in each. */
export function calibration(p: ArrayLike<number>, labels: Uint8Array, bins = 10): CalibrationBin[] {
  if (p.length !== labels.length)
    throw new RangeError(`calibration: ${p.length} forecasts for ${labels.length} labels`);
  const order = orderBy(p);
  const n = order.length;
  const result: CalibrationBin[] = [];
  for (let k = 0; k < bins; k++) {
    const start = Math.floor((k * n) / bins);
    const end = Math.floor(((k + 1) * n) / bins);
    if (end === start) continue; // fewer rows than bins
    let predicted = 0;
    let observed = 0;
    for (let r = start; r < end; r++) {
      predicted += p[order[r]];
      observed += labels[order[r]];
    }
    const customers = end - start;
    result.push({
      from: p[order[start]],
      to: p[order[end - 1]],
      customers,
      predicted: predicted / customers,
      observed: observed / customers,
    });
  }
  return result;
}

/**
 * The gains curve: contacting the highest-scored `share` of customers captures this share of the
 * buyers, at `points` + 1 evenly spaced shares from 0 to 1. Customers tied at the cut count
 * pro rata, so the curve does not depend on how ties happen to be ordered. captured is NaN without buyers.
 */
export function gains(
  scores: ArrayLike<number>,
  labels: Uint8Array,
  points = 20,
): { share: number; captured: number }[] {
  if (scores.length !== labels.length)
    throw new RangeError(`gains: ${scores.length} scores for ${labels.length} labels`);
  const order = orderBy(scores).reverse();
  const n = order.length;
  let buyers = 0;
  for (let i = 0; i < n; i++) buyers += labels[i];
  // Cumulative buyers at the end of each group of tied scores, walked once alongside the cut points.
  const curve: { share: number; captured: number }[] = [];
  let groupStart = 0;
  let before = 0; // buyers ranked above the current group
  let groupEnd = 0;
  let inGroup = 0;
  for (let k = 0; k <= points; k++) {
    const share = k / points;
    const cut = share * n;
    while (groupEnd < n && groupEnd < cut) {
      // advance to the group containing the cut
      before += inGroup;
      groupStart = groupEnd;
      inGroup = 0;
      const s = scores[order[groupStart]];
      while (groupEnd < n && scores[order[groupEnd]] === s) inGroup += labels[order[groupEnd++]];
    }
    const within = groupEnd > groupStart ? Math.min(1, Math.max(0, (cut - groupStart) / (groupEnd - groupStart))) : 0;
    const captured = before + inGroup * within;
    curve.push({ share, captured: buyers > 0 ? captured / buyers : Number.NaN });
  }
  return curve;
}

export interface Interval {
  value: number;
  low: number;
  high: number;
}

/**
 * Percentile bootstrap intervals for statistics of the rows 0..n-1 (each statistic gets the row
 * numbers of a sample, repeats allowed). Above `maxRows` rows the resamples are drawn from a
 * deterministic systematic subsample of maxRows rows and their spread is scaled by sqrt(maxRows / n)
 * (the m-out-of-n bootstrap), which is right for statistics that average over rows (AUC, Brier,
 * rates), not for extremes. Deterministic for a seed.
 */
export function bootstrapIntervals(
  n: number,
  statistics: Record<string, (rows: Int32Array) => number>,
  options: { resamples?: number; seed?: number; maxRows?: number; level?: number } = {},
): Record<string, Interval> {
  const resamples = options.resamples ?? 200;
  const level = options.level ?? 0.95;
  const m = Math.min(n, options.maxRows ?? 20_000);
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const base = new Int32Array(m);
  for (let k = 0; k < m; k++) base[k] = Math.floor((k * n) / m);
  const names = Object.keys(statistics);
  const draws = names.map(() => new Float64Array(resamples));
  const rng = random(options.seed ?? 1);
  const rows = new Int32Array(m);
  for (let b = 0; b < resamples; b++) {
    for (let k = 0; k < m; k++) rows[k] = base[Math.floor(rng() * m)];
    names.forEach((name, s) => {
      draws[s][b] = statistics[name](rows);
    });
  }
  const scale = Math.sqrt(m / n);
  const result: Record<string, Interval> = {};
  names.forEach((name, s) => {
    const value = statistics[name](all);
    // Deviations are taken around the statistic on the subsample the resamples came from; with
    // m = n that is `value` and this is the plain percentile interval.
    const centre = m === n ? value : statistics[name](base);
    const sorted = draws[s].filter((v) => !Number.isNaN(v)).sort();
    result[name] = {
      value,
      low: value + scale * (quantile(sorted, (1 - level) / 2) - centre),
      high: value + scale * (quantile(sorted, (1 + level) / 2) - centre),
    };
  });
  return result;
}

/** Linear interpolation between order statistics (numpy's default). */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const at = q * (sorted.length - 1);
  const lower = Math.floor(at);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (at - lower) * (sorted[upper] - sorted[lower]);
}
