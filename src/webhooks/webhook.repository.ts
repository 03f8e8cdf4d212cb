// The webhooks and their outbox (webhook.schema.ts): written in the transaction that made an event,
// claimed and marked by the delivery worker.
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { queryRows, sql, type Db } from '../db/connection.ts';
import { listLimit } from '../shared/http.ts';
import { webhookDeliveries as deliveries, webhooks } from './webhook.schema.ts';
import type { WebhookEvent } from './webhook.ts';

type Webhook = typeof webhooks.$inferSelect;
type Delivery = typeof deliveries.$inferSelect;
export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'dead';

/**
 * Queues one delivery per event for every active webhook that wants this type, in the caller's
 * transaction. `events` selects (event_id text, payload jsonb); an event queued twice is one delivery.
 */
export async function queueWebhookEvents(db: Db, type: WebhookEvent, events: SQL): Promise<void> {
  await db.execute(sql`
    insert into webhook_deliveries (webhook_id, event_id, type, payload)
    select w.id, e.event_id, ${type}, e.payload from webhooks w cross join (${events}) as e(event_id, payload)
    where w.active and ${type} = any(w.events)
    on conflict (webhook_id, event_id) do nothing`);
}

/** Queues one event, its payload made here, for the webhooks that want its type; in the caller's transaction. */
export async function queueWebhookEvent(
  db: Db,
  type: WebhookEvent,
  eventId: string,
  payload: Record<string, unknown>,
): Promise<void> {
  await queueWebhookEvents(db, type, sql`select ${eventId}::text, ${JSON.stringify(payload)}::jsonb`);
}

export type WebhookWithCounts = Pick<
  Webhook,
  'id' | 'url' | 'events' | 'secret' | 'active' | 'createdBy' | 'createdAt'
> & { pending: number; delivered: number; dead: number };

/** The active webhooks with how many of their deliveries wait, arrived and gave up. */
export async function listActiveWebhooks(db: Db): Promise<WebhookWithCounts[]> {
  const count = (status: SQL) => sql<number>`count(${deliveries.id}) filter (where ${status})::int`;
  return db
    .select({
      id: webhooks.id,
      url: webhooks.url,
      events: webhooks.events,
      secret: webhooks.secret,
      active: webhooks.active,
      createdBy: webhooks.createdBy,
      createdAt: webhooks.createdAt,
      pending: count(inArray(deliveries.status, ['pending', 'sending'])),
      delivered: count(eq(deliveries.status, 'delivered')),
      dead: count(eq(deliveries.status, 'dead')),
    })
    .from(webhooks)
    .leftJoin(deliveries, eq(deliveries.webhookId, webhooks.id))
    .where(eq(webhooks.active, true))
    .groupBy(webhooks.id)
    .orderBy(webhooks.id)
    .limit(listLimit);
}

export async function insertWebhook(
  db: Db,
  webhook: Pick<Webhook, 'url' | 'events' | 'secret' | 'createdBy'>,
): Promise<number> {
  const [row] = await db.insert(webhooks).values(webhook).returning({ id: webhooks.id });
  return row.id;
}

/** Stops an active webhook and drops what it had not sent yet; its URL, or undefined when there is none such. */
export async function deactivateWebhook(db: Db, id: number): Promise<string | undefined> {
  const [row] = await db
    .update(webhooks)
    .set({ active: false })
    .where(and(eq(webhooks.id, id), eq(webhooks.active, true)))
    .returning({ url: webhooks.url });
  if (!row) return undefined;
  await db
    .delete(deliveries)
    .where(and(eq(deliveries.webhookId, id), inArray(deliveries.status, ['pending', 'sending'])));
  return row.url;
}

export type DeliveryListed = Pick<
  Delivery,
  | 'id'
  | 'eventId'
  | 'type'
  | 'status'
  | 'attempts'
  | 'lastStatus'
  | 'lastError'
  | 'createdAt'
  | 'nextAttemptAt'
  | 'deliveredAt'
>;

