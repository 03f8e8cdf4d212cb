import { bigint, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** The ingest ledger: one row per client event id, written in the same transaction as its effect. */
export const ingestedEvents = pgTable('ingested_events', {
  eventId: text('event_id').primaryKey(),
  type: text('type').notNull(),
  customerId: bigint('customer_id', { mode: 'number' }),
  receivedAt: instant('received_at').notNull().defaultNow(),
  /** What the event created, so a duplicate can be answered with the original result. */
  result: jsonb('result').$type<Record<string, unknown>>().notNull(),
});

/** What failed after it was accepted; kept with the reason until replayed. */
export const deadLetters = pgTable('dead_letters', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  source: text('source').notNull(),
  eventId: text('event_id'),
  /** The event as JSON text: text holds what jsonb refuses (a NUL escaped as \\u0000, an unpaired surrogate), so any failed event can be kept. */
  payload: text('payload').notNull(),
  reason: text('reason').notNull(),
  createdAt: instant('created_at').notNull().defaultNow(),
  replayedAt: instant('replayed_at'),
});
