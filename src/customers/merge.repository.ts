// The statements of a merge (merge.ts): two customers locked, the duplicate's rows moved table by
// table, the profiles joined, the duplicate deleted; all in the caller's transaction.
import { eq, inArray, type SQL } from 'drizzle-orm';
import { affectedRows, array, queryRows, sql, type Db } from '../db/connection.ts';
import { customers } from './customer.schema.ts';

/** Locks these customers until the transaction ends, in id order; the ids that exist. */
export async function lockCustomers(db: Db, ids: number[]): Promise<number[]> {
  const rows = await db
    .select({ id: customers.id })
    .from(customers)
    .where(inArray(customers.id, ids))
    .orderBy(customers.id)
    .for('update');
  return rows.map((r) => r.id);
}

/** The customer's scores (and subscription churn scores) go: the next analysis scores the merged customer. */
export async function deleteScoresOf(db: Db, customerId: number): Promise<void> {
  await db.execute(sql`delete from scores where customer_id = ${customerId}`);
  await db.execute(sql`delete from churn_scores where customer_id = ${customerId}`);
}

/**
 * The experiences catalogue and the outcome cases drawn from it are derived per customer: both
 * customers' rows go (a repeat may now be a first, or the other way round), and the next analysis
 * rebuilds them for the merged customer.
 */
export async function deleteDerivedOf(db: Db, customerIds: number[]): Promise<void> {
  await db.execute(sql`delete from experiences where customer_id = any(${array(customerIds)}::bigint[])`);
  await db.execute(sql`delete from outcome_cases where customer_id = any(${array(customerIds)}::bigint[])`);
}

/** Gives the rows of one table (one with a customer_id) of customer `from` to `into`; how many moved. */
export const moveCustomerRows = (db: Db, table: string, from: number, into: number) =>
  affectedRows(db, sql`update ${sql.identifier(table)} set customer_id = ${into} where customer_id = ${from}`);

/** The profile of `into` keeps what it had and takes what only `from` had; its consent is read again from its ledger. */
export async function mergeProfile(db: Db, into: number, from: number): Promise<void> {
  await db.execute(sql`
    update customers c set email = coalesce(c.email, d.email), phone = coalesce(c.phone, d.phone), external_id = coalesce(c.external_id, d.external_id),
      name = coalesce(c.name, d.name), acquisition_channel = coalesce(c.acquisition_channel, d.acquisition_channel),
      created_at = least(c.created_at, d.created_at), attributes = d.attributes || c.attributes,
      flags = array(select distinct unnest(c.flags || d.flags) order by 1), updated_at = now(),
      consent = coalesce((select jsonb_object_agg(list, granted) from (
        select distinct on (list) list, granted from consent_ledger where customer_id = ${into} order by list, at desc, id desc) l), '{}'::jsonb)
    from customers d where c.id = ${into} and d.id = ${from}`);
}

export async function deleteCustomer(db: Db, id: number): Promise<void> {
  await db.delete(customers).where(eq(customers.id, id));
}

/** A table's primary key, and the part of it that names a row without its customer (all of it when nothing else is left). */
interface Shape {
  table: string;
  primary: string[];
  key: string[];
  columns: string[];
}

/** The shapes of these tables from the catalogue: primary key and writable (not generated) columns. */
export async function tableShapes(db: Db, tables: string[]): Promise<Shape[]> {
  const rows = await queryRows<{ table_name: string; primary_key: string[]; columns: string[] }>(
    db,
    sql`
    select t.table_name,
      array(select a.attname::text from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
            where i.indrelid = to_regclass(quote_ident(t.table_name)) and i.indisprimary order by a.attnum) as primary_key,
      array(select c.column_name::text from information_schema.columns c
            where c.table_schema = current_schema() and c.table_name = t.table_name and c.is_generated = 'NEVER'
            order by c.ordinal_position) as columns
    from unnest(${array(tables)}::text[]) as t(table_name)`,
  );
  return rows.map((r) => {
    const primary = r.primary_key.length > 0 ? r.primary_key : r.columns;
    const key = primary.filter((c) => c !== 'customer_id');
    return { table: r.table_name, primary, key: key.length > 0 ? key : primary, columns: r.columns };
  });
}

const list = (columns: string[], alias?: string) =>
  sql.join(
    columns.map((c) => (alias ? sql`${sql.identifier(alias)}.${sql.identifier(c)}` : sql.identifier(c))),
    sql`, `,
  );
const sameKey = (columns: string[], a: string, b: string) => sql`(${list(columns, a)}) = (${list(columns, b)})`;
// Rows travel as JSON text straight from and back to the database: parsed in JavaScript, 36.50 would come back as 36.5.
const recordset = (table: string, rows: SQL) => sql`jsonb_populate_recordset(null::${sql.identifier(table)}, ${rows})`;
const saved = (mergeId: number, path: SQL) =>
  sql`coalesce((select ${path} from merges where id = ${mergeId}), '[]'::jsonb)`;

