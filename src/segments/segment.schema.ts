import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import type { Rule } from './segment.ts';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A saved rule; a snapshot segment also keeps who matched it when it was taken. */
export const segments = pgTable('segments', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  description: text('description'),
  kind: text('kind').notNull(),
  rule: jsonb('rule').$type<Rule>().notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: instant('created_at').notNull(),
  updatedAt: instant('updated_at').notNull(),
  /** When a snapshot's members were taken, and how many. */
  snapshotAt: instant('snapshot_at'),
  members: integer('members'),
});

export const segmentMembers = pgTable(
  'segment_members',
  {
    segmentId: bigint('segment_id', { mode: 'number' }).notNull(),
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.segmentId, t.customerId] }), index('segment_members_customer_idx').on(t.customerId)],
);
