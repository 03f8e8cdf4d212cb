import { bigint, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const tickets = pgTable(
  'tickets',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    openedAt: instant('opened_at').notNull(),
    channel: text('channel'),
    category: text('category'),
    priority: text('priority'),
    status: text('status').notNull(),
    subject: text('subject'),
    assignee: text('assignee'),
    firstResponseAt: instant('first_response_at'),
    resolvedAt: instant('resolved_at'),
    /** How it ended for the customer: resolved, unresolved, escalated, refunded, replaced ... */
    outcome: text('outcome'),
    updatedAt: instant('updated_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('tickets_external_key').on(t.customerId, t.externalId),
  ],
);

export const ticketUpdates = pgTable(
  'ticket_updates',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    ticketId: bigint('ticket_id', { mode: 'number' }).notNull(),
    at: instant('at').notNull(),
    status: text('status').notNull(),
    note: text('note'),
    /** in: from the customer; out: to the customer (the first one is the first response); internal: between agents. */
    direction: text('direction').notNull().default('out'),
    author: text('author'),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] })],
);

export const incidents = pgTable(
  'incidents',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    at: instant('at').notNull(),
    kind: text('kind').notNull(),
    channel: text('channel'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('incidents_external_key').on(t.customerId, t.externalId),
  ],
);
