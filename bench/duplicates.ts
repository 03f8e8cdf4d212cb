// npm run bench:duplicates [-- --customers N --postgres-url URL --keep]
// The duplicate finder at scale: N customers (1,000,000 by default) with their addresses and about
// 8% planted duplicates of every kind (test/planted-duplicates.ts) in a fresh PostgreSQL
// database; then `kept duplicates find --json` as a user runs it, timed, with the CLI's peak memory
// (maximum resident set size from /usr/bin/time), and the pairs it lists checked against the
// planted truth (precision, recall). Target (issue 21): under 5 minutes and under 1 GB.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, refreshStatistics } from '../src/db/connection.ts';
import { pairKey, plantStore } from '../test/planted-duplicates.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
  },
});
const customers = Number(values.customers);
const log = (m: string) => process.stderr.write(`${m}\n`);
const database = `kept_bench_duplicates_${process.pid}`;
const admin = new pg.Client({ connectionString: values['postgres-url'] });
await admin.connect();
await admin.query(`create database ${database}`);
const url = new URL(values['postgres-url']);
url.pathname = `/${database}`;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-bench-duplicates-'));
try {
  const db = await openDatabase({ databaseUrl: url.toString() });
  await db.migrate();
  let started = performance.now();
  const store = await plantStore(db.db, customers, 21, 'US');
  await refreshStatistics(db.db);
  await db.close();
  log(
    `${store.customers.toLocaleString('en')} customers, ${store.truth.size.toLocaleString('en')} planted pairs, made in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );

  const out = path.join(work, 'pairs.json');
  started = performance.now();
  const result = spawnSync(
    '/usr/bin/time',
    ['-f', '%M', process.execPath, 'bin/kept.js', 'duplicates', 'find', '--json'],
    {
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        KEPT_DEFAULT_COUNTRY: 'US',
        KEPT_ALLOW_UNSAFE_STORAGE: 'true',
      },
      stdio: ['ignore', fs.openSync(out, 'w'), 'pipe'],
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`kept duplicates find failed: ${result.stderr}`);
  const peakMb = Number(result.stderr.trim().split('\n').at(-1)) / 1024;
  const { pairs } = JSON.parse(fs.readFileSync(out, 'utf8')) as {
    pairs: { first: { externalId: string }; second: { externalId: string } }[];
  };
  const hits = pairs.filter((p) => store.truth.has(pairKey(p.first.externalId, p.second.externalId))).length;
  log(result.stderr.trim().split('\n').slice(-2, -1).join(''));
  log(
    `kept duplicates find over ${store.customers.toLocaleString('en')} customers on PostgreSQL: ${seconds.toFixed(1)} s, ` +
      `peak ${Math.round(peakMb)} MB, ${pairs.length.toLocaleString('en')} pairs, precision ${(hits / pairs.length).toFixed(3)}, ` +
      `recall ${(hits / store.truth.size).toFixed(3)}`,
  );
} finally {
  await admin.query(values.keep ? 'select 1' : `drop database if exists ${database} with (force)`);
  await admin.end();
  fs.rmSync(work, { recursive: true, force: true });
}
