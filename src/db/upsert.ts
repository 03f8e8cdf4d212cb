import { getTableColumns, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { array, queryRows, sql, type Db } from './connection.ts';

/** What a write changed: new rows, existing rows that differed, rows that were already so. */
export interface WriteCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}
/** Counts plus the customers whose rows were inserted or changed (for customer-owned tables). */
export interface WriteResult extends WriteCounts {
  changedCustomers: number[];
}

/** What a row of `Table` takes when it is written (the table's own column keys). */
export type Insert<Table extends PgTable> = Table['$inferInsert'];
/**
 * The columns `Keys` of a table as a writer takes them: every one given, null where the column
 * allows it. Writer inputs are built from this, so a renamed or removed column fails the type check.
 */
export type InsertOf<Table extends PgTable, Keys extends keyof Insert<Table>> = Required<Pick<Insert<Table>, Keys>>;
/** How each written column gets its value from an input row, keyed by the table's column keys. */
export type ColumnValues<Table extends PgTable, Row> = {
  [Key in keyof Insert<Table>]?: (row: Row) => Insert<Table>[Key];
};
/** A row an upsert inserted or changed, with the columns asked for in `returning`. */
export type ChangedRow<Table extends PgTable, Returned extends keyof Table['$inferSelect']> = {
  inserted: boolean;
} & Pick<Table['$inferSelect'], Returned>;

export interface UpsertSpec<Table extends PgTable, Row, Returned extends keyof Table['$inferSelect']> {
  /** The columns of the unique key the upsert conflicts on; within one call the last row with a key wins. */
  key: (keyof Insert<Table> & string)[];
  values: ColumnValues<Table, Row>;
  /** Columns written when a row is created but never changed by a later write. */
  insertOnly?: (keyof Insert<Table> & string)[];
  /** Columns of the inserted or changed rows to hand back in `changed`. */
  returning?: Returned[];
}

export const emptyCounts = (): WriteCounts => ({ inserted: 0, updated: 0, unchanged: 0 });
export const addCounts = (a: WriteCounts, b: WriteCounts): WriteCounts => ({
  inserted: a.inserted + b.inserted,
  updated: a.updated + b.updated,
  unchanged: a.unchanged + b.unchanged,
});

/** A value as the unnest array of its column carries it: instants as ISO text, jsonb as JSON text. */
function parameter(column: PgColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (column.getSQLType() === 'jsonb') return JSON.stringify(value);
  return value instanceof Date ? value.toISOString() : value;
}

/**
 * The one set-based upsert every writer uses: rows go in as unnest arrays (typed as the table's
 * columns), conflicts on `key` update only when something differs, so repeating a write changes
 * nothing and is counted as unchanged. Within one call the last row with a given key wins.
 */
export async function upsertRows<
  Table extends PgTable,
  Row,
  Returned extends keyof Table['$inferSelect'] & string = never,
>(
  db: Db,
  table: Table,
  rows: Row[],
  spec: UpsertSpec<Table, Row, Returned>,
): Promise<WriteResult & { changed: ChangedRow<Table, Returned>[] }> {
  if (rows.length === 0) return { ...emptyCounts(), changedCustomers: [], changed: [] };
  const columnOf = (key: string) => (getTableColumns(table) as Record<string, PgColumn>)[key];
  const columns = Object.entries(spec.values as Record<string, (row: Row) => unknown>).map(([key, value]) => ({
    key,
    column: columnOf(key),
    value,
  }));
  const fixed = new Set<string>([...spec.key, ...(spec.insertOnly ?? [])]);
  const keyColumns = spec.key.map((key) => columns.find((c) => c.key === key)!);
  const keyOf = (row: Row) => JSON.stringify(keyColumns.map((c) => c.value(row)));
  const unique = [...new Map(rows.map((row) => [keyOf(row), row])).values()];
  const name = (column: PgColumn) => sql.identifier(column.name);
  const list = sql.join(
    columns.map((c) => name(c.column)),
    sql`, `,
  );
  // jsonb goes through unnest as text and is cast back, so both drivers serialise it the same way.
  const isJson = (column: PgColumn) => column.getSQLType() === 'jsonb';
  const arrays = sql.join(
    columns.map(({ column, value }) => {
      const values = array(unique.map((row) => parameter(column, value(row))));
      return isJson(column) ? sql`${values}::text[]` : sql`${values}::${sql.raw(column.getSQLType())}[]`;
    }),
    sql`, `,
  );
  const selected = sql.join(
    columns.map(({ column }) => (isJson(column) ? sql`${name(column)}::jsonb` : name(column))),
    sql`, `,
  );
  const rest = columns.filter((c) => !fixed.has(c.key)).map((c) => name(c.column));
  const owner = columns.find((c) => c.column.name === 'customer_id');
  const extra: SQL[] = (spec.returning ?? []).map(
    (key) => sql`, ${table}.${name(columnOf(key))} as ${sql.identifier(key)}`,
  );
  const changed = await queryRows<ChangedRow<Table, Returned> & { owner?: number }>(
    db,
    sql`
    insert into ${table} (${list})
    select ${selected} from unnest(${arrays}) as input(${list})
    on conflict (${sql.join(
      keyColumns.map((c) => name(c.column)),
      sql`, `,
    )}) do update
      set ${sql.join(
        rest.map((column) => sql`${column} = excluded.${column}`),
        sql`, `,
      )}
      where (${sql.join(
        rest.map((column) => sql`${table}.${column}`),
        sql`, `,
      )})
        is distinct from (${sql.join(
          rest.map((column) => sql`excluded.${column}`),
          sql`, `,
        )})
    returning (xmax = 0) as inserted${owner ? sql`, ${table}.${name(owner.column)} as owner` : sql``}${sql.join(extra, sql``)}`,
  );
  const inserted = changed.filter((row) => row.inserted).length;
  const updated = changed.length - inserted;
  const changedCustomers = owner ? [...new Set(changed.map((row) => row.owner!))] : [];
  return { inserted, updated, unchanged: rows.length - inserted - updated, changedCustomers, changed };
}
