import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeOrderLines } from '../../bench/scale-data.ts';
import { createTestDatabaseUrl } from '../../test/database.ts';
import { openDatabase, queryRows, sql } from '../db/connection.ts';

// The CLI as a user runs it, on PGlite (--data) or on a fresh PostgreSQL database (DATABASE_URL).
let work: string;
let postgres: Awaited<ReturnType<typeof createTestDatabaseUrl>>;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-cli-'));
  postgres = await createTestDatabaseUrl();
});
after(async () => {
  await postgres?.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

const env = (url = postgres?.url) => ({ ...process.env, DATABASE_URL: url ?? '', NODE_ENV: 'test' });
const dataArgs = (dir = 'data') => (postgres ? [] : ['--data', path.join(work, dir)]);
const kept = (...args: string[]) => spawnSync(process.execPath, ['bin/kept.js', ...args, ...dataArgs()], { env: env(), encoding: 'utf8' });

async function inDatabase<T>(run: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>, url = postgres?.url, dir = 'data'): Promise<T> {
  const database = await openDatabase({ databaseUrl: url, dataDir: path.join(work, dir) });
  try {
    return await run(database.db);
  } finally {
    await database.close();
  }
}

test('CDNOW through the CLI: 6,919 rows, 2,357 customers, 6,696 orders; the second run changes nothing', async () => {
  const args = ['import', 'orders', 'test/fixtures/cdnow/cdnowElog.csv', '--map', 'customer=masterid,at=date,amount=sales', '--date-format', 'yyyyMMdd', '--json'];
  const first = kept(...args);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { ...JSON.parse(first.stdout), read: 6919, imported: 6919, updated: 0, unchanged: 0, rejected: 0 });
  const summary = () => inDatabase((db) => queryRows<Record<string, unknown>>(db, sql`
    select (select count(*)::int from customers) as customers, (select count(*)::int from orders) as orders,
      (select count(*)::int from order_lines) as lines, (select sum(total)::text from orders) as revenue,
      (select count(*)::int from customers where stage = 'customer') as true_customers`));
  const [once] = await summary();
  assert.deepEqual(once, { customers: 2357, orders: 6696, lines: 6919, revenue: '244091.94', true_customers: 1139 });
  const second = kept(...args);
  assert.equal(second.status, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout), { ...JSON.parse(second.stdout), read: 6919, imported: 0, updated: 0, unchanged: 6919, rejected: 0 });
  assert.deepEqual((await summary())[0], once);
});

test('usage errors exit 2 with a clear message and write nothing', () => {
  const unknownKind = kept('import', 'planets', 'x.csv');
  assert.equal(unknownKind.status, 1);
  assert.match(unknownKind.stderr, /one of customers, orders, returns, touchpoints, tickets, surveys/);
  const missing = kept('import', 'orders', 'src/imports/fixtures/missing-column.csv');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /needs a column for customer; at; amount or unit_price/);
});

test('kill -9 during a large import, then the same command again: resumed, nothing lost or doubled', async (t) => {
  // A database of its own, so the CDNOW rows of the other tests do not count here.
  const own = await createTestDatabaseUrl();
  t.after(() => own?.drop());
  const file = path.join(work, 'lines.csv');
  // Big enough that a fast machine prints several progress lines (one every 5 s) before the end.
  const lines = 360_000;
  writeOrderLines(file, lines, 7);
  const args = ['bin/kept.js', 'import', 'orders', file, '--json', ...dataArgs('kill')];
  const child = spawn(process.execPath, args, { env: env(own?.url), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  // Kill it once it has committed a few chunks (progress lines come every 5 s off a terminal).
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killed = await Promise.race([
    new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        if (/import orders: \d+\/\d+ bytes \((\d+)%\)/.exec(stderr) && Number([...stderr.matchAll(/\((\d+)%\)/g)].at(-1)![1]) >= 30) {
          clearInterval(timer);
          child.kill('SIGKILL');
          resolve(true);
        }
      }, 100);
      exit.then(() => { clearInterval(timer); resolve(false); });
    }),
  ]);
  await exit;
  assert.ok(killed, `the import finished before it could be killed: ${stderr}`);
  const resumed = spawnSync(process.execPath, args, { env: env(own?.url), encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const outcome = JSON.parse(resumed.stdout);
  assert.equal(outcome.resumed, true);
  assert.deepEqual([outcome.read, outcome.rejected, outcome.imported + outcome.updated + outcome.unchanged], [lines, 0, lines]);
  const [stored] = await inDatabase((db) => queryRows<{ lines: number; distinct_lines: number; imports: string }>(db, sql`
    select (select count(*)::int from order_lines) as lines,
      (select count(distinct (customer_id, order_id, line_no))::int from order_lines) as distinct_lines,
      (select string_agg(status, ',' order by id) from imports) as imports`), own?.url, 'kill');
  assert.deepEqual(stored, { lines, distinct_lines: lines, imports: 'done' });
});
