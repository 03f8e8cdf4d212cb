import { sql, type AnyColumn } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * What the customer list searches, lower-cased: name, email, external id and the phone's digits. The
 * search must use this very expression for the trigram index to serve it.
 */
export const customerSearchText = (t: { name: AnyColumn; email: AnyColumn; externalId: AnyColumn; phone: AnyColumn }) =>
  sql`lower(coalesce(${t.name}, '') || ' ' || coalesce(${t.email}, '') || ' ' || coalesce(${t.externalId}, '') || ' ' || regexp_replace(coalesce(${t.phone}, ''), '[^0-9]', '', 'g'))`;

export const customers = pgTable(
  'customers',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    externalId: text('external_id'),
    email: text('email'),
    phone: text('phone'),
    name: text('name'),
    acquisitionChannel: text('acquisition_channel'),
    createdAt: instant('created_at').notNull().defaultNow(),
    updatedAt: instant('updated_at').notNull().defaultNow(),
    stage: text('stage').notNull().default('prospect'),
    stageChangedAt: instant('stage_changed_at'),
    firstOrderAt: instant('first_order_at'),
    lastOrderAt: instant('last_order_at'),
    orderDays: bigint('order_days', { mode: 'number' }).notNull().default(0),
    // Kept current from orders and the consent ledger on every write (refreshLifecycle, recordConsent)
    // so that segment rules over history test a column instead of aggregating a table per count.
    orderCount: bigint('order_count', { mode: 'number' }).notNull().default(0),
    spend: numeric('spend').notNull().default('0'),
    /** The times of the latest orders, newest first (at most recentOrdersKept). */
    recentOrders: timestamp('recent_orders', { withTimezone: true, mode: 'string' })
      .array()
      .notNull()
      .default(sql`'{}'::timestamptz[]`),
    /** Per consent list, whether its latest ledger entry grants it. */
    consent: jsonb('consent').$type<Record<string, boolean>>().notNull().default({}),
    /** Current status flags (deceased, moved, undeliverable, do_not_contact); history in status_changes. */
    flags: text('flags').array().notNull().default(sql`'{}'::text[]`),
    /** Custom attributes, typed by attribute_definitions. */
    attributes: jsonb('attributes').$type<Record<string, string | number | boolean>>().notNull().default({}),
  },
  (t) => [
    uniqueIndex('customers_external_id_key').on(t.externalId),
    index('customers_stage_idx').on(t.stage, t.id),
    index('customers_name_idx').on(sql`lower(${t.name}) text_pattern_ops`),
    // Serves equality as well as prefix search: a second, plain index on email only cost every write.
    index('customers_email_pattern_idx').on(sql`${t.email} text_pattern_ops`),
    index('customers_external_id_pattern_idx').on(sql`${t.externalId} text_pattern_ops`),
    // The list's sorts (customer.read-model.ts) read in order from an index, so a page of 50 of a
    // million customers stops after 50 rows: last order both ways (nulls last), created both ways
    // (never null), name from A. Name from Z and purchase days sort what they read: every index here
    // is written on each order (last_order_at changes), so only the common sorts have one.
    index('customers_last_order_idx').on(t.lastOrderAt, t.id),
    index('customers_last_order_desc_idx').on(t.lastOrderAt.desc().nullsLast(), t.id.desc().nullsFirst()),
    index('customers_name_sort_idx').on(sql`lower(${t.name})`, t.id),
    index('customers_created_idx').on(t.createdAt, t.id),
    index('customers_flags_idx').using('gin', t.flags),
    // The list's search (customer.read-model.ts): trigrams of name, email, external id and phone digits
    // serve "contains" for three characters or more on both databases (pg_trgm, created by migration 0027).
    index('customers_search_idx').using('gin', sql`${customerSearchText(t)} gin_trgm_ops`),
  ],
);

/** How a person is recognised: each normalised email, phone and external id points at one customer. */
export const identities = pgTable(
  'identities',
  {
    kind: text('kind').notNull(),
    value: text('value').notNull(),
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    createdAt: instant('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.value] }), index('identities_customer_idx').on(t.customerId)],
);

export const attributeDefinitions = pgTable('attribute_definitions', {
  key: text('key').primaryKey(),
  type: text('type').notNull(),
  createdAt: instant('created_at').notNull().defaultNow(),
});

export const addresses = pgTable(
  'addresses',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    kind: text('kind').notNull().default('postal'),
    line1: text('line1'),
    line2: text('line2'),
    city: text('city'),
    region: text('region'),
    postalCode: text('postal_code'),
    country: text('country'),
    validFrom: instant('valid_from').notNull(),
    validTo: instant('valid_to'),
    source: text('source').notNull(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] })],
);

export const statusChanges = pgTable(
  'status_changes',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    flag: text('flag').notNull(),
    active: boolean('active').notNull(),
    at: instant('at').notNull(),
    source: text('source').notNull(),
    note: text('note'),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] })],
);

