// Runs every *.test.ts under src/ and test/ with node's test runner. Files are listed explicitly:
// a glob handed to `node --test` can match nothing on Node 20.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : find(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : [...find('src'), ...find('test')].sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
// The browser tests drive the built UI; build it when an install skipped `prepare`.
if (!fs.existsSync('dist/web/index.html')) {
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], {
    stdio: 'inherit',
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
// Tests run the sources through tsx, but those that start `kept` (bin/kept.js) run the compiled
// build: build it from the current sources every time (esbuild, about a second).
const server = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
if (server.status !== 0) process.exit(server.status ?? 1);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
