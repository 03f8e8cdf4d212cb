import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * People who asked to be erased (P16), by a keyed hash of each identity they had (email, phone,
 * external id): enough to refuse them at import, API and event, and nothing to read them back from.
 */
export const erasures = pgTable('erasures', {
  hash: text('hash').primaryKey(),
  /** Which key made the hash: a changed KEPT_SECRET would let erased people back in, so it stops ingest. */
  keyId: text('key_id').notNull(),
  erasedAt: timestamp('erased_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
