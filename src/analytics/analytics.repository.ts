// All SQL of the analytics: the per-customer summary the models read, the write-back of scores,
// stage transitions and alerts, the aggregates behind the charts, the bookkeeping of a run (its row
// from running to done or failed) and the reads the analytics API answers with.
import { queueWebhookEvents } from '../webhooks/index.ts';
import { queryRows, sql, type Db } from '../db/connection.ts';
import type { SQL } from 'drizzle-orm';
import { subscriptionPeriods } from '../subscriptions/index.ts';
import type { AnalysisRun, AtRiskCustomer, CustomerScore, SubscriberScore } from './analytics.ts';
import type { ChurnScore, Subscriber } from './churn.ts';

export { refreshStatistics } from '../db/connection.ts';

/**
 * Every customer's purchase history up to the as-of date, in whole days of the business time zone,
 * one typed column per field (index i is one customer, in id order): a million customers take
 * about 60 MB and nothing for the garbage collector to chase.
 */
export interface Histories {
  size: number;
  customerId: Float64Array;
  /** Repeat purchase days up to as-of. */
  x: Int32Array;
  /** Days from the first to the last purchase day (up to as-of). */
  tx: Int32Array;
  /** Days from the first purchase day to as-of. */
  age: Int32Array;
  /** The first purchase day, in days since 1970-01-01. */
  firstDay: Int32Array;
  /** Days from the first to the second purchase day; -1 without a second one up to as-of. */
  secondAfter: Int32Array;
  historic: Float64Array;
  /** Mean spend of the repeat purchase days (0 without any). */
  repeatSpend: Float64Array;
  /** Purchase days after as-of (a holdout, when the data runs past as-of). */
  holdout: Int32Array;
  /** P(alive) of the previous current run; NaN when there is none. */
  prevPAlive: Float64Array;
  /** Codes into `stages`. */
  stage: Uint8Array;
  stages: string[];
  /** Codes into `channels`; 0 is a customer without an acquisition channel ('unknown'). */
  channel: Uint16Array;
  channels: string[];
  /**
   * Every purchase day of customer i (also those after as-of), in order, with its spend in cents:
   * `days[dayStart[i] .. dayStart[i + 1])`. What the backtest and the supervised model cut at
   * earlier dates.
   */
  dayStart: Int32Array;
  days: Int32Array;
  /** 32-bit when every day's spend fits (up to 21 million), else doubles. */
  cents: Int32Array | Float64Array;
  /** Everything else that happened to customer i, in day order: `signalDay[signalStart[i] .. signalStart[i + 1])`, kinds from `signalKinds`. */
  signalStart: Int32Array;
  signalDay: Int32Array;
  signalKind: Uint8Array;
  signalValue: Float64Array;
}

/**
 * What besides purchases the supervised model reads, as dated signals: a return (value: amount
 * refunded), a ticket opened and resolved, an incident, a survey score (value: share of the
 * question's top score), an agent-recorded feeling (-2..2), an inbound touchpoint (a visit, a
 * click, a reply: engagement).
 */
export const signalKinds = [
  'return',
  'ticket_opened',
  'ticket_resolved',
  'incident',
  'survey',
  'feeling',
  'engagement',
] as const;
export type SignalKind = (typeof signalKinds)[number];

/**
 * Every signal of the customers `scope` picks (per table or alias) as (customer_id, day, kind,
 * value), kinds by their index in `signalKinds`: the one definition the analysis and the
 * subscription model read.
 */
export function signalRows(scope: (table: string) => SQL, dayOf: (column: string) => SQL): SQL {
  return sql`select customer_id, ${dayOf('returned_at')} as day, 0 as kind, amount::float8 as value from returns where ${scope('returns')}
        union all select customer_id, ${dayOf('opened_at')}, 1, 0 from tickets where ${scope('tickets')}
        union all select customer_id, ${dayOf('resolved_at')}, 2, 0 from tickets where ${scope('tickets')} and resolved_at is not null
        union all select customer_id, ${dayOf('at')}, 3, 0 from incidents where ${scope('incidents')}
        union all select r.customer_id, ${dayOf('r.at')}, 4, (r.score / nullif(q.top, 0))::float8
          from survey_responses r join (select survey, question, max(score) as top from survey_responses group by 1, 2) q using (survey, question)
          where ${scope('r')} and r.score is not null
        union all select customer_id, ${dayOf('at')}, 5, feeling from notes where ${scope('notes')} and feeling is not null
        union all select customer_id, ${dayOf('at')}, 6, 0 from touchpoints where ${scope('touchpoints')} and direction = 'in'`;
}

/** What the charts need from the purchase histories, summed over the ranges as they are read. */
export interface HistoryAggregates {
  /** Repeat purchase days (every purchase day but a customer's first) by day (days since 1970-01-01), all dates. */
  repeatDays: Map<number, number>;
  /** Customers of a first-purchase month ('YYYY-MM') active n months later, keyed `cohort|n`, up to as-of. */
  cohortActive: Map<string, number>;
}

