// npm run bench:analytics [-- --customers N --databases postgres,pglite --runs N --keep]
// Generates customers and orders from known BG/NBD parameters, loads them with COPY, then times
// `kept analyze` end to end (summary SQL, fit, scoring, write-back) with its peak memory, and
// checks that the fit recovers the parameters. With --runs N the analysis runs N times, each on a
// fresh copy of the loaded store (this machine's timings vary by a fifth between runs): the median is reported.
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
    runs: { type: 'string', default: '1' },
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
async function admin(statement: string) {
  const client = new pg.Client({ connectionString: values['postgres-url'] });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

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
      t += Math.max(1, Math.round(-Math.log(1 - rng()) / lambda)) * dayMs;
      if (t > end) break;
    }
    if (buffer.length > 1 << 22) {
      fs.writeSync(out, buffer);
      buffer = '';
    }
  }
  fs.writeSync(out, buffer);
  fs.closeSync(out);
  return orders;
}

function timed(args: string[], env: NodeJS.ProcessEnv) {
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, kept, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`kept ${args.join(' ')} failed: ${result.stderr.slice(-3000)}`);
  const match = result.stderr.match(/BENCH ([\d.]+) (\d+)/)!;
  return { seconds: Number(match[1]), peakMb: Number(match[2]) / 1024, stdout: result.stdout };
}

// The BG/NBD fit on the CDNOW sample (weeks), median of 10 after a warm-up run.
const cdnow = grouped(cdnowCustomers(7));
fitBgNbd(cdnow);
const fitTimes = Array.from({ length: 10 }, () => {
  const t = performance.now();
  fitBgNbd(cdnow);
  return performance.now() - t;
}).sort((a, b) => a - b);
const cdnowFitMs = (fitTimes[4] + fitTimes[5]) / 2;
log(`BG/NBD fit on CDNOW: median ${cdnowFitMs.toFixed(0)} ms`);

