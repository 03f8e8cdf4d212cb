import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { settleJobs } from '../jobs/job.service.ts';

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

const upload = (query: string, body: string) => t.call('POST', `/api/v1/imports?${query}`, body, { 'content-type': 'text/csv' });
async function finished(jobId: number) {
  await settleJobs();
  return (await t.call('GET', `/api/v1/imports/${jobId}`)).json();
}

test('an uploaded file is imported by a background job; its bad rows come back as CSV with row and reason', async () => {
  const csv = 'client;when;total\nC1;02/01/2025;12,50\nC2;31/02/2025;3,00\nC1;05/01/2025;7,25\n';
  const response = await upload('kind=orders&fileName=shop.csv&map=customer=client,at=when,amount=total&dateFormat=dd/MM/yyyy', csv);
  assert.equal(response.status, 202);
  const started = await response.json();
  assert.equal(started.fileName, 'shop.csv');
  const job = await finished(started.jobId);
  assert.deepEqual([job.status, job.counts, job.error], ['done', { read: 3, imported: 2, updated: 0, unchanged: 0, rejected: 1 }, null]);
  assert.equal(job.done, job.total);
  const [stored] = await queryRows<{ total: string; stage: string }>(t.deps.db, sql`
    select sum(o.total)::text as total, min(c.stage) as stage from orders o join customers c on c.id = o.customer_id`);
  assert.deepEqual(stored, { total: '19.75', stage: 'customer' });

  const rejected = await t.call('GET', `/api/v1/imports/${started.jobId}/rejected`);
  assert.equal(rejected.status, 200);
  const lines = (await rejected.text()).trim().split('\n');
  assert.equal(lines[0], 'client,when,total,row,line,reason');
  assert.match(lines[1], /^C2,31\/02\/2025,"3,00",2,3,"at: /);

  const again = await finished((await (await upload('kind=orders&fileName=shop.csv&map=customer=client,at=when,amount=total&dateFormat=dd/MM/yyyy', csv)).json()).jobId);
  assert.deepEqual(again.counts, { read: 3, imported: 0, updated: 0, unchanged: 2, rejected: 1 }, 'the same file again changes nothing');
  const list = await (await t.call('GET', '/api/v1/imports')).json();
  assert.deepEqual(list.imports.map((i: { status: string }) => i.status), ['done', 'done']);
});

test('a file the import cannot read fails its job with the reason; bad options are refused at once', async () => {
  const job = await finished((await (await upload('kind=orders', 'client,when,total\nC1,2025-01-02,12.50\n')).json()).jobId);
  assert.equal(job.status, 'failed');
  assert.match(job.error, /needs a column for customer/);
  const badKind = await upload('kind=planets', 'a\n1\n');
  assert.equal(badKind.status, 400);
  assert.equal((await badKind.json()).error.details.issues[0].path, 'kind');
  assert.equal((await upload('kind=orders', '')).status, 400);
  const anonymous = await t.app.request('/api/v1/imports?kind=orders', { method: 'POST', body: 'a\n' });
  assert.equal(anonymous.status, 401);
});
