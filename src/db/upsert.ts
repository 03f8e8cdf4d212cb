import { array, queryRows, sql, type Db } from './connection.ts';

/** What a write changed: new rows, existing rows that differed, rows that were already so. */
export interface WriteCounts { inserted: number; updated: number; unchanged: number }
/** Counts plus the customers whose rows were inserted or changed (for customer-owned tables). */
export interface WriteResult extends WriteCounts { changedCustomers: number[] }
/** A row an upsert inserted or changed, with the columns asked for in `returning`. */
export type ChangedRow = { inserted: boolean } & Record<string, unknown>;

export interface Column<T> {
  name: string;
  /** Element type of the unnest array ('text', 'bigint', 'timestamptz', 'numeric', 'jsonb' ...). */
  type: string;
  value: (row: T) => unknown;
}

export const emptyCounts = (): WriteCounts => ({ inserted: 0, updated: 0, unchanged: 0 });
export const addCounts = (a: WriteCounts, b: WriteCounts): WriteCounts =>
  ({ inserted: a.inserted + b.inserted, updated: a.updated + b.updated, unchanged: a.unchanged + b.unchanged });

const identifier = (name: string) => {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return sql.raw(name);
};

/**
 * The one set-based upsert every writer uses: rows go in as unnest arrays, conflicts on `key`
 * update only when something differs, so repeating a write changes nothing and is counted as
 * unchanged. Within one call the last row with a given key wins.
 */
export async function upsertRows<T>(
  db: Db,
  table: string,
  key: string[],
  columns: Column<T>[],
  rows: T[],
  keyOf: (row: T) => string,
  /** Columns written when a row is created but never changed by a later write. */
  insertOnly: string[] = [],
  /** Columns of the inserted or changed rows to hand back in `changed`. */
  returning: string[] = [],
): Promise<WriteResult & { changed: ChangedRow[] }> {
  if (rows.length === 0) return { ...emptyCounts(), changedCustomers: [], changed: [] };
  const unique = [...new Map(rows.map((row) => [keyOf(row), row])).values()];
  const names = columns.map((c) => identifier(c.name));
  const list = sql.join(names, sql`, `);
  // jsonb goes through unnest as text and is cast back, so both drivers serialise it the same way.
  const arrays = sql.join(columns.map((c) => c.type === 'jsonb'
    ? sql`${array(unique.map((row) => { const v = c.value(row); return v === null || v === undefined ? null : JSON.stringify(v); }))}::text[]`
    : sql`${array(unique.map((row) => c.value(row) ?? null))}::${sql.raw(c.type)}[]`), sql`, `);
  const selected = sql.join(columns.map((c) => (c.type === 'jsonb' ? sql`${identifier(c.name)}::jsonb` : identifier(c.name))), sql`, `);
  const rest = columns.filter((c) => !key.includes(c.name) && !insertOnly.includes(c.name)).map((c) => identifier(c.name));
  const tableName = identifier(table);
  const owned = columns.some((c) => c.name === 'customer_id');
  const extra = returning.filter((name) => name !== 'customer_id' || !owned).map((name) => sql`, ${tableName}.${identifier(name)}`);
  const returned = await queryRows<ChangedRow & { customer_id?: number }>(db, sql`
    insert into ${tableName} (${list})
    select ${selected} from unnest(${arrays}) as input(${list})
    on conflict (${sql.join(key.map(identifier), sql`, `)}) do update
      set ${sql.join(rest.map((name) => sql`${name} = excluded.${name}`), sql`, `)}
      where (${sql.join(rest.map((name) => sql`${tableName}.${name}`), sql`, `)})
        is distinct from (${sql.join(rest.map((name) => sql`excluded.${name}`), sql`, `)})
    returning (xmax = 0) as inserted${owned ? sql`, ${tableName}.customer_id` : sql``}${sql.join(extra, sql``)}`);
  const inserted = returned.filter((row) => row.inserted).length;
  const updated = returned.length - inserted;
  const changedCustomers = owned ? [...new Set(returned.map((row) => row.customer_id!))] : [];
  return { inserted, updated, unchanged: rows.length - inserted - updated, changedCustomers, changed: returned };
}
