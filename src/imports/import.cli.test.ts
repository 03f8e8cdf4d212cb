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
const kept = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/kept.js', ...args, ...dataArgs()], { env: env(), encoding: 'utf8' });

async function inDatabase<T>(
  run: (db: Awaited<ReturnType<typeof openDatabase>>['db']) => Promise<T>,
  url = postgres?.url,
  dir = 'data',
): Promise<T> {
  const database = await openDatabase({ databaseUrl: url, dataDir: path.join(work, dir) });
  try {
    return await run(database.db);
  } finally {
    await database.close();
  }
}

test('CDNOW through the CLI: 6,919 rows, 2,357 customers, 6,696 orders; the second run changes nothing', async () => {
  const args = [
    'import',
    'orders',
    'test/fixtures/cdnow/cdnowElog.csv',
    '--map',
    'customer=masterid,at=date,amount=sales',
    '--date-format',
    'yyyyMMdd',
    '--json',
  ];
  const first = kept(...args);
  assert.equal(first.status, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), {
    ...JSON.parse(first.stdout),
    read: 6919,
    imported: 6919,
    updated: 0,
    unchanged: 0,
    rejected: 0,
  });
  const summary = () =>
    inDatabase((db) =>
      queryRows<Record<string, unknown>>(
        db,
        sql`
    select (select count(*)::int from customers) as customers, (select count(*)::int from orders) as orders,
      (select count(*)::int from order_lines) as lines, (select sum(total)::text from orders) as revenue,
      (select count(*)::int from customers where stage = 'customer') as true_customers`,
      ),
    );
  const [once] = await summary();
  assert.deepEqual(once, { customers: 2357, orders: 6696, lines: 6919, revenue: '244091.94', true_customers: 1139 });
  const second = kept(...args);
  assert.equal(second.status, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout), {
    ...JSON.parse(second.stdout),
    read: 6919,
    imported: 0,
    updated: 0,
    unchanged: 6919,
    rejected: 0,
  });
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

test('kept import products: the catalogue from a file, a bad row named, the same file again unchanged', async () => {
  const file = path.join(work, 'catalogue.csv');
  fs.writeFileSync(
    file,
    'SKU,Name,Category,Price,Cost\nTWL-01,Bath towel,towels,20.00,8.50\nCDL-02,Candle,candles,12.x,4\n',
  );
  const first = kept('import', 'products', file, '--rejected', path.join(work, 'catalogue-rejected.csv'));
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /read 2, imported 1, updated 0, unchanged 0, rejected 1\n/);
  const [, rejected] = fs.readFileSync(path.join(work, 'catalogue-rejected.csv'), 'utf8').trim().split('\n');
  assert.equal(
    rejected,
    'CDL-02,Candle,candles,12.x,4,2,3,"price: expected a decimal number with at most 12 digits before the point and 2 after, like 12.50, found ""12.x"""',
  );
  const again = kept('import', 'products', file, '--json');
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), {
    ...JSON.parse(again.stdout),
    read: 2,
    imported: 0,
    updated: 0,
    unchanged: 1,
    rejected: 1,
  });
  const products = await inDatabase((db) =>
    queryRows(db, sql`select sku, name, category, price::text, cost::text from products order by sku`),
  );
  assert.deepEqual(products, [{ sku: 'TWL-01', name: 'Bath towel', category: 'towels', price: '20.00', cost: '8.50' }]);
  const help = spawnSync(process.execPath, ['bin/kept.js', 'import', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /products +id, name, category, price, cost, currency/);
});

/** The latest import's checkpoint and status in the kill test's database; on PGlite read from a copy of its files. */
async function committedImport(url: string | undefined, probe: number) {
  const read = (db: Awaited<ReturnType<typeof openDatabase>>['db']) =>
    queryRows<{ checkpoint_row: number; status: string }>(
      db,
      sql`
    select checkpoint_row, status from imports order by id desc limit 1`,
    );
  if (url) return inDatabase(read, url, 'kill');
  const copy = `kill-probe-${probe}`;
  fs.cpSync(path.join(work, 'kill'), path.join(work, copy), { recursive: true });
  try {
    return await inDatabase(read, undefined, copy);
  } finally {
    fs.rmSync(path.join(work, copy), { recursive: true, force: true });
  }
}

test('kill -9 during a large import, then the same command again: resumed, nothing lost or doubled', async (t) => {
  // A database of its own, so the CDNOW rows of the other tests do not count here.
  const own = await createTestDatabaseUrl();
  t.after(() => own?.drop());
  const file = path.join(work, 'lines.csv');
  // 36 chunks of 10,000 rows.
  const lines = 360_000;
  writeOrderLines(file, lines, 7);
  const args = ['bin/kept.js', 'import', 'orders', file, '--json', ...dataArgs('kill')];
  // A process group of its own, so a signal reaches whatever process bin/kept.js runs the import in.
  const child = spawn(process.execPath, args, {
    env: env(own?.url),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let exited = false;
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exited = true;
      resolve(code);
    }),
  );
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // it has just ended: the exit event tells
    }
  };
  t.after(() => {
    if (!exited) signal('SIGKILL');
  });
  // The first progress line comes as it starts reading the file (the database is ready by then): it
  // is stopped there, and from then on runs only a moment at a time.
  let stderr = '';
  let started = false;
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (!started && /import orders: \d+\/\d+ bytes/.test(stderr)) {
        started = true;
        signal('SIGSTOP');
        resolve();
      }
    });
    void exit.then(() => resolve());
  });
  // While it is stopped, what it has committed is read (on PGlite, from a copy of its files: what a
  // kill would leave). Once that is some of the file but not all of it, kill -9 while still stopped:
  // it can neither finish first nor die before its first checkpoint.
  let killed = false;
  for (let probe = 0; !exited; probe++) {
    const [committed] = await committedImport(own?.url, probe);
    if (
      committed &&
      committed.checkpoint_row > 0 &&
      committed.checkpoint_row < lines &&
      committed.status === 'running'
    ) {
      t.diagnostic(`killed with rows 1 to ${committed.checkpoint_row} committed, at look ${probe + 1}`);
      signal('SIGKILL');
      killed = true;
      break;
    }
    signal('SIGCONT');
    // Two seconds at a time: a few chunks of 10,000 rows at most, where the whole file takes half a minute or more.
    await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (!exited) signal('SIGSTOP');
  }
  await exit;
  assert.ok(killed, `the import finished before it could be killed: ${stderr}`);
  const resumed = spawnSync(process.execPath, args, { env: env(own?.url), encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  const outcome = JSON.parse(resumed.stdout);
  assert.equal(outcome.resumed, true);
  assert.deepEqual(
    [outcome.read, outcome.rejected, outcome.imported + outcome.updated + outcome.unchanged],
    [lines, 0, lines],
  );
  const [stored] = await inDatabase(
    (db) =>
      queryRows<{ lines: number; distinct_lines: number; imports: string }>(
        db,
        sql`
    select (select count(*)::int from order_lines) as lines,
      (select count(distinct (customer_id, order_id, line_no))::int from order_lines) as distinct_lines,
      (select string_agg(status, ',' order by id) from imports) as imports`,
      ),
    own?.url,
    'kill',
  );
  assert.deepEqual(stored, { lines, distinct_lines: lines, imports: 'done' });
});
