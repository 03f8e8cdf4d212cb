import { bigint, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * The experiences catalogue as of the latest analysis: one row per occurrence, derived from orders,
 * returns, tickets, incidents, surveys, notes, mail and gestures by the definitions in
 * experience.ts (rebuilt on every analysis, since "slow first response" and "unresolved after N
 * days" become true by time passing). `occurrence` 1 is the customer's first of that kind.
 */
export const experiences = pgTable(
  'experiences',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    kind: text('kind').notNull(),
    at: instant('at').notNull(),
    occurrence: integer('occurrence').notNull(),
    /** The table it was read from (incident, return, ticket, survey, note, touchpoint, decision) and the row there. */
    source: text('source').notNull(),
    sourceId: bigint('source_id', { mode: 'number' }).notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    /** In words, for the timeline and the post-mortem. */
    detail: text('detail').notNull(),
    /** Whether the experience is a problem (a late delivery) rather than a gesture (a gift). */
    valence: text('valence').notNull(),
    /** The first follow-up by someone on our side after it (a contact, note, decision or task done). */
    followedUpAt: instant('followed_up_at'),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    index('experiences_customer_at_idx').on(t.customerId, t.at),
    index('experiences_kind_at_idx').on(t.kind, t.at),
  ],
);
