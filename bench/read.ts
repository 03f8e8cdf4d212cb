// DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node --import tsx bench/read.ts [--customers N] [--seconds S] [--connections C]
// Reads at scale on PostgreSQL: builds (or reuses) the store of bench/read-data.ts in kept_bench_read_<N>,
// serves Kept on it in this process, and loads it with autocannon: a customer's record, their
// timeline, the customer search, record reads while searches run, and the Analytics page's first
// answers. Latencies are of every response; the load generator shares this process with the server.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { createApiKey } from '../src/auth/auth.service.ts';
import { loadConfig } from '../src/config.ts';
import { array, queryRows, sql } from '../src/db/connection.ts';
import { createDeps } from '../src/deps.ts';
import { createApp } from '../src/server.ts';
import { buildScaleStore, firstNames, lastNames } from './read-data.ts';

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface AutocannonRequest {
  method: string;
  path?: string;
  setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
}
interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { average: number };
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonRun extends PromiseLike<AutocannonResult> {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
const autocannon = createRequire(import.meta.url)('autocannon') as (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  requests: AutocannonRequest[];
}) => AutocannonRun;

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '50' },
  },
});
const customers = Number(values.customers);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const searchConnections = 10;
const log = (message: string) => process.stderr.write(`${message}\n`);
const since = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

const base = loadConfig();
if (!base.databaseUrl)
  throw new Error('set DATABASE_URL to a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres');
const name = `kept_bench_read_${customers}`;
const url = new URL(base.databaseUrl);
url.pathname = `/${name}`;
const databaseUrl = url.toString();

async function query<T>(connection: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: connection });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** How many customers the bench database holds; -1 when it has no Kept tables yet. */
async function customersHeld(): Promise<number> {
  try {
    const [{ n }] = await query<{ n: number }>(databaseUrl, 'select count(*)::int as n from customers');
    return n;
  } catch {
    return -1;
  }
}

// The store: reused when it holds N customers, else (re)built.
let start = performance.now();
const exists = (await query(base.databaseUrl, 'select 1 from pg_database where datname = $1', [name])).length > 0;
const held = exists ? await customersHeld() : -1;
if (held === customers) {
  log(`reusing ${name}: ${customers.toLocaleString('en')} customers`);
  const [{ analysed }] = await query<{ analysed: boolean }>(
    databaseUrl,
    `select coalesce(last_analyze, last_autoanalyze) is not null as analysed from pg_stat_user_tables where relname = 'orders'`,
  );
  if (!analysed) {
    log('its statistics are missing (an interrupted build?): vacuum analyze');
    await query(databaseUrl, 'vacuum analyze');
  }
} else {
  if (exists) {
    log(`${name} holds ${held < 0 ? 'no store' : `${held.toLocaleString('en')} customers`}: dropping it`);
    await query(base.databaseUrl, `drop database ${name} with (force)`);
  }
  await query(base.databaseUrl, `create database ${name}`);
  log(`building ${name}: ${customers.toLocaleString('en')} customers`);
  await buildScaleStore(databaseUrl, customers, (step) => log(`  ${step}`));
  log(`built in ${since(start)}`);
}

// Kept as `kept serve` runs it, on that database, with a key no rate limit will stop.
start = performance.now();
const config = { ...loadConfig({ port: 0 }), databaseUrl, keyRequestsPerMinute: 1_000_000_000, logLevel: 'warn' };
const deps = await createDeps(config, { command: 'bench' });
const app = createApp(deps);
const { key } = await createApiKey(deps, 'bench-read', 'admin');
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
await once(server, 'listening');
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const headers = { authorization: `Bearer ${key}` };
log(`Kept serving ${name} on ${origin} (started in ${since(start)})`);

const [ids] = await queryRows<{ min: number; max: number; orders: number }>(
  deps.db,
  sql`select min(id)::int as min, max(id)::int as max, coalesce(sum(order_count), 0)::bigint as orders from customers`,
);
const randomId = () => ids.min + Math.floor(Math.random() * (ids.max - ids.min + 1));
const any = <T>(list: readonly T[]) => list[Math.floor(Math.random() * list.length)];

// Search terms from customers as stored: an email prefix (first.last and two digits), an external id, a
// phone typed the UK way (07700 9 and five of its digits), besides the list's last and first names.
const sample = await queryRows<{ email: string; external_id: string; phone: string | null }>(
  deps.db,
  sql`select email, external_id, phone from customers where id = any(${array(Array.from({ length: 500 }, randomId))}::bigint[])`,
);
const emailPrefixes = sample.map((c) => c.email.replace(/^([a-z]+\.[a-z]+\d{0,2}).*$/, '$1'));
const externalIds = sample.map((c) => c.external_id);
const phones = sample.flatMap((c) => (c.phone ? [`07700 9${c.phone.slice(8, 13)}`] : []));
const termKinds = [
  () => any(lastNames),
  () => any(firstNames),
  () => any(emailPrefixes),
  () => any(externalIds),
  () => any(phones),
];
let searches = 0;
const nextTerm = () => termKinds[searches++ % termKinds.length]();

const recordPath = () => `/api/v1/customers/${randomId()}`;
const timelinePath = () => `/api/v1/customers/${randomId()}/timeline`;
const searchPath = () => `/api/v1/customers?q=${encodeURIComponent(nextTerm())}`;

