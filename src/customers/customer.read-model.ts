// What people see of customers: the searchable list, one record, and one timeline of everything.
// Reads customers, identities, attribute_definitions, addresses, status_changes, lifecycle_changes,
// consent_ledger, notes and record_edits (customer.schema.ts); orders, order_lines, products and returns; touchpoints;
// tickets, ticket_updates and incidents; subscription_events; survey_responses; activity_alerts; worklist_decisions;
// experiences.
import type { SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { array, queryPrepared, queryRows, sql, type Db } from '../db/connection.ts';
import { AppError } from '../shared/errors.ts';
import { customerSearchText, customers } from './customer.schema.ts';
import {
  timelineKinds,
  type CustomerListItem,
  type CustomerRecord,
  type CustomerSort,
  type TimelineEntry,
  type TimelineKind,
} from './customer.ts';

/** Counting stops here: "10,000+" is as useful as an exact figure and stays fast on millions. */
export const countCap = 10_000;
/** A search counts less far: a common name matches tens of thousands, and "1,000+" says to narrow it. */
export const searchCountCap = 1_000;

export interface CustomerQuery {
  q?: string;
  stage?: string;
  /** Acquisition channel. */
  channel?: string;
  flag?: string;
  sort: CustomerSort;
  direction: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

const iso = (value: string | Date | null) => (value === null ? null : new Date(value).toISOString());
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A phone number typed any way ("+44 7700 900123", "07700-900123"): its digits, without leading zeros. */
const phoneDigits = (q: string) => (/^[+\d\s().-]+$/.test(q) ? q.replace(/\D/g, '').replace(/^0+/, '') : '');

/**
 * What `q` finds: an email, external id or name beginning with it, any word of the name beginning with
 * it, or a phone number holding its digits (six or more). When it holds three letters or digits in a
 * row, the trigram index on customerSearchText narrows the rows first ("contains") and the exact
 * conditions are checked on what it finds; otherwise ("jo", "a b") the prefix indexes alone serve it,
 * matching the start of the email, external id or name.
 */
export function searchCondition(q: string) {
  const lower = q.toLowerCase();
  const digits = phoneDigits(q);
  const starts = sql`c.email like ${likePrefix(lower)} or c.external_id like ${likePrefix(q)} or lower(c.name) like ${likePrefix(lower)}`;
  const needle = digits.length >= 6 && digits.length < lower.length ? digits : lower;
  // The trigram index narrows only by three letters or digits in a row; without them it would read every entry.
  if (!/[\p{L}\p{N}]{3}/u.test(needle)) return sql`(${starts})`;
  const phone =
    digits.length >= 6
      ? sql` or regexp_replace(coalesce(c.phone, ''), '[^0-9]', '', 'g') like ${`%${likePrefix(digits)}`}`
      : sql``;
  return sql`(${customerSearchText(alias(customers, 'c'))} like ${`%${likePrefix(needle)}`}
    and (${starts} or lower(c.name) like ${`% ${likePrefix(lower)}`}${phone}))`;
}

function customerFilter(query: CustomerQuery) {
  const parts = [sql`true`];
  const q = query.q?.trim();
  if (q) parts.push(searchCondition(q));
  if (query.stage) parts.push(sql`c.stage = ${query.stage}`);
  if (query.channel) parts.push(sql`c.acquisition_channel = ${query.channel}`);
  if (query.flag) parts.push(sql`c.flags @> ${array([query.flag])}::text[]`);
  return sql.join(parts, sql` and `);
}

const sortColumn: Record<CustomerSort, ReturnType<typeof sql>> = {
  name: sql`lower(c.name)`,
  created: sql`c.created_at`,
  last_order: sql`c.last_order_at`,
  purchase_days: sql`c.order_days`,
};

/**
 * The list's order: the sort, then the id. Customers without a name or an order come last either
 * way. created_at and order_days are never null, and without "nulls last" an index read backwards
 * gives their descending order (the indexes are in customer.schema.ts).
 */
export function listOrder(query: Pick<CustomerQuery, 'sort' | 'direction'>): SQL {
  const nullable = query.sort === 'name' || query.sort === 'last_order';
  const direction = query.direction === 'asc' ? sql`asc nulls last` : nullable ? sql`desc nulls last` : sql`desc`;
  return sql`${sortColumn[query.sort]} ${direction}, c.id ${query.direction === 'asc' ? sql`asc` : sql`desc`}`;
}

export async function listCustomers(
  db: Db,
  query: CustomerQuery,
): Promise<{ customers: CustomerListItem[]; total: number; totalCapped: boolean }> {
  const where = customerFilter(query);
  const cap = query.q?.trim() ? searchCountCap : countCap;
  const c = alias(customers, 'c');
  const rows = await db
    .select({
      id: c.id,
      externalId: c.externalId,
      name: c.name,
      email: c.email,
      stage: c.stage,
      acquisitionChannel: c.acquisitionChannel,
      flags: c.flags,
      createdAt: c.createdAt,
      lastOrderAt: c.lastOrderAt,
      orderDays: c.orderDays,
    })
    .from(c)
    .where(where)
    .orderBy(listOrder(query))
    .limit(query.pageSize)
    .offset((query.page - 1) * query.pageSize);
  const [{ total }] = await queryRows<{ total: number }>(
    db,
    sql`
    select count(*)::int as total from (select 1 from customers c where ${where} limit ${cap + 1}) capped`,
  );
  return {
    customers: rows.map(({ orderDays, ...r }) => ({
      ...r,
      createdAt: iso(r.createdAt)!,
      lastOrderAt: iso(r.lastOrderAt),
      purchaseDays: orderDays,
    })),
    total: Math.min(total, cap),
    totalCapped: total > cap,
  };
}

/** Values the list can be filtered by, for the filter menus; stages with their counts for the chart. */
export async function customerFacets(
  db: Db,
): Promise<{ stages: { stage: string; customers: number }[]; channels: string[]; flags: string[] }> {
  const [stages, [row]] = await Promise.all([
    queryRows<{ stage: string; customers: number }>(
      db,
      sql`select stage, count(*)::int as customers from customers group by stage order by stage`,
    ),
    queryRows<{ channels: string[] | null; flags: string[] | null }>(
      db,
      sql`
      select (select array_agg(distinct acquisition_channel order by acquisition_channel) from customers where acquisition_channel is not null) as channels,
        (select array_agg(distinct flag order by flag) from status_changes) as flags`,
    ),
  ]);
  return { stages, channels: row.channels ?? [], flags: row.flags ?? [] };
}

// An instant as the API writes it everywhere: ISO 8601 in UTC with milliseconds.
const isoSql = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
const jsonList = (select: SQL, from: SQL, orderBy: string) =>
  sql`coalesce((select json_agg(${select} order by ${sql.raw(orderBy)}) ${from}), '[]'::json)`;

type RecordRow = Omit<CustomerRecord, 'attributes' | 'addresses' | 'totals'> & {
  attributes: Record<string, string | number | boolean>;
  types: Record<string, string> | null;
  addresses: Omit<CustomerRecord['addresses'][number], 'current'>[];
  totals: CustomerRecord['totals'];
};

/**
 * One customer's record in one statement: the profile with identities, addresses, status and stage
 * history, totals and warnings as JSON beside it. One round trip and one plan instead of eight keeps
 * the record fast under many readers (docs/benchmarks.md, `npm run bench:read`).
 */
export async function getCustomerRecord(db: Db, id: number): Promise<CustomerRecord> {
  const [row] = await queryPrepared<RecordRow>(
    db,
    sql`
    select c.id, c.external_id as "externalId", c.email, c.phone, c.name, c.acquisition_channel as "acquisitionChannel",
      ${isoSql('c.created_at')} as "createdAt", ${isoSql('c.updated_at')} as "updatedAt", c.stage,
      ${isoSql('c.stage_changed_at')} as "stageChangedAt", ${isoSql('c.first_order_at')} as "firstOrderAt",
      ${isoSql('c.last_order_at')} as "lastOrderAt", c.order_days::int as "purchaseDays", c.flags, c.attributes,
      (select json_object_agg(d.key, d.type) from attribute_definitions d
        where d.key in (select jsonb_object_keys(c.attributes))) as types,
      ${jsonList(
        sql`json_build_object('kind', i.kind, 'value', i.value, 'source', i.source, 'createdAt', ${isoSql('i.created_at')})`,
        sql`from identities i where i.customer_id = c.id`,
        'i.kind, i.created_at',
      )} as identities,
      ${jsonList(
        sql`json_build_object('kind', a.kind, 'line1', a.line1, 'line2', a.line2, 'city', a.city, 'region', a.region,
          'postalCode', a.postal_code, 'country', a.country, 'validFrom', ${isoSql('a.valid_from')},
          'validTo', ${isoSql('a.valid_to')}, 'source', a.source)`,
        sql`from addresses a where a.customer_id = c.id`,
        'a.valid_from desc, a.id desc',
      )} as addresses,
      ${jsonList(
        sql`json_build_object('flag', s.flag, 'active', s.active, 'at', ${isoSql('s.at')}, 'source', s.source, 'note', s.note)`,
        sql`from status_changes s where s.customer_id = c.id`,
        's.at desc, s.id desc',
      )} as "statusHistory",
      ${jsonList(
        sql`json_build_object('from', l.from_stage, 'to', l.to_stage, 'at', ${isoSql('l.at')}, 'cause', l.cause)`,
        sql`from lifecycle_changes l where l.customer_id = c.id`,
        'l.at desc, l.id desc',
      )} as "stageHistory",
      json_build_object(
        'orders', (select count(*)::int from orders where customer_id = c.id),
        'revenue', (select coalesce(sum(total), 0)::text from orders where customer_id = c.id),
        'returns', (select count(*)::int from returns where customer_id = c.id),
        'returned', (select coalesce(sum(amount), 0)::text from returns where customer_id = c.id),
        'tickets', (select count(*)::int from tickets where customer_id = c.id),
        'openTickets', (select count(*)::int from tickets where customer_id = c.id and status not in ('resolved', 'closed')),
        'lastContactAt', (select ${isoSql('max(at)')} from touchpoints where customer_id = c.id)
      ) as totals,
      ${jsonList(
        sql`json_build_object('field', w.field, 'code', w.code, 'message', w.message, 'suggestion', w.suggestion)`,
        sql`from record_warnings w where w.customer_id = c.id`,
        'w.field, w.code',
      )} as warnings
    from customers c where c.id = ${id}`,
  );
  if (!row) throw new AppError('not_found', `No customer ${id}`);
  const { types, attributes, addresses: addressRows, ...profile } = row;
  return {
    ...profile,
    attributes: Object.entries(attributes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => ({ key, value, type: types?.[key] ?? 'text' })),
    addresses: addressRows.map((a) => ({ ...a, current: a.validTo === null })),
  };
}

// One branch per kind; each yields (kind, id, at, channel, title, detail). The kinds' tables all
// lead with customer_id, so every branch is an index range scan on one customer.
const branches: Record<TimelineKind, (id: number) => ReturnType<typeof sql>> = {
  order: (id) => sql`select 'order' as kind, o.id, o.ordered_at as at, o.channel,
      'Order ' || o.external_id || ': ' || o.total::text || coalesce(' ' || o.currency, '') as title,
      jsonb_build_object('orderId', o.external_id, 'total', o.total::text, 'currency', o.currency, 'margin', m.margin::text, 'lines', m.lines) as detail
    from orders o
    -- The catalogue's category wins over the line's; a line earns its amount less quantity x the catalogue's cost
    -- (null without a cost), and the order's margin is their sum when every line's cost is known.
    cross join lateral (
      select coalesce(jsonb_agg(jsonb_build_object('product', coalesce(p.name, l.product), 'sku', l.product, 'category', coalesce(p.category, l.category), 'quantity', l.quantity::text,
          'unitPrice', l.unit_price::text, 'amount', l.amount::text, 'cost', p.cost::text, 'margin', round(l.amount - l.quantity * p.cost, 2)::text) order by l.line_no), '[]'::jsonb) as lines,
        case when count(*) > 0 and count(p.cost) = count(*) then round(sum(l.amount - l.quantity * p.cost), 2) end as margin
      from order_lines l left join products p on p.sku = l.product where l.customer_id = o.customer_id and l.order_id = o.id) m
    where o.customer_id = ${id}`,
  return: (id) => sql`select 'return', r.id, r.returned_at, null::text,
      'Returned ' || coalesce(r.product, 'an item') || coalesce(' (' || coalesce(r.reason, r.reason_code) || ')', ''),
      jsonb_build_object('returnId', r.external_id, 'product', r.product, 'quantity', r.quantity::text, 'amount', r.amount::text,
        'reasonCode', r.reason_code, 'reason', r.reason, 'orderId', (select external_id from orders where customer_id = r.customer_id and id = r.order_id))
    from returns r where r.customer_id = ${id}`,
  delivery: (id) => sql`select 'delivery', d.id, d.at, null::text,
      'Delivery ' || d.status || coalesce(' (' || d.carrier || ')', '') || coalesce(': ' || d.detail, ''),
      jsonb_build_object('deliveryId', d.external_id, 'status', d.status, 'carrier', d.carrier, 'detail', d.detail,
        'orderId', (select external_id from orders where customer_id = d.customer_id and id = d.order_id))
    from deliveries d where d.customer_id = ${id}`,
  subscription: (id) => sql`select 'subscription', e.id, e.at, null::text,
      'Subscription ' || e.change || case e.change
        when 'started' then ': ' || coalesce(e.plan, e.subscription_id)
          || coalesce(' (' || e.price::text || coalesce(' ' || e.currency, '') || '/' || coalesce(e.period, 'month') || ')', '')
        when 'cancelled' then coalesce(': ' || coalesce(e.reason, replace(e.reason_code, '_', ' ')), '')
        else coalesce(': ' || e.plan, '') end,
      jsonb_build_object('subscriptionId', e.subscription_id, 'change', e.change, 'plan', e.plan, 'price', e.price::text,
        'currency', e.currency, 'period', e.period, 'reasonCode', e.reason_code, 'reason', e.reason)
    from subscription_events e where e.customer_id = ${id}`,
  touchpoint: (id) => sql`select 'touchpoint', t.id, t.at, t.channel,
      initcap(t.direction) || ' ' || t.channel || ': ' || replace(t.kind, '_', ' ') || coalesce(' (' || t.campaign || ')', ''),
      jsonb_build_object('direction', t.direction, 'kind', t.kind, 'campaign', t.campaign) || coalesce(t.detail, '{}'::jsonb)
    from touchpoints t where t.customer_id = ${id}`,
  ticket: (id) => sql`select 'ticket', t.id, t.opened_at, t.channel,
      'Ticket opened: ' || coalesce(t.subject, t.category, t.external_id),
      jsonb_build_object('ticketId', t.external_id, 'category', t.category, 'priority', t.priority, 'status', t.status, 'outcome', t.outcome,
        'assignee', t.assignee, 'firstResponseAt', t.first_response_at, 'resolvedAt', t.resolved_at,
        'orderId', (select external_id from orders where customer_id = t.customer_id and id = t.order_id))
    from tickets t where t.customer_id = ${id}`,
  ticket_update: (id) => sql`select 'ticket_update', u.id, u.at, t.channel,
      'Ticket ' || coalesce(t.subject, t.external_id) || ': ' || u.status,
      jsonb_build_object('ticketId', t.external_id, 'status', u.status, 'note', u.note, 'outcome', case when u.status in ('resolved', 'closed') then t.outcome end)
    from ticket_updates u join tickets t on t.customer_id = u.customer_id and t.id = u.ticket_id where u.customer_id = ${id}`,
  incident: (id) => sql`select 'incident', i.id, i.at, i.channel, 'Incident: ' || replace(i.kind, '_', ' '),
      jsonb_build_object('incidentId', i.external_id, 'kind', i.kind, 'orderId', (select external_id from orders where customer_id = i.customer_id and id = i.order_id))
        || coalesce(i.detail, '{}'::jsonb)
    from incidents i where i.customer_id = ${id}`,
  survey: (id) => sql`select 'survey', s.id, s.at, s.channel,
      'Survey ' || s.survey || ': ' || s.question || ' ' || coalesce(s.score::text, '') || coalesce(' "' || s.answer || '"', ''),
      jsonb_build_object('survey', s.survey, 'question', s.question, 'score', s.score::float8, 'answer', s.answer)
    from survey_responses s where s.customer_id = ${id}`,
  note: (id) => sql`select 'note', n.id, n.at, n.channel, 'Note' || coalesce(' by ' || n.author, '') || ': ' || n.body,
      jsonb_build_object('author', n.author, 'body', n.body, 'feeling', n.feeling)
    from notes n where n.customer_id = ${id}`,
  status: (id) => sql`select 'status', s.id, s.at, null::text,
      case when s.active then 'Marked ' else 'No longer ' end || replace(s.flag, '_', ' ') || coalesce(': ' || s.note, ''),
      jsonb_build_object('flag', s.flag, 'active', s.active, 'source', s.source, 'note', s.note)
    from status_changes s where s.customer_id = ${id}`,
  consent: (id) => sql`select 'consent', k.id, k.at, null::text,
      case when k.granted then 'Consented to ' else 'Withdrew consent to ' end || k.list,
      jsonb_build_object('list', k.list, 'granted', k.granted, 'source', k.source, 'wording', k.wording)
    from consent_ledger k where k.customer_id = ${id}`,
  stage: (
    id,
  ) => sql`select 'stage', l.id, l.at, null::text, 'Stage: ' || coalesce(l.from_stage || ' → ', '') || l.to_stage,
      jsonb_build_object('from', l.from_stage, 'to', l.to_stage, 'cause', l.cause)
    from lifecycle_changes l where l.customer_id = ${id}`,
  alert: (id) => sql`select 'alert', a.id, a.at, null::text,
      'Activity dropping: probability still active ' || to_char(a.from_p_alive, 'FM0.00') || ' → ' || to_char(a.to_p_alive, 'FM0.00'),
      jsonb_build_object('reason', a.reason, 'fromPAlive', a.from_p_alive, 'toPAlive', a.to_p_alive, 'valueAtStake', a.value_at_stake::text, 'threshold', a.threshold)
    from activity_alerts a where a.customer_id = ${id}`,
  decision: (id) => sql`select 'decision', d.id, d.decided_at, null::text,
      'Worklist: ' || d.agent || ' ' || d.decision || ' ' || replace(d.action, '_', ' ') || coalesce(' (' || d.gift_value::text || ')', '')
        || case when d.decision <> 'accepted' then ' instead of ' || replace(d.suggested_action, '_', ' ') else '' end,
      jsonb_build_object('suggested', d.suggested_action, 'suggestionReason', d.suggestion_reason, 'decision', d.decision, 'action', d.action,
        'giftValue', d.gift_value::text, 'reason', d.reason, 'agent', d.agent, 'needsApproval', d.needs_approval, 'approvedBy', d.approved_by)
    from worklist_decisions d where d.customer_id = ${id}`,
  // The catalogue as of the latest analysis (src/experiences): "Experience: late delivery (2nd time), not followed up".
  experience: (id) => sql`select 'experience', e.id, e.at, null::text,
      'Experience: ' || replace(e.kind, '_', ' ') || ' (' || case when e.occurrence = 1 then 'first' else e.occurrence::text
        || case when e.occurrence % 100 between 11 and 13 then 'th' when e.occurrence % 10 = 1 then 'st' when e.occurrence % 10 = 2 then 'nd'
          when e.occurrence % 10 = 3 then 'rd' else 'th' end || ' time' end || ')'
        || case when e.valence <> 'problem' then '' when e.followed_up_at is null then ', not followed up' else ', followed up' end,
      jsonb_build_object('kind', e.kind, 'occurrence', e.occurrence, 'valence', e.valence, 'followedUpAt', e.followed_up_at,
        'detail', e.detail, 'source', e.source, 'orderId', (select external_id from orders where customer_id = e.customer_id and id = e.order_id))
    from experiences e where e.customer_id = ${id}`,
  // "Email changed by ana@shop.example: typo fixed"; the values are in the detail.
  edit: (id) => sql`select 'edit', e.id, e.at, null::text,
      (select upper(left(f, 1)) || substr(f, 2) from (select case when e.field like 'attributes.%' then 'attribute ' || replace(substr(e.field, 12), '_', ' ')
        when e.field like 'address.%' then substr(e.field, 9) || ' address' else replace(e.field, '_', ' ') end as f) named)
        || case when e.before is null then ' set' when e.after is null then ' removed' else ' changed' end
        || ' by ' || e.actor || coalesce(': ' || e.reason, ''),
      jsonb_build_object('field', e.field, 'before', e.before, 'after', e.after, 'actor', e.actor, 'reason', e.reason)
    from record_edits e where e.customer_id = ${id}`,
  address: (id) => sql`select 'address', a.id, a.valid_from, null::text,
      'Address: ' || concat_ws(', ', a.line1, a.postal_code, a.city, a.country),
      jsonb_build_object('line1', a.line1, 'line2', a.line2, 'city', a.city, 'region', a.region, 'postalCode', a.postal_code,
        'country', a.country, 'validTo', a.valid_to, 'source', a.source)
    from addresses a where a.customer_id = ${id}`,
};

/** Opaque position after an entry: newest first, ties broken by kind and id. */
export function encodeCursor(entry: Pick<TimelineEntry, 'at' | 'kind' | 'id'>): string {
  return Buffer.from(`${entry.at}|${entry.kind}|${entry.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { at: string; kind: string; id: number } {
  const [at, kind, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (!at || Number.isNaN(Date.parse(at)) || !kind || !Number.isInteger(Number(id))) {
    throw new AppError('validation_failed', 'cursor is not one this API gave out', {
      issues: [{ path: 'cursor', message: 'not a valid cursor' }],
    });
  }
  return { at, kind, id: Number(id) };
}

export async function customerTimeline(
  db: Db,
  customerId: number,
  options: { kinds?: TimelineKind[]; channel?: string; cursor?: string; limit: number },
) {
  const [exists] = await queryRows<{ id: number }>(db, sql`select id from customers where id = ${customerId}`);
  if (!exists) throw new AppError('not_found', `No customer ${customerId}`);
  const kinds = options.kinds?.length ? options.kinds : [...timelineKinds];
  const union = sql.join(
    kinds.map((kind) => branches[kind](customerId)),
    sql` union all `,
  );
  const after = options.cursor ? decodeCursor(options.cursor) : undefined;
  const conditions = [sql`true`];
  if (options.channel) conditions.push(sql`e.channel = ${options.channel}`);
  if (after) conditions.push(sql`(e.at, e.kind, e.id) < (${after.at}::timestamptz, ${after.kind}, ${after.id})`);
  const rows = await queryPrepared<TimelineEntry>(
    db,
    sql`
    select e.kind, e.id, e.at, e.channel, e.title, e.detail
    from (select kind, id, date_trunc('milliseconds', at) as at, channel, title, detail
      from (${union}) as u (kind, id, at, channel, title, detail)) as e
    where ${sql.join(conditions, sql` and `)}
    order by e.at desc, e.kind desc, e.id desc limit ${options.limit + 1}`,
  );
  const entries = rows.slice(0, options.limit).map((r) => ({ ...r, at: iso(r.at)! }));
  return { entries, nextCursor: rows.length > options.limit ? encodeCursor(entries.at(-1)!) : null };
}
