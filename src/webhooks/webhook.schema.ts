import { sql } from 'drizzle-orm';
import { bigint, boolean, index, jsonb, pgTable, smallint, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Where Kept tells other systems what happened (docs/webhooks.md). */
export const webhooks = pgTable('webhooks', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  url: text('url').notNull(),
  /** Event types it receives: alert.raised, consent.changed, customer.erased. */
  events: text('events').array().notNull(),
  /** Signs every delivery (HMAC-SHA256); shown once when the webhook is made. */
  secret: text('secret').notNull(),
  active: boolean('active').notNull().default(true),
  createdBy: text('created_by').notNull(),
  createdAt: instant('created_at').notNull().defaultNow(),
});

/**
 * The outbox: one row per event per webhook, written in the transaction that made the event, so an
 * event is delivered at least once. Retried with backoff for 4 hours, then dead until replayed.
 */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    webhookId: bigint('webhook_id', { mode: 'number' }).notNull(),
    /** The same for every webhook and every attempt: receivers use it to ignore repeats. */
    eventId: text('event_id').notNull(),
    type: text('type').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    /** pending, sending, delivered, dead */
    status: text('status').notNull().default('pending'),
    attempts: smallint('attempts').notNull().default(0),
    nextAttemptAt: instant('next_attempt_at').notNull().default(sql`now()`),
    /** Failures after this make it dead; a replay gives it another 4 hours. */
    retryUntil: instant('retry_until').notNull().default(sql`now() + interval '4 hours'`),
    claimedAt: instant('claimed_at'),
    lastStatus: smallint('last_status'),
    lastError: text('last_error'),
    createdAt: instant('created_at').notNull().defaultNow(),
    deliveredAt: instant('delivered_at'),
  },
  (t) => [
    uniqueIndex('webhook_deliveries_event').on(t.webhookId, t.eventId),
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
  ],
);