interface Measured {
  scenario: string;
  p50: number;
  p95: number;
  p99: number;
  perSecond: number;
  non2xx: number;
  errors: number;
}
const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? NaN;
const ms = (value: number) => (Number.isNaN(value) ? '-' : value.toFixed(1));
const problems: string[] = [];

/** Loads Kept with `count` connections for the set duration, each request's path from `path`. */
async function load(scenario: string, count: number, path: () => string, duration = seconds): Promise<Measured> {
  const latencies: number[] = [];
  let firstFailure = '';
  const run = autocannon({
    url: origin,
    connections: count,
    duration,
    headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (request, context) => {
          context.path = path();
          return { ...request, path: context.path as string };
        },
        onResponse: (status, body, context) => {
          if ((status < 200 || status > 299) && !firstFailure)
            firstFailure = `${status} GET ${context.path}: ${body.slice(0, 300)}`;
        },
      },
    ],
  });
  run.on('response', (_client, _status, _bytes, time) => latencies.push(time));
  const result = await run;
  latencies.sort((a, b) => a - b);
  const measured = {
    scenario,
    p50: percentile(latencies, 0.5),
    p95: percentile(latencies, 0.95),
    p99: percentile(latencies, 0.99),
    perSecond: result.requests.average,
    non2xx: result.non2xx,
    errors: result.errors,
  };
  if (result.non2xx > 0 || result.errors > 0) {
    const statuses = Object.entries(result.statusCodeStats)
      .map(([status, { count }]) => `${status}: ${count}`)
      .join(', ');
    const problem = `${scenario}: ${result.non2xx} non-2xx (${statuses}), ${result.errors} errors (${result.timeouts} timeouts); first: ${firstFailure || '-'}`;
    problems.push(problem);
    log(`!!!!!!!! ${problem}`);
  }
  return measured;
}

const line = (m: Measured) =>
  Number.isNaN(m.perSecond)
    ? `${m.scenario.padEnd(18)} ${ms(m.p50)} ms (once)  non-2xx ${m.non2xx}`
    : `${m.scenario.padEnd(18)} p50 ${ms(m.p50)} ms  p95 ${ms(m.p95)} ms  p99 ${ms(m.p99)} ms  ${m.perSecond.toFixed(0)} req/s  non-2xx ${m.non2xx}  errors ${m.errors}`;
const results: Measured[] = [];
const report = (m: Measured) => {
  results.push(m);
  console.log(line(m));
};

log(`warm-up: record and timeline reads, 3 s (not reported)`);
await load('warm-up', connections, () => (Math.random() < 0.5 ? recordPath() : timelinePath()), 3);
log(`${seconds} s a scenario, ${connections} connections`);
report(await load('record', connections, recordPath));
report(await load('timeline', connections, timelinePath));
report(await load('search', connections, searchPath));
const [mixedRecords, mixedSearches] = await Promise.all([
  load('mixed: record', connections, recordPath),
  load(`mixed: +${searchConnections} search`, searchConnections, searchPath),
]);
report(mixedRecords);
report(mixedSearches);

// The Analytics page's first answers (analytics-page.tsx, on load), one at a time with nothing else running.
for (const path of ['/api/v1/analytics', '/api/v1/analytics/at-risk?limit=25', '/api/v1/alerts?limit=10']) {
  const begin = performance.now();
  const response = await fetch(`${origin}${path}`, { headers });
  const body = await response.text();
  const time = performance.now() - begin;
  const failed = response.status < 200 || response.status > 299 ? 1 : 0;
  if (failed) {
    const problem = `analytics ${path}: ${response.status} ${body.slice(0, 300)}`;
    problems.push(problem);
    log(`!!!!!!!! ${problem}`);
  }
  report({ scenario: `analytics ${path}`, p50: time, p95: NaN, p99: NaN, perSecond: NaN, non2xx: failed, errors: 0 });
}

server.close();
const [{ server_version: postgres }] = await queryRows<{ server_version: string }>(deps.db, sql`show server_version`);
await deps.close();
const cpus = os.cpus();
const machine = `${cpus.length} × ${cpus[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB`;
const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
// The numbers are of the working tree: say so when src/ differs from the commit.
const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src') ? ' (src modified)' : ''}`;
const context = [
  customers.toLocaleString('en'),
  ids.orders.toLocaleString('en'),
  machine,
  process.version,
  postgres,
  new Date().toISOString().slice(0, 10),
  commit,
];
console.log(
  `\n| scenario | p50 ms | p95 ms | p99 ms | req/s | non-2xx | errors | customers | orders | machine | Node | PostgreSQL | date | commit |`,
);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`);
for (const m of results)
  console.log(
    `| ${m.scenario} | ${ms(m.p50)} | ${ms(m.p95)} | ${ms(m.p99)} | ${Number.isNaN(m.perSecond) ? '-' : m.perSecond.toFixed(0)} | ${m.non2xx} | ${m.errors} | ${context.join(' | ')} |`,
  );
if (problems.length > 0) {
  console.log(`\n!!!!!!!! ${problems.length} scenario(s) had non-2xx answers or errors:`);
  for (const problem of problems) console.log(`!!!!!!!! ${problem}`);
  process.exitCode = 1;
}
