import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestDatabaseUrl } from './database.ts';

// `kept serve` as a user starts it (bin/kept.js, compiled by scripts/build.mjs), on PGlite (--data)
// or on a fresh PostgreSQL database (DATABASE_URL).
let work: string;
let postgres: Awaited<ReturnType<typeof createTestDatabaseUrl>>;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-serve-'));
  postgres = await createTestDatabaseUrl();
});
after(async () => {
  await postgres?.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

const env = (extra: Record<string, string> = {}) => {
  const { KEPT_PORT: _port, PORT: _plain, ...rest } = process.env;
  return { ...rest, DATABASE_URL: postgres?.url ?? '', NODE_ENV: 'test', ...extra };
};
const dataArgs = (dir: string) => (postgres ? [] : ['--data', path.join(work, dir)]);

async function heldPort(): Promise<{ port: number; release(): Promise<void> }> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, release: () => new Promise((resolve) => server.close(() => resolve())) };
}

test('a port in use gives one line saying how to choose another and exits 1, for --port and for PORT', async () => {
  const held = await heldPort();
  try {
    for (const [args, extra] of [
      [['--port', String(held.port)], {}],
      [[], { PORT: String(held.port) }],
    ] as const) {
      const run = spawnSync(process.execPath, ['bin/kept.js', 'serve', ...args, ...dataArgs('port')], {
        env: env(extra),
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.status, 1, run.stderr);
      assert.equal(
        run.stderr,
        `Port ${held.port} is in use. Start Kept on another port: npm start -- --port ${held.port + 1} (or PORT=${held.port + 1} npm start).\n`,
      );
      assert.doesNotMatch(run.stdout, /Kept is running/);
    }
  } finally {
    await held.release();
  }
});

test('the address prints before the demo loads, and the server answers while it loads', async () => {
  const free = await heldPort();
  await free.release();
  const child = spawn(
    process.execPath,
    ['bin/kept.js', 'serve', '--demo', '--port', String(free.port), ...dataArgs('demo')],
    { env: env(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  const waitFor = async (pattern: RegExp, ms: number) => {
    const until = Date.now() + ms;
    while (!pattern.test(stdout)) {
      if (Date.now() > until || child.exitCode !== null) assert.fail(`no ${pattern} in:\n${stdout}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    await waitFor(/Open: +http:\/\/\S+/, 60_000);
    // The server listens while the demo loads. (On PGlite the demo's writes hold the one embedded
    // connection, so the health check may wait for them; it still answers rather than being refused.)
    const health = await fetch(`http://127.0.0.1:${free.port}/api/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, 'ok');
    await waitFor(/Loaded the demo store/, 180_000);
    await waitFor(/Analysing the demo store in the background/, 30_000);
    assert.ok(stdout.indexOf('Open:') < stdout.indexOf('Loaded the demo store'), stdout);
    assert.ok(stdout.indexOf('Loaded the demo store') < stdout.indexOf('Analysing the demo store'), stdout);
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});
