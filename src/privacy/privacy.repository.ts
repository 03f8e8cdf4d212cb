// Everything Kept holds about one customer (P15). Every table with a customer_id column is read
// whole for the customer, found in the catalogue at run time, so a new table is covered the day it
// is added; tables that hold a customer's data by email are listed here; the rest are declared as
// holding no customer's personal data (privacy.test.ts fails on a table in none of the three).
import { eq } from 'drizzle-orm';
import { customers, identities } from '../customers/customer.schema.ts';
import { affectedRows, array, queryRows, sql, type Db } from '../db/connection.ts';
import { erasures } from './privacy.schema.ts';

/** Tables that hold a customer's data by email address rather than by customer id. */
export const byEmail: Record<string, string> = { captured_mail: 'to', email_suppressions: 'email' };

/** Tables with no customer's personal data, and why (staff, configuration, aggregates, anonymous). */
export const notAboutCustomers: Record<string, string> = {
  analysis_runs: 'model parameters and aggregate reports',
  anonymous_feedback: 'website feedback without a customer',
  api_keys: 'integrations',
  attribute_definitions: 'attribute names and types',
  audit_log: 'staff actions; refers to customers by number only',
  blueprints: 'the designed path of each lifecycle stage',
  campaigns: 'campaign definitions',
  channel_costs: 'what each channel costs, set by staff',
  dead_letters: 'failed events, kept for replay; read by the export by email and external id',
  duplicate_pairs:
    'pairs of customer numbers with a score and evidence in words, no values; deleted with either customer',
  erasures: "keyed hashes of erased people's identities: nothing to read them back from",
  import_key_counts: 'import bookkeeping: hashes of keys, no values',
  imports: 'import bookkeeping: file names and counts',
  jobs: 'background job bookkeeping',
  journeys: 'journey definitions',
  products: 'the catalogue',
  quality_snapshots: 'the data-quality score per day: counts only',
  retention_reports:
    'outcome tables, hazard and uplift models: aggregates (the customers behind a cell are in outcome_cases, by customer id)',
  retention_rules: 'rules distilled from aggregates, with their evidence',
  segments: 'segment definitions',
  sessions: 'staff sessions',
  settings: 'Kept settings',
  surveys: 'survey definitions',
  templates: 'mail templates',
  users: 'staff accounts',
  webhooks: 'webhook endpoints',
  webhook_deliveries: 'the webhook outbox; read and erased by the customer id in each event',
  __drizzle_migrations: 'schema versions',
};

/** The tables with a customer_id column, from the catalogue. */
export async function customerTables(db: Db): Promise<string[]> {
  const rows = await queryRows<{ table_name: string }>(
    db,
    sql`
    select c.table_name from information_schema.columns c join information_schema.tables t using (table_schema, table_name)
    where c.table_schema = current_schema() and c.column_name = 'customer_id' and t.table_type = 'BASE TABLE' order by 1`,
  );
  return rows.map((r) => r.table_name);
}

export async function allTables(db: Db): Promise<string[]> {
  const rows = await queryRows<{ table_name: string }>(
    db,
    sql`
    select table_name from information_schema.tables where table_schema in (current_schema(), 'drizzle') and table_type = 'BASE TABLE' order by 1`,
  );
  return rows.map((r) => r.table_name);
}

/** Failed events (alias d) with one of these emails or external ids as a whole JSON string value. */
export const deadLettersNaming = (keys: string[]) => sql`exists (
  select 1 from unnest(${array(keys)}::text[]) k where strpos(lower(d.payload::text), lower(to_jsonb(k)::text)) > 0)`;

export type Rows = Record<string, unknown>[];

/** The customer row and, per table, every row about them; null when there is no such customer. */
export async function customerData(
  db: Db,
  customerId: number,
): Promise<{ customer: Record<string, unknown>; tables: Record<string, Rows> } | null> {
  const [customer] = await queryRows<Record<string, unknown>>(
    db,
    sql`select * from customers where id = ${customerId}`,
  );
  if (!customer) return null;
  const tables: Record<string, Rows> = {};
  for (const table of await customerTables(db)) {
    tables[table] = await queryRows<Record<string, unknown>>(
      db,
      sql`select * from ${sql.identifier(table)} where customer_id = ${customerId}`,
    );
  }
  const emails = [
    ...new Set(
      [customer.email, ...tables.identities.filter((i) => i.kind === 'email').map((i) => i.value)].filter(
        Boolean,
      ) as string[],
    ),
  ];
  for (const [table, column] of Object.entries(byEmail)) {
    tables[table] =
      emails.length === 0
        ? []
        : await queryRows<Record<string, unknown>>(
            db,
            sql`select * from ${sql.identifier(table)} where lower(${sql.identifier(column)}) = any(${array(emails.map((e) => e.toLowerCase()))}::text[])`,
          );
  }
  const keys = [...emails, ...tables.identities.filter((i) => i.kind === 'external').map((i) => String(i.value))];
  tables.dead_letters = await queryRows<Record<string, unknown>>(
    db,
    sql`select * from dead_letters d where ${deadLettersNaming(keys)}`,
  );
  tables.webhook_deliveries = await queryRows<Record<string, unknown>>(
    db,
    sql`select * from webhook_deliveries where (payload ->> 'customerId')::bigint = ${customerId}`,
  );
  delete tables.customers;
  // Instants in ISO 8601 (the drivers hand raw rows' timestamptz over as PostgreSQL's own text).
  const instants = await queryRows<{ table_name: string; column_name: string }>(
    db,
    sql`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and data_type = 'timestamp with time zone'`,
  );
  const iso = (table: string, rows: Rows) => {
    const columns = instants.filter((c) => c.table_name === table).map((c) => c.column_name);
    for (const row of rows)
      for (const column of columns) {
        const value = row[column];
        if (value !== null && value !== undefined) row[column] = new Date(value as string | Date).toISOString();
      }
  };
  iso('customers', [customer]);
  for (const [table, rows] of Object.entries(tables)) iso(table, rows);
  return { customer, tables };
}

