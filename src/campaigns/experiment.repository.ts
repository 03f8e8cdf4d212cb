// SQL of experiments run elsewhere: members written a chunk at a time (a file's 10,000 rows or one
// API page), matched to customers by external id (or email), and each arm × subgroup's sums for the
// report, aggregated in SQL.
import { eq } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { CampaignRow } from './campaign.repository.ts';
import { campaigns } from './campaign.schema.ts';
import { controlArm } from './campaign.ts';
import type { ArmSums } from './experiment.ts';

/**
 * One member ready to write: the email lower-cased as Kept stores emails (so the index finds it), the
 * holdout's arm named `control`, `at` null when not given (now).
 */
export interface ExperimentRow {
  /** The file's row or the page's index: how a problem is named. */
  row: number;
  externalId: string | null;
  email: string | null;
  arm: string;
  at: string | null;
  converted: boolean | null;
  revenue: string | null;
  engaged: boolean | null;
}

/**
 * added: written now; unknown: no such customer; twice: the customer is earlier in the same chunk;
 * same: already in the experiment with the same arm and outcomes (and send time, when given);
 * different: already in it with something else.
 */
export type MemberOutcome = 'added' | 'unknown' | 'twice' | 'same' | 'different';

/**
 * Writes one chunk of members (the control arm with status 'holdout', the others 'external'), each
 * customer matched by external id, else by email (the oldest customer with it). Returns what became
 * of each row; the caller rolls the chunk back when any is not acceptable to it. The caller must hold
 * the campaign (created in its transaction, or locked with lockCampaign).
 */
export async function insertExperimentChunk(
  db: Db,
  campaignId: number,
  rows: ExperimentRow[],
  now: Date,
): Promise<{ row: number; outcome: MemberOutcome }[]> {
  // Compiling it (PostgreSQL's JIT, set off for the rest of the caller's transaction) cost more than
  // the statement itself whenever the customers' statistics were missing or stale.
  await db.execute(sql`set local jit = off`);
  return queryRows<{ row: number; outcome: MemberOutcome }>(
    db,
    sql`
    with u as (
      select * from unnest(${array(rows.map((r) => r.row))}::int[], ${array(rows.map((r) => r.externalId))}::text[],
        ${array(rows.map((r) => r.email))}::text[], ${array(rows.map((r) => r.arm))}::text[],
        ${array(rows.map((r) => r.at))}::timestamptz[], ${array(rows.map((r) => r.converted))}::boolean[],
        ${array(rows.map((r) => r.revenue))}::numeric[], ${array(rows.map((r) => r.engaged))}::boolean[])
        as u(row, external_id, email, arm, at, converted, revenue, engaged)
    ),
    matched as (
      select u.*, coalesce(
        (select c.id from customers c where c.external_id = u.external_id),
        (select min(c.id) from customers c where c.email = u.email)
      ) as customer_id from u
    ),
    ranked as (select matched.*, row_number() over (partition by customer_id order by row) as rank from matched),
    added as (
      insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at, converted, revenue, engaged)
      select ${campaignId}, m.customer_id, m.arm, case when m.arm = ${controlArm} then 'holdout' else 'external' end,
        coalesce(m.at, ${now.toISOString()}::timestamptz), coalesce(m.at, ${now.toISOString()}::timestamptz),
        m.converted, m.revenue, m.engaged
      from ranked m where m.customer_id is not null and m.rank = 1
      on conflict do nothing
    )
    -- The statement sees the table as it was before it, so a member found here came in an earlier
    -- chunk; the caller holds the campaign (new, or locked) so no one else adds to it meanwhile.
    select m.row, case
      when m.customer_id is null then 'unknown'
      when m.rank > 1 then 'twice'
      when e.customer_id is null then 'added'
      when e.arm = m.arm and e.converted is not distinct from m.converted and e.revenue is not distinct from m.revenue
        and e.engaged is not distinct from m.engaged and (m.at is null or e.assigned_at = m.at) then 'same'
      else 'different' end as outcome
    from ranked m left join campaign_members e on e.campaign_id = ${campaignId} and e.customer_id = m.customer_id
    order by m.row`,
  );
}

/** The campaign row, locked until the transaction ends, so that pages and the finish of one upload take turns. */
export async function lockCampaign(db: Db, id: number): Promise<CampaignRow | undefined> {
  const [row] = await db.select().from(campaigns).where(eq(campaigns.id, id)).for('update');
  return row;
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
    // materialized: each member's outcomes are looked up once, not once per sum that reads them.
    sql`
    with m as materialized (
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
