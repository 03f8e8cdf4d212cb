// npm run bench:analytics [-- --customers N --databases postgres,pglite --keep]
// Generates customers and orders from known BG/NBD parameters, loads them with COPY, then times
// `kept analyze` end to end (summary SQL, fit, scoring, write-back) with its peak memory, and
// checks that the fit recovers the parameters.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { cdnowCustomers, grouped } from '../src/analytics/cdnow.fixture.ts';
import { fitBgNbd } from '../src/analytics/models.ts';
import { openDatabase } from '../src/db/connection.ts';
import { gamma as gammaOf, random } from '../src/shared/random.ts';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '1000000' },
    databases: { type: 'string', default: 'postgres' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
    keep: { type: 'boolean', default: false },
  },
});
const customers = Number(values.customers);
const truth = { r: 2, alpha: 60, a: 1, b: 20 }; // days: a purchase a month on average, ~20 purchases before dropping out
const spendTruth = { p: 6, q: 4, gamma: 15 }; // Gamma-Gamma: mean spend per order p·gamma/(q−1) = 30
const asOf = '2026-06-30';
const start = Date.UTC(2024, 6, 1); // first purchases spread over the year before 2025-07-01
const dayMs = 86_400_000;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-bench-analytics-'));
const kept = path.resolve('bin/kept.js');
const log = (m: string) => process.stderr.write(`${m}\n`);

const rng = random(42);
const gamma = (shape: number) => gammaOf(rng, shape);

/** One order per purchase day: BG/NBD's story, customer by customer, written as CSV for COPY. */
function writeOrders(file: string): number {
  const out = fs.openSync(file, 'w');
  const end = Date.parse(`${asOf}T12:00:00Z`);
  let buffer = '';
  let orders = 0;
  for (let c = 1; c <= customers; c++) {
    const lambda = gamma(truth.r) / truth.alpha;
    const x = gamma(truth.a);
    const p = x / (x + gamma(truth.b));
    const nu = gamma(spendTruth.q) / spendTruth.gamma;
    let t = start + Math.floor(rng() * 365) * dayMs + 10 * 3_600_000;
    let n = 0;
    // The first purchase, then Poisson purchases while active; after each repeat purchase the
    // customer drops out with probability p (BG/NBD: never right after the first).
    for (let first = true; ; first = false) {
      buffer += `${c},B${c}-${++n},${new Date(t).toISOString()},${Math.max(0.01, gamma(spendTruth.p) / nu).toFixed(2)},bench\n`;
      orders++;
      if (!first && rng() < p) break;
      t += Math.max(1, Math.round((-Math.log(1 - rng()) / lambda))) * dayMs;
      if (t > end) break;
    }
    if (buffer.length > 1 << 22) { fs.writeSync(out, buffer); buffer = ''; }
  }
  fs.writeSync(out, buffer);
  fs.closeSync(out);
  return orders;
}

function timed(args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, kept, ...args], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`kept ${args.join(' ')} failed: ${result.stderr.slice(-3000)}`);
  const match = result.stderr.match(/BENCH ([\d.]+) (\d+)/)!;
  return { seconds: Number(match[1]), peakMb: Number(match[2]) / 1024, stdout: result.stdout };
}

// The BG/NBD fit on the CDNOW sample (weeks), median of 10 after a warm-up run.
const cdnow = grouped(cdnowCustomers(7));
fitBgNbd(cdnow);
const fitTimes = Array.from({ length: 10 }, () => { const t = performance.now(); fitBgNbd(cdnow); return performance.now() - t; }).sort((a, b) => a - b);
const cdnowFitMs = (fitTimes[4] + fitTimes[5]) / 2;
log(`BG/NBD fit on CDNOW: median ${cdnowFitMs.toFixed(0)} ms`);

