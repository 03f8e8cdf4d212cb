import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { upsertRows, type InsertOf, type WriteResult } from '../db/upsert.ts';
import { addDecimal } from '../shared/decimal.ts';
import {
  deliveries as deliveryTable,
  orderLines,
  orders as orderTable,
  returns as returnTable,
} from './order.schema.ts';

export type OrderLineInput = InsertOf<
  typeof orderLines,
  'lineNo' | 'product' | 'category' | 'quantity' | 'unitPrice' | 'amount'
>;
export type OrderInput = InsertOf<
  typeof orderTable,
  'customerId' | 'externalId' | 'orderedAt' | 'channel' | 'currency' | 'source'
> & {
  /** Defaults to the sum of all the order's lines after the write. */
  total?: string | null;
  lines: OrderLineInput[];
};
export type ReturnInput = InsertOf<
  typeof returnTable,
  'customerId' | 'externalId' | 'returnedAt' | 'product' | 'quantity' | 'amount' | 'reasonCode' | 'reason' | 'source'
> & {
  /** The order returned from, linked when it is known. */
  orderExternalId: string | null;
};

export type DeliveryInput = InsertOf<
  typeof deliveryTable,
  'customerId' | 'externalId' | 'at' | 'status' | 'carrier' | 'detail' | 'source'
> & {
  /** The order delivered, linked when it is known. */
  orderExternalId: string | null;
};

const orderKey = (customerId: number, externalId: string) => `${customerId}|${externalId}`;

/** Internal order ids for (customer, external order id) pairs that exist. */
export async function orderIds(
  db: Db,
  pairs: { customerId: number; externalId: string }[],
): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (pairs.length === 0) return found;
  const rows = await queryRows<{ id: number; customer_id: number; external_id: string }>(
    db,
    sql`
    select o.id, o.customer_id, o.external_id
    from orders o
    join unnest(${array(pairs.map((p) => p.customerId))}::bigint[], ${array(pairs.map((p) => p.externalId))}::text[]) as wanted(customer_id, external_id)
      on o.customer_id = wanted.customer_id and o.external_id = wanted.external_id`,
  );
  for (const row of rows) found.set(orderKey(row.customer_id, row.external_id), row.id);
  return found;
}

/**
 * Orders keyed by (customer, external id) and their lines keyed by line number; counts are per
 * line. Lines not in the input are left alone, so an order may arrive in parts. `changedCustomers`
 * are the customers whose orders changed (their lifecycle needs a refresh).
 */
export async function upsertOrders(db: Db, orders: OrderInput[]): Promise<WriteResult> {
  if (orders.length === 0) return { inserted: 0, updated: 0, unchanged: 0, changedCustomers: [] };
  // A new order's lines are all in this call, so its total is known before the write.
  const inputTotal = (o: OrderInput) =>
    o.total ??
    [...new Map(o.lines.map((line) => [line.lineNo, line.amount])).values()].reduce(
      (sum, amount) => addDecimal(sum, amount),
      '0',
    );
  const headers = await upsertRows(db, orderTable, orders, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (o) => o.customerId,
      externalId: (o) => o.externalId,
      orderedAt: (o) => o.orderedAt,
      channel: (o) => o.channel,
      currency: (o) => o.currency,
      source: (o) => o.source,
      total: inputTotal,
    },
    insertOnly: ['source', 'total'],
    returning: ['customerId', 'externalId'],
  });
  const created = new Set(
    headers.changed.filter((row) => row.inserted).map((row) => orderKey(row.customerId, row.externalId)),
  );
  const ids = await orderIds(db, orders);
  const lines = orders.flatMap((o) =>
    o.lines.map((line) => ({
      ...line,
      customerId: o.customerId,
      orderId: ids.get(orderKey(o.customerId, o.externalId))!,
    })),
  );
  const counts = await upsertRows(db, orderLines, lines, {
    key: ['customerId', 'orderId', 'lineNo'],
    values: {
      customerId: (l) => l.customerId,
      orderId: (l) => l.orderId,
      lineNo: (l) => l.lineNo,
      product: (l) => l.product,
      category: (l) => l.category,
      quantity: (l) => l.quantity,
      unitPrice: (l) => l.unitPrice,
      amount: (l) => l.amount,
    },
    returning: ['orderId'],
  });
  // An order that existed before gets its total again when its lines changed or a total was given.
  const changedOrders = new Set(counts.changed.map((row) => row.orderId));
  const touched = [...new Map(orders.map((o) => [orderKey(o.customerId, o.externalId), o])).entries()]
    .filter(([key, o]) => !created.has(key) && (o.total != null || changedOrders.has(ids.get(key)!)))
    .map(([key, o]) => ({ customerId: o.customerId, id: ids.get(key)!, total: o.total ?? null }));
  if (touched.length > 0) {
    await db.execute(sql`
      with touched as (
        select * from unnest(${array(touched.map((o) => o.customerId))}::bigint[], ${array(touched.map((o) => o.id))}::bigint[],
          ${array(touched.map((o) => o.total))}::numeric[]) as t(customer_id, id, given_total)
      ), line_totals as (
        select t.customer_id, t.id, coalesce(t.given_total, sum(l.amount), 0) as total
        from touched t left join order_lines l on l.customer_id = t.customer_id and l.order_id = t.id
        group by t.customer_id, t.id, t.given_total
      )
      update orders o set total = line_totals.total
      from line_totals
      where o.customer_id = line_totals.customer_id and o.id = line_totals.id and o.total is distinct from line_totals.total`);
  }
  return { ...counts, changedCustomers: [...new Set([...headers.changedCustomers, ...counts.changedCustomers])] };
}

/** Returns keyed (customer, external id), linked to their order when it is known. */
export async function upsertReturns(db: Db, returns: ReturnInput[]): Promise<WriteResult> {
  const ids = await orderIds(
    db,
    returns.filter((r) => r.orderExternalId).map((r) => ({ customerId: r.customerId, externalId: r.orderExternalId! })),
  );
  return upsertRows(db, returnTable, returns, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (r) => r.customerId,
      externalId: (r) => r.externalId,
      orderId: (r) => (r.orderExternalId ? (ids.get(orderKey(r.customerId, r.orderExternalId)) ?? null) : null),
      returnedAt: (r) => r.returnedAt,
      product: (r) => r.product,
      quantity: (r) => r.quantity,
      amount: (r) => r.amount,
      reasonCode: (r) => r.reasonCode,
      reason: (r) => r.reason,
      source: (r) => r.source,
    },
    insertOnly: ['source'],
  });
}

/** What carriers said about deliveries, keyed (customer, external id), linked to their order when it is known. */
export async function upsertDeliveries(db: Db, items: DeliveryInput[]): Promise<WriteResult> {
  const ids = await orderIds(
    db,
    items.filter((d) => d.orderExternalId).map((d) => ({ customerId: d.customerId, externalId: d.orderExternalId! })),
  );
  return upsertRows(db, deliveryTable, items, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (d) => d.customerId,
      externalId: (d) => d.externalId,
      orderId: (d) => (d.orderExternalId ? (ids.get(orderKey(d.customerId, d.orderExternalId)) ?? null) : null),
      at: (d) => d.at,
      status: (d) => d.status,
      carrier: (d) => d.carrier,
      detail: (d) => d.detail,
      source: (d) => d.source,
    },
    insertOnly: ['source'],
  });
}