const add = <K>(map: Map<K, number>, key: K, n: number) => map.set(key, (map.get(key) ?? 0) + n);
/** The code of a value in a dictionary of codes (0, 1, ...), adding it when it is new: the stage and channel columns. */
export function codeOf(codes: Map<string, number>, value: string): number {
  let code = codes.get(value);
  if (code === undefined) codes.set(value, (code = codes.size));
  return code;
}
const rangeSize = 50_000;
const int32Columns = ['x', 'tx', 'age', 'firstDay', 'secondAfter', 'holdout'] as const;
const float64Columns = ['customerId', 'historic', 'repeatSpend', 'prevPAlive'] as const;
const dayMs = 86_400_000;

interface RangeRow {
  customer_id: number;
  stage: string;
  channel: string | null;
  prev_p_alive: number | null;
  days: string;
  spends: string;
  /** The customer's signals as `day:kind:value`, comma-separated in day order; null without any. */
  signals: string | null;
}

/**
 * Each customer of a range with their purchase days in the business time zone (several orders on
 * one day are one purchase occasion, spend summed), as two comma-separated lists: one row a
 * customer keeps the database's work to one sort and two groupings of the orders, and the
 * summaries are counted here while the database reads the next range.
 */
async function readRange(
  db: Db,
  o: {
    timeZone: string;
    fromId: number;
    toId: number;
    previousRun: number | null;
    zeroValueOrders: 'ignore' | 'count';
  },
): Promise<RangeRow[]> {
  const inRange = (table: string) => sql.raw(`${table}.customer_id between ${o.fromId} and ${o.toId}`);
  const dayOf = (column: string) => sql`(${sql.raw(column)} at time zone ${o.timeZone})::date - date '1970-01-01'`;
  return db.transaction(async (tx) => {
    // Compiling these queries (PostgreSQL's JIT) takes longer than running them; a range's sort
    // stays in memory with a little more than the default work_mem.
    await tx.execute(sql`set local jit = off`);
    await tx.execute(sql`set local work_mem = '32MB'`);
    return queryRows<RangeRow>(
      tx,
      sql`
      with order_days as (
        select customer_id, day, spend, min(day) over (partition by customer_id) as first_day from (
          select customer_id, ${dayOf('ordered_at')} as day, sum(total) as spend from orders where ${inRange('orders')} group by 1, 2
        ) d
      ), purchase_days as (
        -- A day whose orders total 0 is no repeat purchase (a free replacement, a £0.00 invoice); a
        -- customer's first order counts whatever its value, so a customer is never lost for it.
        select customer_id, day, spend from order_days
        ${o.zeroValueOrders === 'ignore' ? sql`where spend > 0 or day = first_day` : sql``} order by 1, 2
      ), lists as materialized (
        select customer_id, string_agg(day::text, ',') as days, string_agg(spend::text, ',') as spends from purchase_days group by 1
      ), signals as (
        ${signalRows(inRange, dayOf)}
      ), signal_lists as (
        select customer_id, string_agg(day || ':' || kind || ':' || coalesce(value, 0), ',' order by day) as signals from signals group by 1
      )
      select l.customer_id, c.stage, c.acquisition_channel as channel, prev.p_alive as prev_p_alive, l.days, l.spends, s.signals
      from lists l
      join customers c on c.id = l.customer_id
      left join signal_lists s on s.customer_id = l.customer_id
      left join scores prev on prev.run_id = ${o.previousRun ?? -1} and prev.customer_id = l.customer_id
      order by l.customer_id`,
    );
  });
}

/**
 * Reads every customer whose first purchase is on or before as-of, in ranges of customer ids, two
 * ranges at a time (on PostgreSQL each on its own connection and core).
 */