/** A webhook's deliveries, newest first. */
export async function listDeliveries(
  db: Db,
  webhookId: number,
  status: DeliveryStatus | undefined,
  limit: number,
): Promise<DeliveryListed[]> {
  return db
    .select({
      id: deliveries.id,
      eventId: deliveries.eventId,
      type: deliveries.type,
      status: deliveries.status,
      attempts: deliveries.attempts,
      lastStatus: deliveries.lastStatus,
      lastError: deliveries.lastError,
      createdAt: deliveries.createdAt,
      nextAttemptAt: deliveries.nextAttemptAt,
      deliveredAt: deliveries.deliveredAt,
    })
    .from(deliveries)
    .where(and(eq(deliveries.webhookId, webhookId), status ? eq(deliveries.status, status) : undefined))
    .orderBy(desc(deliveries.id))
    .limit(limit);
}

const finished = (webhookId: number, deliveryId: number) =>
  and(
    eq(deliveries.id, deliveryId),
    eq(deliveries.webhookId, webhookId),
    inArray(deliveries.status, ['dead', 'delivered']),
  );

/** The type of a webhook's delivery that is over (delivered or dead), or undefined. */
export async function finishedDeliveryType(
  db: Db,
  webhookId: number,
  deliveryId: number,
): Promise<WebhookEvent | undefined> {
  const [row] = await db.select({ type: deliveries.type }).from(deliveries).where(finished(webhookId, deliveryId));
  return row?.type as WebhookEvent | undefined;
}

/** Makes a finished delivery pending again from `at`, retried until `retryUntil`; its event id, or undefined when not finished. */
export async function requeueDelivery(
  db: Db,
  webhookId: number,
  deliveryId: number,
  at: Date,
  retryUntil: Date,
): Promise<string | undefined> {
  const [row] = await db
    .update(deliveries)
    .set({ status: 'pending', nextAttemptAt: at, retryUntil })
    .where(finished(webhookId, deliveryId))
    .returning({ eventId: deliveries.eventId });
  return row?.eventId;
}

/** A delivery claimed for sending, where it goes and the secret that signs it; its times as the database writes them. */
export type ClaimedDelivery = Pick<Delivery, 'id' | 'webhookId' | 'eventId' | 'type' | 'payload' | 'attempts'> &
  Pick<Webhook, 'url' | 'secret'> & { createdAt: string; retryUntil: string };

/**
 * Claims up to 100 deliveries that are due, and those a crashed worker left sending since before
 * `stuckBefore`, counting the attempt; two workers never claim the same one.
 */
export async function claimDueDeliveries(db: Db, now: Date, stuckBefore: Date): Promise<ClaimedDelivery[]> {
  return queryRows<ClaimedDelivery>(
    db,
    sql`
    with claimed as (
      update webhook_deliveries d set status = 'sending', claimed_at = ${now.toISOString()}::timestamptz, attempts = d.attempts + 1
      where d.id in (
        select id from webhook_deliveries
        where (status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz)
           or (status = 'sending' and claimed_at < ${stuckBefore.toISOString()}::timestamptz)
        order by id limit 100 for update skip locked)
      returning d.*)
    select c.id, c.webhook_id as "webhookId", c.event_id as "eventId", c.type, c.payload, c.attempts,
      c.created_at as "createdAt", c.retry_until as "retryUntil", w.url, w.secret
    from claimed c join webhooks w on w.id = c.webhook_id order by c.id`,
  );
}

export async function markDelivered(db: Db, id: number, at: Date, lastStatus: number | null): Promise<void> {
  await db
    .update(deliveries)
    .set({ status: 'delivered', deliveredAt: at, lastStatus, lastError: null })
    .where(eq(deliveries.id, id));
}

/** Records a failed attempt: pending again at `nextAttemptAt`, or dead. */
export async function markFailed(
  db: Db,
  id: number,
  failure: { dead: boolean; nextAttemptAt: Date; lastStatus: number | null; lastError: string },
): Promise<void> {
  await db
    .update(deliveries)
    .set({
      status: failure.dead ? 'dead' : 'pending',
      nextAttemptAt: failure.nextAttemptAt,
      lastStatus: failure.lastStatus,
      lastError: failure.lastError,
    })
    .where(eq(deliveries.id, id));
}
