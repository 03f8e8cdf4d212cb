import { and, eq } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { upsertRows, type InsertOf, type WriteCounts } from '../db/upsert.ts';
import { orderIds } from '../orders/index.ts';
import { incidents as incidentTable, tickets as ticketTable, ticketUpdates } from './ticket.schema.ts';

/** The order a ticket or incident is about, linked when it is known. */
interface OrderLink {
  orderExternalId: string | null;
}
export type TicketInput = InsertOf<
  typeof ticketTable,
  | 'customerId'
  | 'externalId'
  | 'openedAt'
  | 'channel'
  | 'category'
  | 'priority'
  | 'status'
  | 'subject'
  | 'assignee'
  | 'resolvedAt'
  | 'outcome'
> &
  OrderLink;
export type IncidentInput = InsertOf<
  typeof incidentTable,
  'customerId' | 'externalId' | 'at' | 'kind' | 'channel' | 'detail'
> &
  OrderLink;
export type TicketUpdateInput = InsertOf<typeof ticketUpdates, 'customerId' | 'at' | 'status' | 'note'> & {
  ticketExternalId: string;
  assignee: string | null;
  /** Set when the update resolves the ticket. */
  outcome: string | null;
  /** in: from the customer; out (the default): to the customer; internal: between agents. */
  direction?: 'in' | 'out' | 'internal';
  author?: string | null;
};

const linkOrders = async (db: Db, items: { customerId: number; orderExternalId: string | null }[]) =>
  orderIds(
    db,
    items.filter((i) => i.orderExternalId).map((i) => ({ customerId: i.customerId, externalId: i.orderExternalId! })),
  );
const orderOf = (ids: Map<string, number>, item: { customerId: number; orderExternalId: string | null }) =>
  item.orderExternalId ? (ids.get(`${item.customerId}|${item.orderExternalId}`) ?? null) : null;

export async function upsertTickets(db: Db, tickets: TicketInput[]): Promise<WriteCounts> {
  const ids = await linkOrders(db, tickets);
  return upsertRows(db, ticketTable, tickets, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (t) => t.customerId,
      externalId: (t) => t.externalId,
      orderId: (t) => orderOf(ids, t),
      openedAt: (t) => t.openedAt,
      channel: (t) => t.channel,
      category: (t) => t.category,
      priority: (t) => t.priority,
      status: (t) => t.status,
      subject: (t) => t.subject,
      assignee: (t) => t.assignee,
      resolvedAt: (t) => t.resolvedAt,
      outcome: (t) => t.outcome,
      updatedAt: (t) => t.resolvedAt ?? t.openedAt,
    },
  });
}

/**
 * Appends updates to their tickets and moves each ticket to its latest state (status, assignee,
 * outcome, resolution time; the first update is the first response). Returns the indexes of
 * updates whose ticket is unknown; those are not written.
 */
export async function applyTicketUpdates(db: Db, updates: TicketUpdateInput[]): Promise<{ unknown: number[] }> {
  if (updates.length === 0) return { unknown: [] };
  const rows = await queryRows<{ id: number; customer_id: number; external_id: string }>(
    db,
    sql`
    select t.id, t.customer_id, t.external_id from tickets t
    join unnest(${array(updates.map((u) => u.customerId))}::bigint[], ${array(updates.map((u) => u.ticketExternalId))}::text[]) as wanted(customer_id, external_id)
      on t.customer_id = wanted.customer_id and t.external_id = wanted.external_id`,
  );
  const ticketIds = new Map(rows.map((row) => [`${row.customer_id}|${row.external_id}`, row.id]));
  const known = updates
    .map((u, index) => ({ ...u, index, ticketId: ticketIds.get(`${u.customerId}|${u.ticketExternalId}`) }))
    .filter((u): u is typeof u & { ticketId: number } => u.ticketId !== undefined);
  const unknown = updates.map((_, index) => index).filter((index) => !known.some((u) => u.index === index));
  if (known.length === 0) return { unknown };
  await db.execute(sql`
    insert into ticket_updates (customer_id, ticket_id, at, status, note, direction, author)
    select * from unnest(${array(known.map((u) => u.customerId))}::bigint[], ${array(known.map((u) => u.ticketId))}::bigint[],
      ${array(known.map((u) => u.at.toISOString()))}::timestamptz[], ${array(known.map((u) => u.status))}::text[], ${array(known.map((u) => u.note))}::text[],
      ${array(known.map((u) => u.direction ?? 'out'))}::text[], ${array(known.map((u) => u.author ?? null))}::text[])`);
  // One row per ticket: its latest update decides the state.
  const latest = [
    ...new Map([...known].sort((a, b) => a.at.getTime() - b.at.getTime()).map((u) => [u.ticketId, u])).values(),
  ];
  const firstAt = new Map<number, Date>();
  const assignee = new Map<number, string>();
  for (const u of [...known].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    // The first response is the first word to the customer, not their own message or an internal note.
    if (!firstAt.has(u.ticketId) && (u.direction ?? 'out') === 'out') firstAt.set(u.ticketId, u.at);
    if (u.assignee) assignee.set(u.ticketId, u.assignee);
  }
  await db.execute(sql`
    update tickets t set
      status = u.status,
      assignee = coalesce(u.assignee, t.assignee),
      outcome = coalesce(u.outcome, t.outcome),
      resolved_at = case when u.outcome is not null then u.at else t.resolved_at end,
      first_response_at = coalesce(t.first_response_at, u.first_at),
      updated_at = greatest(t.updated_at, u.at)
    from unnest(${array(latest.map((u) => u.customerId))}::bigint[], ${array(latest.map((u) => u.ticketId))}::bigint[],
      ${array(latest.map((u) => u.status))}::text[], ${array(latest.map((u) => assignee.get(u.ticketId) ?? null))}::text[], ${array(latest.map((u) => u.outcome))}::text[],
      ${array(latest.map((u) => u.at.toISOString()))}::timestamptz[], ${array(latest.map((u) => firstAt.get(u.ticketId)?.toISOString() ?? null))}::timestamptz[])
      as u(customer_id, id, status, assignee, outcome, at, first_at)
    where t.customer_id = u.customer_id and t.id = u.id`);
  return { unknown };
}

