// Channel economics as SQL: orders, returns and problems counted per kind and channel, customers
// counted per the channel they came through, later orders by channel, and the costs people set.
// Reads customers, orders, returns, incidents, tickets, touchpoints, survey_responses, scores,
// analysis_runs; reads and writes channel_costs.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { ChannelCost, ChannelCostsBody, CustomerTally, EconomicsOptions, OrderTally } from './economics.ts';

const kinds = sql`(values ('acquisition'), ('order'), ('contact')) as k(kind)`;
const at = (instant: Date) => sql`${instant.toISOString()}::timestamptz`;

/** The channel of the latest outbound contact at most `days` before an order: the contact it followed. */
const contactBefore = (customer: string, ordered: string, days: number) => sql`(
  select t.channel from touchpoints t where t.customer_id = ${sql.raw(customer)} and t.direction = 'out'
    and t.at <= ${sql.raw(ordered)} and t.at > ${sql.raw(ordered)} - make_interval(days => ${days})
  order by t.at desc, t.id desc limit 1)`;

/** A row's channel under each kind; the columns are named alike in every CTE below. */
const channelOf = (row: string) =>
  sql.raw(
    `case k.kind when 'acquisition' then ${row}.acquisition when 'order' then ${row}.by_order else ${row}.contact end`,
  );

/**
 * Orders, revenue, returns and problems (incidents + tickets) per kind and channel. An order
 * belongs to its customer's acquisition channel, its own channel and the contact it followed. A
 * return or problem belongs to its order's channels; by acquisition, to its customer's. A problem
 * that names a channel belongs there as an order channel; one that names none takes its order's
 * (counted in viaOrder). A null channel holds what could not be placed (no order to go by).
 */
export async function orderTallies(db: Db, options: EconomicsOptions): Promise<OrderTally[]> {
  return queryRows<OrderTally>(
    db,
    sql`
    with placed as materialized (
      select o.customer_id, o.id, o.total, coalesce(c.acquisition_channel, 'unknown') as acquisition,
        coalesce(o.channel, 'unknown') as by_order,
        coalesce(${contactBefore('o.customer_id', 'o.ordered_at', options.contactDays)}, 'none') as contact
      from orders o join customers c on c.id = o.customer_id
    ), returned as (
      select coalesce(c.acquisition_channel, 'unknown') as acquisition, p.by_order, p.contact, r.amount
      from returns r join customers c on c.id = r.customer_id
      left join placed p on p.customer_id = r.customer_id and p.id = r.order_id
    ), problems as (
      select 'incident' as source, i.customer_id, i.channel, i.order_id from incidents i
      union all
      select 'ticket', t.customer_id, t.channel, t.order_id from tickets t
    ), troubled as (
      select pr.source, coalesce(c.acquisition_channel, 'unknown') as acquisition,
        coalesce(pr.channel, p.by_order) as by_order, p.contact, pr.channel is null and p.id is not null as via_order
      from problems pr join customers c on c.id = pr.customer_id
      left join placed p on p.customer_id = pr.customer_id and p.id = pr.order_id
    ), facts as (
      select k.kind, ${channelOf('p')} as channel, 1 as orders, p.total as revenue, 0 as returns, 0::numeric as returned,
        0 as incidents, 0 as tickets, 0 as via_order
      from placed p cross join ${kinds}
      union all
      select k.kind, ${channelOf('r')}, 0, 0, 1, r.amount, 0, 0, 0 from returned r cross join ${kinds}
      union all
      select k.kind, ${channelOf('t')}, 0, 0, 0, 0, (t.source = 'incident')::int, (t.source = 'ticket')::int,
        (k.kind = 'order' and t.via_order)::int
      from troubled t cross join ${kinds}
    )
    select kind, channel, sum(orders)::int as orders, sum(revenue)::text as revenue, sum(returns)::int as returns,
      sum(returned)::text as returned, sum(incidents)::int as incidents, sum(tickets)::int as tickets,
      sum(via_order)::int as "viaOrder"
    from facts group by 1, 2 order by 1, 2`,
  );
}

