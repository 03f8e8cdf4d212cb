import { eq } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { listLimit } from '../shared/http.ts';
import { badExperiences } from '../support/index.ts';
import { controlArm } from '../campaigns/campaign.ts';
import type { Measured } from '../campaigns/index.ts';
import { journeys } from './journey.schema.ts';
import { treatedArm, type Pass, type Trigger } from './journey.ts';

type Fragment = ReturnType<typeof sql>;
const at = (d: Date) => sql`${d.toISOString()}::timestamptz`;

export type JourneyRow = typeof journeys.$inferSelect;
/** What a journey says, as saved from its body. */
export type JourneyFields = Pick<
  JourneyRow,
  'name' | 'description' | 'trigger' | 'entry' | 'steps' | 'exitOnOrder' | 'exit' | 'holdoutShare' | 'consentList'
>;

export async function selectJourney(db: Db, id: number): Promise<JourneyRow | undefined> {
  const [row] = await db.select().from(journeys).where(eq(journeys.id, id));
  return row;
}

export async function selectJourneys(db: Db): Promise<JourneyRow[]> {
  return db.select().from(journeys).orderBy(journeys.id).limit(listLimit);
}

export async function activeJourneys(db: Db): Promise<JourneyRow[]> {
  return db.select().from(journeys).where(eq(journeys.status, 'active')).orderBy(journeys.id);
}

export async function insertJourney(
  db: Db,
  journey: JourneyFields & Pick<JourneyRow, 'status' | 'campaignId' | 'createdBy' | 'createdAt' | 'updatedAt'>,
): Promise<number> {
  const [row] = await db.insert(journeys).values(journey).returning({ id: journeys.id });
  return row.id;
}

/** Saves what a journey says; the id of its campaign row, or undefined when there is no such journey. */
export async function updateJourney(
  db: Db,
  id: number,
  change: JourneyFields & Pick<JourneyRow, 'updatedAt'>,
): Promise<number | undefined> {
  const [row] = await db
    .update(journeys)
    .set(change)
    .where(eq(journeys.id, id))
    .returning({ campaignId: journeys.campaignId });
  return row?.campaignId;
}

/** Activates or pauses a journey; the first activation is when its triggers start counting. */
export async function updateJourneyStatus(db: Db, id: number, status: 'active' | 'paused', now: Date): Promise<void> {
  const activatedNow = status === 'active' ? now.toISOString() : null;
  await db
    .update(journeys)
    .set({ status, activatedAt: sql`coalesce(${journeys.activatedAt}, ${activatedNow}::timestamptz)`, updatedAt: now })
    .where(eq(journeys.id, id));
}

/** What happened between `from` and `now` that starts the journey: (customer_id, trigger_key, order_id, at, detail). */
export function triggerEvents(trigger: Trigger, from: Date, now: Date): Fragment {
  if (trigger.type === 'order') {
    return sql`select o.customer_id, 'order:' || o.id as trigger_key, o.id as order_id, o.ordered_at as at,
      jsonb_build_object('order', o.external_id, 'what', 'order ' || o.external_id) as detail
      from orders o where o.ordered_at > ${at(from)} and o.ordered_at <= ${at(now)}`;
  }
  if (trigger.type === 'delivery') {
    return sql`select d.customer_id, 'delivery:' || d.id as trigger_key, d.order_id, d.at,
      jsonb_build_object('order', (select o.external_id from orders o where o.customer_id = d.customer_id and o.id = d.order_id), 'what', 'delivery ' || d.status) as detail
      from deliveries d where d.status = any(${array(trigger.statuses)}::text[]) and d.at > ${at(from)} and d.at <= ${at(now)}`;
  }
  if (trigger.type === 'stage') {
    return sql`select l.customer_id, 'stage:' || l.id as trigger_key, null::bigint as order_id, l.at,
      jsonb_build_object('what', 'became ' || replace(l.to_stage, '_', ' '), 'cause', l.cause) as detail
      from lifecycle_changes l where l.to_stage = ${trigger.stage} and l.at > ${at(from)} and l.at <= ${at(now)}`;
  }
  return sql`select b.customer_id, 'experience:' || b.source || ':' || b.kind || ':' || floor(extract(epoch from b.at))::bigint as trigger_key,
      (select o.id from orders o where o.customer_id = b.customer_id and o.external_id = b.order_id) as order_id, b.at,
      jsonb_build_object('what', b.what, 'order', b.order_id, 'source', b.source, 'kind', b.kind) as detail
    from (${badExperiences(at(from))}) b
    where b.at <= ${at(now)} and b.source = any(${array(trigger.sources)}::text[]) ${trigger.kinds ? sql`and b.kind = any(${array(trigger.kinds)}::text[])` : sql``}`;
}