// --- erasure (erasure.ts)

/** Whether anyone was erased: while no one was, no reference needs hashing. */
export async function anyErasures(db: Db): Promise<boolean> {
  const [row] = await db.select({ hash: erasures.hash }).from(erasures).limit(1);
  return row !== undefined;
}

/** How many erased identities were hashed with another key than this one. */
export async function erasuresByOtherKeys(db: Db, keyId: string): Promise<number> {
  const [{ n }] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from erasures where key_id <> ${keyId}`,
  );
  return n;
}

/** Which of these hashes are of erased people's identities. */
export async function erasedHashes(db: Db, hashes: string[]): Promise<Set<string>> {
  const rows = await queryRows<Pick<typeof erasures.$inferSelect, 'hash'>>(
    db,
    sql`
    select hash from erasures where hash = any(${array(hashes)}::text[])`,
  );
  return new Set(rows.map((r) => r.hash));
}

/** Remembers these identities as erased, each once. */
export async function insertErasures(db: Db, hashes: string[], keyId: string): Promise<void> {
  await db.execute(sql`insert into erasures (hash, key_id)
    select hash, ${keyId} from unnest(${array(hashes)}::text[]) as t(hash) on conflict (hash) do nothing`);
}

/** The customer's identities on their row, locked until the transaction ends; undefined when there is no such customer. */
export async function lockCustomerIdentities(
  db: Db,
  customerId: number,
): Promise<Pick<typeof customers.$inferSelect, 'email' | 'phone' | 'externalId'> | undefined> {
  const [row] = await db
    .select({ email: customers.email, phone: customers.phone, externalId: customers.externalId })
    .from(customers)
    .where(eq(customers.id, customerId))
    .for('update');
  return row;
}

export async function identitiesOfCustomer(
  db: Db,
  customerId: number,
): Promise<Pick<typeof identities.$inferSelect, 'kind' | 'value'>[]> {
  return db
    .select({ kind: identities.kind, value: identities.value })
    .from(identities)
    .where(eq(identities.customerId, customerId));
}

/**
 * Deletes every row about the customer, found as customerData finds them, the customer row last;
 * how many rows went, per table.
 */
export async function deleteCustomerData(
  db: Db,
  customerId: number,
  names: { emails: string[]; keys: string[] },
): Promise<Record<string, number>> {
  const tables: Record<string, number> = {};
  for (const table of await customerTables(db)) {
    if (table !== 'customers')
      tables[table] = await affectedRows(
        db,
        sql`delete from ${sql.identifier(table)} where customer_id = ${customerId}`,
      );
  }
  for (const [table, column] of Object.entries(byEmail)) {
    tables[table] = await affectedRows(
      db,
      sql`delete from ${sql.identifier(table)} where lower(${sql.identifier(column)}) = any(${array(names.emails)}::text[])`,
    );
  }
  tables.dead_letters = await affectedRows(db, sql`delete from dead_letters d where ${deadLettersNaming(names.keys)}`);
  tables.webhook_deliveries = await affectedRows(
    db,
    sql`delete from webhook_deliveries where (payload ->> 'customerId')::bigint = ${customerId}`,
  );
  tables.duplicate_pairs = await affectedRows(
    db,
    sql`delete from duplicate_pairs where first_id = ${customerId} or second_id = ${customerId}`,
  );
  tables.customers = await affectedRows(db, sql`delete from customers where id = ${customerId}`);
  return tables;
}

/** The customer `kept erase --customer` names: by number, or by an email or external id already normalised. */
export async function findCustomerByReference(
  db: Db,
  ref: { id: number } | { email: string | null; externalId: string | null },
) {
  const [found] = await queryRows<{ id: number; name: string | null }>(
    db,
    'id' in ref
      ? sql`select id, name from customers where id = ${ref.id}`
      : sql`select c.id, c.name from identities i join customers c on c.id = i.customer_id
        where (i.kind = 'email' and i.value = ${ref.email}) or (i.kind = 'external' and i.value = ${ref.externalId}) limit 1`,
  );
  return found;
}
