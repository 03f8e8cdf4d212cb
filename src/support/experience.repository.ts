// What counts as a bad experience and as a follow-up, in one place for the worklist and the
// miss-and-recover list.
import type { SQL } from 'drizzle-orm';
import { sql } from '../db/connection.ts';

const orderOf = (table: string) =>
  sql.raw(`(select external_id from orders o where o.customer_id = ${table}.customer_id and o.id = ${table}.order_id)`);

/**
 * Bad experiences after `since`, one row each: (customer_id, source, kind, what, order_id, at).
 * `source` is incident, return, delivery (delayed or failed), ticket (ended badly), survey (a low score) or note (the customer
 * felt let down). `scope` joins a set of customers (e.g. sql`join candidates k using (customer_id)`).
 */
export function badExperiences(since: SQL, scope: SQL = sql``): SQL {
  return sql`
    select i.customer_id, 'incident' as source, i.kind, replace(i.kind, '_', ' ') as what, ${orderOf('i')} as order_id, i.at
    from incidents i ${scope} where i.at > ${since}
    union all
    select r.customer_id, 'return', coalesce(r.reason_code, 'return'), 'returned ' || coalesce(r.product, 'an item') || coalesce(' (' || replace(r.reason_code, '_', ' ') || ')', ''), ${orderOf('r')}, r.returned_at
    from returns r ${scope} where r.returned_at > ${since}
    union all
    select d.customer_id, 'delivery', d.status, 'delivery ' || d.status || coalesce(' (' || d.carrier || ')', ''), ${orderOf('d')}, d.at
    from deliveries d ${scope} where d.at > ${since} and d.status in ('delayed', 'failed')
    union all
    select t.customer_id, 'ticket', coalesce(t.category, 'ticket'), 'ticket ' || t.external_id || ' ended ' || replace(t.outcome, '_', ' '), ${orderOf('t')}, coalesce(t.resolved_at, t.opened_at)
    from tickets t ${scope} where t.opened_at > ${since} and t.outcome in ('unresolved', 'no_response', 'refused', 'no_fix', 'escalated')
    union all
    select s.customer_id, 'survey', s.survey, 'answered ' || s.survey || ' ' || s.score::float8, null, s.at
    from survey_responses s ${scope} where s.at > ${since} and (s.score <= 2 or (s.survey ilike '%nps%' and s.score <= 6))
    union all
    select n.customer_id, 'note', 'feeling', 'felt ' || case n.feeling when -2 then 'very upset' else 'let down' end || coalesce(' (' || n.author || ')', ''), null, n.at
    from notes n ${scope} where n.at > ${since} and n.feeling < 0`;
}

/**
 * Every time someone on our side reached out to, wrote about (not to say they were upset),
 * decided about or finished a task for the customer in `customer` (a column reference), as one column `at`.
 */
function followUps(customer: SQL): SQL {
  return sql`
    select t.at from touchpoints t where t.customer_id = ${customer} and t.direction = 'out' and t.kind in ('agent_contact', 'apology', 'call')
    union all select n.at from notes n where n.customer_id = ${customer} and coalesce(n.feeling, 0) >= 0
    union all select d.decided_at from worklist_decisions d where d.customer_id = ${customer}
    union all select k.done_at from tasks k where k.customer_id = ${customer} and k.status = 'done'`;
}

/** The last follow-up of the customer in `customer`. */
export const lastFollowUp = (customer: SQL): SQL => sql`(select max(f.at) from (${followUps(customer)}) f(at))`;

/** The first follow-up of the customer in `customer` after `after`. */
export const firstFollowUpAfter = (customer: SQL, after: SQL): SQL =>
  sql`(select min(f.at) from (${followUps(customer)}) f(at) where f.at > ${after})`;