/**
 * Customers per kind and channel, each in one channel of each kind: acquisition as recorded; order
 * and contact by their first order (its channel, the contact it followed), so only buyers there.
 * With each: first-time buyers observed long enough and how many bought again on a later day within
 * the window; those who had bought before the retention window and how many bought within it;
 * predicted value and satisfaction index of the latest current analysis; survey answers.
 */
export async function customerTallies(
  db: Db,
  o: { now: Date; timeZone: string; runId: number | null; options: EconomicsOptions },
): Promise<CustomerTally[]> {
  const day = 86_400_000;
  const observedBy = at(new Date(o.now.getTime() - o.options.observedDays * day));
  const windowStart = at(new Date(o.now.getTime() - o.options.retentionDays * day));
  const localDay = (column: string) => sql`(${sql.raw(column)} at time zone ${o.timeZone})::date`;
  return queryRows<CustomerTally>(
    db,
    sql`
    with firsts as materialized (
      select distinct on (o.customer_id) o.customer_id, o.ordered_at, o.channel
      from orders o where o.ordered_at <= ${at(o.now)} order by o.customer_id, o.ordered_at, o.id
    ), bought as (
      select f.customer_id, f.ordered_at as first_at, coalesce(f.channel, 'unknown') as by_order,
        coalesce(${contactBefore('f.customer_id', 'f.ordered_at', o.options.contactDays)}, 'none') as contact,
        exists (select 1 from orders l where l.customer_id = f.customer_id and ${localDay('l.ordered_at')} > ${localDay('f.ordered_at')}
          and l.ordered_at <= f.ordered_at + make_interval(days => ${o.options.secondPurchaseDays})) as repeated,
        exists (select 1 from orders l where l.customer_id = f.customer_id
          and l.ordered_at > ${windowStart} and l.ordered_at <= ${at(o.now)}) as recent
      from firsts f
    ), answered as (
      -- each answer on 0..1 by its scale, as the satisfaction index reads it: NPS 0-10, effort 1-7, satisfaction 1-5
      select customer_id, count(*)::int as answers,
        sum(least(1, greatest(0, case when survey ilike '%nps%' then score / 10
          when survey ilike '%effort%' or survey ilike '%ces%' then (score - 1) / 6 else (score - 1) / 4 end)))::float8 as answer_sum,
        count(*) filter (where survey ilike '%nps%')::int as nps_answers,
        count(*) filter (where survey ilike '%nps%' and score >= 9)::int as promoters,
        count(*) filter (where survey ilike '%nps%' and score <= 6)::int as detractors
      from survey_responses where score is not null group by 1
    ), scored as (
      select customer_id, predicted_value_365::float8 as value, satisfaction from scores where run_id = ${o.runId ?? -1}
    ), people as (
      select coalesce(c.acquisition_channel, 'unknown') as acquisition, b.by_order, b.contact, b.first_at, b.repeated,
        b.recent, s.value, s.satisfaction, a.answers, a.answer_sum, a.nps_answers, a.promoters, a.detractors
      from customers c left join bought b on b.customer_id = c.id left join answered a on a.customer_id = c.id
      left join scored s on s.customer_id = c.id
    )
    select k.kind, ${channelOf('p')} as channel, count(*)::int as customers, count(p.first_at)::int as buyers,
      count(*) filter (where p.first_at <= ${observedBy})::int as observed,
      count(*) filter (where p.first_at <= ${observedBy} and p.repeated)::int as repeated,
      count(*) filter (where p.first_at <= ${windowStart})::int as eligible,
      count(*) filter (where p.first_at <= ${windowStart} and p.recent)::int as retained,
      count(p.value)::int as scored, coalesce(sum(p.value), 0)::float8 as "valueSum",
      coalesce(sum(p.value * p.value), 0)::float8 as "valueSquares",
      count(p.satisfaction)::int as indexed, coalesce(sum(p.satisfaction), 0)::float8 as "indexSum",
      coalesce(sum(p.answers), 0)::int as answers, coalesce(sum(p.answer_sum), 0)::float8 as "answerSum",
      coalesce(sum(p.nps_answers), 0)::int as "npsAnswers", coalesce(sum(p.promoters), 0)::int as promoters,
      coalesce(sum(p.detractors), 0)::int as detractors
    from people p cross join ${kinds}
    where ${channelOf('p')} is not null
    group by 1, 2 order by 1, 2`,
  );
}