/**
 * Starts the journey for each new trigger: one pass per trigger (its key is stored), none while the
 * customer is still in the journey and none when the entry rule does not match (both recorded as
 * skipped, so they are not read again). A trigger while the customer is in the journey still gets
 * the journey's first `confirmSteps` steps (its confirmation: every order is confirmed) in a pass
 * marked `only` that ends skipped and is not measured. The arm is drawn from a hash of journey and
 * customer: the same customer is in the same arm every time, a holdout share of customers in the holdout.
 */
export async function enrol(
  db: Db,
  journey: { id: number; holdoutShare: number; createdAt: string },
  events: Fragment,
  entry: Fragment | null,
  now: Date,
  confirmSteps = 0,
): Promise<Record<string, number>> {
  const rows = await queryRows<{ status: string; n: number }>(
    db,
    sql`
    with t as (${events}),
    fresh as (
      select distinct on (t.customer_id) t.* from t
      where not exists (select 1 from journey_enrolments e where e.journey_id = ${journey.id} and e.customer_id = t.customer_id and e.trigger_key = t.trigger_key)
      order by t.customer_id, t.at, t.trigger_key
    ),
    decided as (
      select f.*, case
          when exists (select 1 from journey_enrolments e where e.journey_id = ${journey.id} and e.customer_id = f.customer_id and e.status = 'active' and e.detail->>'only' is null) then 'already in the journey'
          when c.flags && array['erased'] then 'erased'
          when not ${entry ?? sql`true`} then 'the entry rule does not match'
        end as skip,
        ('x' || substr(md5(${`${journey.id}:${journey.createdAt}:`} || f.customer_id), 1, 8))::bit(32)::bigint / 4294967296.0 < ${journey.holdoutShare}::float8 as control
      from fresh f join customers c on c.id = f.customer_id
    ),
    confirmed as (
      select d.*, coalesce(d.skip = 'already in the journey', false) and ${confirmSteps}::int > 0 as confirm_only from decided d
    ),
    added as (
      insert into journey_enrolments (customer_id, journey_id, trigger_key, detail, order_id, arm, status, reason, entered_at, step, next_at, finished_at)
      select customer_id, ${journey.id}, trigger_key,
        case when confirm_only then detail || jsonb_build_object('only', ${confirmSteps}::int) else detail end,
        order_id, case when control then ${controlArm} else ${treatedArm} end,
        case when skip is null or confirm_only then 'active' else 'skipped' end, skip, ${at(now)}, 0,
        case when skip is null or confirm_only then ${at(now)} end, case when skip is not null and not confirm_only then ${at(now)} end
      from confirmed on conflict do nothing returning status, detail->>'only' is not null as confirm_only)
    select case when confirm_only then 'confirmation only' else status end as status, count(*)::int as n from added group by 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

export interface EnrolmentRow {
  customer_id: number;
  id: number;
  journey_id: number;
  arm: string;
  step: number;
  entered_at: string;
  order_id: number | null;
  detail: Record<string, string | number | null>;
}

/** Claims up to `limit` passes whose next step is due; a claim older than the lease is a stopped worker's and is taken over. */
export async function claimDue(
  db: Db,
  options: { worker: string; now: Date; leaseSeconds: number; limit: number },
): Promise<EnrolmentRow[]> {
  return queryRows<EnrolmentRow>(
    db,
    sql`
    with q as materialized (
      select e.customer_id, e.id from journey_enrolments e join journeys j on j.id = e.journey_id and j.status = 'active'
      where e.status = 'active' and e.next_at <= ${at(options.now)}
        and (e.claimed_at is null or e.claimed_at < ${at(options.now)} - make_interval(secs => ${options.leaseSeconds}))
      order by e.next_at limit ${options.limit} for update of e skip locked)
    update journey_enrolments e set claimed_by = ${options.worker}, claimed_at = ${at(options.now)}
    from q where e.customer_id = q.customer_id and e.id = q.id
    returning e.customer_id, e.id, e.journey_id, e.arm, e.step, e.entered_at::text, e.order_id, e.detail`,
  );
}

/** Moves a pass on: to its next step and when it is due, or out of the journey (done or exited with why); releases the claim. */
export async function moveEnrolment(
  db: Db,
  e: { customerId: number; id: number },
  to:
    | { step: number; nextAt: Date; waitedForProblem?: boolean }
    | { status: 'completed' | 'exited' | 'skipped'; reason: string | null; at: Date },
) {
  // A pass held back by an open problem counts its days of waiting (the report says how many waited).
  const waited =
    'step' in to && to.waitedForProblem
      ? sql`, detail = detail || jsonb_build_object('waitedDays', coalesce((detail->>'waitedDays')::int, 0) + 1)`
      : sql``;
  await db.execute(
    'status' in to
      ? sql`update journey_enrolments set status = ${to.status}, reason = ${to.reason}, finished_at = ${at(to.at)}, next_at = null, claimed_by = null, claimed_at = null
        where customer_id = ${e.customerId} and id = ${e.id}`
      : sql`update journey_enrolments set step = ${to.step}, next_at = ${at(to.nextAt)}, claimed_by = null, claimed_at = null ${waited} where customer_id = ${e.customerId} and id = ${e.id}`,
  );
}

/** Passes of a journey that waited for an open problem before a marketing step, and how many wait now. */
export async function problemWaits(db: Db, journeyId: number): Promise<{ passes: number; now: number; days: number }> {
  const [row] = await queryRows<{ passes: number; now: number; days: number }>(
    db,
    sql`select count(*)::int as passes, (count(*) filter (where status = 'active'))::int as now,
      coalesce(sum((detail->>'waitedDays')::int), 0)::int as days
    from journey_enrolments where journey_id = ${journeyId} and detail ? 'waitedDays'`,
  );
  return row;
}

/** Records that a claimed pass is past a step, keeping the claim: a crash resumes after it. */
export async function markStep(db: Db, e: { customerId: number; id: number }, step: number): Promise<void> {
  await db.execute(
    sql`update journey_enrolments set step = ${step} where customer_id = ${e.customerId} and id = ${e.id}`,
  );
}

/** Whether the customer matches a compiled rule now. */
export async function matches(db: Db, customerId: number, rule: Fragment): Promise<boolean> {
  return (await queryRows(db, sql`select 1 from customers c where c.id = ${customerId} and ${rule}`)).length > 0;
}

export async function orderedSince(db: Db, customerId: number, since: string): Promise<string | null> {
  const [row] = await queryRows<{ external_id: string }>(
    db,
    sql`
    select external_id from orders where customer_id = ${customerId} and ordered_at > ${since}::timestamptz order by ordered_at limit 1`,
  );
  return row?.external_id ?? null;
}

export async function expectedNextOrder(db: Db, customerId: number, runId: number | null): Promise<string | null> {
  const [row] = await queryRows<{ d: string | null }>(
    db,
    sql`select next_order_date::text as d from scores where run_id = ${runId ?? -1} and customer_id = ${customerId}`,
  );
  return row?.d ?? null;
}

/**
 * Records what a step does before it does it. Returns false when the step already has a record:
 * it was done, or a worker stopped while doing it.
 */
export async function beginStep(
  db: Db,
  s: {
    customerId: number;
    enrolmentId: number;
    step: number;
    journeyId: number;
    kind: string;
    outcome: string;
    reason?: string | null;
    marketing: boolean;
    at: Date;
  },
): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`
    insert into journey_steps (customer_id, enrolment_id, step, journey_id, kind, outcome, reason, marketing, at)
    values (${s.customerId}, ${s.enrolmentId}, ${s.step}, ${s.journeyId}, ${s.kind}, ${s.outcome}, ${s.reason ?? null}, ${s.marketing}, ${at(s.at)})
    on conflict do nothing returning 1`,
  );
  return rows.length > 0;
}

/** A step found still 'sending' was interrupted between SMTP and confirmation: unknown, never sent again. */
export async function settleInterrupted(
  db: Db,
  s: { customerId: number; enrolmentId: number; step: number },
): Promise<void> {
  await db.execute(sql`update journey_steps set outcome = 'unknown', reason = 'the sender stopped between claiming and confirming; not sent again'
    where customer_id = ${s.customerId} and enrolment_id = ${s.enrolmentId} and step = ${s.step} and outcome = 'sending'`);
}

export async function finishStep(
  db: Db,
  s: {
    customerId: number;
    enrolmentId: number;
    step: number;
    outcome: string;
    reason: string | null;
    email?: string | null;
    messageId?: string | null;
    at: Date;
  },
): Promise<void> {
  await db.execute(sql`update journey_steps set outcome = ${s.outcome}, reason = ${s.reason}, email = ${s.email ?? null}, message_id = ${s.messageId ?? null}, at = ${at(s.at)}
    where customer_id = ${s.customerId} and enrolment_id = ${s.enrolmentId} and step = ${s.step}`);
}

/** A step not accepted by the mail server for now: forgotten, so it is tried again. */
export async function forgetStep(db: Db, s: { customerId: number; enrolmentId: number; step: number }): Promise<void> {
  await db.execute(
    sql`delete from journey_steps where customer_id = ${s.customerId} and enrolment_id = ${s.enrolmentId} and step = ${s.step} and outcome = 'sending'`,
  );
}

export async function orderForMail(db: Db, customerId: number, orderId: number) {
  const [row] = await queryRows<{
    id: string;
    date: string;
    total: string;
    currency: string | null;
    lines: { product: string | null; category: string | null; quantity: number; amount: string }[];
  }>(
    db,
    sql`
    select o.external_id as id, (o.ordered_at at time zone 'UTC')::date::text as date, o.total::text as total, o.currency,
      coalesce((select jsonb_agg(jsonb_build_object('product', coalesce(p.name, l.product), 'category', coalesce(p.category, l.category), 'quantity', l.quantity::float8, 'amount', l.amount::text) order by l.line_no)
        from order_lines l left join products p on p.sku = l.product where l.customer_id = o.customer_id and l.order_id = o.id), '[]') as lines
    from orders o where o.customer_id = ${customerId} and o.id = ${orderId}`,
  );
  return row;
}

/** Passes by status and arm, and what each step did, for every journey. */
export async function journeyCounts(db: Db): Promise<{ journey_id: number; status: string; arm: string; n: number }[]> {
  return queryRows(
    db,
    sql`select journey_id, status, arm, count(*)::int as n from journey_enrolments group by 1, 2, 3 order by 1, 2, 3`,
  );
}

export async function stepCounts(db: Db, journeyId: number): Promise<{ step: number; outcome: string; n: number }[]> {
  return queryRows(
    db,
    sql`select step, outcome, count(*)::int as n from journey_steps where journey_id = ${journeyId} group by 1, 2 order by 1, 2`,
  );
}

/** The latest passes through a journey, with who and where they are. */
export async function recentEnrolments(db: Db, journeyId: number, limit: number): Promise<Pass[]> {
  return queryRows<Pass>(
    db,
    sql`
    select e.customer_id, c.name, c.email, e.arm, e.status, e.reason, e.step, e.entered_at::text, e.next_at::text, e.detail->>'what' as what
    from journey_enrolments e join customers c on c.id = e.customer_id where e.journey_id = ${journeyId} order by e.entered_at desc, e.id desc limit ${limit}`,
  );
}

/** A journey's passes as measured: every pass that entered (not the skipped), from when it entered. */
export const journeyMeasured = (journey: { id: number; campaignId: number }): Measured => ({
  members: sql`select e.customer_id, e.arm, e.entered_at as assigned_at,
      case when exists (select 1 from journey_steps s where s.customer_id = e.customer_id and s.enrolment_id = e.id and s.outcome = 'sent') then 'sent' else e.status end as status
    from journey_enrolments e where e.journey_id = ${journey.id} and e.status <> 'skipped' and e.detail->>'only' is null`,
  campaignId: journey.campaignId,
});