export async function readHistories(
  db: Db,
  o: {
    asOf: string;
    timeZone: string;
    previousRun: number | null;
    zeroValueOrders?: 'ignore' | 'count';
    onProgress?: (done: number, total: number) => void;
  },
): Promise<{ histories: Histories; aggregates: HistoryAggregates }> {
  const asOfDay = Date.parse(`${o.asOf}T00:00:00Z`) / dayMs;
  const repeatDays = new Map<number, number>();
  // Months as year * 12 + month - 1, one Date per distinct day; cohort activity keyed by first month * 10,000 + months since.
  const months = new Map<number, number>();
  const monthOf = (d: number) => {
    let m = months.get(d);
    if (m === undefined) {
      const date = new Date(d * dayMs);
      months.set(d, (m = date.getUTCFullYear() * 12 + date.getUTCMonth()));
    }
    return m;
  };
  const cohortActive = new Map<number, number>();
  const stageCodes = new Map<string, number>();
  const channelCodes = new Map<string, number>([['unknown', 0]]);

  /**
   * One customer's summary from their purchase days (sorted) and the spend of each, their days and
   * signals appended to the part's lists (`part.dayStart[k + 1]` and `part.signalStart[k + 1]` end
   * them); false when the first purchase is after as-of.
   */
  const summarise = (part: Histories, k: number, row: RangeRow): boolean => {
    const from = part.dayStart[k];
    // Spend in cents: sums of whole numbers are exact.
    const count = parseList(row.days, part.days, from);
    parseCents(row.spends, part.cents, from);
    const days = part.days;
    const cents = part.cents;
    const to = from + count;
    // The lists come in day order from the sorted purchase days; should a plan ever change that, sort here.
    let sorted = true;
    for (let j = from + 1; j < to && sorted; j++) sorted = days[j] >= days[j - 1];
    if (!sorted) {
      const [d, c] = [Array.from(days.subarray(from, to)), Array.from(cents.subarray(from, to))];
      const order = d.map((_, j) => j).sort((i, j) => d[i] - d[j]);
      days.set(
        order.map((j) => d[j]),
        from,
      );
      cents.set(
        order.map((j) => c[j]),
        from,
      );
    }
    if (days[from] > asOfDay) {
      for (let j = from + 1; j < to; j++) add(repeatDays, days[j], 1);
      return false;
    }
    const first = days[from];
    const firstMonth = monthOf(first);
    let calibration = 0;
    let last = first;
    let spent = 0;
    let previousMonth = -1;
    for (let j = from; j < to; j++) {
      const d = days[j];
      if (j > from) add(repeatDays, d, 1);
      if (d > asOfDay) continue;
      calibration++;
      last = d;
      spent += cents[j];
      const month = monthOf(d);
      if (month !== previousMonth) add(cohortActive, firstMonth * 10_000 + month - firstMonth, 1);
      previousMonth = month;
    }
    part.customerId[k] = row.customer_id;
    part.x[k] = calibration - 1;
    part.tx[k] = last - first;
    part.age[k] = asOfDay - first;
    part.firstDay[k] = first;
    part.secondAfter[k] = calibration > 1 ? days[from + 1] - first : -1;
    part.repeatSpend[k] = calibration > 1 ? (spent - cents[from]) / 100 / (calibration - 1) : 0;
    part.holdout[k] = count - calibration;
    part.prevPAlive[k] = row.prev_p_alive ?? Number.NaN;
    part.stage[k] = codeOf(stageCodes, row.stage);
    part.channel[k] = codeOf(channelCodes, row.channel ?? 'unknown');
    part.dayStart[k + 1] = to;
    // Signals; refunds on or before as-of are netted from the historic value.
    let refunded = 0;
    let signalAt = part.signalStart[k];
    if (row.signals)
      for (const item of row.signals.split(',')) {
        const [d, kind, value] = item.split(':').map(Number);
        part.signalDay[signalAt] = d;
        part.signalKind[signalAt] = kind;
        part.signalValue[signalAt++] = value;
        if (kind === 0 && d <= asOfDay) refunded += Math.round(value * 100);
      }
    part.signalStart[k + 1] = signalAt;
    part.historic[k] = (spent - refunded) / 100;
    return true;
  };

  const [bounds] = await queryRows<{ min: number | null; max: number | null }>(
    db,
    sql`select min(id) as min, max(id) as max from customers`,
  );
  const parts: Histories[] = [];
  if (bounds.min !== null) {
    const span = bounds.max! - bounds.min + 1;
    const starts = Array.from({ length: Math.ceil(span / rangeSize) }, (_, i) => bounds.min! + i * rangeSize);
    let next = 0;
    let done = 0;
    const reader = async () => {
      while (next < starts.length) {
        const i = next++;
        const rows = await readRange(db, {
          ...o,
          zeroValueOrders: o.zeroValueOrders ?? 'ignore',
          fromId: starts[i],
          toId: starts[i] + rangeSize - 1,
        });
        // The part's lists sized for all its rows (those who first bought after as-of leave theirs unused).
        const part = allocate(rows.length);
        let dayCount = 0;
        let signalCount = 0;
        for (const row of rows) {
          dayCount += listLength(row.days);
          if (row.signals) signalCount += listLength(row.signals);
        }
        part.days = new Int32Array(dayCount);
        part.cents = new Float64Array(dayCount);
        part.signalDay = new Int32Array(signalCount);
        part.signalKind = new Uint8Array(signalCount);
        part.signalValue = new Float64Array(signalCount);
        let kept = 0;
        for (const row of rows) if (summarise(part, kept, row)) kept++;
        part.size = kept;
        parts[i] = part;
        done += rangeSize;
        o.onProgress?.(Math.min(done, span), span);
      }
    };
    await Promise.all([reader(), reader()]);
  }
  const histories = allocate(parts.reduce((n, p) => n + p.size, 0));
  histories.days = new Int32Array(parts.reduce((n, p) => n + p.dayStart[p.size], 0));
  // Whole cents of a day fit 32 bits but for a day's spend above 21 million: half the memory of doubles.
  const narrow = parts.every((p) =>
    p.cents.subarray(0, p.dayStart[p.size]).every((c) => Number.isInteger(c) && Math.abs(c) <= 2 ** 31 - 1),
  );
  histories.cents = narrow ? new Int32Array(histories.days.length) : new Float64Array(histories.days.length);
  histories.signalDay = new Int32Array(parts.reduce((n, p) => n + p.signalStart[p.size], 0));
  histories.signalKind = new Uint8Array(histories.signalDay.length);
  histories.signalValue = new Float64Array(histories.signalDay.length);
  let at = 0;
  let dayAt = 0;
  let signalAt = 0;
  for (const [i, part] of parts.entries()) {
    for (const name of [...int32Columns, ...float64Columns, 'stage', 'channel'] as const)
      histories[name].set(part[name].subarray(0, part.size), at);
    const days = part.dayStart[part.size];
    const signals = part.signalStart[part.size];
    histories.days.set(part.days.subarray(0, days), dayAt);
    histories.cents.set(part.cents.subarray(0, days), dayAt);
    histories.signalDay.set(part.signalDay.subarray(0, signals), signalAt);
    histories.signalKind.set(part.signalKind.subarray(0, signals), signalAt);
    histories.signalValue.set(part.signalValue.subarray(0, signals), signalAt);
    for (let k = 0; k < part.size; k++) {
      histories.dayStart[at + k + 1] = dayAt + part.dayStart[k + 1];
      histories.signalStart[at + k + 1] = signalAt + part.signalStart[k + 1];
    }
    at += part.size;
    dayAt += days;
    signalAt += signals;
    delete parts[i]; // copied: it can go
  }
  histories.stages = [...stageCodes.keys()];
  histories.channels = [...channelCodes.keys()];
  const monthName = (m: number) => `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
  const aggregates: HistoryAggregates = {
    repeatDays,
    cohortActive: new Map(
      [...cohortActive].map(([key, active]) => [`${monthName(Math.floor(key / 10_000))}|${key % 10_000}`, active]),
    ),
  };
  return { histories, aggregates };
}

/** The number of items of a comma-separated list. */
function listLength(list: string): number {
  let commas = 0;
  for (let c = 0; c < list.length; c++) if (list.charCodeAt(c) === 44) commas++;
  return commas + 1;
}

/** The whole numbers of a comma-separated list (the days), into `out` from `at`; their number. */
function parseList(list: string, out: Int32Array, at: number): number {
  let count = 0;
  let value = 0;
  let negative = false;
  for (let c = 0; c <= list.length; c++) {
    const code = c < list.length ? list.charCodeAt(c) : 44;
    if (code === 44) {
      out[at + count++] = negative ? -value : value;
      value = 0;
      negative = false;
    } else if (code === 45) negative = true;
    else value = value * 10 + code - 48;
  }
  return count;
}

/** The amounts of a comma-separated list in whole cents, Math.round(Number(amount) * 100), into `out` from `at`. */
function parseCents(list: string, out: Float64Array | Int32Array, at: number) {
  let start = 0;
  for (let c = 0; c <= list.length; c++) {
    if (c < list.length && list.charCodeAt(c) !== 44) continue;
    out[at++] = centsOf(list, start, c);
    start = c + 1;
  }
}

/**
 * One amount in whole cents, read digit by digit (no string or number made for it): with at most 2
 * decimals and 13 whole digits that is exactly Math.round(Number(amount) * 100); any other form goes
 * through Number.
 */
function centsOf(list: string, from: number, to: number): number {
  let c = from;
  const negative = list.charCodeAt(c) === 45;
  if (negative) c++;
  let whole = 0;
  let digits = 0;
  for (let code = list.charCodeAt(c); c < to && code >= 48 && code <= 57; code = list.charCodeAt(++c)) {
    whole = whole * 10 + code - 48;
    digits++;
  }
  let fraction = 0;
  let decimals = 0;
  if (c < to && list.charCodeAt(c) === 46)
    for (let code = list.charCodeAt(++c); c < to && code >= 48 && code <= 57; code = list.charCodeAt(++c)) {
      fraction = fraction * 10 + code - 48;
      decimals++;
    }
  if (c !== to || digits === 0 || digits > 13 || decimals > 2) return Math.round(Number(list.slice(from, to)) * 100);
  const cents = whole * 100 + (decimals === 1 ? fraction * 10 : fraction);
  return negative ? -cents : cents;
}

function allocate(size: number): Histories {
  return {
    size,
    customerId: new Float64Array(size),
    x: new Int32Array(size),
    tx: new Int32Array(size),
    age: new Int32Array(size),
    firstDay: new Int32Array(size),
    secondAfter: new Int32Array(size),
    historic: new Float64Array(size),
    repeatSpend: new Float64Array(size),
    holdout: new Int32Array(size),
    prevPAlive: new Float64Array(size),
    stage: new Uint8Array(size),
    stages: [],
    channel: new Uint16Array(size),
    channels: [],
    dayStart: new Int32Array(size + 1),
    days: new Int32Array(0),
    cents: new Float64Array(0),
    signalStart: new Int32Array(size + 1),
    signalDay: new Int32Array(0),
    signalKind: new Uint8Array(0),
    signalValue: new Float64Array(0),
  };
}

/** The latest purchase day in the data (business time zone), to tell a current run from a backtest. */
export async function latestPurchaseDay(db: Db, timeZone: string): Promise<string | null> {
  const [row] = await queryRows<{ day: string | null }>(
    db,
    sql`select (max(ordered_at) at time zone ${timeZone})::date::text as day from orders`,
  );
  return row.day;
}

/** The day (business time zone) the first current run that finished began: stages were set by analyses from then on. */
export async function firstCurrentRunDay(db: Db, timeZone: string): Promise<string | null> {
  const [row] = await queryRows<{ day: string | null }>(
    db,
    sql`select (min(started_at) at time zone ${timeZone})::date::text as day from analysis_runs where status = 'done' and current`,
  );
  return row.day;
}

export async function previousCurrentRun(db: Db): Promise<number | null> {
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`select id from analysis_runs where status = 'done' and current order by id desc limit 1`,
  );
  return row?.id ?? null;
}

/** Scores of customers, one column per field in the order of their Histories; codes into `stages`. */
export interface ScoreColumns {
  pAlive: Float64Array;
  /** Since the previous current run; NaN without one. */
  pAliveChange: Float64Array;
  expected30: Float64Array;
  expected90: Float64Array;
  expected365: Float64Array;
  /** Probability of at least one purchase in the next 30, 90 and 365 days. */
  pBuy30: Float64Array;
  pBuy90: Float64Array;
  pBuy365: Float64Array;
  /** Days since 1970-01-01; -1 without an expected next order. */
  nextOrderDay: Int32Array;
  expectedOrderValue: Float64Array;
  predictedValue365: Float64Array;
  valueAtStake: Float64Array;
  r: Uint8Array;
  f: Uint8Array;
  m: Uint8Array;
  stage: Uint8Array;
  stages: string[];
  /** NaN without a satisfaction index. */
  satisfaction: Float64Array;
}

// Each column travels as one array literal: numbers joined by the engine, not escaped one by one.
const numbers = (values: Float64Array | Int32Array | Uint8Array, from: number, to: number) =>
  `{${values.subarray(from, to).join(',')}}`;
const money = (values: Float64Array, from: number, to: number) => {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(Number.isFinite(values[i]) ? values[i].toFixed(2) : 'NULL');
  return `{${out.join(',')}}`;
};
/** Separates one customer's reasons from the next in the text that carries a batch's reasons. */
const recordSeparator = '\x1e';

/**
 * Writes the scores of customers [from, to); `reasons` has one entry per customer, its lines
 * separated by newlines. A current run (`current`) acts on them in the same statement:
 * - the customers marked in `current.moving` move to their scored stage, each only if their stage is
 *   still the one the analysis read (a change made meanwhile, say a new order or a suppression,
 *   wins), each transition on their timeline with the score's reasons as its cause;
 * - customers whose probability of being active fell below `current.alertBelow` since the previous
 *   run get an activity-drop alert with the reasons and the value at stake.
 */
export async function insertScores(
  db: Db,
  run: { id: number; asOf: string; modelVersion: string; model: string },
  h: Histories,
  s: ScoreColumns,
  from: number,
  to: number,
  reasons: string[],
  current?: { at: Date; moving: Uint8Array; alertBelow: number },
): Promise<{ moved: number; alerted: number }> {
  if (to <= from) return { moved: 0, alerted: 0 };
  // The stage read, as a code into h.stages, for the customers to move; -1 for the others.
  const readStage = new Int32Array(to - from);
  for (let i = from; i < to; i++) readStage[i - from] = current?.moving[i] ? h.stage[i] : -1;
  const [readStages, scoredStages] = [`{${h.stages.join(',')}}`, `{${s.stages.join(',')}}`];
  const at = current ? current.at.toISOString() : null;
  const alertBelow = current?.alertBelow ?? null; // null: no alerts (a comparison with null holds for no row)
  const [counts] = await queryRows<{ moved: number; alerted: number }>(
    db,
    sql`
    with u as materialized (
      select * from unnest(${numbers(h.customerId, from, to)}::bigint[], ${numbers(h.x, from, to)}::int[], ${numbers(h.tx, from, to)}::int[], ${numbers(h.age, from, to)}::int[],
        ${numbers(s.pAlive, from, to)}::float8[], ${numbers(s.pAliveChange, from, to)}::float8[], ${numbers(s.expected30, from, to)}::float8[],
        ${numbers(s.expected90, from, to)}::float8[], ${numbers(s.expected365, from, to)}::float8[], ${numbers(s.nextOrderDay, from, to)}::int[],
        ${money(s.expectedOrderValue, from, to)}::numeric[], ${money(s.predictedValue365, from, to)}::numeric[], ${money(h.historic, from, to)}::numeric[],
        ${numbers(s.r, from, to)}::smallint[], ${numbers(s.f, from, to)}::smallint[], ${numbers(s.m, from, to)}::smallint[], ${money(s.valueAtStake, from, to)}::numeric[],
        ${numbers(s.stage, from, to)}::int[], string_to_array(${reasons.join(recordSeparator)}, ${recordSeparator}), ${numbers(s.satisfaction, from, to)}::float8[],
        ${numbers(readStage, 0, to - from)}::int[], ${numbers(s.pBuy30, from, to)}::float8[], ${numbers(s.pBuy90, from, to)}::float8[],
        ${numbers(s.pBuy365, from, to)}::float8[])
        as u(customer_id, x, tx, age, p_alive, p_alive_change, e30, e90, e365, next_order, order_value, predicted, historic, r, f, m, stake, stage, reasons, satisfaction, read_stage,
          p_buy_30, p_buy_90, p_buy_365)
    ), scored as (
      insert into scores (customer_id, run_id, as_of, model_version, frequency, recency_days, age_days, p_alive, p_alive_change, churn_probability,
        expected_30, expected_90, expected_365, next_order_date, expected_order_value, predicted_value_365, historic_value, average_days_between,
        recency_score, frequency_score, monetary_score, value_at_stake, stage, reasons, satisfaction, p_buy_30, p_buy_90, p_buy_365, model)
      select u.customer_id, ${run.id}, ${run.asOf}::date, ${run.modelVersion}, u.x, u.tx, u.age, u.p_alive, nullif(u.p_alive_change, 'NaN'), 1 - u.p_buy_365,
        u.e30, u.e90, u.e365, case when u.next_order >= 0 then date '1970-01-01' + u.next_order end, u.order_value, u.predicted, u.historic,
        case when u.x > 0 then u.tx::float8 / u.x end, u.r, u.f, u.m, u.stake, (${scoredStages}::text[])[u.stage + 1],
        string_to_array(u.reasons, E'\\n'), nullif(u.satisfaction, 'NaN'), u.p_buy_30, u.p_buy_90, u.p_buy_365, ${run.model}
      from u
    ), moved as (
      update customers c set stage = (${scoredStages}::text[])[u.stage + 1], stage_changed_at = ${at}::timestamptz, updated_at = now()
      from u where u.read_stage >= 0 and c.id = u.customer_id and c.stage = (${readStages}::text[])[u.read_stage + 1]
      returning c.id, (${readStages}::text[])[u.read_stage + 1] as from_stage, c.stage as to_stage, replace(u.reasons, E'\\n', '; ') as cause
    ), logged as (
      insert into lifecycle_changes (customer_id, from_stage, to_stage, at, cause) select id, from_stage, to_stage, ${at}::timestamptz, cause from moved returning 1
    ), alerted as (
      insert into activity_alerts (customer_id, run_id, at, threshold, from_p_alive, to_p_alive, value_at_stake, reason)
      select u.customer_id, ${run.id}, ${at}::timestamptz, ${alertBelow}::float8, u.p_alive - u.p_alive_change, u.p_alive, u.stake, replace(u.reasons, E'\\n', '; ')
      from u where u.p_alive_change <> 'NaN' and u.p_alive < ${alertBelow}::float8 and u.p_alive - u.p_alive_change >= ${alertBelow}::float8
      returning 1
    )
    select (select count(*)::int from logged) as moved, (select count(*)::int from alerted) as alerted`,
  );
  return counts;
}

/** Tells the webhooks that subscribe to them about the run's activity-drop alerts. */
async function queueAlertEvents(db: Db, runId: number): Promise<void> {
  await queueWebhookEvents(
    db,
    'alert.raised',
    sql`
    select 'alert-' || a.id, jsonb_build_object('customerId', a.customer_id, 'externalId', c.external_id, 'at', a.at, 'fromPAlive', a.from_p_alive,
      'toPAlive', a.to_p_alive, 'threshold', a.threshold, 'valueAtStake', a.value_at_stake, 'reason', a.reason)
    from activity_alerts a join customers c on c.id = a.customer_id where a.run_id = ${runId}`,
  );
}

/** Customers by stage at the end of each month, rebuilt from the stage history. */
export async function stagesByMonth(
  db: Db,
  timeZone: string,
): Promise<{ month: string; stage: string; customers: number }[]> {
  return queryRows(
    db,
    sql`
    with moves as (
      select to_char(date_trunc('month', at at time zone ${timeZone}), 'YYYY-MM') as month, to_stage as stage, 1 as delta from lifecycle_changes
      union all
      select to_char(date_trunc('month', at at time zone ${timeZone}), 'YYYY-MM'), from_stage, -1 from lifecycle_changes where from_stage is not null
      union all
      select to_char(date_trunc('month', created_at at time zone ${timeZone}), 'YYYY-MM'), 'prospect', 1 from customers
    ), monthly as (
      select month, stage, sum(delta)::int as delta from moves group by 1, 2
    )
    select month, stage, (sum(delta) over (partition by stage order by month))::int as customers from monthly order by month, stage`,
  );
}

/** The latest finished run, as the API declares it (analytics.ts); undefined before the first. */
export async function latestRun(db: Db): Promise<AnalysisRun | undefined> {
  const [row] = await queryRows<AnalysisRun>(
    db,
    sql`
    select id::int8::float8 as id, as_of::text as "asOf", model_version as "modelVersion", activity_model as "activityModel", status,
      to_char(started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "startedAt",
      to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "finishedAt",
      customers::float8 as customers, repeat_customers::float8 as "repeatCustomers", current, warnings, models, report
    from analysis_runs where status = 'done' order by id desc limit 1`,
  );
  return row;
}

/** One page of a run's scores with the customer's ids, for `kept export scores`: customers after `after`, in id order. */
export async function scorePage<Row>(db: Db, runId: number, after: number, limit: number): Promise<Row[]> {
  return queryRows<Row>(
    db,
    sql`
    select s.customer_id, c.external_id, c.email, s.as_of::text as as_of, s.model, s.stage, s.p_alive, s.p_alive_change, s.churn_probability,
      s.p_buy_30, s.p_buy_90, s.p_buy_365, s.expected_30, s.expected_90, s.expected_365, s.next_order_date::text as next_order_date, s.expected_order_value, s.predicted_value_365,
      s.value_at_stake, s.historic_value, s.frequency + 1 as purchase_days, s.average_days_between, s.recency_score, s.frequency_score,
      s.monetary_score, round(s.satisfaction::numeric, 1)::float8 as satisfaction, array_to_string(s.reasons, '; ') as reasons
    from scores s join customers c on c.id = s.customer_id
    where s.run_id = ${runId} and s.customer_id > ${after} order by s.customer_id limit ${limit}`,
  );
}

/** The id of the analysis job queued or running, if there is one. */
export async function activeAnalysisJob(db: Db): Promise<number | null> {
  const [running] = await queryRows<{ id: number }>(
    db,
    sql`
    select id from jobs where kind = 'analyze' and status in ('queued', 'running') order by id limit 1`,
  );
  return running?.id ?? null;
}

/** The row of a run that has started: running until `completeRun` or `failRun`. */
export async function createRun(
  db: Db,
  run: { asOf: string; modelVersion: string; activity: string; current: boolean },
): Promise<number> {
  const [{ id }] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into analysis_runs (as_of, model_version, activity_model, status, current)
    values (${run.asOf}::date, ${run.modelVersion}, ${run.activity}, 'running', ${run.current}) returning id`,
  );
  return id;
}

