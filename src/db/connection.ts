import { createHash } from 'node:crypto';
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
import { AppError } from '../shared/errors.ts';
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
  /**
   * Runs a request of a route class on that class's own connections, under its statement timeout;
   * a search or an export is cancelled in the database when `signal` aborts (its client went away).
   * On PGlite (one connection in the process) it runs `work` on `db`.
   */
  run<T>(kind: RouteClass, signal: AbortSignal | undefined, work: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * The request classes that get a share of PostgreSQL's connections of their own, so that one slow
 * kind never starves another: record reads (a record, its timeline, the list) stay fast while
 * searches or exports run. Everything else (writes, jobs, analyses) keeps the main pool.
 */
export const routeClasses = {
  record: { connections: 6, timeoutMs: 10_000 },
  search: { connections: 3, timeoutMs: 5_000 },
  export: { connections: 2, timeoutMs: 300_000 },
} as const;
export type RouteClass = keyof typeof routeClasses;

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
    const classes = Object.fromEntries(
      Object.entries(routeClasses).map(([kind, { connections, timeoutMs }]) => {
        const classPool = new pg.Pool({
          connectionString: options.databaseUrl,
          max: connections,
          statement_timeout: timeoutMs,
          application_name: `kept ${kind}`,
        });
        classPool.on('error', () => undefined);
        return [kind, { pool: classPool, db: drizzlePostgres(classPool, { schema }) as unknown as Db }];
      }),
    ) as Record<RouteClass, { pool: pg.Pool; db: Db }>;
    return {
      db,
      kind: 'postgres',
      migrate: (folder = migrationsFolder) => migratePostgres(drizzlePostgres(pool), { migrationsFolder: folder }),
      async run(kind, signal, work) {
        const own = classes[kind];
        // Record reads are short and run their queries side by side: the class pool is enough.
        if (kind === 'record' || !signal) return work(own.db);
        const client = await own.pool.connect();
        if (signal.aborted) {
          client.release();
          throw new AppError('bad_request', 'The client went away before the request ran');
        }
        const cancel = () => {
          pool
            .query('select pg_cancel_backend($1)', [(client as unknown as { processID: number }).processID])
            .catch(() => undefined);
        };
        signal.addEventListener('abort', cancel, { once: true });
        try {
          // Without the schema: its relational config is built per instance, and no repository uses db.query.
          return await work(drizzlePostgres(client) as unknown as Db);
        } finally {
          signal.removeEventListener('abort', cancel);
          client.release();
        }
      },
      close: async () => {
        await Promise.all([pool.end(), ...Object.values(classes).map((c) => c.pool.end())]);
      },
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
    run: (_kind, _signal, work) => work(db),
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

/**
 * Runs a raw SQL query as a named prepared statement (named by a hash of its text): each connection
 * plans it a few times, then PostgreSQL may keep a generic plan and skip planning. For hot read paths
 * whose planning costs as much as running them (the timeline's union of 18 branches).
 */
export async function queryPrepared<T>(db: Db, query: SQL): Promise<T[]> {
  const internal = db as unknown as {
    dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
    session: {
      prepareQuery(
        query: { sql: string; params: unknown[] },
        fields: undefined,
        name: string,
        arrayMode: boolean,
      ): { execute(): Promise<{ rows: T[] }> };
    };
  };
  const compiled = internal.dialect.sqlToQuery(query);
  const name = `kept_${createHash('sha256').update(compiled.sql).digest('hex').slice(0, 24)}`;
  return (await internal.session.prepareQuery(compiled, undefined, name, false).execute()).rows;
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
