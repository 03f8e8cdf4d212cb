import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Who did what that matters for trust (docs/security.md): sign-ins, people and keys, exports,
 * imports, consent. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (migration 0014).
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** A person's email, `key:NAME`, `cli:USER`, a consent source, or `system`. */
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    /** What it was done to: a customer, user, key, file or campaign, in words. */
    target: text('target'),
    detail: jsonb('detail').$type<Record<string, unknown>>().notNull().default(sql`'{}'::jsonb`),
    ip: text('ip'),
  },
  (t) => [index('audit_log_at_idx').on(t.at, t.id), index('audit_log_action_idx').on(t.action, t.id)],
);
