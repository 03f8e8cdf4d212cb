#!/usr/bin/env node
// The `kept` command runs the compiled server and CLI in dist/server (`npm install` builds it;
// `npm run build` builds it again). `npm run dev -- <command>` runs the TypeScript sources instead.
import fs from 'node:fs';

const main = new URL('../dist/server/main.js', import.meta.url);
if (!fs.existsSync(main)) {
  process.stderr.write('kept: the server is not built (dist/server/main.js is missing): run `npm run build` first\n');
  process.exit(1);
}
await import(main.href);
