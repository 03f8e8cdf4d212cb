import { flagStopsSql } from '../customers/index.ts';
import type { SQL } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { badExperiences, lastFollowUp } from '../support/index.ts';
import type { WorklistFacts } from './worklist.ts';

export interface WorklistRow {
  customer_id: number;
  external_id: string | null;
  name: string | null;
  email: string | null;
  city: string | null;
  stage: string;
  flags: string[];
  run_id: number;
  p_alive: number;
  p_buy_90: number | null;
  frequency: number;
  historic_value: number;
  uplift: number | null;
  uplift_source: string | null;
  incremental_value: number | null;
  holdout: boolean;
  drivers: Record<string, unknown>[] | null;
  value_at_stake: number;
  expected_order_value: number;
  average_days_between: number | null;
  days_since_order: number;
  reasons: string[];
  open_ticket: { id: string; category: string | null; openedAt: string; assignee: string | null } | null;
  bad_experience: { kind: string; orderId: string | null; at: string } | null;
  unhappy: { what: string; at: string } | null;
  exit_answer: { answer: string; at: string } | null;
  problem: { kind: string; what: string; at: string } | null;
  /** Experience kinds of the last 90 days, for matching approved rules. */
  recent_kinds: string[] | null;
}

const daysBetween = (now: Date, at: string) => Math.max(0, Math.floor((now.getTime() - Date.parse(at)) / 86_400_000));

export function factsOf(row: WorklistRow, now: Date, rule: WorklistFacts['rule']): WorklistFacts {
  return {
    stage: row.stage,
    pAlive: row.p_alive,
    pBuy90: row.p_buy_90,
    flags: row.flags,
    exitAnswer: row.exit_answer && { answer: row.exit_answer.answer, daysAgo: daysBetween(now, row.exit_answer.at) },
    problem: row.problem && { what: row.problem.what, daysAgo: daysBetween(now, row.problem.at) },
    rule,
    uplift: row.uplift,
    upliftSource: row.uplift_source,
    incrementalValue: row.incremental_value,
    valueAtStake: row.value_at_stake,
    expectedOrderValue: row.expected_order_value,
    averageDaysBetween: row.average_days_between,
    daysSinceOrder: row.days_since_order,
    openTicket: row.open_ticket && {
      id: row.open_ticket.id,
      category: row.open_ticket.category,
      openedDaysAgo: daysBetween(now, row.open_ticket.openedAt),
    },
    badExperience: row.bad_experience && {
      kind: row.bad_experience.kind,
      orderId: row.bad_experience.orderId,
      daysAgo: daysBetween(now, row.bad_experience.at),
    },
    unhappy: row.unhappy && { what: row.unhappy.what, daysAgo: daysBetween(now, row.unhappy.at) },
  };
}

/**
 * Customers at risk or lapsed in the latest current analysis whom nobody decided about in the last
 * 30 days, by expected incremental value (uplift x value at stake - cost; before an analysis has
 * estimated it, by value at stake x risk), with what they went through. A bad experience counts
 * when no follow-up (an agent contact, note or decision) came after it. The worklist's random
 * holdout is left out unless asked for.
 */
/**
 * Whether acting on the scored customer `s` is worth it: a positive expected incremental value (or
 * none estimated yet), or something to put right (an open ticket, a problem of the last 90 days
 * nobody followed up, an exit answer), which is never left off.
 */
const worthActing = (now: SQL) => sql`(s.incremental_value is null or s.incremental_value > 0
  or exists (select 1 from tickets t where t.customer_id = s.customer_id and t.status not in ('resolved', 'closed'))
  or exists (select 1 from experiences e where e.customer_id = s.customer_id and e.valence = 'problem'
    and e.at > ${now} - interval '90 days' and e.followed_up_at is null)
  or exists (select 1 from survey_responses r where r.customer_id = s.customer_id and r.survey ilike '%exit%'))`;