/** Marks a run done with what it found; with `alerts` its activity-drop alerts are queued for the webhooks too. */
export async function completeRun(
  db: Db,
  runId: number,
  run: {
    activityModel: string;
    customers: number;
    repeatCustomers: number;
    models: Record<string, unknown>;
    report: Record<string, unknown>;
    warnings: string[];
    alerts: number;
  },
): Promise<void> {
  // Webhooks hear of the run's alerts together with the run being done, or not at all.
  await db.transaction(async (tx) => {
    if (run.alerts > 0) await queueAlertEvents(tx, runId);
    await tx.execute(sql`
      update analysis_runs set status = 'done', finished_at = now(), activity_model = ${run.activityModel},
        customers = ${run.customers}, repeat_customers = ${run.repeatCustomers},
        models = ${JSON.stringify(run.models)}::text::jsonb, report = ${JSON.stringify(run.report)}::text::jsonb,
        warnings = ${sql.param(run.warnings)}::text[]
      where id = ${runId}`);
  });
}

/** Marks a run failed with its error and withdraws the scores and alerts it wrote. */
export async function failRun(db: Db, runId: number, error: string): Promise<void> {
  // The stage moves it made stay (each is true, with its cause).
  await db.transaction(async (tx) => {
    await tx.execute(sql`delete from activity_alerts where run_id = ${runId}`);
    await tx.execute(sql`delete from scores where run_id = ${runId}`);
    await tx.execute(sql`delete from churn_scores where run_id = ${runId}`);
    await tx.execute(
      sql`update analysis_runs set status = 'failed', error = ${error}, finished_at = now() where id = ${runId}`,
    );
  });
}

