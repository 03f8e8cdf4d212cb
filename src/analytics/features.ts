// What Kept knew about each customer at a cut date, and what happened next: the repeat-buying
// summary (x, tx, T) the textbook models read, the features the supervised model reads, and the
// label "bought within H days after the cut". Nothing here reads past its cut but the label.
import { signalKinds, type Histories, type SignalKind } from './analytics.repository.ts';
import type { Columns } from './learn.ts';
import type { HistoryGroup } from './models.ts';

/** Signal kinds by their code in Histories.signalKind, the index in `signalKinds`. */
const signal = Object.fromEntries(signalKinds.map((kind, code) => [kind, code])) as Record<SignalKind, number>;

/** The customers whose first purchase is on or before the cut, as Histories indices, with their summary at the cut (in days). */
export interface Snapshot {
  cut: number;
  /** Indices into the Histories. */
  index: Int32Array;
  x: Int32Array;
  tx: Int32Array;
  T: Int32Array;
  /** Purchase days in (cut, cut + horizon]; only when asked for a horizon. */
  future: Int32Array;
}

/** The summary of every customer at `cut` (days since 1970-01-01), and their purchase days in the `horizon` days after it. */
export function snapshotAt(h: Histories, cut: number, horizon = 0, sample?: Int32Array): Snapshot {
  const size = sample ? sample.length : h.size;
  const kept = new Int32Array(size);
  let n = 0;
  for (let k = 0; k < size; k++) {
    const i = sample ? sample[k] : k;
    if (h.days[h.dayStart[i]] <= cut) kept[n++] = i;
  }
  const s: Snapshot = {
    cut,
    index: kept.slice(0, n),
    x: new Int32Array(n),
    tx: new Int32Array(n),
    T: new Int32Array(n),
    future: new Int32Array(n),
  };
  for (let k = 0; k < n; k++) {
    const i = kept[k];
    const from = h.dayStart[i];
    const to = h.dayStart[i + 1];
    const first = h.days[from];
    let last = first;
    let count = 0;
    let future = 0;
    for (let j = from; j < to; j++) {
      const d = h.days[j];
      if (d <= cut) {
        count++;
        last = d;
      } else if (d <= cut + horizon) future++;
    }
    s.x[k] = count - 1;
    s.tx[k] = last - first;
    s.T[k] = cut - first;
    s.future[k] = future;
  }
  return s;
}

/**
 * The customers of a snapshot with the same (x, tx, T) as one group, for the model fits, in the
 * order of their first customer. Found by sorting the keys rather than in a Map: a million customers
 * make about as many groups, and a Map of them costs hundreds of megabytes while it grows.
 */
export function groupsOf(s: Pick<Snapshot, 'x' | 'tx' | 'T'>): HistoryGroup[] {
  const n = s.x.length;
  const keys = new Float64Array(n);
  for (let k = 0; k < n; k++) keys[k] = (s.x[k] * 100_000 + s.tx[k]) * 100_000 + s.T[k];
  const distinct = keys.slice().sort();
  let size = 0;
  for (let j = 0; j < n; j++) if (j === 0 || distinct[j] !== distinct[size - 1]) distinct[size++] = distinct[j];
  // Each distinct key's group, by its position among the sorted keys; -1 until its first customer.
  const groupAt = new Int32Array(size).fill(-1);
  const groups: HistoryGroup[] = [];
  for (let k = 0; k < n; k++) {
    const key = keys[k];
    let low = 0;
    let high = size - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (distinct[mid] < key) low = mid + 1;
      else high = mid;
    }
    const g = groupAt[low];
    if (g >= 0) groups[g].count++;
    else {
      groupAt[low] = groups.length;
      groups.push({ x: s.x[k], tx: s.tx[k], T: s.T[k], count: 1 });
    }
  }
  return groups;
}

/** The features of the supervised model, in the order the learner sees them (docs/analytics.md lists them in words). */
export const numericFeatures = [
  'days_since_last_purchase',
  'purchase_days',
  'days_since_first_purchase',
  'mean_days_between',
  'overdue_ratio',
  'purchase_days_last_90',
  'purchase_days_last_365',
  'net_spend',
  'average_order',
  'returns',
  'refunded_share',
  'tickets_last_365',
  'tickets_unresolved',
  'incidents_last_365',
  'last_survey_score',
  'last_agent_feeling',
  'engagement_last_90',
] as const;