export async function worklist(
  db: Db,
  options: {
    now: Date;
    stages: string[];
    assignee?: string;
    customerId?: number;
    holdout: 'exclude' | 'include';
    show: 'worth_acting' | 'all';
    limit: number;
    offset: number;
  },
): Promise<WorklistRow[]> {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  const rank = sql`coalesce(s.incremental_value, coalesce(s.value_at_stake, 0) * (1 - s.p_alive))`;
  return queryRows<WorklistRow>(
    db,
    sql`
    with latest_run as (
      select id from analysis_runs where status = 'done' and current order by id desc limit 1
    ), candidates as (
      select s.customer_id, s.run_id, s.p_alive, coalesce(s.value_at_stake, 0)::float8 as value_at_stake,
        coalesce(s.expected_order_value, 0)::float8 as expected_order_value, s.average_days_between, s.reasons,
        s.p_buy_90, s.frequency, s.historic_value::float8 as historic_value, s.uplift, s.uplift_source, s.incremental_value,
        coalesce(s.worklist_holdout, false) as holdout, s.drivers, ${rank} as rank
      from scores s join customers c on c.id = s.customer_id
      where s.run_id = (select id from latest_run)
        and c.stage = any(${array(options.stages)}::text[])
        and not ${flagStopsSql(sql`c.flags`, 'worklist')}
        and ${options.customerId === undefined ? sql`true` : sql`s.customer_id = ${options.customerId}`}
        and ${options.assignee === undefined ? sql`true` : sql`exists (select 1 from tickets t where t.customer_id = s.customer_id and t.assignee = ${options.assignee} and t.status not in ('resolved', 'closed'))`}
        and not exists (select 1 from worklist_decisions d where d.customer_id = s.customer_id and d.decided_at > ${now} - interval '30 days')
        and ${options.holdout === 'include' || options.customerId !== undefined ? sql`true` : sql`not coalesce(s.worklist_holdout, false)`}
        and ${options.show === 'all' || options.customerId !== undefined ? sql`true` : worthActing(now)}
      order by ${rank} desc, s.customer_id
      limit ${options.limit} offset ${options.offset}
    ), followed as (
      select k.customer_id, ${lastFollowUp(sql`k.customer_id`)} as at from candidates k
    ), bad as (
      ${badExperiences(sql`${now} - interval '90 days'`, sql`join candidates k using (customer_id)`)}
    ), service_problems as (
      select * from bad where source in ('incident', 'return', 'delivery', 'ticket')
    ), unhappy as (
      select * from bad where source in ('survey', 'note')
    )
    select k.customer_id, c.external_id, c.name, c.email, c.stage, c.flags, k.run_id, k.p_alive, k.value_at_stake, k.expected_order_value,
      k.average_days_between, k.reasons, k.p_buy_90, k.frequency, k.historic_value, k.uplift, k.uplift_source, k.incremental_value, k.holdout, k.drivers,
      (select a.city from addresses a where a.customer_id = k.customer_id and a.valid_to is null order by a.valid_from desc limit 1) as city,
      (select jsonb_build_object('answer', coalesce(r.answer, r.score::text), 'at', r.at) from survey_responses r
        where r.customer_id = k.customer_id and r.survey ilike '%exit%' and coalesce(r.answer, r.score::text) is not null order by r.at desc limit 1) as exit_answer,
      (select jsonb_build_object('kind', e.kind, 'what', e.detail, 'at', e.at) from experiences e
        where e.customer_id = k.customer_id and e.valence = 'problem' and e.at > ${now} - interval '365 days' order by e.at desc limit 1) as problem,
      (select array_agg(distinct e.kind) from experiences e where e.customer_id = k.customer_id and e.at > ${now} - interval '90 days') as recent_kinds,
      coalesce(extract(day from ${now} - c.last_order_at)::int, 0) as days_since_order,
      (select jsonb_build_object('id', t.external_id, 'category', t.category, 'openedAt', t.opened_at, 'assignee', t.assignee)
        from tickets t where t.customer_id = k.customer_id and t.status not in ('resolved', 'closed') order by t.opened_at limit 1) as open_ticket,
      (select jsonb_build_object('kind', e.kind, 'orderId', e.order_id, 'at', e.at) from service_problems e
        where e.customer_id = k.customer_id and e.at > coalesce(f.at, '-infinity') order by e.at desc limit 1) as bad_experience,
      (select jsonb_build_object('what', u.what, 'at', u.at) from unhappy u
        where u.customer_id = k.customer_id and u.at > coalesce(f.at, '-infinity') order by u.at desc limit 1) as unhappy
    from candidates k join customers c on c.id = k.customer_id join followed f on f.customer_id = k.customer_id
    order by k.rank desc, k.customer_id`,
  );
}