/** How many customers each lifecycle stage holds now. */
export async function customersByStage(db: Db): Promise<{ stage: string; customers: number }[]> {
  return queryRows(db, sql`select stage, count(*)::int as customers from customers group by 1 order by 1`);
}

/** Customers at risk now by the latest current run, highest value at stake first. */
export async function atRiskCustomers(db: Db, page: { limit: number; offset: number }): Promise<AtRiskCustomer[]> {
  return queryRows<AtRiskCustomer>(
    db,
    sql`
    select c.id, c.name, c.email, s.stage, s.p_alive as "pAlive", s.p_alive_change as "pAliveChange", s.value_at_stake::text as "valueAtStake",
      s.predicted_value_365::text as "predictedValue365", s.next_order_date::text as "nextOrderDate", s.reasons
    from scores s join customers c on c.id = s.customer_id and c.stage = 'at_risk'
    where s.run_id = (select id from analysis_runs where status = 'done' and current order by id desc limit 1) and s.stage = 'at_risk'
    order by s.value_at_stake desc nulls last, c.id limit ${page.limit} offset ${page.offset}`,
  );
}

export interface AlertRow {
  id: number;
  customer_id: number;
  name: string | null;
  at: string;
  from_p_alive: number;
  to_p_alive: number;
  value_at_stake: string | null;
  reason: string;
}