/** Every row of these customers in one table, whole, as JSON text; null when there is none. */
export async function rowsOf(db: Db, table: string, customerIds: number[]): Promise<string | null> {
  const [row] = await queryRows<{ rows: string | null }>(
    db,
    sql`select jsonb_agg(to_jsonb(t))::text as rows from ${sql.identifier(table)} t
        where t.customer_id = any(${array(customerIds)}::bigint[])`,
  );
  return row.rows;
}

/** The keys of the rows `into` holds now that were not there before (`before`: the rows of both customers then); null when none. */
export async function rowsAddedTo(db: Db, shape: Shape, into: number, before: string | null): Promise<string | null> {
  const keyObject = sql.join(
    shape.key.map((c) => sql`${c}::text, t.${sql.identifier(c)}`),
    sql`, `,
  );
  const [row] = await queryRows<{ keys: string | null }>(
    db,
    sql`select jsonb_agg(jsonb_build_object(${keyObject}))::text as keys from ${sql.identifier(shape.table)} t
        where t.customer_id = ${into}
          and not exists (select 1 from ${recordset(shape.table, sql`${before ?? '[]'}::jsonb`)} s where ${sameKey(shape.key, 's', 't')})`,
  );
  return row.keys;
}

/**
 * Undoes merge `mergeId` in one table: the rows the merge added go, the duplicate's rows go back to
 * it by their key (rows that came later stay with `into`), and rows the merge deleted come back whole.
 */
export async function restoreTable(
  db: Db,
  shape: Shape,
  merge: { id: number; into: number; from: number },
): Promise<number> {
  const t = sql.identifier(shape.table);
  const before = recordset(shape.table, saved(merge.id, sql`moved -> ${shape.table}`));
  const added = recordset(shape.table, saved(merge.id, sql`deleted -> 'added' -> ${shape.table}`));
  let n = await affectedRows(
    db,
    sql`delete from ${t} t using ${added} k where t.customer_id = ${merge.into} and ${sameKey(shape.key, 't', 'k')}`,
  );
  n += await affectedRows(
    db,
    sql`update ${t} t set customer_id = ${merge.from}
        where t.customer_id = ${merge.into}
          and exists (select 1 from ${before} s where s.customer_id = ${merge.from} and ${sameKey(shape.key, 's', 't')})
          and not exists (select 1 from ${before} s where s.customer_id = ${merge.into} and ${sameKey(shape.key, 's', 't')})`,
  );
  n += await affectedRows(
    db,
    sql`insert into ${t} (${list(shape.columns)}) overriding system value
        select ${list(shape.columns, 's')} from ${before} s
        where not exists (select 1 from ${t} t where ${sameKey(shape.primary, 's', 't')})`,
  );
  return n;
}

/** The customers row as JSON text. */
export async function customerRow(db: Db, id: number): Promise<string> {
  const [row] = await queryRows<{ row: string }>(
    db,
    sql`select to_jsonb(c)::text as row from customers c where c.id = ${id}`,
  );
  return row.row;
}

/** Puts back the kept customer's columns the merge changed, where they still hold what the merge set, and the duplicate's whole row. */
export async function restoreProfiles(db: Db, shape: Shape, merge: { id: number; into: number }): Promise<void> {
  const columns = shape.columns.filter((c) => c !== 'id');
  const set = sql.join(
    columns.map(
      (c) =>
        sql`${sql.identifier(c)} = case when c.${sql.identifier(c)} is not distinct from m.${sql.identifier(c)} then b.${sql.identifier(c)} else c.${sql.identifier(c)} end`,
    ),
    sql`, `,
  );
  const profile = (which: string) =>
    sql`jsonb_populate_record(null::customers, (select profiles -> ${which} from merges where id = ${merge.id}))`;
  await db.execute(sql`
    update customers c set ${set} from ${profile('into')} b, ${profile('merged')} m where c.id = ${merge.into}`);
  await db.execute(sql`
    insert into customers (${list(shape.columns)}) overriding system value select ${list(shape.columns, 's')} from ${profile('from')} s`);
}

/** Candidate pairs naming either customer, whole, as JSON text; null when none. */
export async function pairsOf(db: Db, ids: number[]): Promise<string | null> {
  const [row] = await queryRows<{ rows: string | null }>(
    db,
    sql`select jsonb_agg(to_jsonb(p))::text as rows from duplicate_pairs p
        where p.first_id = any(${array(ids)}::bigint[]) or p.second_id = any(${array(ids)}::bigint[])`,
  );
  return row.rows;
}

/** The pair of these two is merged; other pairs naming the duplicate go with it. */
export async function settlePairs(db: Db, into: number, from: number, actor: string, at: Date): Promise<void> {
  const [first, second] = into < from ? [into, from] : [from, into];
  await db.execute(sql`
    update duplicate_pairs set status = 'merged', decided_at = ${at.toISOString()}::timestamptz, decided_by = ${actor}
    where first_id = ${first} and second_id = ${second}`);
  await db.execute(sql`
    delete from duplicate_pairs where (first_id = ${from} or second_id = ${from}) and not (first_id = ${first} and second_id = ${second})`);
}

