import { flagStopsSql } from '../customers/index.ts';
import { queryRows, sql, type Db } from '../db/connection.ts';
import { badExperiences, firstFollowUpAfter, lastFollowUp } from './experience.repository.ts';

export interface MissedRow {
  customer_id: number;
  name: string | null;
  email: string | null;
  stage: string;
  source: string;
  kind: string;
  what: string;
  order_id: string | null;
  at: string;
  waiting_days: number;
  value_at_stake: string | null;
}

/**
 * Customers whose latest bad experience (in the last 90 days) is more than `days` old with no
 * follow-up since: an agent contact, note or worklist decision. Most value at stake first.
 */
export async function missedRecoveries(
  db: Db,
  options: { now: Date; days: number; limit: number; offset: number },
): Promise<MissedRow[]> {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  return queryRows<MissedRow>(
    db,
    sql`
    with bad as (
      ${badExperiences(sql`${now} - interval '90 days'`)}
    ), latest as (
      select distinct on (customer_id) * from bad order by customer_id, at desc
    ), latest_run as (
      select id from analysis_runs where status = 'done' and current order by id desc limit 1
    )
    select l.customer_id, c.name, c.email, c.stage, l.source, l.kind, l.what, l.order_id, l.at,
      extract(day from ${now} - l.at)::int as waiting_days, s.value_at_stake::text as value_at_stake
    from latest l
    join customers c on c.id = l.customer_id and not ${flagStopsSql(sql`c.flags`, 'recovery')}
    left join scores s on s.run_id = (select id from latest_run) and s.customer_id = l.customer_id
    where l.at < ${now} - make_interval(days => ${options.days})
      and coalesce(${lastFollowUp(sql`l.customer_id`)}, '-infinity') < l.at
    order by s.value_at_stake desc nulls last, l.at, l.customer_id
    limit ${options.limit} offset ${options.offset}`,
  );
}

/**
 * Closing the loop, to its outcome: bad experiences between `windowDays` x 2 and `windowDays` ago,
 * split by whether someone followed up within `days`, and the share of those customers who bought
 * again within `windowDays` after the experience.
 */
export async function recoveryOutcomes(db: Db, options: { now: Date; days: number; windowDays: number }) {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  return queryRows<{ followed_up: boolean; experiences: number; bought: number; median_hours: number | null }>(
    db,
    sql`
    with bad as (
      ${badExperiences(sql`${now} - make_interval(days => ${2 * options.windowDays})`)}
    ), settled as (
      select b.*, ${firstFollowUpAfter(sql`b.customer_id`, sql`b.at`)} as followed_at
      from bad b where b.at <= ${now} - make_interval(days => ${options.windowDays})
    )
    select (followed_at is not null and followed_at <= at + make_interval(days => ${options.days})) as followed_up, count(*)::int as experiences,
      count(*) filter (where exists (select 1 from orders o where o.customer_id = settled.customer_id and o.ordered_at > settled.at
        and o.ordered_at <= settled.at + make_interval(days => ${options.windowDays})))::int as bought,
      (percentile_cont(0.5) within group (order by extract(epoch from followed_at - at) / 3600)
        filter (where followed_at is not null and followed_at <= at + make_interval(days => ${options.days})))::float8 as median_hours
    from settled group by 1 order by 1 desc`,
  );
}

/**
 * Problems per week (weeks start on Monday, in the business time zone) since `since`: incidents by
 * kind, opened tickets by category, returns by reason, support-portal abandonments by the last step
 * reached, and low website feedback; with the channel where there is one.
 */
export async function problemsByWeek(db: Db, options: { since: Date; timeZone: string }) {
  const since = sql`${options.since.toISOString()}::timestamptz`;
  const week = (column: string) =>
    sql`to_char(date_trunc('week', ${sql.raw(column)} at time zone ${options.timeZone}), 'YYYY-MM-DD')`;
  return queryRows<{ week: string; source: string; category: string; channel: string | null; problems: number }>(
    db,
    sql`
    with problems as (
      select ${week('i.at')} as week, 'incident' as source, i.kind as category, i.channel
      from incidents i where i.at >= ${since} and i.kind <> 'portal_abandoned'
      union all
      select ${week('i.at')}, 'portal', coalesce((
        select t.detail->>'step' from touchpoints t where t.customer_id = i.customer_id and t.kind = 'portal_step'
          and t.at <= i.at and t.at > i.at - interval '1 day' order by t.at desc limit 1), 'unknown step'), i.channel
      from incidents i where i.at >= ${since} and i.kind = 'portal_abandoned'
      union all
      select ${week('t.opened_at')}, 'ticket', coalesce(t.category, 'uncategorised'), t.channel from tickets t where t.opened_at >= ${since}
      union all
      select ${week('r.returned_at')}, 'return', coalesce(r.reason_code, 'no reason'), null from returns r where r.returned_at >= ${since}
      union all
      select ${week('f.at')}, 'feedback', coalesce(f.page, 'website'), 'web' from anonymous_feedback f where f.at >= ${since} and f.score <= 2
    )
    select week, source, category, channel, count(*)::int as problems from problems group by 1, 2, 3, 4 order by 1, 2, 3, 4`,
  );
}