/** Activity-drop alerts, newest first; with `after`, only those after that id, oldest first. */
export async function activityAlerts(db: Db, o: { after?: number; limit: number }): Promise<AlertRow[]> {
  return queryRows<AlertRow>(
    db,
    sql`
    select a.id, a.customer_id, c.name, a.at, a.from_p_alive, a.to_p_alive, a.value_at_stake::text as value_at_stake, a.reason
    from activity_alerts a join customers c on c.id = a.customer_id
    where ${o.after === undefined ? sql`true` : sql`a.id > ${o.after}`}
    order by a.id ${o.after === undefined ? sql`desc` : sql`asc`} limit ${o.limit}`,
  );
}

/** One customer's scores, newest run first (the last 100). */
export async function customerScores(db: Db, customerId: number): Promise<CustomerScore[]> {
  return queryRows<CustomerScore>(
    db,
    sql`
    select s.run_id::float8 as "runId", s.as_of::text as "asOf", r.current, s.model, s.stage, s.p_alive as "pAlive", s.p_alive_change as "pAliveChange",
      s.churn_probability as "churnProbability", s.p_buy_30 as "pBuy30", s.p_buy_90 as "pBuy90", s.p_buy_365 as "pBuy365",
      s.expected_30 as "expected30", s.expected_90 as "expected90", s.expected_365 as "expected365",
      s.next_order_date::text as "nextOrderDate", s.expected_order_value::text as "expectedOrderValue",
      s.predicted_value_365::text as "predictedValue365", s.value_at_stake::text as "valueAtStake", s.historic_value::text as "historicValue",
      s.average_days_between as "averageDaysBetween", s.recency_score as "recencyScore", s.frequency_score as "frequencyScore",
      s.monetary_score as "monetaryScore", s.reasons
    from scores s join analysis_runs r on r.id = s.run_id where s.customer_id = ${customerId} order by s.run_id desc limit 100`,
  );
}

