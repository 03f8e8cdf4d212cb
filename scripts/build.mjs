// Compiles the server and the CLI to JavaScript in dist/server/, which bin/kept.js runs: the
// TypeScript sources need no loader at run time. Packages in node_modules stay imports; every
// `await import()` becomes a chunk of its own, so a command loads only the code it runs. The analysis
// worker thread is an entry of its own (fit.worker.js), loaded by its file name.
import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const outdir = path.join(root, 'dist', 'server');

fs.rmSync(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/main.ts', 'fit.worker': 'src/analytics/fit.worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  // Stack traces name the TypeScript sources under `NODE_OPTIONS=--enable-source-maps`.
  sourcemap: true,
  logLevel: 'warning',
});
