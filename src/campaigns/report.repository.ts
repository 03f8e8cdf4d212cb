import { queryRows, sql, type Db } from '../db/connection.ts';

type Fragment = ReturnType<typeof sql>;

/**
 * Who is measured: rows of (customer_id, arm, assigned_at, status). A campaign's ledger, or a
 * journey's enrolments; `campaignId` names the campaign row whose opens and clicks count.
 */
export interface Measured {
  members: Fragment;
  campaignId: number;
}

/** A campaign's members, as measured. */
export const campaignMeasured = (campaignId: number): Measured => ({
  members: sql`select customer_id, arm, assigned_at, status from campaign_members where campaign_id = ${campaignId}`,
  campaignId,
});

export interface ArmOutcome {
  arm: string;
  members: number;
  buyers: number;
  revenue: number;
  revenueSquares: number;
  unsubscribed: number;
  sent: number;
  opened: number;
  clicked: number;
}

/**
 * What each arm's members did in the `days` after they were assigned (everyone assigned counts,
 * sent or not: intention to treat, so suppression at send time biases nothing).
 */
export async function armOutcomes(
  db: Db,
  measured: Measured,
  days: number,
  consentList: string,
): Promise<ArmOutcome[]> {
  return queryRows<ArmOutcome>(
    db,
    sql`
    with m as (${measured.members}),
    spent as (
      select m.customer_id, m.arm, m.assigned_at, m.status, coalesce(sum(o.total), 0)::float8 as revenue, count(o.id) > 0 as bought
      from m left join orders o on o.customer_id = m.customer_id and o.ordered_at > m.assigned_at and o.ordered_at <= m.assigned_at + make_interval(days => ${days})
      group by m.customer_id, m.arm, m.assigned_at, m.status
    )
    select s.arm, count(*)::int as members, count(*) filter (where s.bought)::int as buyers, sum(s.revenue)::float8 as revenue, sum(s.revenue * s.revenue)::float8 as "revenueSquares",
      count(*) filter (where exists (select 1 from consent_ledger k where k.customer_id = s.customer_id and k.list = ${consentList}
        and not k.granted and k.at > s.assigned_at and k.at <= s.assigned_at + make_interval(days => ${days})))::int as unsubscribed,
      count(*) filter (where s.status in ('sent', 'external'))::int as sent,
      count(*) filter (where exists (select 1 from touchpoints t where t.customer_id = s.customer_id and t.external_id = ${`campaign:${measured.campaignId}:open`}))::int as opened,
      count(*) filter (where exists (select 1 from touchpoints t where t.customer_id = s.customer_id and t.external_id like ${`campaign:${measured.campaignId}:click:%`}))::int as clicked
    from spent s group by s.arm order by s.arm`,
  );
}

/**
 * Members grouped by arm, by how many whole days they have been observed (up to `days`) and by
 * the day after assignment of their first purchase (null: none yet): enough for a cumulative
 * curve that counts each member only as far as they have been seen.
 */
export async function firstPurchaseDays(
  db: Db,
  measured: Measured,
  days: number,
  now: Date,
): Promise<{ arm: string; observed: number; day: number | null; members: number }[]> {
  return queryRows(
    db,
    sql`
    with m as (${measured.members}),
    firsts as (
      select m.arm, least(${days}, floor(extract(epoch from ${now.toISOString()}::timestamptz - m.assigned_at) / 86400))::int as observed,
        (select floor(extract(epoch from min(o.ordered_at) - m.assigned_at) / 86400)::int + 1 from orders o
          where o.customer_id = m.customer_id and o.ordered_at > m.assigned_at and o.ordered_at <= m.assigned_at + make_interval(days => ${days})) as day
      from m
    )
    select arm, observed, day, count(*)::int as members from firsts group by 1, 2, 3 order by 1, 2, 3`,
  );
}

/**
 * Mean probability still active of each arm's members in the first analysis at least `days` after
 * the campaign started; null per arm before such an analysis exists.
 */
export async function stillActive(
  db: Db,
  measured: Measured,
  startedAt: Date,
  days: number,
): Promise<{ asOf: string | null; arms: { arm: string; n: number; sum: number; squares: number }[] }> {
  const [run] = await queryRows<{ id: number; as_of: string }>(
    db,
    sql`
    select id, as_of::text from analysis_runs where status = 'done' and as_of >= (${startedAt.toISOString()}::timestamptz + make_interval(days => ${days}))::date order by as_of, id limit 1`,
  );
  if (!run) return { asOf: null, arms: [] };
  return { asOf: run.as_of, arms: await meanPAlive(db, measured, run.id, sql`true`) };
}

/**
 * For members who entered at different times (a journey): the latest analysis, over the members
 * assigned at least `days` before its as-of date.
 */
export async function stillActiveAfter(
  db: Db,
  measured: Measured,
  days: number,
): Promise<{ asOf: string | null; arms: { arm: string; n: number; sum: number; squares: number }[] }> {
  const [run] = await queryRows<{ id: number; as_of: string }>(
    db,
    sql`select id, as_of::text from analysis_runs where status = 'done' order by as_of desc, id desc limit 1`,
  );
  if (!run) return { asOf: null, arms: [] };
  const arms = await meanPAlive(
    db,
    measured,
    run.id,
    sql`m.assigned_at + make_interval(days => ${days}) <= (${run.as_of}::date + 1)::timestamp at time zone 'UTC'`,
  );
  return { asOf: arms.length > 0 ? run.as_of : null, arms };
}

async function meanPAlive(db: Db, measured: Measured, runId: number, where: Fragment) {
  return queryRows<{ arm: string; n: number; sum: number; squares: number }>(
    db,
    sql`
    select m.arm, count(*)::int as n, sum(s.p_alive)::float8 as sum, sum(s.p_alive * s.p_alive)::float8 as squares
    from (${measured.members}) m join scores s on s.customer_id = m.customer_id and s.run_id = ${runId} where ${where} group by 1 order by 1`,
  );
}