/**
 * Every customer with a subscription started on or before as-of: their latest subscription (days in
 * the business time zone), how many started before it, their profile and custom attributes, and
 * their purchase days and signals (all of them; the churn model reads each up to its own end).
 */
export async function readSubscribers(db: Db, o: { asOf: string; timeZone: string }): Promise<Subscriber[]> {
  const dayOf = (column: string) => sql`(${sql.raw(column)} at time zone ${o.timeZone})::date - date '1970-01-01'`;
  const subscribed = (table: string) => sql.raw(`${table}.customer_id in (select customer_id from latest)`);
  const rows = await queryRows<{
    customer_id: number;
    external_id: string | null;
    name: string | null;
    acquisition_channel: string | null;
    attributes: Record<string, unknown> | null;
    subscription_id: string;
    plan: string | null;
    price: number | null;
    period: string;
    start_day: number;
    cancel_day: number | null;
    previous: number;
    purchases: string | null;
    signals: string | null;
  }>(
    db,
    sql`
    with latest as materialized (
      select distinct on (s.customer_id) s.customer_id, s.external_id as subscription_id, s.plan, s.price::float8 as price, s.period,
        ${dayOf('s.started_at')} as start_day, ${dayOf('s.cancelled_at')} as cancel_day,
        (select count(*)::int from subscriptions p where p.customer_id = s.customer_id and p.started_at < s.started_at) as previous
      from subscriptions s
      where ${dayOf('s.started_at')} <= ${o.asOf}::date - date '1970-01-01'
      order by s.customer_id, s.started_at desc, s.id desc
    ), purchases as (
      select customer_id, string_agg(day || ':' || spend, ',' order by day) as purchases from (
        select customer_id, ${dayOf('ordered_at')} as day, sum(total)::float8 as spend from orders where ${subscribed('orders')} group by 1, 2
      ) d group by 1
    ), signals as (
      ${signalRows(subscribed, dayOf)}
    ), signal_lists as (
      select customer_id, string_agg(day || ':' || kind || ':' || coalesce(value, 0), ',' order by day) as signals from signals group by 1
    )
    select l.customer_id::float8 as customer_id, c.external_id, c.name, c.acquisition_channel, c.attributes, l.subscription_id, l.plan, l.price,
      l.period, l.start_day, l.cancel_day, l.previous, p.purchases, g.signals
    from latest l join customers c on c.id = l.customer_id
    left join purchases p on p.customer_id = l.customer_id
    left join signal_lists g on g.customer_id = l.customer_id
    order by l.customer_id`,
  );
  return rows.map((r) => ({
    customerId: Number(r.customer_id),
    externalId: r.external_id,
    name: r.name,
    acquisitionChannel: r.acquisition_channel,
    attributes: r.attributes ?? {},
    subscriptionId: r.subscription_id,
    plan: r.plan,
    price: r.price === null ? null : Number(r.price),
    period: (subscriptionPeriods as readonly string[]).includes(r.period)
      ? (r.period as Subscriber['period'])
      : 'month',
    startDay: Number(r.start_day),
    cancelDay: r.cancel_day === null ? null : Number(r.cancel_day),
    previous: Number(r.previous),
    purchases: (r.purchases ? r.purchases.split(',') : []).map((item) => {
      const [day, spend] = item.split(':');
      return { day: Number(day), spend: Number(spend) };
    }),
    signals: (r.signals ? r.signals.split(',') : []).map((item) => {
      const [day, kind, value] = item.split(':');
      return { day: Number(day), kind: Number(kind), value: Number(value) };
    }),
  }));
}