/** The features of every customer in a snapshot, as columns the learner reads. */
export function featuresAt(h: Histories, s: Snapshot): Columns {
  const n = s.index.length;
  const column = () => new Float64Array(n).fill(Number.NaN);
  const f = Object.fromEntries(numericFeatures.map((name) => [name, column()])) as Record<
    (typeof numericFeatures)[number],
    Float64Array
  >;
  const channel = new Int32Array(n);
  const cut = s.cut;
  for (let k = 0; k < n; k++) {
    const i = s.index[k];
    const x = s.x[k];
    const recency = s.T[k] - s.tx[k];
    f.days_since_last_purchase[k] = recency;
    f.purchase_days[k] = x + 1;
    f.days_since_first_purchase[k] = s.T[k];
    if (x > 0) {
      const gap = s.tx[k] / x;
      f.mean_days_between[k] = gap;
      f.overdue_ratio[k] = recency / Math.max(gap, 1);
    }
    let recent90 = 0;
    let recent365 = 0;
    let cents = 0;
    for (let j = h.dayStart[i]; j < h.dayStart[i + 1] && h.days[j] <= cut; j++) {
      const d = h.days[j];
      if (d > cut - 90) recent90++;
      if (d > cut - 365) recent365++;
      cents += h.cents[j];
    }
    let refunded = 0;
    let returns = 0;
    let tickets = 0;
    let open = 0;
    let incidents = 0;
    let engagement = 0;
    for (let j = h.signalStart[i]; j < h.signalStart[i + 1] && h.signalDay[j] <= cut; j++) {
      const d = h.signalDay[j];
      const value = h.signalValue[j];
      switch (h.signalKind[j]) {
        case signal.return:
          returns++;
          refunded += value * 100;
          break;
        case signal.ticket_opened:
          open++;
          if (d > cut - 365) tickets++;
          break;
        case signal.ticket_resolved:
          open--;
          break;
        case signal.incident:
          if (d > cut - 365) incidents++;
          break;
        case signal.survey:
          f.last_survey_score[k] = value;
          break;
        case signal.feeling:
          f.last_agent_feeling[k] = value;
          break;
        case signal.engagement:
          if (d > cut - 90) engagement++;
          break;
      }
    }
    f.purchase_days_last_90[k] = recent90;
    f.purchase_days_last_365[k] = recent365;
    f.net_spend[k] = (cents - refunded) / 100;
    f.average_order[k] = cents / 100 / (x + 1);
    f.returns[k] = returns;
    f.refunded_share[k] = cents > 0 ? Math.min(1, refunded / cents) : 0;
    f.tickets_last_365[k] = tickets;
    f.tickets_unresolved[k] = Math.max(0, open);
    f.incidents_last_365[k] = incidents;
    f.engagement_last_90[k] = engagement;
    channel[k] = h.channel[i];
  }
  const month = new Date(cut * 86_400_000).getUTCMonth();
  return {
    numeric: f,
    categorical: {
      acquisition_channel: { codes: channel, names: h.channels },
      month_of_cut: { codes: new Int32Array(n).fill(month), names: monthNames },
    },
  };
}

const monthNames = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Columns of several snapshots one after the other (the training rows of several cuts). */
export function concatColumns(parts: Columns[]): Columns {
  const numeric: Columns['numeric'] = {};
  const categorical: Columns['categorical'] = {};
  const first = parts[0];
  for (const name of Object.keys(first.numeric)) {
    const out = new Float64Array(parts.reduce((n, p) => n + p.numeric[name].length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p.numeric[name], at);
      at += p.numeric[name].length;
    }
    numeric[name] = out;
  }
  for (const name of Object.keys(first.categorical)) {
    const out = new Int32Array(parts.reduce((n, p) => n + p.categorical[name].codes.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p.categorical[name].codes, at);
      at += p.categorical[name].codes.length;
    }
    categorical[name] = { codes: out, names: first.categorical[name].names };
  }
  return { numeric, categorical };
}

/** A deterministic, evenly spread sample of at most `size` of the indices 0..n-1 (all of them when n <= size). */
export function spreadSample(n: number, size: number): Int32Array {
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const step = n / size;
  return Int32Array.from({ length: size }, (_, k) => Math.floor((k + 0.5) * step));
}
