import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { resumeJobs, settleJobs } from '../jobs/job.service.ts';

let t: TestApp;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-upload-'));
  t = await createTestApp('admin', { dataDir: work });
});
after(async () => {
  await settleJobs();
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const upload = (query: string, body: string) =>
  t.call('POST', `/api/v1/imports?${query}`, body, { 'content-type': 'text/csv' });
const uploads = () =>
  fs.existsSync(path.join(work, 'uploads')) ? fs.readdirSync(path.join(work, 'uploads')).sort() : [];
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

async function finished(jobId: number) {
  await settleJobs();
  return (await t.call('GET', `/api/v1/imports/${jobId}`)).json();
}

test('an uploaded file is imported by a background job; its bad rows come back as CSV with row and reason', async () => {
  const csv = 'client;when;total\nC1;02/01/2025;12,50\nC2;31/02/2025;3,00\nC1;05/01/2025;7,25\n';
  const response = await upload(
    'kind=orders&fileName=shop.csv&map=customer=client,at=when,amount=total&dateFormat=dd/MM/yyyy',
    csv,
  );
  assert.equal(response.status, 202);
  const started = await response.json();
  assert.equal(started.fileName, 'shop.csv');
  const job = await finished(started.jobId);
  assert.deepEqual(
    [job.status, job.counts, job.error],
    ['done', { read: 3, imported: 2, updated: 0, unchanged: 0, rejected: 1 }, null],
  );
  assert.equal(job.done, job.total);
  const [stored] = await queryRows<{ total: string; stage: string }>(
    t.deps.db,
    sql`
    select sum(o.total)::text as total, min(c.stage) as stage from orders o join customers c on c.id = o.customer_id`,
  );
  assert.deepEqual(stored, { total: '19.75', stage: 'customer' });

  const rejected = await t.call('GET', `/api/v1/imports/${started.jobId}/rejected`);
  assert.equal(rejected.status, 200);
  const lines = (await rejected.text()).trim().split('\n');
  assert.equal(lines[0], 'client,when,total,row,line,reason');
  assert.match(lines[1], /^C2,31\/02\/2025,"3,00",2,3,"at: /);

  const again = await finished(
    (
      await (
        await upload(
          'kind=orders&fileName=shop.csv&map=customer=client,at=when,amount=total&dateFormat=dd/MM/yyyy',
          csv,
        )
      ).json()
    ).jobId,
  );
  assert.deepEqual(
    again.counts,
    { read: 3, imported: 0, updated: 0, unchanged: 2, rejected: 1 },
    'the same file again changes nothing',
  );
  const list = await (await t.call('GET', '/api/v1/imports')).json();
  assert.deepEqual(
    list.imports.map((i: { status: string }) => i.status),
    ['done', 'done'],
  );
});

test('a file the import cannot read fails its job with the reason; bad options are refused at once', async () => {
  const job = await finished(
    (await (await upload('kind=orders', 'client,when,total\nC1,2025-01-02,12.50\n')).json()).jobId,
  );
  assert.equal(job.status, 'failed');
  assert.match(job.error, /needs a column for customer/);
  // The web's message says what to do on the page; the CLI's --map is not something a web user can use.
  assert.match(job.error, /Column mapping/);
  assert.doesNotMatch(job.error, /--map/);
  const badKind = await upload('kind=planets', 'a\n1\n');
  assert.equal(badKind.status, 400);
  assert.equal((await badKind.json()).error.details.issues[0].path, 'kind');
  assert.equal((await upload('kind=orders', '')).status, 400);
  const anonymous = await t.app.request('/api/v1/imports?kind=orders', { method: 'POST', body: 'a\n' });
  assert.equal(anonymous.status, 401);
});

test('the upload with a NUL byte that stopped the server imports: its row is rejected with the reason, the rest imports, nothing is left unhandled', async () => {
  const started = await (
    await upload(
      'kind=orders&fileName=nul.csv',
      'customer,at,amount\nnul\u0000@x.com,2026-01-01,5\nok@x.com,2026-01-01,6\n',
    )
  ).json();
  const job = await finished(started.jobId);
  assert.deepEqual(
    [job.status, job.counts, job.error],
    ['done', { read: 2, imported: 1, updated: 0, unchanged: 0, rejected: 1 }, null],
  );
  const lines = (await (await t.call('GET', `/api/v1/imports/${started.jobId}/rejected`)).text()).trim().split('\n');
  assert.match(
    lines[1],
    /^nul\uFFFD@x\.com,2026-01-01,5,1,2,"customer: contains a NUL character \(\\u0000\), which text cannot hold; NUL characters and lone surrogates are written here as U\+FFFD"$/,
  );
  assert.deepEqual(unhandled, []);
});

test('fileName: over 255 characters is refused naming it; 255 characters that are not ASCII make a file name the file system takes', async () => {
  const before = uploads();
  const long = await upload(`kind=orders&fileName=${'n'.repeat(5000)}.csv`, 'customer,at,amount\nC1,2026-01-01,5\n');
  assert.equal(long.status, 400);
  assert.deepEqual(
    (await long.json()).error.details.issues.map((issue: { path: string }) => issue.path),
    ['fileName'],
  );
  assert.deepEqual(uploads(), before, 'refused before the file is written');
  const accented = await upload(
    `kind=orders&fileName=${encodeURIComponent('é'.repeat(251) + '.csv')}`,
    'customer,at,amount\nC1,2026-01-01,5\n',
  );
  assert.equal(accented.status, 202);
  const job = await finished((await accented.json()).jobId);
  assert.deepEqual([job.status, job.fileName], ['done', `${'é'.repeat(251)}.csv`]);
  const stored = uploads().filter((name) => !before.includes(name));
  assert.equal(stored.length, 1);
  assert.ok(Buffer.byteLength(stored[0]) <= 255 && stored[0].endsWith('.csv'), stored[0]);
});

test('an upload whose import will not go on leaves no file: refused, empty, its job failed, its job parked after 3 interrupted starts', async () => {
  const before = uploads();
  assert.equal((await upload('kind=orders&delimiter=pipe', 'customer,at,amount\n')).status, 400);
  assert.equal((await upload('kind=orders', '')).status, 400);
  const failed = await finished(
    (await (await upload('kind=orders', 'client,when,total\nC1,2025-01-02,12.50\n')).json()).jobId,
  );
  assert.equal(failed.status, 'failed');
  const broken = await finished(
    (await (await upload('kind=orders', 'customer,at,amount\nC1,2026-01-01,"5\n')).json()).jobId,
  );
  assert.equal(broken.status, 'failed');
  assert.match(broken.error, /the quote that opens a cell on line 2 .* is never closed/);

  // As a process that died three times in the same import leaves it.
  const file = path.join(work, 'uploads', 'crashing.csv');
  fs.writeFileSync(file, 'customer,at,amount\nC1,2026-01-01,5\n');
  const [{ id }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`
    insert into jobs (kind, status, attempts, payload) values ('import', 'running', 3,
      ${JSON.stringify({ kind: 'orders', file, fileName: 'crashing.csv', map: {}, encoding: 'utf-8' })}::text::jsonb) returning id`,
  );
  assert.equal(await resumeJobs(t.deps), 0, 'not started a fourth time');
  const parked = await (await t.call('GET', `/api/v1/imports/${id}`)).json();
  assert.equal(parked.status, 'failed');
  assert.match(parked.error, /^interrupted 3 times without finishing .* not tried again$/);
  assert.deepEqual(uploads(), before);
});

test('a job number that is not a whole number is refused naming jobId, not answered with 500', async () => {
  for (const jobId of ['abc', '1e3', '-1', '0']) {
    const response = await t.call('GET', `/api/v1/imports/${jobId}/rejected`);
    assert.equal(response.status, 400, jobId);
    assert.deepEqual(
      (await response.json()).error.details.issues.map((issue: { path: string }) => issue.path),
      ['jobId'],
    );
  }
  assert.equal((await t.call('GET', '/api/v1/imports/999999/rejected')).status, 404);
});