export async function upsertIncidents(db: Db, incidents: IncidentInput[]): Promise<WriteCounts> {
  const ids = await linkOrders(db, incidents);
  return upsertRows(db, incidentTable, incidents, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (i) => i.customerId,
      externalId: (i) => i.externalId,
      orderId: (i) => orderOf(ids, i),
      at: (i) => i.at,
      kind: (i) => i.kind,
      channel: (i) => i.channel,
      detail: (i) => i.detail,
    },
  });
}

export interface TicketRow {
  customer_id: number;
  id: number;
  external_id: string;
  customer_name: string | null;
  order_id: string | null;
  opened_at: string;
  channel: string | null;
  category: string | null;
  priority: string | null;
  status: string;
  subject: string | null;
  assignee: string | null;
  first_response_at: string | null;
  resolved_at: string | null;
  outcome: string | null;
  updated_at: string;
}

const ticketColumns = sql`t.customer_id, t.id, t.external_id, c.name as customer_name, (select external_id from orders o where o.customer_id = t.customer_id and o.id = t.order_id) as order_id,
  t.opened_at, t.channel, t.category, t.priority, t.status, t.subject, t.assignee, t.first_response_at, t.resolved_at, t.outcome, t.updated_at`;
export const openStatuses = ['open', 'pending', 'waiting_on_customer', 'escalated'];

/** Tickets, open ones by default, the most urgent and oldest first. */
export async function listTickets(
  db: Db,
  filter: { state: 'open' | 'closed' | 'all'; assignee?: string; category?: string; limit: number; offset: number },
): Promise<TicketRow[]> {
  const state =
    filter.state === 'all'
      ? sql`true`
      : filter.state === 'open'
        ? sql`t.resolved_at is null`
        : sql`t.resolved_at is not null`;
  return queryRows<TicketRow>(
    db,
    sql`
    select ${ticketColumns} from tickets t join customers c on c.id = t.customer_id
    where ${state} and ${filter.assignee === undefined ? sql`true` : sql`t.assignee = ${filter.assignee}`}
      and ${filter.category === undefined ? sql`true` : sql`t.category = ${filter.category}`}
    order by case t.priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end, t.opened_at, t.customer_id, t.id
    limit ${filter.limit} offset ${filter.offset}`,
  );
}

/** One ticket and its conversation, oldest message first. */
export async function findTicket(db: Db, customerId: number, ticketId: number) {
  const [ticket] = await queryRows<TicketRow>(
    db,
    sql`
    select ${ticketColumns} from tickets t join customers c on c.id = t.customer_id where t.customer_id = ${customerId} and t.id = ${ticketId}`,
  );
  if (!ticket) return undefined;
  const messages = await queryRows<{
    id: number;
    at: string;
    status: string;
    note: string | null;
    direction: string;
    author: string | null;
  }>(
    db,
    sql`
    select id, at, status, note, direction, author from ticket_updates where customer_id = ${customerId} and ticket_id = ${ticketId} order by at, id`,
  );
  return { ticket, messages };
}

export async function customerExists(db: Db, customerId: number): Promise<boolean> {
  return (await queryRows(db, sql`select 1 from customers where id = ${customerId}`)).length > 0;
}

/** A ticket's id from the customer's and its own external id, or undefined. */
export async function ticketIdByExternalId(
  db: Db,
  customerId: number,
  externalId: string,
): Promise<number | undefined> {
  const [row] = await db
    .select({ id: ticketTable.id })
    .from(ticketTable)
    .where(and(eq(ticketTable.customerId, customerId), eq(ticketTable.externalId, externalId)));
  return row?.id;
}
