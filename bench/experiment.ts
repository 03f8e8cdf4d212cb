// npm run bench:experiment [-- --members N --postgres-url URL --keep]
// An experiment run elsewhere, at scale: N customers (half with vip = 1) made in a fresh PostgreSQL
// database, a CSV of N members in arms A, B and control with an engagement outcome, then
// `kept import campaign` and `kept report campaign --by vip` as a user runs them, each timed, with
// the CLI's peak memory (maximum resident set size from /usr/bin/time, or the process's own report).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase } from '../src/db/connection.ts';
import { random } from '../src/shared/random.ts';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '1000000' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
  },
});
const n = Number(values.members);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-bench-experiment-'));
const log = (m: string) => process.stderr.write(`${m}\n`);
const database = `kept_bench_experiment_${process.pid}`;
const admin = new pg.Client({ connectionString: values['postgres-url'] });
await admin.connect();
await admin.query(`create database ${database}`);
const url = new URL(values['postgres-url']);
url.pathname = `/${database}`;
try {
  const db = await openDatabase({ databaseUrl: url.toString(), dataDir: work });
  await db.migrate();
  await db.close();
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  await client.query(`
    insert into customers (external_id, attributes, created_at, updated_at, stage)
    select 'X' || i, jsonb_build_object('vip', (i % 2)::text), now(), now(), 'customer' from generate_series(1, ${n}) i`);
  await client.end();
  const rng = random(7);
  const file = path.join(work, 'experiment.csv');
  const out = fs.createWriteStream(file);
  out.write('id,arm,engaged\n');
  for (let i = 1; i <= n; i++) {
    const arm = ['A', 'B', 'control'][Math.floor(rng() * 3)];
    const p = 0.1 + (arm === 'A' && i % 2 ? 0.12 : 0) + (arm === 'B' ? 0.02 : 0);
    if (!out.write(`X${i},${arm},${rng() < p ? 1 : 0}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  log(`${n.toLocaleString('en')} customers and a ${(fs.statSync(file).size / 1e6).toFixed(1)} MB CSV made`);
  const run = (args: string[]) => {
    const started = performance.now();
    const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, 'bin/kept.js', ...args], {
      env: { ...process.env, DATABASE_URL: url.toString() },
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`kept ${args.join(' ')} failed: ${result.stderr}`);
    const peak = Number(result.stderr.trim().split('\n').at(-1)) / 1024;
    return { seconds, peak, stdout: result.stdout };
  };
  const imported = run(['import', 'campaign', file, '--name', 'bench', '--map', 'customer=id,arm=arm,engaged=engaged']);
  log(`import: ${imported.seconds.toFixed(1)} s, peak ${imported.peak.toFixed(0)} MB`);
  const report = run(['report', 'campaign', 'bench', '--json', '--by', 'vip']);
  log(`report --by vip: ${report.seconds.toFixed(1)} s, peak ${report.peak.toFixed(0)} MB`);
  const r = JSON.parse(report.stdout);
  const a = r.by.groups
    .find((g: { group: string }) => g.group === '1')
    .arms.find((x: { arm: string }) => x.arm === 'A');
  log(
    `arm A engagement lift for vip = 1: ${(100 * a.outcomes.find((o: { outcome: string }) => o.outcome === 'engagement').difference).toFixed(2)} points (planted 12)`,
  );
} finally {
  await admin.query(values.keep ? 'select 1' : `drop database if exists ${database} with (force)`);
  await admin.end();
  if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
}
