import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { upsertRows, type InsertOf, type WriteResult } from '../db/upsert.ts';
import type { SubscriptionChange, SubscriptionPeriod } from './subscription.ts';
import { subscriptionEvents } from './subscription.schema.ts';

/** One thing that happened to a subscription: started (with its plan), renewed or cancelled (with why). */
export type SubscriptionInput = Omit<
  InsertOf<
    typeof subscriptionEvents,
    | 'customerId'
    | 'subscriptionId'
    | 'at'
    | 'change'
    | 'plan'
    | 'price'
    | 'currency'
    | 'period'
    | 'reasonCode'
    | 'reason'
    | 'source'
  >,
  'change' | 'period'
> & { change: SubscriptionChange; period: SubscriptionPeriod | null };

export type EventOutcome = 'inserted' | 'updated' | 'unchanged';
export interface SubscriptionsWritten extends WriteResult {
  /** What the write did with each input's event, in input order (a repeat within the call is unchanged). */
  outcomes: EventOutcome[];
}

const eventKey = (customerId: number, subscriptionId: string, change: string, at: Date | string) =>
  `${customerId}|${subscriptionId}|${change}|${new Date(at).toISOString()}`;

/**
 * Stores subscription events (the same event again is stored once; counts are of events) and
 * recomputes the state of every subscription they touch from all its events.
 */
export async function upsertSubscriptions(db: Db, inputs: SubscriptionInput[]): Promise<SubscriptionsWritten> {
  const written = await upsertRows(db, subscriptionEvents, inputs, {
    key: ['customerId', 'subscriptionId', 'change', 'at'],
    values: {
      customerId: (e) => e.customerId,
      subscriptionId: (e) => e.subscriptionId,
      at: (e) => e.at,
      change: (e) => e.change,
      plan: (e) => e.plan,
      price: (e) => e.price,
      currency: (e) => e.currency,
      period: (e) => e.period,
      reasonCode: (e) => e.reasonCode,
      reason: (e) => e.reason,
      source: (e) => e.source,
    },
    insertOnly: ['source'],
    returning: ['customerId', 'subscriptionId', 'change', 'at'],
  });
  const changed = new Map(
    written.changed.map((row): [string, EventOutcome] => [
      eventKey(row.customerId, row.subscriptionId, row.change, row.at),
      row.inserted ? 'inserted' : 'updated',
    ]),
  );
  const outcomes = inputs.map((e) => {
    const key = eventKey(e.customerId, e.subscriptionId, e.change, e.at);
    const outcome = changed.get(key) ?? 'unchanged';
    changed.delete(key);
    return outcome;
  });
  await refreshSubscriptions(
    db,
    inputs.map((e) => ({ customerId: e.customerId, subscriptionId: e.subscriptionId })),
  );
  const { inserted, updated, unchanged, changedCustomers } = written;
  return { inserted, updated, unchanged, changedCustomers, outcomes };
}

/**
 * Sets the state of these subscriptions from all their events: started at the first start (else the
 * first event), plan, price, currency and period from the latest event that has each, renewals
 * counted, cancelled while the latest cancellation has no start or renewal after it.
 */
export async function refreshSubscriptions(
  db: Db,
  touched: { customerId: number; subscriptionId: string }[],
): Promise<void> {
  if (touched.length === 0) return;
  await db.execute(sql`
    with touched as (
      select distinct customer_id, subscription_id
      from unnest(${array(touched.map((t) => t.customerId))}::bigint[], ${array(touched.map((t) => t.subscriptionId))}::text[])
        as t(customer_id, subscription_id)
    ), events as (
      select e.* from subscription_events e join touched t on t.customer_id = e.customer_id and t.subscription_id = e.subscription_id
    ), state as (
      select customer_id, subscription_id,
        coalesce(min(at) filter (where change = 'started'), min(at)) as started_at,
        (array_agg(plan order by at desc, id desc) filter (where plan is not null))[1] as plan,
        (array_agg(price order by at desc, id desc) filter (where price is not null))[1] as price,
        (array_agg(currency order by at desc, id desc) filter (where currency is not null))[1] as currency,
        coalesce((array_agg(period order by at desc, id desc) filter (where period is not null))[1], 'month') as period,
        count(*) filter (where change = 'renewed')::int as renewals,
        max(at) filter (where change = 'renewed') as renewed_at,
        max(at) filter (where change in ('started', 'renewed')) as active_at,
        max(at) as updated_at
      from events group by customer_id, subscription_id
    ), last_cancellation as (
      select distinct on (customer_id, subscription_id) customer_id, subscription_id, at, reason_code, reason
      from events where change = 'cancelled' order by customer_id, subscription_id, at desc, id desc
    ), cancellation as (
      -- A start or renewal after the latest cancellation reactivates the subscription.
      select c.* from last_cancellation c join state s using (customer_id, subscription_id)
      where s.active_at is null or s.active_at <= c.at
    )
    insert into subscriptions (customer_id, external_id, plan, price, currency, period, started_at, renewed_at, renewals,
      cancelled_at, cancel_reason_code, cancel_reason, updated_at)
    select s.customer_id, s.subscription_id, s.plan, s.price, s.currency, s.period, s.started_at, s.renewed_at, s.renewals,
      c.at, c.reason_code, c.reason, s.updated_at
    from state s left join cancellation c using (customer_id, subscription_id)
    on conflict (customer_id, external_id) do update set
      plan = excluded.plan, price = excluded.price, currency = excluded.currency, period = excluded.period,
      started_at = excluded.started_at, renewed_at = excluded.renewed_at, renewals = excluded.renewals,
      cancelled_at = excluded.cancelled_at, cancel_reason_code = excluded.cancel_reason_code,
      cancel_reason = excluded.cancel_reason, updated_at = excluded.updated_at
    where (subscriptions.plan, subscriptions.price, subscriptions.currency, subscriptions.period, subscriptions.started_at,
        subscriptions.renewed_at, subscriptions.renewals, subscriptions.cancelled_at, subscriptions.cancel_reason_code,
        subscriptions.cancel_reason, subscriptions.updated_at)
      is distinct from (excluded.plan, excluded.price, excluded.currency, excluded.period, excluded.started_at,
        excluded.renewed_at, excluded.renewals, excluded.cancelled_at, excluded.cancel_reason_code,
        excluded.cancel_reason, excluded.updated_at)`);
}

/**
 * Gives customer `from`'s subscriptions to `into` (a merge): an event both hold is kept once (into's),
 * and the state of every subscription moved is recomputed from the events now together. How many
 * rows moved, per table.
 */
export async function moveSubscriptions(
  db: Db,
  from: number,
  into: number,
): Promise<{ subscription_events: number; subscriptions: number }> {
  const sameEvent = sql`exists (select 1 from subscription_events k where k.customer_id = ${into}
    and k.subscription_id = e.subscription_id and k.change = e.change and k.at = e.at)`;
  await db.execute(sql`delete from subscription_events e where e.customer_id = ${from} and ${sameEvent}`);
  const moved = await queryRows<{ subscription_id: string }>(
    db,
    sql`update subscription_events e set customer_id = ${into} where e.customer_id = ${from} returning e.subscription_id`,
  );
  const states = await queryRows<{ external_id: string }>(
    db,
    sql`delete from subscriptions where customer_id = ${from} returning external_id`,
  );
  await refreshSubscriptions(
    db,
    [...new Set([...moved.map((m) => m.subscription_id), ...states.map((s) => s.external_id)])].map(
      (subscriptionId) => ({
        customerId: into,
        subscriptionId,
      }),
    ),
  );
  return { subscription_events: moved.length, subscriptions: states.length };
}
