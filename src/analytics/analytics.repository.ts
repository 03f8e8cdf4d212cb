// All SQL of the analytics: the per-customer summary the models read, the write-back of scores,
// stage transitions and alerts, and the aggregates behind the charts.
import { queueEvents } from '../webhooks/webhook.service.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';

/** One customer's purchase history up to the as-of date, in whole days of the business time zone. */
export interface SummaryRow {
  customer_id: number;
  stage: string;
  channel: string | null;
  /** Repeat purchase days up to as-of. */
  x: number;
  /** Days from the first to the last purchase day (up to as-of). */
  tx: number;
  /** Days from the first purchase day to as-of. */
  age: number;
  first_day: string;
  /** Days from the first to the second purchase day, when there is one up to as-of. */
  second_after: number | null;
  historic: number;
  repeat_spend: number;
  /** Purchase days after as-of (a holdout, when the data runs past as-of). */
  holdout: number;
  prev_p_alive: number | null;
}

/** What the charts need from the purchase histories, summed over the ranges as they are read. */
export interface HistoryAggregates {
  /** Repeat purchase days (every purchase day but a customer's first) by calendar day, all dates. */
  repeatDays: Map<string, number>;
  /** Customers of a first-purchase month ('YYYY-MM') active n months later, keyed `cohort|n`, up to as-of. */
  cohortActive: Map<string, number>;
}

export const emptyAggregates = (): HistoryAggregates => ({ repeatDays: new Map(), cohortActive: new Map() });

const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);

/**
 * Purchase days per customer in the business time zone (several orders on one day are one purchase
 * occasion), then one row per customer whose first purchase is on or before as-of, for customers
 * with ids in [fromId, toId]. The orders are read once: the chart aggregates of the same customers
 * are added to `into`.
 */
export async function summaries(db: Db, options: { asOf: string; timeZone: string; fromId: number; toId: number; previousRun: number | null }, into: HistoryAggregates): Promise<SummaryRow[]> {
  return db.transaction(async (tx) => {
    // Numbered over all days: a day up to as-of has the same number as when counting only those.
    await tx.execute(sql`
      create temp table range_days on commit drop as
      select customer_id, day, spend, row_number() over (partition by customer_id order by day) as n
      from (
        select customer_id, (ordered_at at time zone ${options.timeZone})::date as day, sum(total) as spend
        from orders where customer_id between ${options.fromId} and ${options.toId}
        group by 1, 2
      ) days`);
    const rows = await queryRows<SummaryRow>(tx, sql`
      with calibration as (
        select customer_id, count(*)::int - 1 as x, min(day) as first_day, max(day) as last_day,
          min(day) filter (where n = 2) as second_day, sum(spend)::float8 as historic,
          coalesce(sum(spend) filter (where n > 1), 0)::float8 as repeat_total
        from range_days where day <= ${options.asOf}::date group by customer_id
      ), holdout as (
        select customer_id, count(*)::int as holdout from range_days where day > ${options.asOf}::date group by customer_id
      )
      select k.customer_id, c.stage, c.acquisition_channel as channel, k.x, (k.last_day - k.first_day) as tx,
        (${options.asOf}::date - k.first_day) as age, k.first_day::text as first_day, (k.second_day - k.first_day) as second_after,
        k.historic, case when k.x > 0 then k.repeat_total / k.x else 0 end as repeat_spend,
        coalesce(h.holdout, 0) as holdout, prev.p_alive as prev_p_alive
      from calibration k
      join customers c on c.id = k.customer_id
      left join holdout h on h.customer_id = k.customer_id
      left join scores prev on prev.run_id = ${options.previousRun ?? -1} and prev.customer_id = k.customer_id
      order by k.customer_id`);
    const repeat = await queryRows<{ day: string; purchases: number }>(tx, sql`
      select day::text as day, count(*)::int as purchases from range_days where n > 1 group by 1`);
    for (const r of repeat) add(into.repeatDays, r.day, r.purchases);
    const cohorts = await queryRows<{ cohort: string; offset: number; active: number }>(tx, sql`
      with months as (
        select customer_id, date_trunc('month', day) as month from range_days where day <= ${options.asOf}::date group by 1, 2
      ), firsts as (
        select customer_id, min(month) as cohort from months group by 1
      )
      select to_char(f.cohort, 'YYYY-MM') as cohort,
        ((extract(year from m.month) - extract(year from f.cohort)) * 12 + extract(month from m.month) - extract(month from f.cohort))::int as offset,
        count(*)::int as active
      from months m join firsts f using (customer_id) group by 1, 2`);
    for (const c of cohorts) add(into.cohortActive, `${c.cohort}|${c.offset}`, c.active);
    return rows;
  });
}

