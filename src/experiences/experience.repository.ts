// The experiences table, rebuilt from the facts by the definitions of experience.ts in one
// set-based statement: one branch per source, then the first follow-up of each problem and the
// occurrence number by window functions (no per-row subquery: it runs at a million customers).
import type { ExperiencesConfig } from '../config.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import {
  badOutcomes,
  closedStatuses,
  wrongOrDamaged,
  type Experience,
  type ExperienceCount,
  type Valence,
} from './experience.ts';

type Fragment = ReturnType<typeof sql>;
const texts = (values: readonly string[]) => sql`${array(values)}::text[]`;

/**
 * Every occurrence up to `now` as (customer_id, kind, at, source, source_id, order_id, detail,
 * valence), one branch per source; not yet numbered nor followed up.
 */
function occurrences(now: Fragment, x: ExperiencesConfig): Fragment {
  const wrong = texts(wrongOrDamaged);
  const slow = sql`make_interval(hours => ${x.slowResponseHours}::int)`;
  const unresolved = sql`make_interval(days => ${x.unresolvedDays}::int)`;
  return sql`
    with physical as (
      select i.customer_id, case when i.kind = any(${wrong}) then 'wrong_or_damaged_item' else i.kind end as kind,
        i.at, 'incident' as source, i.id as source_id, i.order_id, replace(i.kind, '_', ' ') as what
      from incidents i where i.at <= ${now}
      union all
      select r.customer_id, case when r.reason_code = any(${wrong}) then 'wrong_or_damaged_item' else 'return' end,
        r.returned_at, 'return', r.id, r.order_id,
        'returned ' || coalesce(r.product, 'an item') || coalesce(' (' || coalesce(r.reason, replace(r.reason_code, '_', ' ')) || ')', '')
      from returns r where r.returned_at <= ${now}
      union all
      select d.customer_id, case d.status when 'delayed' then 'late_delivery' else 'failed_delivery' end, d.at, 'delivery', d.id, d.order_id,
        'delivery ' || d.status || coalesce(' (' || d.carrier || ')', '')
      from deliveries d where d.status in ('delayed', 'failed') and d.at <= ${now}
    ),
    -- The incident and the return of one order (a wrong item, sent back), or a late-delivery incident and
    -- the carrier's delay, are one experience: the earliest.
    physical_once as (
      select p.*, row_number() over (partition by p.customer_id, p.kind, p.order_id order by p.at, p.source, p.source_id) as nth
      from physical p
    ),
    ticket as (
      select t.customer_id, t.id, t.order_id, t.opened_at, t.outcome,
        'ticket ' || t.external_id || coalesce(' (' || coalesce(t.subject, replace(t.category, '_', ' ')) || ')', '') as what,
        -- Resolving a ticket answers it too; least() passes over a null.
        least(t.first_response_at, t.resolved_at) as answered_at,
        coalesce(t.resolved_at, case when t.status = any(${texts(closedStatuses)}) or t.outcome is not null then t.updated_at end) as ended_at,
        coalesce(t.outcome = any(${texts(badOutcomes)}), false) as ended_badly,
        t.opened_at + ${slow} as answer_due, t.opened_at + ${unresolved} as resolve_due
      from tickets t where t.opened_at <= ${now}
    ),
    touch as (
      select t.customer_id, t.id, t.at, t.kind, t.channel, t.campaign from touchpoints t
      where t.kind in ('email_complaint', 'offer') and t.at <= ${now}
    )
    select p.customer_id, p.kind, p.at, p.source, p.source_id, p.order_id,
      p.what || coalesce(' on order ' || o.external_id, '') as detail, 'problem' as valence
    from physical_once p left join orders o on o.customer_id = p.customer_id and o.id = p.order_id
    where p.nth = 1 or p.order_id is null
    union all
    select customer_id, 'ticket_opened', opened_at, 'ticket', id, order_id, what || ' opened', 'problem' from ticket
    union all
    select customer_id, 'slow_first_response', answer_due, 'ticket', id, order_id,
      what || ': no reply within ' || ${x.slowResponseHours}::int || ' hours' || case when answered_at <= ${now}
        then ' (first reply after ' || floor(extract(epoch from answered_at - opened_at) / 3600)::int || ' hours)' else ' (not answered yet)' end,
      'problem'
    from ticket where coalesce(answered_at, 'infinity') > answer_due and answer_due <= ${now}
    union all
    select * from (
      select customer_id, 'ticket_unresolved', case when ended_badly and ended_at <= resolve_due then ended_at else resolve_due end as at,
        'ticket', id, order_id,
        what || case
          when ended_badly and ended_at <= resolve_due then ' ended ' || replace(outcome, '_', ' ')
          when ended_at is null or ended_at > ${now} then ' still open after ' || ${x.unresolvedDays}::int || ' days'
          else ' resolved only after ' || floor(extract(epoch from ended_at - opened_at) / 86400)::int || ' days' || coalesce(' (' || replace(outcome, '_', ' ') || ')', '') end,
        'problem'
      from ticket where ended_badly or ended_at is null or ended_at > resolve_due
    ) u where u.at <= ${now}
    union all
    select s.customer_id, 'low_survey_score', s.at, 'survey', s.id, null::bigint,
      'scored ' || s.score::float8 || ' in survey ' || s.survey || ' (' || s.question || ')', 'problem'
    from survey_responses s
    where s.at <= ${now} and s.score is not null
      and case when s.survey ilike '%nps%' then s.score <= ${x.lowNps}::numeric else s.score <= ${x.lowScore}::numeric end
    union all
    select n.customer_id, 'negative_feeling', n.at, 'note', n.id, null,
      'felt ' || case when n.feeling <= -2 then 'very upset' else 'let down' end || coalesce(', noted by ' || n.author, ''), 'problem'
    from notes n where n.feeling < 0 and n.at <= ${now}
    union all
    select customer_id, case kind when 'email_complaint' then 'mail_complaint' else 'offer_received' end, at, 'touchpoint', id, null,
      case kind when 'email_complaint' then 'complained about our mail' else 'offer by ' || replace(channel, '_', ' ') end
        || coalesce(' (' || campaign || ')', ''),
      case kind when 'email_complaint' then 'problem' else 'gesture' end
    from touch
    union all
    select * from (
      select d.customer_id, case d.action when 'gift' then 'gift_received' else 'offer_received' end,
        case when d.needs_approval then d.approved_at else d.decided_at end as at, 'decision', d.id, null::bigint,
        d.action || coalesce(' worth ' || d.gift_value::text, '') || ' from ' || d.agent
          || case when d.needs_approval then ', approved by ' || d.approved_by else '' end,
        'gesture'
      from worklist_decisions d
      where d.action in ('gift', 'offer') and d.decision in ('accepted', 'changed') and (not d.needs_approval or d.approved_at is not null)
    ) g where g.at <= ${now}
    union all
    select k.customer_id, 'gift_received', k.done_at, 'task', k.id, k.order_id,
      'gift: ' || k.title || coalesce(', done by ' || k.done_by, ''), 'gesture'
    from tasks k where k.action = 'gift' and k.status = 'done' and k.done_at <= ${now}
    union all
    select m.customer_id, 'offer_received', m.sent_at, 'campaign', m.campaign_id, null,
      'offer in campaign ' || c.name || ' by ' || replace(c.channel, '_', ' '), 'gesture'
    from campaign_members m join campaigns c on c.id = m.campaign_id
    where c.kind = 'offer' and m.status in ('sent', 'external') and m.sent_at <= ${now}`;
}