/** A run's churn scores of the running subscribers, in one statement per 10,000. */
export async function writeChurnScores(db: Db, runId: number, scores: ChurnScore[]): Promise<void> {
  for (let from = 0; from < scores.length; from += 10_000) {
    const batch = scores.slice(from, from + 10_000);
    await db.execute(sql`
      insert into churn_scores (run_id, customer_id, subscription_id, probability, next_renewal_churn, factors)
      select ${runId}, u.customer_id, u.subscription_id, u.probability, u.next_renewal_churn,
        case when u.factors = '' then '{}'::text[] else string_to_array(u.factors, ${factorSeparator}) end
      from unnest(${sql.param(batch.map((s) => s.customerId))}::bigint[], ${sql.param(batch.map((s) => s.subscriptionId))}::text[],
        ${sql.param(batch.map((s) => s.probability))}::float8[], ${sql.param(batch.map((s) => s.nextRenewalChurn))}::float8[],
        ${sql.param(batch.map((s) => s.factors.join(factorSeparator)))}::text[])
        as u(customer_id, subscription_id, probability, next_renewal_churn, factors)`);
  }
}
const factorSeparator = '\u001f';

/** A customer's churn score of the latest run that scored them, if they were a running subscriber then. */
export async function customerChurnScore(db: Db, customerId: number): Promise<SubscriberScore | null> {
  const [row] = await queryRows<SubscriberScore>(
    db,
    sql`
    select s.run_id::float8 as "runId", r.as_of::text as "asOf", s.subscription_id as "subscriptionId", s.probability,
      s.next_renewal_churn as "nextRenewalChurn", s.factors
    from churn_scores s join analysis_runs r on r.id = s.run_id and r.status = 'done'
    where s.customer_id = ${customerId} order by s.run_id desc limit 1`,
  );
  return row ?? null;
}
