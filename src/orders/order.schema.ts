import { bigint, index, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
/** Money is numeric, read and written as decimal strings, never floats. */
const money = (name: string) => numeric(name, { precision: 14, scale: 2 });

/** The catalogue (`kept import products`): what order lines are, so categories and margins come from here, not from a line's text. */
export const products = pgTable('products', {
  sku: text('sku').primaryKey(),
  name: text('name'),
  category: text('category'),
  price: money('price'),
  /** What one unit costs the shop: the margin of a line is its amount less quantity x cost. */
  cost: money('cost'),
  currency: text('currency'),
  updatedAt: instant('updated_at').notNull().defaultNow(),
});

export const orders = pgTable(
  'orders',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    orderedAt: instant('ordered_at').notNull(),
    channel: text('channel'),
    currency: text('currency'),
    /** The sum of the lines: unconstrained, so no number of lines at their largest can overflow it. */
    total: numeric('total').notNull(),
    source: text('source').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('orders_external_key').on(t.customerId, t.externalId),
    index('orders_ordered_at_idx').on(t.orderedAt),
  ],
);

export const orderLines = pgTable(
  'order_lines',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    orderId: bigint('order_id', { mode: 'number' }).notNull(),
    lineNo: bigint('line_no', { mode: 'number' }).notNull(),
    product: text('product'),
    /** The product's category (towels, bedding ...): what a customer is interested in. */
    category: text('category'),
    quantity: numeric('quantity', { precision: 14, scale: 3 }).notNull(),
    unitPrice: money('unit_price'),
    amount: money('amount').notNull(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.orderId, t.lineNo] })],
);

export const returns = pgTable(
  'returns',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    returnedAt: instant('returned_at').notNull(),
    product: text('product'),
    quantity: numeric('quantity', { precision: 14, scale: 3 }).notNull(),
    amount: money('amount').notNull(),
    reasonCode: text('reason_code'),
    reason: text('reason'),
    source: text('source').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('returns_external_key').on(t.customerId, t.externalId),
  ],
);

/** What the carrier said about an order's delivery: delivered, delayed or failed (the `delivery` event). */
export const deliveries = pgTable(
  'deliveries',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id').notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    at: instant('at').notNull(),
    status: text('status').notNull(),
    carrier: text('carrier'),
    detail: text('detail'),
    source: text('source').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('deliveries_external_key').on(t.customerId, t.externalId),
    index('deliveries_at_idx').on(t.at),
  ],
);