/** Outbound contacts per channel: what a cost per contact is multiplied by. */
export async function contactCounts(db: Db): Promise<{ channel: string; contacts: number }[]> {
  return queryRows(
    db,
    sql`select channel, count(*)::int as contacts from touchpoints where direction = 'out' group by 1 order by 1`,
  );
}

/** Every order after a customer's first, by their acquisition channel and the order's channel. */
export async function channelMovement(
  db: Db,
): Promise<{ from: string; to: string; orders: number; customers: number }[]> {
  return queryRows(
    db,
    sql`
    with ranked as (
      select o.customer_id, o.channel, row_number() over (partition by o.customer_id order by o.ordered_at, o.id) as nth
      from orders o
    )
    select coalesce(c.acquisition_channel, 'unknown') as "from", coalesce(r.channel, 'unknown') as "to",
      count(*)::int as orders, count(distinct r.customer_id)::int as customers
    from ranked r join customers c on c.id = r.customer_id where r.nth > 1 group by 1, 2 order by 1, 2`,
  );
}

/** When the first order was placed, the orders per currency (most first), and the latest current analysis. */
export async function economicsContext(db: Db) {
  const [first] = await queryRows<{ at: number | null }>(
    db,
    sql`select (extract(epoch from min(ordered_at)) * 1000)::float8 as at from orders`,
  );
  const currencies = await queryRows<{ currency: string | null; orders: number }>(
    db,
    sql`select currency, count(*)::int as orders from orders group by 1 order by 2 desc, 1`,
  );
  const [run] = await queryRows<{ id: number; asOf: string }>(
    db,
    sql`select id::float8 as id, as_of::text as "asOf" from analysis_runs where status = 'done' and current order by id desc limit 1`,
  );
  return { firstOrderAt: first?.at == null ? null : new Date(first.at), currencies, run: run ?? null };
}

/** The costs people set, by kind and channel. */
export async function listChannelCosts(db: Db): Promise<ChannelCost[]> {
  return queryRows<ChannelCost>(
    db,
    sql`
    select kind, channel, per, amount::text as amount, updated_by as "updatedBy",
      to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
    from channel_costs order by kind, channel`,
  );
}

/**
 * Makes the costs this set: those not in it go, new or changed ones are written with who and when,
 * unchanged ones keep theirs. Answers what changed (before and after) for the audit log.
 */
export async function replaceChannelCosts(
  db: Db,
  costs: ChannelCostsBody['costs'],
  by: { actor: string; at: Date },
): Promise<{ removed: ChannelCost[]; written: ChannelCost[] }> {
  const keys = costs.map((c) => `${c.kind}|${c.channel}`);
  const removed = await queryRows<ChannelCost>(
    db,
    sql`
    delete from channel_costs where not (kind || '|' || channel = any(${array(keys)}::text[]))
    returning kind, channel, per, amount::text as amount, updated_by as "updatedBy", updated_at::text as "updatedAt"`,
  );
  const written: ChannelCost[] = [];
  for (const cost of costs) {
    const [row] = await queryRows<ChannelCost>(
      db,
      sql`
      insert into channel_costs (kind, channel, per, amount, updated_by, updated_at)
      values (${cost.kind}, ${cost.channel}, ${cost.per}, ${cost.amount}::numeric, ${by.actor}, ${at(by.at)})
      on conflict (kind, channel) do update set per = excluded.per, amount = excluded.amount,
        updated_by = excluded.updated_by, updated_at = excluded.updated_at
      where (channel_costs.per, channel_costs.amount) is distinct from (excluded.per, excluded.amount)
      returning kind, channel, per, amount::text as amount, updated_by as "updatedBy", updated_at::text as "updatedAt"`,
    );
    if (row) written.push(row);
  }
  return { removed, written };
}
