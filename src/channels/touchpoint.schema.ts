import { bigint, index, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const touchpoints = pgTable(
  'touchpoints',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    channel: text('channel').notNull(),
    direction: text('direction').notNull(),
    kind: text('kind').notNull(),
    campaign: text('campaign'),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('touchpoints_external_key').on(t.customerId, t.externalId),
    index('touchpoints_channel_idx').on(t.channel, t.customerId),
  ],
);
