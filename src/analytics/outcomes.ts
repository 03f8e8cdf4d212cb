// Outcome tables: what each kind of customer tends to do after each kind of experience, against the
// same kind of customer without it. Pure functions over CustomerHistory (history.ts); days throughout.
//
// Definitions, in the words the docs quote:
// - An exposed anchor is one experience occurrence at least `valueDays` (180) before as-of (or the
//   buy-again window, when that is longer), so that everything after it is already known.
// - The customer type at an anchor is read from the orders at or before it: stage prospect (no order
//   yet), trial (one) or customer (two or more); value band low, mid or high by thirds of the spend so
//   far, the cuts taken over every anchor (exposed and control) with some spend (none for no spend);
//   and the acquisition channel ('unknown' when not recorded). Every margin of the three is a type too
//   ('*' = any), so '*|*|*' is everyone.
// - A control anchor is an order at least as long before as-of. For an experience kind K it is a
//   control when the customer had no K within `controlDays` (30) before the order, nor after it
//   within `controlDays` and before their next order. An experience after the next order belongs to
//   that order: looking past it would drop exactly the customers who came back quickly, and pull the
//   baseline down. The baseline of a type for K is its control anchors for K: the same type, right
//   after an order, without that experience nearby.
// - After an anchor at day a: bought again = an order in (a, a + days] (90); value = what the orders
//   in (a, a + valueDays] came to; result band none (value 0: bought nothing, lapsed), low, mid or
//   high by thirds of the positive values over every anchor.
// - An experience was followed up when someone on our side reached out within `followUpDays` (2) of
//   it; first = the customer's first of that kind, repeated = any later one.
// - Rates come with 95 % Wilson intervals, differences of rates with Newcombe's hybrid score interval
//   built from them. A cell with fewer than `minCell` (30) anchors is marked small and kept.
import type { CustomerHistory } from './history.ts';

export interface OutcomeOptions {
  /** The "bought again within" window. */
  days: number;
  /** The window whose value makes the result band; also how long before as-of an anchor must lie. */
  valueDays: number;
  /** An experience is followed up when followedUpAt - at <= followUpDays. */
  followUpDays: number;
  /** Cells below this many anchors are marked small. */
  minCell: number;
  /** How near an order an experience disqualifies it as a control for that experience's kind. */
  controlDays: number;
}

export type ResultBand = 'none' | 'low' | 'mid' | 'high';
export type BandShares = Record<ResultBand, { count: number; share: number }>;
export interface Share {
  n: number;
  rate: number;
  low: number;
  high: number;
}
export interface Difference {
  difference: number;
  low: number;
  high: number;
}

export interface OutcomeCell {
  /** stage|valueBand|channel|kind|occurrence|followedUp, '*' = any. */
  key: string;
  stage: string;
  valueBand: string;
  channel: string;
  kind: string;
  valence: 'problem' | 'gesture';
  occurrence: 'first' | 'repeated' | 'all';
  followedUp: 'yes' | 'no' | 'all';
  n: number;
  boughtAgain: number;
  /** Share who bought again within `days`, with its 95 % Wilson interval. */
  rate: number;
  low: number;
  high: number;
  meanValue: number;
  bands: BandShares;
  /** The same type right after an order without this kind nearby; null when the type has no such order (prospects). */
  baseline: (Share & { bands: BandShares }) | null;
  /** rate - baseline rate with its 95 % Newcombe interval; NaN without a baseline. */
  difference: Difference;
  /** On followedUp 'all' cells: followed up minus not, within the type; null unless both happened. */
  followUpEffect?: (Difference & { yes: Share; no: Share }) | null;
  small: boolean;
}

/** One exposed anchor, for the drill-down from a cell to its customers. */
export interface OutcomeCase {
  customerId: number;
  experienceId: number;
  /** The key of its most specific cell (first or repeated, yes or no). */
  cell: string;
  at: number;
  boughtAgain: boolean;
  valueBand: ResultBand;
  value: number;
}