const ordersFile = path.join(work, 'orders.csv');
log(`generating ${customers.toLocaleString('en')} customers from BG/NBD r=${truth.r} alpha=${truth.alpha} a=${truth.a} b=${truth.b} (days)`);
const orderCount = writeOrders(ordersFile);
log(`${orderCount.toLocaleString('en')} orders`);
const rows: string[] = [];
for (const kind of values.databases!.split(',')) {
  let url: string | undefined;
  let drop = async () => undefined as void;
  const dataDir = path.join(work, `data-${kind}`);
  if (kind === 'postgres') {
    const name = `kept_bench_analytics_${process.pid}`;
    const admin = new pg.Client({ connectionString: values['postgres-url'] });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(values['postgres-url']!);
    u.pathname = `/${name}`;
    url = u.toString();
    drop = async () => {
      if (values.keep) { log(`kept the database: ${url}`); return; }
      const c = new pg.Client({ connectionString: values['postgres-url'] });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    };
  }
  try {
    log(`${kind}: schema and COPY`);
    const database = await openDatabase({ databaseUrl: url, dataDir });
    await database.migrate();
    await database.close();
    const load = `insert into customers (external_id, stage) select 'B' || g, 'customer' from generate_series(1, ${customers}) g;`;
    const copy = `copy orders (customer_id, external_id, ordered_at, total, source) from STDIN with (format csv)`;
    if (url) {
      spawnSync('psql', [url, '-qc', load], { stdio: 'inherit' });
      const result = spawnSync('psql', [url, '-qc', `\\copy orders (customer_id, external_id, ordered_at, total, source) from '${ordersFile}' with (format csv)`], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(result.stderr);
      spawnSync('psql', [url, '-qc', 'analyze'], { stdio: 'inherit' });
    } else {
      const db = await PGlite.create(path.join(dataDir, 'pglite'));
      await db.exec(load);
      await db.query(copy.replace('STDIN', "'/dev/blob'"), [], { blob: new Blob([fs.readFileSync(ordersFile)]) });
      await db.close();
    }
    log(`${kind}: kept analyze`);
    const env = { ...process.env, DATABASE_URL: url ?? '', KEPT_LOG_LEVEL: 'warn' };
    const dataArgs = url ? [] : ['--data', dataDir];
    const run = timed(['analyze', '--as-of', asOf, '--json', ...dataArgs], env);
    const model = JSON.parse(timed(['report', 'model', '--json', '--time-unit', 'day', ...dataArgs], env).stdout);
    const bg = model.bgnbd;
    log(`${kind}: phases ${JSON.stringify(JSON.parse(run.stdout).phases)}`);
    const gg = model.gammaGamma;
    rows.push(`| ${kind} | ${customers.toLocaleString('en')} | ${orderCount.toLocaleString('en')} | ${run.seconds.toFixed(1)} s | ${Math.round(run.peakMb)} MB | ` +
      `r ${bg.r.toFixed(3)}, α ${bg.alpha.toFixed(2)}, a ${bg.a.toFixed(3)}, b ${bg.b.toFixed(2)} | p ${gg.p.toFixed(2)}, q ${gg.q.toFixed(2)}, γ ${gg.gamma.toFixed(2)} |`);
  } finally {
    await drop();
  }
}
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
console.log(`\nMachine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, commit ${commit}`);
console.log(`Truth (days): BG/NBD r ${truth.r}, α ${truth.alpha}, a ${truth.a}, b ${truth.b}; Gamma-Gamma p ${spendTruth.p}, q ${spendTruth.q}, γ ${spendTruth.gamma}\n`);
console.log(`BG/NBD fit on the CDNOW sample (2,357 customers, 1,016 distinct histories): median ${cdnowFitMs.toFixed(0)} ms of 10 (fastest ${fitTimes[0].toFixed(0)} ms)\n`);
console.log('| database | customers | orders | kept analyze (summary SQL, fit, scoring, write-back) | peak memory | fitted BG/NBD (days) | fitted Gamma-Gamma |');
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
fs.rmSync(work, { recursive: true, force: true });