/** The pairs as they were before the merge, back. */
export async function restorePairs(db: Db, mergeId: number): Promise<void> {
  await db.execute(sql`
    insert into duplicate_pairs select * from ${recordset('duplicate_pairs', saved(mergeId, sql`deleted -> 'pairs'`))}
    on conflict (first_id, second_id) do update set score = excluded.score, evidence = excluded.evidence, status = excluded.status,
      found_at = excluded.found_at, decided_at = excluded.decided_at, decided_by = excluded.decided_by`);
}

/** The duplicate's derived warnings go (they would clash with the kept customer's); kept in the merge's snapshot. */
export async function deleteWarningsOf(db: Db, customerId: number): Promise<void> {
  await db.execute(sql`delete from record_warnings where customer_id = ${customerId}`);
}

const jsonObject = (entries: [string, string][]) =>
  `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;

/** Records a merge: the profiles and rows as JSON text (see recordset). */
export async function insertMerge(
  db: Db,
  m: {
    into: number;
    from: number;
    at: Date;
    actor: string;
    profiles: { into: string; from: string; merged: string };
    rows: [string, string][];
    added: [string, string][];
    pairs: string | null;
  },
): Promise<number> {
  const profiles = jsonObject(Object.entries(m.profiles));
  const deleted = jsonObject([
    ['added', jsonObject(m.added)],
    ['pairs', m.pairs ?? '[]'],
  ]);
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`insert into merges (customer_id, from_id, at, actor, profiles, moved, deleted)
        values (${m.into}, ${m.from}, ${m.at.toISOString()}::timestamptz, ${m.actor}, ${profiles}::jsonb,
          ${jsonObject(m.rows)}::jsonb, ${deleted}::jsonb)
        returning id`,
  );
  return Number(row.id);
}

export interface MergeRecord {
  id: number;
  into: number;
  from: number;
  at: Date;
  undoneAt: Date | null;
  /** The tables with rows to give back or take away. */
  tables: string[];
  /** The subscriptions whose state the merge recomputed. */
  subscriptions: { customerId: number; subscriptionId: string }[];
}

/** One merge, locked until the transaction ends. */
export async function lockMerge(db: Db, id: number): Promise<MergeRecord | null> {
  const [row] = await queryRows<{
    id: number;
    customer_id: number;
    from_id: number;
    at: string;
    undone_at: string | null;
    tables: string[];
    subscriptions: { customer_id: number; subscription_id: string }[] | null;
  }>(
    db,
    sql`select id, customer_id, from_id, at, undone_at,
          array(select jsonb_object_keys(moved) union select jsonb_object_keys(deleted -> 'added')) as tables,
          (select jsonb_agg(distinct jsonb_build_object('customer_id', e ->> 'customer_id', 'subscription_id', e ->> 'subscription_id'))
           from jsonb_array_elements(coalesce(moved -> 'subscription_events', '[]'::jsonb)) e) as subscriptions
        from merges where id = ${id} for update`,
  );
  if (!row) return null;
  return {
    id: Number(row.id),
    into: Number(row.customer_id),
    from: Number(row.from_id),
    at: new Date(row.at),
    undoneAt: row.undone_at ? new Date(row.undone_at) : null,
    tables: row.tables,
    subscriptions: (row.subscriptions ?? []).map((s) => ({
      customerId: Number(s.customer_id),
      subscriptionId: s.subscription_id,
    })),
  };
}

export async function markUndone(db: Db, id: number, by: string, at: Date): Promise<void> {
  await db.execute(
    sql`update merges set undone_at = ${at.toISOString()}::timestamptz, undone_by = ${by} where id = ${id}`,
  );
}

/** The duplicate's identities that another customer holds now, in words. */
export async function identitiesTakenSince(
  db: Db,
  merge: { id: number; into: number; from: number },
): Promise<string[]> {
  const rows = await queryRows<{ kind: string; value: string; customer_id: number }>(
    db,
    sql`select i.kind, i.value, i.customer_id from identities i
        join jsonb_populate_recordset(null::identities, ${saved(merge.id, sql`moved -> 'identities'`)}) w
          on w.kind = i.kind and w.value = i.value and w.customer_id = ${merge.from}
        where i.customer_id not in (${merge.into}, ${merge.from})`,
  );
  return rows.map((r) => `${r.kind} ${r.value} (customer #${r.customer_id})`);
}
/** The merges of the last days, newest first, with both names (the duplicate's from the snapshot). */
export async function recentMerges(db: Db, since: Date, limit: number) {
  return queryRows<{
    id: number;
    into_id: number;
    from_id: number;
    at: string;
    actor: string;
    into_name: string | null;
    from_name: string | null;
    undone_at: string | null;
  }>(
    db,
    sql`select m.id, m.customer_id as into_id, m.from_id, m.at, m.actor, c.name as into_name,
          m.profiles -> 'from' ->> 'name' as from_name, m.undone_at
        from merges m left join customers c on c.id = m.customer_id
        where m.at >= ${since.toISOString()}::timestamptz order by m.at desc, m.id desc limit ${limit}`,
  );
}