export const lifecycleChanges = pgTable(
  'lifecycle_changes',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    fromStage: text('from_stage'),
    toStage: text('to_stage').notNull(),
    at: instant('at').notNull(),
    cause: text('cause').notNull(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] }), index('lifecycle_changes_at_idx').on(t.at)],
);

export const notes = pgTable(
  'notes',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    externalId: text('external_id'),
    at: instant('at').notNull(),
    author: text('author'),
    channel: text('channel'),
    body: text('body').notNull(),
    /** How the customer felt, as the agent judged it: -2 (very upset) .. 2 (delighted). */
    feeling: smallint('feeling'),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('notes_external_key').on(t.customerId, t.externalId),
  ],
);

/** Append-only: consent is derived from the latest entry per (customer, list). */
export const consentLedger = pgTable(
  'consent_ledger',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    list: text('list').notNull(),
    granted: boolean('granted').notNull(),
    at: instant('at').notNull(),
    source: text('source').notNull(),
    wording: text('wording'),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    // The latest entry per customer for a list, in one ordered pass (segments, suppression).
    index('consent_ledger_latest_idx').on(t.list, t.customerId, t.at.desc(), t.id.desc()),
  ],
);

/**
 * Edits of a record by a person (profile, email, phone, attributes): what changed, from what, who and
 * why; on the timeline as `edit`. Addresses and flags keep their own dated histories.
 */
export const recordEdits = pgTable(
  'record_edits',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    at: instant('at').notNull().defaultNow(),
    /** name, email, phone, acquisition_channel, attributes.<key> */
    field: text('field').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    actor: text('actor').notNull(),
    reason: text('reason'),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] })],
);

/**
 * A merge, kept for 30 days so it can be undone (merge.ts): both customers' rows in every customer
 * table as they were, whole (`moved`, by table), both customer rows before and the kept one after
 * (`profiles`), and the keys of the rows the merge itself added plus the candidate pairs naming
 * either (`deleted`), so an undo gives each row back to its owner. `customer_id` is the customer kept.
 */
export const merges = pgTable(
  'merges',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    fromId: bigint('from_id', { mode: 'number' }).notNull(),
    at: instant('at').notNull().defaultNow(),
    actor: text('actor').notNull(),
    /** { into: the kept customer's row before, from: the duplicate's row, merged: the kept row after } */
    profiles: jsonb('profiles').notNull(),
    /** { table: [every row of both customers before the merge, whole] } */
    moved: jsonb('moved').notNull(),
    /** { added: { table: [keys of rows the merge added to the kept customer] }, pairs: [duplicate_pairs rows before] } */
    deleted: jsonb('deleted').notNull(),
    undoneAt: instant('undone_at'),
    undoneBy: text('undone_by'),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] }), index('merges_from_idx').on(t.fromId)],
);

/**
 * What the entry checks found wrong or doubtful in a record (a likely typo domain, an impossible
 * phone number, a postcode that does not fit its country ...): one row per field and check,
 * rewritten whenever the record changes; listed on the record and the data-quality page.
 */
export const recordWarnings = pgTable(
  'record_warnings',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    field: text('field').notNull(),
    code: text('code').notNull(),
    message: text('message').notNull(),
    /** The likely correct value, when there is one (e.g. example.com for exmaple.com). */
    suggestion: text('suggestion'),
    foundAt: instant('found_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.field, t.code] }), index('record_warnings_code_idx').on(t.code)],
);

/**
 * Candidate duplicates: two customers (first_id < second_id) that look like one person, with a
 * score and the evidence in words (no values), and what a person decided. Not under a customer_id:
 * a merge must not carry pairs along; pairs of a merged or erased customer are deleted.
 */
export const duplicatePairs = pgTable(
  'duplicate_pairs',
  {
    firstId: bigint('first_id', { mode: 'number' }).notNull(),
    secondId: bigint('second_id', { mode: 'number' }).notNull(),
    score: numeric('score', { precision: 4, scale: 3 }).notNull(),
    evidence: jsonb('evidence').$type<string[]>().notNull(),
    /** open, later, distinct (not the same person), merged */
    status: text('status').notNull().default('open'),
    foundAt: instant('found_at').notNull().defaultNow(),
    decidedAt: instant('decided_at'),
    decidedBy: text('decided_by'),
  },
  (t) => [
    primaryKey({ columns: [t.firstId, t.secondId] }),
    index('duplicate_pairs_queue_idx').on(t.status, t.score),
    index('duplicate_pairs_second_idx').on(t.secondId),
  ],
);

/** The data-quality score per day, with the counts behind it, for the chart over time. */
export const qualitySnapshots = pgTable('quality_snapshots', {
  day: text('day').primaryKey(),
  customers: bigint('customers', { mode: 'number' }).notNull(),
  score: numeric('score', { precision: 5, scale: 2 }).notNull(),
  counts: jsonb('counts').$type<Record<string, number>>().notNull(),
  at: instant('at').notNull().defaultNow(),
});