/**
 * Every follow-up by someone on our side up to `now`, as (customer_id, at): the definition of
 * support's firstFollowUpAfter (an outbound agent contact, apology or call; a note that does not
 * say the customer was upset; a worklist decision; a task done), as one set rather than per row.
 */
function followUps(now: Fragment): Fragment {
  return sql`
    select t.customer_id, t.at from touchpoints t where t.direction = 'out' and t.kind in ('agent_contact', 'apology', 'call') and t.at <= ${now}
    union all select n.customer_id, n.at from notes n where coalesce(n.feeling, 0) >= 0 and n.at <= ${now}
    union all select d.customer_id, d.decided_at from worklist_decisions d where d.decided_at <= ${now}
    union all select k.customer_id, k.done_at from tasks k where k.status = 'done' and k.done_at <= ${now}`;
}

/**
 * Rebuilds the experiences table as of `now` (one transaction: readers see the old catalogue until
 * it commits); occurrences by kind.
 */
export async function refreshExperiences(
  db: Db,
  now: Date,
  config: { experiences: ExperiencesConfig },
): Promise<Record<string, number>> {
  const at = sql`${now.toISOString()}::timestamptz`;
  return db.transaction(async (tx) => {
    // Compiling this statement (PostgreSQL's JIT) takes a second it does not win back; its sorts
    // (every occurrence and follow-up, twice) stay in memory longer with more than the default work_mem.
    await tx.execute(sql`set local jit = off`);
    await tx.execute(sql`set local work_mem = '64MB'`);
    // Two rebuilds at once would each delete only what they saw and leave both inserts; readers are not blocked.
    await tx.execute(sql`lock table experiences in share row exclusive mode`);
    await tx.execute(sql`delete from experiences`);
    // One stream per customer, newest first, of occurrences and follow-ups: a problem's first
    // follow-up after it is the least follow-up time among the rows before it. A follow-up at the
    // same instant sorts after the occurrence (false < true), so it is not "after" it.
    const rows = await queryRows<{ kind: string; n: number }>(
      tx,
      sql`
      with occurrence as (${occurrences(at, config.experiences)}),
      followed as (
        select f.customer_id, f.at from (${followUps(at)}) f
        where f.customer_id in (select customer_id from occurrence where valence = 'problem')
      ),
      stream as (
        select customer_id, kind, at, source, source_id, order_id, detail, valence, false as follow_up from occurrence
        union all
        select customer_id, null, at, null, null, null, null, null, true from followed
      ),
      timed as (
        select s.*, min(case when s.follow_up then s.at end)
          over (partition by s.customer_id order by s.at desc, s.follow_up rows between unbounded preceding and current row) as next_follow_up
        from stream s
      ),
      added as (
        insert into experiences (customer_id, kind, at, occurrence, source, source_id, order_id, detail, valence, followed_up_at)
        select customer_id, kind, at, row_number() over (partition by customer_id, kind order by at, source, source_id),
          source, source_id, order_id, detail, valence, case when valence = 'problem' then next_follow_up end
        from timed where not follow_up
        returning kind
      )
      select kind, count(*)::int as n from added group by kind order by kind`,
    );
    // Segments and the timeline read it next; PGlite has no autovacuum to notice the new rows.
    await tx.execute(sql`analyze experiences`);
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  });
}

