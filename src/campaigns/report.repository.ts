import { queryRows, sql, type Db } from '../db/connection.ts';

export interface ArmOutcome {
  arm: string; members: number; buyers: number; revenue: number; revenueSquares: number; unsubscribed: number;
  sent: number; opened: number; clicked: number;
}

/**
 * What each arm's members did in the `days` after they were assigned (everyone assigned counts,
 * sent or not: intention to treat, so suppression at send time biases nothing).
 */
export async function armOutcomes(db: Db, campaignId: number, days: number, consentList: string): Promise<ArmOutcome[]> {
  return queryRows<ArmOutcome>(db, sql`
    with m as (select customer_id, arm, assigned_at, status from campaign_members where campaign_id = ${campaignId}),
    spent as (
      select m.customer_id, m.arm, m.assigned_at, m.status, coalesce(sum(o.total), 0)::float8 as revenue, count(o.id) > 0 as bought
      from m left join orders o on o.customer_id = m.customer_id and o.ordered_at > m.assigned_at and o.ordered_at <= m.assigned_at + make_interval(days => ${days})
      group by m.customer_id, m.arm, m.assigned_at, m.status
    )
    select s.arm, count(*)::int as members, count(*) filter (where s.bought)::int as buyers, sum(s.revenue)::float8 as revenue, sum(s.revenue * s.revenue)::float8 as "revenueSquares",
      count(*) filter (where exists (select 1 from consent_ledger k where k.customer_id = s.customer_id and k.list = ${consentList}
        and not k.granted and k.at > s.assigned_at and k.at <= s.assigned_at + make_interval(days => ${days})))::int as unsubscribed,
      count(*) filter (where s.status in ('sent', 'external'))::int as sent,
      count(*) filter (where exists (select 1 from touchpoints t where t.customer_id = s.customer_id and t.external_id = ${`campaign:${campaignId}:open`}))::int as opened,
      count(*) filter (where exists (select 1 from touchpoints t where t.customer_id = s.customer_id and t.external_id like ${`campaign:${campaignId}:click:%`}))::int as clicked
    from spent s group by s.arm order by s.arm`);
}

/** For each arm, how many members first bought on each day after assignment (for cumulative lift). */
export async function firstPurchaseDays(db: Db, campaignId: number, days: number): Promise<{ arm: string; day: number; buyers: number }[]> {
  return queryRows(db, sql`
    with firsts as (
      select m.arm, min(o.ordered_at) - m.assigned_at as after from campaign_members m
      join orders o on o.customer_id = m.customer_id and o.ordered_at > m.assigned_at and o.ordered_at <= m.assigned_at + make_interval(days => ${days})
      where m.campaign_id = ${campaignId} group by m.customer_id, m.arm, m.assigned_at
    )
    select arm, floor(extract(epoch from after) / 86400)::int + 1 as day, count(*)::int as buyers from firsts group by 1, 2 order by 1, 2`);
}

/**
 * Mean probability still active of each arm's members in the first analysis at least `days` after
 * the campaign started; null per arm before such an analysis exists.
 */
export async function stillActive(db: Db, campaignId: number, startedAt: Date, days: number): Promise<{ asOf: string | null; arms: { arm: string; n: number; sum: number; squares: number }[] }> {
  const [run] = await queryRows<{ id: number; as_of: string }>(db, sql`
    select id, as_of::text from analysis_runs where status = 'done' and as_of >= (${startedAt.toISOString()}::timestamptz + make_interval(days => ${days}))::date order by as_of, id limit 1`);
  if (!run) return { asOf: null, arms: [] };
  const arms = await queryRows<{ arm: string; n: number; sum: number; squares: number }>(db, sql`
    select m.arm, count(*)::int as n, sum(s.p_alive)::float8 as sum, sum(s.p_alive * s.p_alive)::float8 as squares
    from campaign_members m join scores s on s.customer_id = m.customer_id and s.run_id = ${run.id} where m.campaign_id = ${campaignId} group by 1 order by 1`);
  return { asOf: run.as_of, arms };
}
