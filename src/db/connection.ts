import fs from 'node:fs';
import path from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { packageRoot } from '../shared/package-root.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
/** The database or a transaction: every repository function takes one of these first. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  readonly db: Db;
  readonly kind: DatabaseKind;
  /** Runs all pending migrations; safe to call on every start. `folder`: another set (backup.ts, upgrade tests). */
  migrate(folder?: string): Promise<void>;
  close(): Promise<void>;
}

export const migrationsFolder = path.join(packageRoot, 'src', 'db', 'migrations');

// Both drivers read int8 as a JS number and date as 'YYYY-MM-DD' (never a local-midnight Date,
// so the server's TZ cannot shift it); numeric stays a decimal string (money is never a float).
const INT8 = 20;
const DATE = 1082;
const toNumber = (value: string) => Number(value);
const asText = (value: string) => value;

export async function openDatabase(options: {
  databaseUrl?: string;
  dataDir?: string;
  poolSize?: number;
}): Promise<Database> {
  if (options.databaseUrl) {
    // drizzle passes its own per-query parsers that fall back to pg's global ones, so set those.
    pg.types.setTypeParser(INT8, toNumber);
    pg.types.setTypeParser(DATE, asText);
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    pool.on('error', () => undefined); // an idle client dropped by the server; the next query reconnects
    const db = drizzlePostgres(pool, { schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      migrate: (folder = migrationsFolder) => migratePostgres(drizzlePostgres(pool), { migrationsFolder: folder }),
      close: () => pool.end(),
    };
  }
  const dataDir = options.dataDir;
  if (dataDir && dataDir !== 'memory://') fs.mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir && dataDir !== 'memory://' ? path.join(dataDir, 'pglite') : undefined, {
    parsers: { [pgliteTypes.INT8]: toNumber, [DATE]: asText },
    extensions: { pg_trgm },
  });
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    migrate: (folder = migrationsFolder) => migratePglite(drizzlePglite(client), { migrationsFolder: folder }),
    close: () => client.close(),
  };
}

/**
 * PostgreSQL settings under which a committed write can be lost or corrupted by a crash, as
 * `name=value`; empty when the server is safe. Kept answers 200 only for what is stored (P28).
 */
export async function unsafeStorageSettings(db: Db): Promise<string[]> {
  const rows = await queryRows<{ name: string; setting: string }>(
    db,
    sql`
    select name, setting from pg_settings where name in ('fsync', 'synchronous_commit', 'full_page_writes') and setting = 'off' order by name`,
  );
  return rows.map((r) => `${r.name}=${r.setting}`);
}

/** Runs a raw SQL query and returns its rows; the one place the two drivers' result shapes meet. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Passes a JS array as one array parameter (drizzle would otherwise spread it into a tuple). */
export const array = (values: readonly unknown[]) => sql.param(values);

export { sql };

/**
 * Fresh planner statistics after bulk writes. PGlite has no autovacuum: without this its planner
 * believes every table is nearly empty and picks nested loops that made the demo's first analysis
 * take two minutes instead of seconds. ANALYZE samples, so it stays quick on big tables.
 */
export async function refreshStatistics(db: Db): Promise<void> {
  await db.execute(sql`analyze`);
}

/** How many rows an INSERT, UPDATE or DELETE (without its own RETURNING) touched; the same on both drivers. */
export async function affectedRows(db: Db, statement: SQL): Promise<number> {
  const [{ n }] = await queryRows<{ n: number }>(
    db,
    sql`with done as (${statement} returning 1) select count(*)::int as n from done`,
  );
  return n;
}