export async function customerIdRange(db: Db): Promise<{ min: number; max: number } | null> {
  const [row] = await queryRows<{ min: number | null; max: number | null }>(db, sql`select min(id) as min, max(id) as max from customers`);
  return row.min === null ? null : { min: row.min, max: row.max! };
}

/** The latest purchase day in the data (business time zone), to tell a current run from a backtest. */
export async function latestPurchaseDay(db: Db, timeZone: string): Promise<string | null> {
  const [row] = await queryRows<{ day: string | null }>(db, sql`select (max(ordered_at) at time zone ${timeZone})::date::text as day from orders`);
  return row.day;
}

export async function previousCurrentRun(db: Db): Promise<number | null> {
  const [row] = await queryRows<{ id: number }>(db, sql`select id from analysis_runs where status = 'done' and current order by id desc limit 1`);
  return row?.id ?? null;
}

export interface ScoreRow {
  customerId: number; frequency: number; recencyDays: number; ageDays: number; pAlive: number; pAliveChange: number | null; churn: number;
  expected30: number; expected90: number; expected365: number; nextOrderDate: string | null; expectedOrderValue: number;
  predictedValue365: number; historicValue: number; averageDaysBetween: number | null; r: number; f: number; m: number;
  valueAtStake: number; stage: string; reasons: string[]; satisfaction: number | null;
}

const cents = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : null);

export async function insertScores(db: Db, run: { id: number; asOf: string; modelVersion: string }, rows: ScoreRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <T>(pick: (r: ScoreRow) => T) => array(rows.map(pick));
  await db.execute(sql`
    insert into scores (customer_id, run_id, as_of, model_version, frequency, recency_days, age_days, p_alive, p_alive_change, churn_probability,
      expected_30, expected_90, expected_365, next_order_date, expected_order_value, predicted_value_365, historic_value, average_days_between,
      recency_score, frequency_score, monetary_score, value_at_stake, stage, reasons, satisfaction)
    select u.customer_id, ${run.id}, ${run.asOf}::date, ${run.modelVersion}, u.frequency, u.recency_days, u.age_days, u.p_alive, u.p_alive_change, u.churn,
      u.e30, u.e90, u.e365, u.next_order, u.order_value, u.predicted, u.historic, u.between_days, u.r, u.f, u.m, u.stake, u.stage,
      -- reasons travel as one text per customer, lines separated by a newline
      string_to_array(u.reasons, E'\\n'), u.satisfaction
    from unnest(${col((r) => r.customerId)}::bigint[], ${col((r) => r.frequency)}::bigint[], ${col((r) => r.recencyDays)}::bigint[],
      ${col((r) => r.ageDays)}::bigint[], ${col((r) => r.pAlive)}::float8[], ${col((r) => r.pAliveChange)}::float8[], ${col((r) => r.churn)}::float8[],
      ${col((r) => r.expected30)}::float8[], ${col((r) => r.expected90)}::float8[], ${col((r) => r.expected365)}::float8[],
      ${col((r) => r.nextOrderDate)}::date[], ${col((r) => cents(r.expectedOrderValue))}::numeric[], ${col((r) => cents(r.predictedValue365))}::numeric[],
      ${col((r) => cents(r.historicValue))}::numeric[], ${col((r) => r.averageDaysBetween)}::float8[], ${col((r) => r.r)}::smallint[],
      ${col((r) => r.f)}::smallint[], ${col((r) => r.m)}::smallint[], ${col((r) => cents(r.valueAtStake))}::numeric[], ${col((r) => r.stage)}::text[],
      ${col((r) => r.reasons.join('\n'))}::text[], ${col((r) => r.satisfaction)}::float8[])
      as u(customer_id, frequency, recency_days, age_days, p_alive, p_alive_change, churn, e30, e90, e365, next_order, order_value, predicted,
        historic, between_days, r, f, m, stake, stage, reasons, satisfaction)`);
}

