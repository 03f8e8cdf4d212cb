import { queryRows, sql, type Db } from '../db/connection.ts';
import type { Features } from './satisfaction.ts';

/** Days of experiences that count towards the index at a date. */
export const windowDays = 180;
/** The next period a fit predicts: buying again within this many days. */
export const horizonDays = 90;

export interface FeatureRow extends Features {
  customer_id: number;
  channel: string | null;
  stage: string;
  /** The agent on the customer's latest ticket in the window: their team, for the index by team. */
  agent: string | null;
  bought: boolean;
  experienced: boolean;
}

/**
 * The inputs of the satisfaction index at `at` and whether the customer bought in the `horizonDays`
 * after, for the customers with an order in the year before `at` who had an experience since their
 * last order (within the window), or for one customer. Experiences count from the last order on:
 * a customer who bought again after a complaint has shown they stayed; what they went through since
 * is what tells whether they will come back.
 */
export async function satisfactionFeatures(
  db: Db,
  at: string,
  only: 'experienced' | { customerId: number },
): Promise<FeatureRow[]> {
  const day = sql`${at}::timestamptz`;
  const since = sql`${day} - make_interval(days => ${windowDays})`;
  const one = only === 'experienced' ? undefined : only.customerId;
  const customer = one === undefined ? sql`` : sql`and customer_id = ${one}`;
  const after = (column: string) => sql`${sql.raw(column)} > ${since} and ${sql.raw(column)} <= ${day} ${customer}`;
  // Experiences are sparse: start from them, not from all orders.
  return queryRows<FeatureRow>(
    db,
    sql`
    with candidates as (
      select customer_id from survey_responses where score is not null and ${after('at')}
      union select customer_id from tickets where ${after('opened_at')}
      union select customer_id from returns where ${after('returned_at')}
      union select customer_id from incidents where ${after('at')}
      union select customer_id from notes where feeling is not null and ${after('at')}
      ${one === undefined ? sql`` : sql`union select ${one}::bigint`}
    ), active as (
      select k.customer_id, max(o.ordered_at) as last_at,
        greatest(1, count(*) filter (where o.ordered_at > ${since})) as recent from candidates k
      join orders o on o.customer_id = k.customer_id and o.ordered_at > ${day} - interval '365 days' and o.ordered_at <= ${day}
      group by 1
    ), survey as (
      -- each answer on 0..1 by its scale: NPS 0-10, effort 1-7, satisfaction 1-5
      select customer_id, avg(least(1, greatest(0, case when survey ilike '%nps%' then score / 10
        when survey ilike '%effort%' or survey ilike '%ces%' then (score - 1) / 6 else (score - 1) / 4 end))) - 0.5 as survey
      from survey_responses join active using (customer_id) where score is not null and at >= last_at and ${after('at')} group by 1
    ), ticket as (
      select customer_id,
        least(3, count(*) filter (where outcome in ('replaced', 'refunded', 'resolved', 'fixed', 'solved', 'answered'))) as tickets_resolved,
        least(3, count(*) filter (where outcome in ('unresolved', 'no_response', 'refused', 'no_fix', 'escalated')
          or (status not in ('resolved', 'closed') and opened_at < ${day} - interval '7 days'))) as tickets_failed
      from tickets join active using (customer_id) where opened_at >= last_at and ${after('opened_at')} group by 1
    ), returned as (
      select customer_id, least(3, count(*)) as returns from returns join active using (customer_id) where returned_at >= last_at and ${after('returned_at')} group by 1
    ), incident as (
      select customer_id, least(3, count(*)) as incidents from incidents join active using (customer_id) where at >= last_at and ${after('at')} group by 1
    ), felt as (
      select customer_id, avg(feeling) / 2.0 as feeling from notes join active using (customer_id) where feeling is not null and at >= last_at and ${after('at')} group by 1
    )
    select a.customer_id, c.acquisition_channel as channel, c.stage,
      (select t.assignee from tickets t where t.customer_id = a.customer_id and t.opened_at > ${since} and t.opened_at <= ${day} order by t.opened_at desc limit 1) as agent,
      coalesce(s.survey, 0)::float8 as survey,
      -- counts per order in the window: a customer who orders more has more of everything
      least(1, coalesce(t.tickets_resolved, 0)::float8 / a.recent) as "ticketsResolved", least(1, coalesce(t.tickets_failed, 0)::float8 / a.recent) as "ticketsFailed",
      least(1, coalesce(r.returns, 0)::float8 / a.recent) as returns, least(1, coalesce(i.incidents, 0)::float8 / a.recent) as incidents, coalesce(f.feeling, 0)::float8 as feeling,
      exists (select 1 from orders o where o.customer_id = a.customer_id and o.ordered_at > ${day} and o.ordered_at <= ${day} + make_interval(days => ${horizonDays})) as bought,
      (s.customer_id is not null or t.customer_id is not null or r.customer_id is not null or i.customer_id is not null or f.customer_id is not null) as experienced
    from active a join customers c on c.id = a.customer_id
    left join survey s using (customer_id) left join ticket t using (customer_id) left join returned r using (customer_id)
    left join incident i using (customer_id) left join felt f using (customer_id)
    ${one === undefined ? sql`where s.customer_id is not null or t.customer_id is not null or r.customer_id is not null or i.customer_id is not null or f.customer_id is not null` : sql``}
    order by a.customer_id`,
  );
}
