import { bigint, integer, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** Money is numeric, read and written as decimal strings, never floats. */
const money = (name: string) => numeric(name, { precision: 14, scale: 2 });

/** What happened to a subscription, as it was told: the state (`subscriptions`) is derived from these. */
export const subscriptionEvents = pgTable(
  'subscription_events',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    /** The subscription's id in the system that bills it. */
    subscriptionId: text('subscription_id').notNull(),
    at: instant('at').notNull(),
    /** started, renewed or cancelled. */
    change: text('change').notNull(),
    plan: text('plan'),
    price: money('price'),
    currency: text('currency'),
    /** week, month, quarter or year: how often it renews. */
    period: text('period'),
    reasonCode: text('reason_code'),
    reason: text('reason'),
    source: text('source').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('subscription_events_key').on(t.customerId, t.subscriptionId, t.change, t.at),
  ],
);

/** Each subscription as it stands now, recomputed from all its events whenever one arrives. */
export const subscriptions = pgTable(
  'subscriptions',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    plan: text('plan'),
    price: money('price'),
    currency: text('currency'),
    period: text('period').notNull().default('month'),
    startedAt: instant('started_at').notNull(),
    /** The last renewal. */
    renewedAt: instant('renewed_at'),
    renewals: integer('renewals').notNull().default(0),
    /** Set while cancelled; a renewal after the cancellation clears it (reactivated). */
    cancelledAt: instant('cancelled_at'),
    cancelReasonCode: text('cancel_reason_code'),
    cancelReason: text('cancel_reason'),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('subscriptions_external_key').on(t.customerId, t.externalId),
  ],
);
