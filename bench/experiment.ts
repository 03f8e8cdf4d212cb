// npm run bench:experiment [-- --members N --postgres-url URL --keep --via cli|api]
// An experiment run elsewhere, at scale: N customers (half with vip = 1) made in a fresh PostgreSQL
// database, N members in arms A, B and control with an engagement outcome, then (--via cli, the
// default) a CSV through `kept import campaign` and `kept report campaign --by vip` as a user runs
// them, each timed with the CLI's peak memory (maximum resident set size from /usr/bin/time); or
// (--via api) the same members through the HTTP API in pages of 10,000 (create, pages, done, then the
// report), called in this process, timed with this process's peak memory (server and client both).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createApiKey } from '../src/auth/auth.service.ts';
import { pageMembers } from '../src/campaigns/experiment.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/connection.ts';
import { createDeps } from '../src/deps.ts';
import { createApp } from '../src/server.ts';
import { random } from '../src/shared/random.ts';

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '1000000' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
    via: { type: 'string', default: 'cli' },
  },
});
if (!['cli', 'api'].includes(values.via)) throw new Error('--via cli or --via api');
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
  // As autovacuum would soon after a load this size: without statistics the planner guesses badly.
  await client.query('analyze customers');
  await client.end();
  // The same members either way: arm and engagement drawn in order from one seed.
  const rng = random(7);
  const member = (i: number) => {
    const arm = ['A', 'B', 'control'][Math.floor(rng() * 3)];
    const p = 0.1 + (arm === 'A' && i % 2 ? 0.12 : 0) + (arm === 'B' ? 0.02 : 0);
    return { id: `X${i}`, arm, engaged: rng() < p };
  };
  if (values.via === 'api') await throughApi(url.toString(), member);
  else await throughCli(url.toString(), member);
} finally {
  await admin.query(values.keep ? 'select 1' : `drop database if exists ${database} with (force)`);
  await admin.end();
  if (!values.keep) fs.rmSync(work, { recursive: true, force: true });
}

type Member = (i: number) => { id: string; arm: string; engaged: boolean };

/** Arm A's engagement lift among vips, against the 12 points planted. */
function logLift(r: {
  by: { groups: { group: string; arms: { arm: string; outcomes: { outcome: string; difference: number }[] }[] }[] };
}) {
  const a = r.by.groups.find((g) => g.group === '1')!.arms.find((x) => x.arm === 'A')!;
  const lift = a.outcomes.find((o) => o.outcome === 'engagement')!.difference;
  log(`arm A engagement lift for vip = 1: ${(100 * lift).toFixed(2)} points (planted 12)`);
}

async function throughCli(databaseUrl: string, member: Member) {
  const file = path.join(work, 'experiment.csv');
  const out = fs.createWriteStream(file);
  out.write('id,arm,engaged\n');
  for (let i = 1; i <= n; i++) {
    const m = member(i);
    if (!out.write(`${m.id},${m.arm},${m.engaged ? 1 : 0}\n`))
      await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  log(`${n.toLocaleString('en')} customers and a ${(fs.statSync(file).size / 1e6).toFixed(1)} MB CSV made`);
  const run = (args: string[]) => {
    const started = performance.now();
    const result = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, 'bin/kept.js', ...args], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
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
  logLift(JSON.parse(report.stdout));
}

/** The same members through POST /campaigns/experiments, pages of 10,000 and done, in this process. */
async function throughApi(databaseUrl: string, member: Member) {
  const base = loadConfig({}, { ...process.env, NODE_ENV: 'test', KEPT_LOG_LEVEL: 'warn' });
  const deps = await createDeps({ ...base, databaseUrl }, { command: 'bench', dataDir: work });
  try {
    const app = createApp(deps);
    const { key } = await createApiKey(deps, 'bench', 'marketer');
    const call = async (route: string, body?: unknown) => {
      const response = await app.request(`/api/v1${route}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(`${route}: ${response.status} ${JSON.stringify(answer).slice(0, 2000)}`);
      return answer;
    };
    const peak = () => process.resourceUsage().maxRSS / 1024;
    let started = performance.now();
    const { id } = await call('/campaigns/experiments', { name: 'bench' });
    let largest = 0;
    for (let first = 1; first <= n; first += pageMembers) {
      const members = [];
      for (let i = first; i < first + pageMembers && i <= n; i++) {
        const m = member(i);
        members.push({ customer: { externalId: m.id }, arm: m.arm, engaged: m.engaged });
      }
      const body = { members };
      largest = Math.max(largest, JSON.stringify(body).length);
      await call(`/campaigns/${id}/members`, body);
    }
    const done = await call(`/campaigns/${id}/members/done`, {});
    log(
      `API upload of ${done.members.toLocaleString('en')} members in pages of ${pageMembers.toLocaleString('en')} (largest body ${(largest / 1e6).toFixed(2)} MB) and done: ${((performance.now() - started) / 1000).toFixed(1)} s, peak ${peak().toFixed(0)} MB`,
    );
    started = performance.now();
    const report = await call(`/campaigns/${id}/experiment?by=vip`);
    log(
      `GET /campaigns/${id}/experiment?by=vip: ${((performance.now() - started) / 1000).toFixed(1)} s, peak ${peak().toFixed(0)} MB`,
    );
    logLift(report);
  } finally {
    await deps.close();
  }
}