export async function customerExists(db: Db, customerId: number): Promise<boolean> {
  return (await queryRows(db, sql`select 1 from customers where id = ${customerId}`)).length > 0;
}

export async function insertDecision(
  db: Db,
  d: {
    customerId: number;
    runId: number | null;
    suggestedAction: string;
    suggestionReason: string;
    decision: string;
    action: string;
    giftValue: number | null;
    reason: string | null;
    agent: string;
    at: Date;
    needsApproval: boolean;
    valueAtStake: number | null;
    ruleId: number | null;
    source: 'worklist' | 'holdout_override' | 'gesture';
    incrementalValue: number | null;
  },
): Promise<number> {
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into worklist_decisions (customer_id, run_id, suggested_action, suggestion_reason, decision, action, gift_value, reason, agent, decided_at,
      needs_approval, value_at_stake, rule_id, source, incremental_value)
    values (${d.customerId}, ${d.runId}, ${d.suggestedAction}, ${d.suggestionReason}, ${d.decision}, ${d.action}, ${d.giftValue === null ? null : d.giftValue.toFixed(2)},
      ${d.reason}, ${d.agent}, ${d.at.toISOString()}::timestamptz, ${d.needsApproval}, ${d.valueAtStake === null ? null : d.valueAtStake.toFixed(2)},
      ${d.ruleId}, ${d.source}, ${d.incrementalValue === null ? null : d.incrementalValue.toFixed(2)})
    returning id`,
  );
  return row.id;
}

export async function approveDecision(db: Db, customerId: number, id: number, by: string, at: Date): Promise<boolean> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    update worklist_decisions set approved_by = ${by}, approved_at = ${at.toISOString()}::timestamptz
    where customer_id = ${customerId} and id = ${id} and needs_approval and approved_by is null returning id`,
  );
  return rows.length === 1;
}

/** Gestures over the allowance that wait for approval, oldest first. */
export async function pendingApprovals(db: Db) {
  return queryRows<{
    customer_id: number;
    id: number;
    name: string | null;
    action: string;
    gift_value: string;
    agent: string;
    decided_at: string;
    reason: string | null;
  }>(
    db,
    sql`
    select d.customer_id, d.id, c.name, d.action, d.gift_value::text as gift_value, d.agent, d.decided_at, d.reason
    from worklist_decisions d join customers c on c.id = d.customer_id
    where d.needs_approval and d.approved_by is null order by d.decided_at limit 200`,
  );
}

/**
 * Outcomes of decisions made at least `windowDays` ago: the share of customers who bought within
 * the window after the decision, and their revenue, for accepted, changed and rejected suggestions.
 */
export async function decisionOutcomes(db: Db, options: { now: Date; windowDays: number }) {
  return queryRows<{ decision: string; decisions: number; bought: number; revenue: string }>(
    db,
    sql`
    with decided as (
      select d.customer_id, d.decision, d.decided_at from worklist_decisions d
      where d.decided_at <= ${options.now.toISOString()}::timestamptz - make_interval(days => ${options.windowDays})
    ), after as (
      select k.customer_id, k.decision, k.decided_at, count(o.id) as orders, coalesce(sum(o.total), 0) as revenue
      from decided k left join orders o on o.customer_id = k.customer_id
        and o.ordered_at > k.decided_at and o.ordered_at <= k.decided_at + make_interval(days => ${options.windowDays})
      group by 1, 2, 3
    )
    select decision, count(*)::int as decisions, count(*) filter (where orders > 0)::int as bought, round(sum(revenue), 2)::text as revenue
    from after group by decision order by decision`,
  );
}

export interface TaskRow {
  id: number;
  customer_id: number;
  name: string | null;
  email: string | null;
  stage: string;
  action: string;
  title: string;
  reason: string;
  source: string;
  journey_id: number | null;
  order_id: string | null;
  created_at: string;
  due_at: string;
  status: string;
  done_by: string | null;
  done_at: string | null;
  outcome: string | null;
}

