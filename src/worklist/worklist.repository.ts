import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { badExperiences, lastFollowUp } from '../support/index.ts';
import type { WorklistFacts } from './worklist.ts';

export interface WorklistRow {
  customer_id: number;
  name: string | null;
  email: string | null;
  stage: string;
  run_id: number;
  p_alive: number;
  value_at_stake: number;
  expected_order_value: number;
  average_days_between: number | null;
  days_since_order: number;
  reasons: string[];
  open_ticket: { id: string; category: string | null; openedAt: string; assignee: string | null } | null;
  bad_experience: { kind: string; orderId: string | null; at: string } | null;
  unhappy: { what: string; at: string } | null;
}

const daysBetween = (now: Date, at: string) => Math.max(0, Math.floor((now.getTime() - Date.parse(at)) / 86_400_000));

export function factsOf(row: WorklistRow, now: Date): WorklistFacts {
  return {
    stage: row.stage,
    pAlive: row.p_alive,
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
 * 30 days, by value at stake x risk, with what they went through in the last 90 days. A bad
 * experience counts when no follow-up (an agent contact, note or decision) came after it.
 */
export async function worklist(
  db: Db,
  options: { now: Date; stages: string[]; assignee?: string; customerId?: number; limit: number; offset: number },
): Promise<WorklistRow[]> {
  const now = sql`${options.now.toISOString()}::timestamptz`;
  return queryRows<WorklistRow>(
    db,
    sql`
    with latest_run as (
      select id from analysis_runs where status = 'done' and current order by id desc limit 1
    ), candidates as (
      select s.customer_id, s.run_id, s.p_alive, coalesce(s.value_at_stake, 0)::float8 as value_at_stake,
        coalesce(s.expected_order_value, 0)::float8 as expected_order_value, s.average_days_between, s.reasons
      from scores s join customers c on c.id = s.customer_id
      where s.run_id = (select id from latest_run)
        and c.stage = any(${array(options.stages)}::text[])
        and not c.flags && array['deceased', 'do_not_contact', 'erased']
        and ${options.customerId === undefined ? sql`true` : sql`s.customer_id = ${options.customerId}`}
        and ${options.assignee === undefined ? sql`true` : sql`exists (select 1 from tickets t where t.customer_id = s.customer_id and t.assignee = ${options.assignee} and t.status not in ('resolved', 'closed'))`}
        and not exists (select 1 from worklist_decisions d where d.customer_id = s.customer_id and d.decided_at > ${now} - interval '30 days')
      order by coalesce(s.value_at_stake, 0) * (1 - s.p_alive) desc, s.customer_id
      limit ${options.limit} offset ${options.offset}
    ), followed as (
      select k.customer_id, ${lastFollowUp(sql`k.customer_id`)} as at from candidates k
    ), bad as (
      ${badExperiences(sql`${now} - interval '90 days'`, sql`join candidates k using (customer_id)`)}
    ), experiences as (
      select * from bad where source in ('incident', 'return', 'ticket')
    ), unhappy as (
      select * from bad where source in ('survey', 'note')
    )
    select k.customer_id, c.name, c.email, c.stage, k.run_id, k.p_alive, k.value_at_stake, k.expected_order_value, k.average_days_between, k.reasons,
      coalesce(extract(day from ${now} - c.last_order_at)::int, 0) as days_since_order,
      (select jsonb_build_object('id', t.external_id, 'category', t.category, 'openedAt', t.opened_at, 'assignee', t.assignee)
        from tickets t where t.customer_id = k.customer_id and t.status not in ('resolved', 'closed') order by t.opened_at limit 1) as open_ticket,
      (select jsonb_build_object('kind', e.kind, 'orderId', e.order_id, 'at', e.at) from experiences e
        where e.customer_id = k.customer_id and e.at > coalesce(f.at, '-infinity') order by e.at desc limit 1) as bad_experience,
      (select jsonb_build_object('what', u.what, 'at', u.at) from unhappy u
        where u.customer_id = k.customer_id and u.at > coalesce(f.at, '-infinity') order by u.at desc limit 1) as unhappy
    from candidates k join customers c on c.id = k.customer_id join followed f on f.customer_id = k.customer_id
    order by k.value_at_stake * (1 - k.p_alive) desc, k.customer_id`,
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
  },
): Promise<number> {
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into worklist_decisions (customer_id, run_id, suggested_action, suggestion_reason, decision, action, gift_value, reason, agent, decided_at, needs_approval, value_at_stake)
    values (${d.customerId}, ${d.runId}, ${d.suggestedAction}, ${d.suggestionReason}, ${d.decision}, ${d.action}, ${d.giftValue === null ? null : d.giftValue.toFixed(2)},
      ${d.reason}, ${d.agent}, ${d.at.toISOString()}::timestamptz, ${d.needsApproval}, ${d.valueAtStake === null ? null : d.valueAtStake.toFixed(2)})
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