const ordersFile = path.join(work, 'orders.csv');
log(
  `generating ${customers.toLocaleString('en')} customers from BG/NBD r=${truth.r} alpha=${truth.alpha} a=${truth.a} b=${truth.b} (days)`,
);
const orderCount = writeOrders(ordersFile);
log(`${orderCount.toLocaleString('en')} orders`);
const rows: string[] = [];
for (const kind of values.databases!.split(',')) {
  let url: string | undefined;
  let drop = async () => undefined as void;
  let saveLoaded = async () => {
    fs.cpSync(dataDir, `${dataDir}-loaded`, { recursive: true });
  };
  let restoreLoaded = async () => {
    fs.rmSync(dataDir, { recursive: true });
    fs.cpSync(`${dataDir}-loaded`, dataDir, { recursive: true });
  };
  const dataDir = path.join(work, `data-${kind}`);
  if (kind === 'postgres') {
    const name = `kept_bench_analytics_${process.pid}`;
    await admin(`create database ${name}`);
    const u = new URL(values['postgres-url']!);
    u.pathname = `/${name}`;
    url = u.toString();
    drop = async () => {
      await admin(`drop database if exists ${name}_loaded with (force)`);
      if (values.keep) {
        log(`kept the database: ${url}`);
        return;
      }
      await admin(`drop database if exists ${name} with (force)`);
    };
    // The loaded store is kept as a template; each further run starts from a fresh copy of it.
    saveLoaded = () => admin(`create database ${name}_loaded template ${name}`);
    restoreLoaded = async () => {
      await admin(`drop database ${name} with (force)`);
      await admin(`create database ${name} template ${name}_loaded`);
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
      const result = spawnSync(
        'psql',
        [
          url,
          '-qc',
          `\\copy orders (customer_id, external_id, ordered_at, total, source) from '${ordersFile}' with (format csv)`,
        ],
        { encoding: 'utf8' },
      );
      if (result.status !== 0) throw new Error(result.stderr);
      // Vacuumed and analysed, as autovacuum leaves a table some time after a bulk load.
      spawnSync('psql', [url, '-qc', 'vacuum analyze'], { stdio: 'inherit' });
    } else {
      const db = await PGlite.create(path.join(dataDir, 'pglite'));
      await db.exec(load);
      // In pieces of about 64 MB cut at line ends: the whole file as one blob would need gigabytes.
      const text = fs.openSync(ordersFile, 'r');
      const piece = Buffer.alloc(64 << 20);
      for (let carry = Buffer.alloc(0); ; ) {
        const read = fs.readSync(text, piece, 0, piece.length, null);
        const data = Buffer.concat([carry, piece.subarray(0, read)]);
        const cut = read === 0 ? data.length : data.lastIndexOf(10) + 1;
        if (cut > 0)
          await db.query(copy.replace('STDIN', "'/dev/blob'"), [], { blob: new Blob([data.subarray(0, cut)]) });
        carry = Buffer.from(data.subarray(cut));
        if (read === 0) break;
      }
      fs.closeSync(text);
      await db.close();
    }
    const env = { ...process.env, DATABASE_URL: url ?? '', KEPT_LOG_LEVEL: 'warn' };
    const dataArgs = url ? [] : ['--data', dataDir];
    const runs: ReturnType<typeof timed>[] = [];
    if (Number(values.runs) > 1) await saveLoaded();
    for (let k = 0; k < Number(values.runs); k++) {
      if (k > 0) await restoreLoaded();
      // Loading or copying the store leaves gigabytes to write out: that happens before the clock starts.
      if (url) await admin('checkpoint');
      spawnSync('sync');
      log(`${kind}: kept analyze (run ${k + 1})`);
      const run = timed(['analyze', '--as-of', asOf, '--json', ...dataArgs], env);
      log(
        `${kind}: ${run.seconds.toFixed(1)} s, ${Math.round(run.peakMb)} MB, phases ${JSON.stringify(JSON.parse(run.stdout).phases)}`,
      );
      runs.push(run);
    }
    const bySeconds = [...runs].sort((a, b) => a.seconds - b.seconds);
    const run = bySeconds[Math.floor((runs.length - 1) / 2)];
    const model = JSON.parse(timed(['report', 'model', '--json', '--time-unit', 'day', ...dataArgs], env).stdout);
    const bg = model.bgnbd;
    const gg = model.gammaGamma;
    const spread =
      runs.length > 1 ? ` (median of ${runs.length}: ${runs.map((r) => r.seconds.toFixed(1)).join(', ')} s)` : '';
    rows.push(
      `| ${kind} | ${customers.toLocaleString('en')} | ${orderCount.toLocaleString('en')} | ${run.seconds.toFixed(1)} s${spread} | ${Math.round(Math.max(...runs.map((r) => r.peakMb)))} MB | ` +
        `r ${bg.r.toFixed(3)}, α ${bg.alpha.toFixed(2)}, a ${bg.a.toFixed(3)}, b ${bg.b.toFixed(2)} | p ${gg.p.toFixed(2)}, q ${gg.q.toFixed(2)}, γ ${gg.gamma.toFixed(2)} |`,
    );
  } finally {
    await drop();
  }
}
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `\nMachine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, commit ${commit}`,
);
console.log(
  `Truth (days): BG/NBD r ${truth.r}, α ${truth.alpha}, a ${truth.a}, b ${truth.b}; Gamma-Gamma p ${spendTruth.p}, q ${spendTruth.q}, γ ${spendTruth.gamma}\n`,
);
console.log(
  `BG/NBD fit on the CDNOW sample (2,357 customers, 1,016 distinct histories): median ${cdnowFitMs.toFixed(0)} ms of 10 (fastest ${fitTimes[0].toFixed(0)} ms)\n`,
);
console.log(
  '| database | customers | orders | kept analyze (summary SQL, fit, scoring, write-back) | peak memory (largest run) | fitted BG/NBD (days) | fitted Gamma-Gamma |',
);
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
fs.rmSync(work, { recursive: true, force: true });
