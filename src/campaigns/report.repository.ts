import { queryRows, sql, type Db } from '../db/connection.ts';
import { controlArm } from './campaign.ts';

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
      count(*) filter (where s.status in ('sent', 'external', 'listed'))::int as sent,
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

/**
 * How clean a programme's comparison is: its holdout members whom another marketing programme
 * treated within `days` of their assignment (by programme), and its treated members who were in
 * another programme's holdout when they were treated. `campaignId` is the programme's own
 * campaign row (a journey's too), so its own messages do not count.
 */
export async function contamination(
  db: Db,
  measured: Measured,
  days: number,
): Promise<{ holdoutTreated: number; byProgramme: { programme: string; n: number }[]; treatedFromHoldouts: number }> {
  const window = sql`make_interval(days => ${days})`;
  const [row] = await queryRows<{
    holdout_treated: number;
    by_programme: { programme: string; n: number }[];
    treated_from_holdouts: number;
  }>(
    db,
    sql`
    with m as (${measured.members}),
    touched as (
      select m.customer_id, 'campaign "' || k.name || '"' as programme from m
      join campaign_members o on o.customer_id = m.customer_id and o.campaign_id <> ${measured.campaignId}
        and o.status in ('sent', 'listed', 'external') and o.sent_at >= m.assigned_at and o.sent_at <= m.assigned_at + ${window}
      join campaigns k on k.id = o.campaign_id
      where m.arm = ${controlArm}
      union
      select m.customer_id, 'journey "' || j.name || '"' from m
      join journey_steps s on s.customer_id = m.customer_id and s.outcome = 'sent' and s.marketing
        and s.at >= m.assigned_at and s.at <= m.assigned_at + ${window}
      join journeys j on j.id = s.journey_id and j.campaign_id <> ${measured.campaignId}
      where m.arm = ${controlArm}
    )
    select (select count(distinct customer_id)::int from touched) as holdout_treated,
      (select coalesce(jsonb_agg(jsonb_build_object('programme', programme, 'n', n) order by n desc), '[]'::jsonb)
        from (select programme, count(distinct customer_id)::int as n from touched group by 1) p) as by_programme,
      (select count(*)::int from m where m.arm <> ${controlArm} and m.status not in ('suppressed', 'skipped') and (
        exists (select 1 from campaign_members h where h.customer_id = m.customer_id and h.status = 'holdout' and h.campaign_id <> ${measured.campaignId}
          and h.assigned_at <= m.assigned_at and h.assigned_at > m.assigned_at - ${window})
        or exists (select 1 from journey_enrolments e join journeys j on j.id = e.journey_id
          where e.customer_id = m.customer_id and e.arm = ${controlArm} and j.campaign_id <> ${measured.campaignId}
            and e.entered_at <= m.assigned_at and coalesce(e.finished_at, 'infinity'::timestamptz) > m.assigned_at - ${window}))) as treated_from_holdouts`,
  );
  return {
    holdoutTreated: row.holdout_treated,
    byProgramme: row.by_programme,
    treatedFromHoldouts: row.treated_from_holdouts,
  };
}