export async function insertTask(
  db: Db,
  task: {
    customerId: number;
    action: string;
    title: string;
    reason: string;
    source: string;
    journeyId: number | null;
    orderId: number | null;
    at: Date;
    dueAt: Date;
  },
): Promise<number> {
  const [{ id }] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into tasks (customer_id, action, title, reason, source, journey_id, order_id, created_at, due_at, status)
    values (${task.customerId}, ${task.action}, ${task.title}, ${task.reason}, ${task.source}, ${task.journeyId}, ${task.orderId}, ${task.at.toISOString()}::timestamptz, ${task.dueAt.toISOString()}::timestamptz, 'open')
    returning id`,
  );
  return id;
}

/** Tasks by status (open: soonest due first; done: latest first), or one customer's. */
export async function listTasks(
  db: Db,
  options: { status: 'open' | 'done'; customerId?: number; limit: number; offset: number },
): Promise<TaskRow[]> {
  return queryRows<TaskRow>(
    db,
    sql`
    select k.id, k.customer_id, c.name, c.email, c.stage, k.action, k.title, k.reason, k.source, k.journey_id,
      (select o.external_id from orders o where o.customer_id = k.customer_id and o.id = k.order_id) as order_id,
      k.created_at::text, k.due_at::text, k.status, k.done_by, k.done_at::text, k.outcome
    from tasks k join customers c on c.id = k.customer_id
    where k.status = ${options.status} ${options.customerId === undefined ? sql`` : sql`and k.customer_id = ${options.customerId}`}
    order by ${options.status === 'open' ? sql`k.due_at, k.id` : sql`k.done_at desc, k.id desc`} limit ${options.limit} offset ${options.offset}`,
  );
}

/** Marks an open task done; undefined when there is no such open task. */
export async function finishTask(
  db: Db,
  task: { id: number; by: string; outcome: string; at: Date },
): Promise<{ customer_id: number } | undefined> {
  const [row] = await queryRows<{ customer_id: number }>(
    db,
    sql`
    update tasks set status = 'done', done_by = ${task.by}, done_at = ${task.at.toISOString()}::timestamptz, outcome = ${task.outcome}
    where id = ${task.id} and status = 'open' returning customer_id`,
  );
  return row;
}

/** The worklist's context: customers of the latest current analysis held out, and left off as not worth acting on; the prior-spend cuts of its value bands; the uplift's source and policy value. */
export async function worklistContext(
  db: Db,
  now: Date,
): Promise<{
  held_out: number;
  left_off: number;
  cuts: [number, number] | null;
  policy: Record<string, unknown> | null;
  source: string | null;
}> {
  const [row] = await queryRows<{
    held_out: number;
    left_off: number;
    cuts: [number, number] | null;
    policy: Record<string, unknown> | null;
    source: string | null;
  }>(
    db,
    sql`
    with latest_run as (select id from analysis_runs where status = 'done' and current order by id desc limit 1)
    select (select count(*)::int from scores s where s.run_id = (select id from latest_run) and s.worklist_holdout) as held_out,
      (select count(*)::int from scores s where s.run_id = (select id from latest_run) and s.stage in ('at_risk', 'lapsed')
        and not coalesce(s.worklist_holdout, false) and not ${worthActing(sql`${now.toISOString()}::timestamptz`)}) as left_off,
      r.outcomes -> 'valueCuts' -> 'prior' as cuts, r.uplift -> 'policy' as policy, r.uplift ->> 'source' as source
    from (select 1) one left join retention_reports r on r.run_id = (select id from latest_run)`,
  );
  return row;
}

/** A customer's profile as a gesture outside the worklist needs it: flags, and whether they are in the worklist's holdout now. */
export async function gestureFacts(db: Db, customerId: number) {
  const [row] = await queryRows<{
    flags: string[];
    holdout: boolean | null;
    run_id: number | null;
    value_at_stake: number | null;
  }>(
    db,
    sql`
    select c.flags, s.worklist_holdout as holdout, s.run_id, s.value_at_stake::float8 as value_at_stake from customers c
    left join lateral (select s.* from scores s join analysis_runs r on r.id = s.run_id and r.status = 'done' and r.current
      where s.customer_id = c.id order by s.run_id desc limit 1) s on true
    where c.id = ${customerId}`,
  );
  return row;
}
