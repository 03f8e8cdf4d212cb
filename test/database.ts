import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { createDeps, type Deps } from '../src/deps.ts';
import { registerJobHandlers } from '../src/jobs/handlers.ts';

async function adminQuery(url: string, statement: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** A fresh PostgreSQL database for a test (when DATABASE_URL is set), or undefined on PGlite. */
export async function createTestDatabaseUrl(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const base = process.env.DATABASE_URL;
  if (!base) return undefined;
  const name = `kept_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(base, `create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(base, `drop database if exists ${name} with (force)`) };
}

/**
 * A fresh, migrated database for one test file: in-memory PGlite, or (with DATABASE_URL set) a new
 * PostgreSQL database created for it and dropped by close().
 */
export async function createTestDeps(overrides: Partial<Config> = {}): Promise<Deps> {
  // Every kind of job can run, as under `kept serve`.
  registerJobHandlers();
  // No universal control group unless a test asks for one (config.programme): tests that count a
  // campaign's members draw from everyone; the group is tested where it is the subject.
  const base = loadConfig({}, { KEPT_UNIVERSAL_CONTROL: '0', ...process.env, NODE_ENV: 'test' });
  const database = await createTestDatabaseUrl();
  const config = { ...base, ...overrides, databaseUrl: database?.url };
  const deps = await createDeps(config, { command: 'test', dataDir: 'memory://' });
  return {
    ...deps,
    async close() {
      await deps.close();
      await database?.drop();
    },
  };
}
