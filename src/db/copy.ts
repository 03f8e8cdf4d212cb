// Bulk writes with COPY: many times faster than INSERT for large batches, on both drivers.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import { stringify } from 'csv-stringify/sync';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Db } from './connection.ts';

/** A value as COPY's CSV format reads it: null is an empty unquoted field, arrays are array literals. */
export type CopyValue = string | number | null | undefined | string[];

const arrayLiteral = (values: string[]) => `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;

/**
 * Appends rows to a table with COPY. Not inside a caller's transaction: the rows are committed
 * when it returns, or none of them are.
 */
export async function copyRows(db: Db, table: string, columns: string[], rows: CopyValue[][]): Promise<void> {
  if (rows.length === 0) return;
  for (const name of [table, ...columns]) if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  // Empty strings are quoted so that only a missing value reads as null.
  const csv = stringify(rows.map((row) => row.map((v) => (Array.isArray(v) ? arrayLiteral(v) : v === undefined ? null : v))), { quoted_string: true });
  const command = `copy ${table} (${columns.join(', ')}) from stdin with (format csv)`;
  const client = (db as unknown as { $client: pg.Pool | PGlite }).$client;
  if (client instanceof pg.Pool) {
    const connection = await client.connect();
    try {
      await pipeline(Readable.from([csv]), connection.query(copyFrom(command)));
    } finally {
      connection.release();
    }
  } else {
    await client.query(command.replace('stdin', "'/dev/blob'"), [], { blob: new Blob([csv]) });
  }
}