/**
 * Moves customers whose scored stage differs from their current one, recording each transition
 * with its cause on their timeline. Suppressed customers and trial users are left alone.
 */
export async function applyStages(db: Db, runId: number, at: Date): Promise<number> {
  const changed = await queryRows<{ id: number }>(db, sql`
    with moved as (
      update customers c set stage = s.stage, stage_changed_at = ${at.toISOString()}::timestamptz, updated_at = now()
      from scores s, (select id, stage as old_stage from customers) old
      where s.run_id = ${runId} and s.customer_id = c.id and old.id = c.id
        and c.stage in ('customer', 'best', 'at_risk', 'lapsed', 'won_back') and c.stage <> s.stage
      returning c.id, old.old_stage, s.stage as new_stage, s.reasons
    )
    insert into lifecycle_changes (customer_id, from_stage, to_stage, at, cause)
    select id, old_stage, new_stage, ${at.toISOString()}::timestamptz, array_to_string(reasons, '; ') from moved
    returning customer_id as id`);
  return changed.length;
}

/** Customers whose probability of being active fell below the threshold since the previous run. */
export async function raiseAlerts(db: Db, runId: number, at: Date, threshold: number): Promise<number> {
  const rows = await queryRows<{ id: number }>(db, sql`
    insert into activity_alerts (customer_id, run_id, at, threshold, from_p_alive, to_p_alive, value_at_stake, reason)
    select s.customer_id, ${runId}, ${at.toISOString()}::timestamptz, ${threshold}, s.p_alive - s.p_alive_change, s.p_alive, s.value_at_stake,
      array_to_string(s.reasons, '; ')
    from scores s
    where s.run_id = ${runId} and s.p_alive_change is not null and s.p_alive < ${threshold} and s.p_alive - s.p_alive_change >= ${threshold}
    returning id`);
  await queueEvents(db, 'alert.raised', sql`
    select 'alert-' || a.id, jsonb_build_object('customerId', a.customer_id, 'externalId', c.external_id, 'at', a.at, 'fromPAlive', a.from_p_alive,
      'toPAlive', a.to_p_alive, 'threshold', a.threshold, 'valueAtStake', a.value_at_stake, 'reason', a.reason)
    from activity_alerts a join customers c on c.id = a.customer_id where a.run_id = ${runId}`);
  return rows.length;
}

/** Customers by stage at the end of each month, rebuilt from the stage history. */
export async function stagesByMonth(db: Db, timeZone: string): Promise<{ month: string; stage: string; customers: number }[]> {
  return queryRows(db, sql`
    with moves as (
      select to_char(date_trunc('month', at at time zone ${timeZone}), 'YYYY-MM') as month, to_stage as stage, 1 as delta from lifecycle_changes
      union all
      select to_char(date_trunc('month', at at time zone ${timeZone}), 'YYYY-MM'), from_stage, -1 from lifecycle_changes where from_stage is not null
      union all
      select to_char(date_trunc('month', created_at at time zone ${timeZone}), 'YYYY-MM'), 'prospect', 1 from customers
    ), monthly as (
      select month, stage, sum(delta)::int as delta from moves group by 1, 2
    )
    select month, stage, (sum(delta) over (partition by stage order by month))::int as customers from monthly order by month, stage`);
}

export async function latestRun(db: Db) {
  const [row] = await queryRows<Record<string, unknown>>(db, sql`
    select id, as_of::text as as_of, model_version, activity_model, status, started_at, finished_at, customers, repeat_customers, models, report, current, warnings, error
    from analysis_runs where status = 'done' order by id desc limit 1`);
  return row;
}
