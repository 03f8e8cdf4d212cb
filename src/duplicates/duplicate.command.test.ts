// `kept duplicates find` as a user runs it, on PGlite (--data) or a fresh PostgreSQL database
// (DATABASE_URL): the pairs in text and JSON, --min-score, a bad score refused, and the help text.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestDatabaseUrl } from '../../test/database.ts';

let work: string;
let postgres: Awaited<ReturnType<typeof createTestDatabaseUrl>>;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-duplicates-cli-'));
  postgres = await createTestDatabaseUrl();
});
after(async () => {
  await postgres?.drop();
  fs.rmSync(work, { recursive: true, force: true });
});

const kept = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/kept.js', ...args, ...(postgres ? [] : ['--data', path.join(work, 'data')])], {
    env: { ...process.env, DATABASE_URL: postgres?.url ?? '', NODE_ENV: 'test' },
    encoding: 'utf8',
  });

test('kept duplicates find lists the planted pairs with both ids, external ids and score; --json for scripts', () => {
  const file = path.join(work, 'c.csv');
  fs.writeFileSync(
    file,
    `id,name,email,phone,line1,city,postal_code,country
K1,Anna Keller,anna.keller@example.com,+493012345678,Hauptstrasse 5,Berlin,10115,DE
K2,Keller Anna,anna.keller+shop@example.com,,Hauptstrasse 5,Berlin,10115,DE
K5,Clara Vogel,clara@example.com,+498912345670,Am Markt 1,Munich,80331,DE
K6,C. Vogel,,0049 89 12345670,Am Markt 1,Munich,80331,DE
K7,Clara Vogel,clara.v@post.example,+493099999999,Ringstrasse 3,Berlin,10115,DE
`,
  );
  const imported = kept('import', 'customers', file);
  assert.equal(imported.status, 0, imported.stderr);

  const text = kept('duplicates', 'find');
  assert.equal(text.status, 0, text.stderr);
  const lines = text.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /^1\.000 {2}#\d+ \(K1\) Anna Keller {2}~ {2}#\d+ \(K2\) Keller Anna {2}.*same name with first and last swapped/,
  );
  assert.match(lines[1], /^0\.800 .*\(K5\) Clara Vogel .*\(K6\) C\. Vogel .*same phone number/);
  assert.match(text.stderr, /Compared 5 customers: .* 2 at or above 0\.6/);

  const json = kept('duplicates', 'find', '--json');
  assert.equal(json.status, 0, json.stderr);
  const { pairs } = JSON.parse(json.stdout);
  assert.deepEqual(
    pairs.map((p: { first: { externalId: string }; second: { externalId: string } }) => [
      p.first.externalId,
      p.second.externalId,
    ]),
    [
      ['K1', 'K2'],
      ['K5', 'K6'],
    ],
  );
  assert.equal(pairs[1].score, 0.8);
  assert.equal(pairs[1].first.email, 'clara@example.com');
  assert.ok(Number.isInteger(pairs[1].first.id));

  const strict = kept('duplicates', 'find', '--json', '--min-score', '0.9');
  assert.equal(JSON.parse(strict.stdout).pairs.length, 1);
  const bad = kept('duplicates', 'find', '--min-score', '2');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /a score from 0 to 1/);
});

test('kept duplicates --help names find and what it does', () => {
  const help = spawnSync(process.execPath, ['bin/kept.js', 'duplicates', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /find \[options\]/);
  assert.match(help.stdout, /look like one person/);
  const find = spawnSync(process.execPath, ['bin/kept.js', 'duplicates', 'find', '--help'], { encoding: 'utf8' });
  assert.match(find.stdout, /--min-score <score>/);
  assert.match(find.stdout, /--json/);
});
