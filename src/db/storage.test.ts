// P28: Kept refuses a PostgreSQL server that could lose what it has confirmed as stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { createTestDatabaseUrl } from '../../test/database.ts';
import { loadConfig } from '../config.ts';
import { createDeps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';

test('a database with synchronous_commit off is refused with what to do, unless allowed', {
  skip: !process.env.DATABASE_URL && 'needs PostgreSQL (DATABASE_URL)',
}, async () => {
  const database = (await createTestDatabaseUrl())!;
  try {
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(`alter database ${new URL(database.url).pathname.slice(1)} set synchronous_commit = off`);
    await admin.end();
    const config = { ...loadConfig({}, { NODE_ENV: 'test' }), databaseUrl: database.url };
    await assert.rejects(
      createDeps(config, { command: 'test' }),
      (error: unknown) =>
        error instanceof AppError &&
        error.code === 'unsafe_storage' &&
        /^PostgreSQL runs with synchronous_commit=off: a crash could lose .* set KEPT_ALLOW_UNSAFE_STORAGE=true/.test(
          error.message,
        ),
    );
    const check = new pg.Client({ connectionString: database.url });
    await check.connect();
    const [{ n }] = (
      await check.query("select count(*)::int as n from information_schema.tables where table_name = 'customers'")
    ).rows;
    await check.end();
    assert.equal(n, 0, 'refused before creating any table');

    const allowed = await createDeps({ ...config, allowUnsafeStorage: true }, { command: 'test' });
    await allowed.close();
  } finally {
    await database.drop();
  }
});