/** Per kind: occurrences, customers, and how many were a customer's first of the kind or a repeat. */
export async function experienceCounts(db: Db): Promise<ExperienceCount[]> {
  return queryRows<ExperienceCount>(
    db,
    sql`
    select kind, count(*)::int as occurrences, count(distinct customer_id)::int as customers,
      count(*) filter (where occurrence = 1)::int as first, count(*) filter (where occurrence > 1)::int as repeated
    from experiences group by kind order by occurrences desc, kind`,
  );
}

/** The incident kinds the data holds, each an experience of its own (for the catalogue). */
export async function incidentKinds(db: Db): Promise<string[]> {
  const rows = await queryRows<{ kind: string }>(db, sql`select distinct kind from incidents order by 1 limit 200`);
  return rows.map((r) => r.kind);
}

/** One customer's experiences, newest first, with the order's own id. */
export async function customerExperiences(db: Db, customerId: number): Promise<Experience[]> {
  const rows = await queryRows<{
    id: number;
    kind: string;
    at: string | Date;
    occurrence: number;
    source: string;
    source_id: number;
    order_id: string | null;
    detail: string;
    valence: Valence;
    followed_up_at: string | Date | null;
  }>(
    db,
    sql`
    select e.id, e.kind, e.at, e.occurrence, e.source, e.source_id, o.external_id as order_id, e.detail, e.valence, e.followed_up_at
    from experiences e left join orders o on o.customer_id = e.customer_id and o.id = e.order_id
    where e.customer_id = ${customerId} order by e.at desc, e.id desc`,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    kind: r.kind,
    at: new Date(r.at).toISOString(),
    occurrence: r.occurrence,
    source: r.source,
    sourceId: Number(r.source_id),
    orderId: r.order_id,
    detail: r.detail,
    valence: r.valence,
    followedUpAt: r.followed_up_at === null ? null : new Date(r.followed_up_at).toISOString(),
  }));
}
