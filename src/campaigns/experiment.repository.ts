// SQL of experiments run elsewhere: members written a chunk at a time, matched to customers by
// external id (or email), and each arm × subgroup's sums for the report, aggregated in SQL.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { controlArm } from './campaign.ts';
import type { ArmSums } from './experiment.ts';

export interface ExperimentRow {
  row: number;
  customer: string;
  arm: string;
  at: string;
  converted: boolean | null;
  revenue: string | null;
  engaged: boolean | null;
}

/**
 * Writes one chunk of members (the control arm stored as `control`, status 'holdout'; the others
 * 'external'). Returns the rows whose customer is unknown and those naming a customer already in
 * the experiment; the caller rolls the whole import back when either is not empty.
 */
export async function insertExperimentChunk(
  db: Db,
  campaignId: number,
  control: string,
  rows: ExperimentRow[],
): Promise<{ unknown: ExperimentRow[]; duplicate: ExperimentRow[] }> {
  const found = await queryRows<{ row: number; customer_id: number | null; inserted: boolean }>(
    db,
    sql`
    with u as (
      select * from unnest(${array(rows.map((r) => r.row))}::int[], ${array(rows.map((r) => r.customer))}::text[],
        ${array(rows.map((r) => r.arm))}::text[], ${array(rows.map((r) => r.at))}::timestamptz[],
        ${array(rows.map((r) => r.converted))}::boolean[], ${array(rows.map((r) => r.revenue))}::numeric[],
        ${array(rows.map((r) => r.engaged))}::boolean[]) as u(row, ref, arm, at, converted, revenue, engaged)
    ),
    matched as (
      select u.*, coalesce(
        (select c.id from customers c where c.external_id = u.ref),
        case when u.ref like '%@%' then (select c.id from customers c where lower(c.email) = lower(u.ref) order by c.id limit 1) end
      ) as customer_id from u
    ),
    ranked as (select matched.*, row_number() over (partition by customer_id order by row) as rank from matched),
    added as (
      insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at, converted, revenue, engaged)
      select ${campaignId}, m.customer_id, case when m.arm = ${control} then ${controlArm} else m.arm end,
        case when m.arm = ${control} then 'holdout' else 'external' end, m.at, m.at, m.converted, m.revenue, m.engaged
      from ranked m where m.customer_id is not null and m.rank = 1
      on conflict do nothing returning customer_id
    )
    select m.row, m.customer_id, m.rank = 1 and m.customer_id in (select customer_id from added) as inserted from ranked m`,
  );
  const byRow = new Map(rows.map((r) => [r.row, r]));
  const unknown = found.filter((f) => f.customer_id === null).map((f) => byRow.get(f.row)!);
  const duplicate = found.filter((f) => f.customer_id !== null && !f.inserted).map((f) => byRow.get(f.row)!);
  return { unknown, duplicate };
}

/** Members per arm, the first send and whether the file brought each outcome. */
export async function experimentShape(db: Db, campaignId: number) {
  const [row] = await queryRows<{
    arms: Record<string, number> | null;
    first: string | null;
    converted: boolean;
    revenue: boolean;
    engaged: boolean;
  }>(
    db,
    sql`
    select (select jsonb_object_agg(arm, n) from (select arm, count(*)::int as n from campaign_members where campaign_id = ${campaignId} group by 1) a) as arms,
      (select min(assigned_at)::text from campaign_members where campaign_id = ${campaignId}) as first,
      exists (select 1 from campaign_members where campaign_id = ${campaignId} and converted is not null) as converted,
      exists (select 1 from campaign_members where campaign_id = ${campaignId} and revenue is not null) as revenue,
      exists (select 1 from campaign_members where campaign_id = ${campaignId} and engaged is not null) as engaged`,
  );
  return row;
}

/**
 * Each arm × subgroup's sums over the `days` after each member's send: an outcome the file gave is
 * taken as given; otherwise conversion is an order, revenue the orders' total, engagement anything
 * the customer did towards us (an inbound touchpoint: a visit, an open, a click).
 */
export async function experimentSums(
  db: Db,
  campaignId: number,
  options: { days: number; by?: string },
): Promise<ArmSums[]> {
  const window = sql`make_interval(days => ${options.days})`;
  const group = options.by ? sql`coalesce(c.attributes ->> ${options.by}, '(none)')` : sql`'*'`;
  return queryRows<ArmSums>(
    db,
    sql`
    with m as (
      select m.arm, ${group} as grp,
        coalesce(m.converted, exists (select 1 from orders o where o.customer_id = m.customer_id and o.ordered_at > m.assigned_at and o.ordered_at <= m.assigned_at + ${window})) as converted,
        coalesce(m.revenue, (select sum(o.total) from orders o where o.customer_id = m.customer_id and o.ordered_at > m.assigned_at and o.ordered_at <= m.assigned_at + ${window}), 0)::float8 as revenue,
        coalesce(m.engaged, exists (select 1 from touchpoints t where t.customer_id = m.customer_id and t.direction = 'in' and t.at > m.assigned_at and t.at <= m.assigned_at + ${window})) as engaged
      from campaign_members m join customers c on c.id = m.customer_id
      where m.campaign_id = ${campaignId} and m.status in ('holdout', 'external')
    )
    select arm, grp as "group", count(*)::int as n, count(*) filter (where converted)::int as converted,
      sum(revenue)::float8 as revenue, sum(revenue * revenue)::float8 as "revenueSquares", count(*) filter (where engaged)::int as engaged
    from m group by 1, 2 order by 1, 2`,
  );
}

/** An external campaign by id or by name (the latest of that name). */
export async function findExperimentId(db: Db, ref: string): Promise<number | undefined> {
  const [row] = await queryRows<{ id: number }>(
    db,
    /^\d+$/.test(ref)
      ? sql`select id::int from campaigns where id = ${Number(ref)}`
      : sql`select id::int from campaigns where name = ${ref} order by id desc limit 1`,
  );
  return row?.id;
}