/** The as-of day is the caller's (it stores the report beside its run's as-of date). */
export interface OutcomeReport {
  options: OutcomeOptions;
  /** Cuts between low, mid and high: spend so far (prior) and value in the next valueDays (future). */
  valueCuts: { prior: [number, number]; future: [number, number] };
  /** Kinds with at least one exposed anchor, the most common first. */
  kinds: string[];
  anchors: { exposed: number; control: number };
  cells: OutcomeCell[];
  cases: OutcomeCase[];
}

const z95 = 1.959964;

/** Share x / n with its 95 % Wilson score interval (NaN for n = 0). */
export function wilson(x: number, n: number): { rate: number; low: number; high: number } {
  if (n <= 0) return { rate: Number.NaN, low: Number.NaN, high: Number.NaN };
  const z2 = z95 * z95;
  const centre = (x + z2 / 2) / (n + z2);
  const half = (z95 / (n + z2)) * Math.sqrt((x * (n - x)) / n + z2 / 4);
  return { rate: x / n, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Difference of two shares a - b with Newcombe's (1998) hybrid score interval from their Wilson intervals. */
export function newcombe(a: { x: number; n: number }, b: { x: number; n: number }): Difference {
  const p = wilson(a.x, a.n);
  const q = wilson(b.x, b.n);
  const difference = p.rate - q.rate;
  return {
    difference,
    low: difference - Math.sqrt((p.rate - p.low) ** 2 + (q.high - q.rate) ** 2),
    high: difference + Math.sqrt((p.high - p.rate) ** 2 + (q.rate - q.low) ** 2),
  };
}

const defaults: OutcomeOptions = { days: 90, valueDays: 180, followUpDays: 2, minCell: 30, controlDays: 30 };
const stages = ['prospect', 'trial', 'customer'] as const;
const bandNames: ResultBand[] = ['none', 'low', 'mid', 'high'];
const occurrences = ['first', 'repeated', 'all'] as const;
const followUps = ['no', 'yes', 'all'] as const;

/** Low, mid and high cut at the thirds of the values (linear interpolation), rounded to cents. */
function terciles(values: Float64Array): [number, number] {
  if (values.length === 0) return [0, 0];
  values.sort();
  const at = (q: number) => {
    const h = (values.length - 1) * q;
    const i = Math.floor(h);
    return values[i] + (h - i) * ((values[Math.min(i + 1, values.length - 1)] ?? values[i]) - values[i]);
  };
  return [Math.round(at(1 / 3) * 100) / 100, Math.round(at(2 / 3) * 100) / 100];
}
const bandOf = (v: number, cuts: [number, number]) => (v <= 0 ? 0 : v < cuts[0] ? 1 : v < cuts[1] ? 2 : 3);

/** Anchors in typed columns: the type and the outcome of each. */
function anchorColumns(size: number) {
  return {
    count: 0,
    customer: new Int32Array(size),
    stage: new Uint8Array(size),
    spend: new Float64Array(size),
    bought: new Uint8Array(size),
    value: new Float64Array(size),
  };
}

/** The outcome tables and their cases (see the header for every definition). */
export function outcomeTables(
  histories: CustomerHistory[],
  asOf: number,
  options: Partial<OutcomeOptions> = {},
): OutcomeReport {
  const o: OutcomeOptions = { ...defaults, ...options };
  const cutoff = asOf - Math.max(o.days, o.valueDays);
  const kindIndex = new Map<string, number>();
  const valences: ('problem' | 'gesture')[] = [];
  const channelIndex = new Map<string, number>();
  const channelOf = new Int32Array(histories.length);
  let orderTotal = 0;
  let experienceTotal = 0;
  histories.forEach((h, c) => {
    const channel = h.channel ?? 'unknown';
    const code = channelIndex.get(channel) ?? channelIndex.size;
    channelIndex.set(channel, code);
    channelOf[c] = code;
    orderTotal += h.orders.length;
    experienceTotal += h.experiences.length;
    for (const e of h.experiences)
      if (!kindIndex.has(e.kind)) {
        kindIndex.set(e.kind, kindIndex.size);
        valences.push(e.valence);
      }
  });
  const control = anchorColumns(orderTotal);
  const exposed = { ...anchorColumns(experienceTotal), kind: new Int32Array(experienceTotal) };
  const exposedEvent = new Int32Array(experienceTotal); // index of the occurrence in its customer's list
  const repeated = new Uint8Array(experienceTotal);
  const followed = new Uint8Array(experienceTotal);
  // Control anchors (as indices into `control`) with a kind nearby, and that kind.
  const nearAnchor: number[] = [];
  const nearKind: number[] = [];
  let cumulative = new Float64Array(64);

  histories.forEach((h, c) => {
    const orders = h.orders;
    const n = orders.length;
    if (cumulative.length <= n) cumulative = new Float64Array(2 * n + 1);
    for (let k = 0; k < n; k++) cumulative[k + 1] = cumulative[k] + orders[k].total;
    // Both anchor sequences ascend, so the first order after a (p) and after a + valueDays (q) only move forward.
    const measure = (into: ReturnType<typeof anchorColumns>, a: number, p: number, q: number) => {
      const i = into.count++;
      into.customer[i] = c;
      into.stage[i] = p === 0 ? 0 : p === 1 ? 1 : 2;
      into.spend[i] = cumulative[p];
      into.bought[i] = p < n && orders[p].at <= a + o.days ? 1 : 0;
      into.value[i] = cumulative[q] - cumulative[p];
      return i;
    };
    const firstControl = control.count;
    let p = 0;
    let q = 0;
    for (let k = 0; k < n && orders[k].at <= cutoff; k++) {
      const a = orders[k].at;
      while (p < n && orders[p].at <= a) p++;
      while (q < n && orders[q].at <= a + o.valueDays) q++;
      measure(control, a, p, q);
    }
    p = 0;
    q = 0;
    h.experiences.forEach((e, j) => {
      if (e.at > cutoff) return;
      while (p < n && orders[p].at <= e.at) p++;
      while (q < n && orders[q].at <= e.at + o.valueDays) q++;
      const i = measure(exposed, e.at, p, q);
      exposed.kind[i] = kindIndex.get(e.kind) ?? -1;
      exposedEvent[i] = j;
      repeated[i] = e.occurrence > 1 ? 1 : 0;
      followed[i] = e.followedUpAt !== null && e.followedUpAt - e.at <= o.followUpDays ? 1 : 0;
    });
    // Which control anchors have each kind nearby: per kind the first occurrence at or after
    // t - controlDays decides (later ones are further away).
    const controls = control.count - firstControl;
    if (controls === 0 || h.experiences.length === 0) return;
    const seen = new Set<string>();
    for (const e of h.experiences) {
      if (seen.has(e.kind)) continue;
      seen.add(e.kind);
      const kind = kindIndex.get(e.kind) ?? -1;
      const times = h.experiences.filter((x) => x.kind === e.kind).map((x) => x.at);
      let j = 0;
      let next = 0;
      for (let k = 0; k < controls; k++) {
        const t = orders[k].at;
        while (next < n && orders[next].at <= t) next++;
        const nextOrder = next < n ? orders[next].at : Number.POSITIVE_INFINITY;
        while (j < times.length && times[j] < t - o.controlDays) j++;
        if (j < times.length && (times[j] <= t || (times[j] <= t + o.controlDays && times[j] < nextOrder))) {
          nearAnchor.push(firstControl + k);
          nearKind.push(kind);
        }
      }
    }
  });

  const positive = (columns: Float64Array[], counts: number[]) => {
    const values: number[] = [];
    columns.forEach((column, k) => {
      for (let i = 0; i < counts[k]; i++) if (column[i] > 0) values.push(column[i]);
    });
    return Float64Array.from(values);
  };
  const priorCuts = terciles(positive([control.spend, exposed.spend], [control.count, exposed.count]));
  const futureCuts = terciles(positive([control.value, exposed.value], [control.count, exposed.count]));

  // Specific type t = (stage * 4 + prior band) * C + channel; margins add '*' as the last value of each.
  const K = kindIndex.size;
  const C = channelIndex.size;
  const T = 12 * C;
  const typeOf = (a: ReturnType<typeof anchorColumns>, i: number) =>
    (a.stage[i] * 4 + (a.stage[i] === 0 ? 0 : bandOf(a.spend[i], priorCuts))) * C + channelOf[a.customer[i]];
  // The 8 margins of each specific type, as indices m = (stage * 5 + band) * (C + 1) + channel.
  const marginsOf = new Int32Array(T * 8);
  for (let t = 0; t < T; t++) {
    const type = [Math.floor(t / (4 * C)), Math.floor(t / C) % 4, t % C];
    for (let j = 0; j < 8; j++) {
      const s = j & 4 ? 3 : type[0];
      const b = j & 2 ? 4 : type[1];
      marginsOf[t * 8 + j] = (s * 5 + b) * (C + 1) + (j & 1 ? C : type[2]);
    }
  }
  const M = 20 * (C + 1);

  // Baseline: every control anchor of the type, less those with the kind nearby. Slot = 6 numbers: n, bought, 4 bands.
  const all = new Float64Array(T * 6);
  const near = new Float64Array(K * T * 6);
  const controlType = new Int32Array(control.count);
  for (let i = 0; i < control.count; i++) {
    const t = typeOf(control, i);
    controlType[i] = t;
    all[t * 6]++;
    all[t * 6 + 1] += control.bought[i];
    all[t * 6 + 2 + bandOf(control.value[i], futureCuts)]++;
  }
  for (let k = 0; k < nearAnchor.length; k++) {
    const i = nearAnchor[k];
    const slot = (nearKind[k] * T + controlType[i]) * 6;
    near[slot]++;
    near[slot + 1] += control.bought[i];
    near[slot + 2 + bandOf(control.value[i], futureCuts)]++;
  }
  const baseline = new Float64Array(M * K * 6);
  for (let t = 0; t < T; t++) {
    if (all[t * 6] === 0) continue;
    for (let j = 0; j < 8; j++) {
      const m = marginsOf[t * 8 + j];
      for (let k = 0; k < K; k++)
        for (let f = 0; f < 6; f++) baseline[(m * K + k) * 6 + f] += all[t * 6 + f] - near[(k * T + t) * 6 + f];
    }
  }

  // Exposed: cell = ((margin * K + kind) * 3 + occurrence) * 3 + followedUp. Slot = 7: n, bought, value, 4 bands.
  const cellsOf = new Float64Array(M * K * 9 * 7);
  const specificKeys = new Map<number, string>();
  const cases: OutcomeCase[] = new Array(exposed.count);
  const kindNames = [...kindIndex.keys()];
  const channelNames = [...channelIndex.keys()];
  const exposedPerKind = new Int32Array(K);
  for (let i = 0; i < exposed.count; i++) {
    const t = typeOf(exposed, i);
    const kind = exposed.kind[i];
    const band = bandOf(exposed.value[i], futureCuts);
    exposedPerKind[kind]++;
    for (let j = 0; j < 8; j++)
      for (let r = 0; r < 2; r++)
        for (let f = 0; f < 2; f++) {
          const slot =
            (((marginsOf[t * 8 + j] * K + kind) * 3 + (r ? 2 : repeated[i])) * 3 + (f ? 2 : followed[i])) * 7;
          cellsOf[slot]++;
          cellsOf[slot + 1] += exposed.bought[i];
          cellsOf[slot + 2] += exposed.value[i];
          cellsOf[slot + 3 + band]++;
        }
    const specific = ((t * K + kind) * 2 + repeated[i]) * 2 + followed[i];
    let key = specificKeys.get(specific);
    if (key === undefined) {
      const s = Math.floor(t / (4 * C));
      key = `${stages[s]}|${s === 0 ? 'none' : bandNames[Math.floor(t / C) % 4]}|${channelNames[t % C]}|${kindNames[kind]}|${occurrences[repeated[i]]}|${followUps[followed[i]]}`;
      specificKeys.set(specific, key);
    }
    const e = histories[exposed.customer[i]].experiences[exposedEvent[i]];
    cases[i] = {
      customerId: histories[exposed.customer[i]].customerId,
      experienceId: e.id,
      cell: key,
      at: e.at,
      boughtAgain: exposed.bought[i] === 1,
      valueBand: bandNames[band],
      value: exposed.value[i],
    };
  }

  const bandsOf = (slots: Float64Array, at: number, n: number) =>
    Object.fromEntries(
      bandNames.map((b, j) => [b, { count: slots[at + j], share: n ? slots[at + j] / n : 0 }]),
    ) as BandShares;
  const share = (x: number, n: number): Share => ({ n, ...wilson(x, n) });
  const kindOrder = [...kindNames.keys()]
    .filter((k) => exposedPerKind[k] > 0)
    .sort((a, b) => exposedPerKind[b] - exposedPerKind[a] || kindNames[a].localeCompare(kindNames[b]));
  const cells: OutcomeCell[] = [];
  for (const k of kindOrder)
    for (let m = 0; m < M; m++) {
      const ch = m % (C + 1);
      const b = Math.floor(m / (C + 1)) % 5;
      const s = Math.floor(m / (5 * (C + 1)));
      const base = (m * K + k) * 6;
      const baseN = baseline[base];
      for (let r = 0; r < 3; r++)
        for (let f = 0; f < 3; f++) {
          const slot = (((m * K + k) * 3 + r) * 3 + f) * 7;
          const n = cellsOf[slot];
          if (n === 0) continue;
          const type = [s === 3 ? '*' : stages[s], b === 4 ? '*' : bandNames[b], ch === C ? '*' : channelNames[ch]];
          const cell: OutcomeCell = {
            key: `${type.join('|')}|${kindNames[k]}|${occurrences[r]}|${followUps[f]}`,
            stage: type[0],
            valueBand: type[1],
            channel: type[2],
            kind: kindNames[k],
            valence: valences[k],
            occurrence: occurrences[r],
            followedUp: followUps[f],
            n,
            boughtAgain: cellsOf[slot + 1],
            ...wilson(cellsOf[slot + 1], n),
            meanValue: cellsOf[slot + 2] / n,
            bands: bandsOf(cellsOf, slot + 3, n),
            baseline:
              baseN > 0 ? { ...share(baseline[base + 1], baseN), bands: bandsOf(baseline, base + 2, baseN) } : null,
            difference:
              baseN > 0
                ? newcombe({ x: cellsOf[slot + 1], n }, { x: baseline[base + 1], n: baseN })
                : { difference: Number.NaN, low: Number.NaN, high: Number.NaN },
            small: n < o.minCell,
          };
          if (f === 2) {
            const no = slot - 2 * 7;
            const yes = slot - 7;
            cell.followUpEffect =
              cellsOf[no] > 0 && cellsOf[yes] > 0
                ? {
                    ...newcombe({ x: cellsOf[yes + 1], n: cellsOf[yes] }, { x: cellsOf[no + 1], n: cellsOf[no] }),
                    yes: share(cellsOf[yes + 1], cellsOf[yes]),
                    no: share(cellsOf[no + 1], cellsOf[no]),
                  }
                : null;
          }
          cells.push(cell);
        }
    }
  return {
    options: o,
    valueCuts: { prior: priorCuts, future: futureCuts },
    kinds: kindOrder.map((k) => kindNames[k]),
    anchors: { exposed: exposed.count, control: control.count },
    cells,
    cases,
  };
}
