// npm run bench [-- --lines N --events N --databases pglite,postgres]
// Imports N order lines from CSV and ingests N events through the HTTP API, on PGlite and on
// PostgreSQL, and compares the import with a plain COPY of the same file into an unindexed table.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { writeOrderLines, orderEvents } from './scale-data.ts';

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    events: { type: 'string', default: '200000' },
    databases: { type: 'string', default: 'pglite,postgres' },
    'postgres-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/postgres' },
  },
});
const lines = Number(values.lines);
const eventCount = Number(values.events);
const kinds = values.databases!.split(',');
const adminUrl = values['postgres-url']!;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-bench-'));
const kept = path.resolve('bin/kept.js');

function log(message: string) {
  process.stderr.write(`${message}\n`);
}

async function freshPostgres(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kept_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** Runs a kept command, returning wall seconds and peak resident memory in MB (GNU time). */
function timed(args: string[], env: NodeJS.ProcessEnv): { seconds: number; peakMb: number; stdout: string } {
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M', process.execPath, kept, ...args], {
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (result.status !== 0) throw new Error(`kept ${args.join(' ')} failed: ${result.stderr.slice(-2000)}`);
  const match = result.stderr.match(/BENCH ([\d.]+) (\d+)/);
  return { seconds: Number(match![1]), peakMb: Number(match![2]) / 1024, stdout: result.stdout };
}

const copyColumns = 'customer text, "order" text, at text, product text, quantity text, unit_price text, channel text';

async function copyBaseline(kind: string, file: string): Promise<number> {
  if (kind === 'postgres') {
    const database = await freshPostgres();
    try {
      spawnSync('psql', [database.url, '-qc', `create table raw_lines (${copyColumns})`]);
      const start = performance.now();
      const result = spawnSync(
        'psql',
        [database.url, '-qc', `\\copy raw_lines from '${file}' with (format csv, header true)`],
        { encoding: 'utf8' },
      );
      if (result.status !== 0) throw new Error(result.stderr);
      return (performance.now() - start) / 1000;
    } finally {
      await database.drop();
    }
  }
  const dir = path.join(work, 'copy-pglite');
  const db = await PGlite.create(dir);
  await db.exec(`create table raw_lines (${copyColumns})`);
  const start = performance.now();
  await db.query(`copy raw_lines from '/dev/blob' with (format csv, header true)`, [], {
    blob: new Blob([fs.readFileSync(file)]),
  });
  const seconds = (performance.now() - start) / 1000;
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return seconds;
}

async function ingestThroughApi(
  env: NodeJS.ProcessEnv,
  dataArgs: string[],
): Promise<{ seconds: number; accepted: number }> {
  const key = JSON.parse(
    timed(['keys', 'create', '--name', 'bench', '--role', 'admin', '--json', ...dataArgs], env).stdout,
  ).key as string;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = spawn(process.execPath, [kept, 'serve', '--port', String(port), ...dataArgs], {
    env,
    stdio: 'ignore',
  });
  try {
    for (let i = 0; i < 120; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/api/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const batches: unknown[][] = [];
    let batch: unknown[] = [];
    for (const event of orderEvents(eventCount)) {
      batch.push(event);
      if (batch.length === 500) {
        batches.push(batch);
        batch = [];
      }
    }
    if (batch.length > 0) batches.push(batch);
    let accepted = 0;
    let next = 0;
    const start = performance.now();
    const worker = async () => {
      while (next < batches.length) {
        const body = JSON.stringify({ events: batches[next++] });
        for (;;) {
          const response = await fetch(`http://127.0.0.1:${port}/api/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body,
          });
          if (response.status === 429 || response.status === 503) {
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          if (!response.ok) throw new Error(`ingest answered ${response.status}: ${await response.text()}`);
          accepted += ((await response.json()) as { accepted: number }).accepted;
          break;
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return { seconds: (performance.now() - start) / 1000, accepted };
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

const file = path.join(work, 'order-lines.csv');
log(`generating ${lines.toLocaleString('en')} order lines into ${file}`);
writeOrderLines(file, lines);
const rows: string[] = [];
for (const kind of kinds) {
  const database = kind === 'postgres' ? await freshPostgres() : undefined;
  const env = { ...process.env, DATABASE_URL: database?.url ?? '', KEPT_LOG_LEVEL: 'warn' };
  const dataArgs = database ? [] : ['--data', path.join(work, `data-${kind}`)];
  try {
    log(`${kind}: COPY baseline`);
    const copySeconds = await copyBaseline(kind, file);
    log(`${kind}: kept import orders`);
    const imported = timed(['import', 'orders', file, '--json', ...dataArgs], env);
    log(`${kind}: ingest ${eventCount.toLocaleString('en')} events through the API`);
    const ingest = eventCount > 0 ? await ingestThroughApi(env, dataArgs) : undefined;
    rows.push(
      `| ${kind} | ${lines.toLocaleString('en')} | ${Math.round(lines / copySeconds).toLocaleString('en')} | ` +
        `${Math.round(lines / imported.seconds).toLocaleString('en')} | ${Math.round((copySeconds / imported.seconds) * 100)} % | ` +
        `${Math.round(imported.peakMb)} MB | ${ingest ? `${Math.round(ingest.accepted / ingest.seconds).toLocaleString('en')} (${ingest.accepted.toLocaleString('en')} accepted)` : '-'} |`,
    );
  } finally {
    await database?.drop();
  }
}
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim();
console.log(
  `\nMachine: ${os.cpus().length} x ${os.cpus()[0]?.model}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, commit ${commit}\n`,
);
console.log(
  '| database | order lines | raw COPY rows/s | kept import rows/s | import / COPY | import peak memory | API ingest events/s |',
);
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
fs.rmSync(work, { recursive: true, force: true });
