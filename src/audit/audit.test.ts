import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey, createUser, revokeKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { sqlStateOf } from '../shared/errors.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { settleJobs } from '../jobs/job.service.ts';

let t: TestApp;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-audit-'));
  t = await createTestApp('admin', { dataDir: work });
});
after(async () => {
  await settleJobs();
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

interface Entry {
  id: number;
  actor: string;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}
const entries = async (query = '') => (await expectJson(t.call('GET', `/api/v1/audit${query}`))).entries as Entry[];
const signIn = (email: string, password: string) =>
  t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });

test('sign-ins, people, keys, consent, imports and exports are recorded with who did it', async () => {
  const rosa = await createUser(t.deps, 'rosa@example.com', 'marketer', 'cli:ops');
  assert.equal((await signIn('rosa@example.com', 'wrong')).status, 401);
  const signedIn = await signIn('Rosa@Example.com', rosa.password);
  assert.equal(signedIn.status, 200);
  const cookie = signedIn.headers.get('set-cookie')!.split(';')[0];
  assert.equal(
    (await t.app.request('/api/v1/auth/logout', { method: 'POST', headers: { cookie, origin: 'http://localhost' } }))
      .status,
    204,
  );

  const key = await createApiKey(t.deps, 'shop', 'marketer', ['events:write'], 'cli:ops');
  assert.equal(await revokeKey(t.deps, key.id, 'cli:ops'), true);

  await ingestEvents(
    t.deps,
    [
      { id: 'c1', type: 'customer.upsert', customer: { externalId: 'C1', email: 'c1@example.com' }, name: 'Cleo' },
      { id: 'k1', type: 'consent', customer: { externalId: 'C1' }, at: '2026-01-01T00:00:00Z', granted: true },
    ],
    { source: 'api:shop' },
  );

  const upload = await expectJson(
    t.call(
      'POST',
      '/api/v1/imports?kind=customers&fileName=list.csv&map=id=ref,email=mail',
      'ref,mail\nC2,c2@example.com\nC3,not-an-email\n',
      { 'content-type': 'text/csv' },
    ),
    202,
  );
  await settleJobs();
  await (await t.call('GET', `/api/v1/imports/${upload.jobId}/rejected`)).text();

  const log = (await entries()).reverse();
  const [customer] = await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = 'C1'`);
  assert.deepEqual(
    log.map((e) => [e.actor, e.action, e.target]),
    [
      ['system', 'key.created', 'key #1 test'], // the test's own key
      ['cli:ops', 'user.created', 'rosa@example.com'],
      ['rosa@example.com', 'login.failed', null],
      ['rosa@example.com', 'login', null],
      ['rosa@example.com', 'logout', null],
      ['cli:ops', 'key.created', `key #${key.id} shop`],
      ['cli:ops', 'key.revoked', `key #${key.id}`],
      ['api:shop', 'consent.granted', `customer #${Number(customer.id)}`],
      ['key:test', 'import.uploaded', 'customers from list.csv'],
      ['key:test', 'import.finished', 'customers from list.csv'],
      [
        'key:test',
        'export.rejected_rows',
        `import #${log.find((e) => e.action === 'import.finished')!.detail.importId}`,
      ],
    ],
  );
  assert.deepEqual(log[2].detail, { reason: 'wrong email or password' });
  assert.deepEqual(log[5].detail, { role: 'marketer', scopes: ['events:write'] });
  assert.deepEqual([log[9].detail.imported, log[9].detail.rejected], [1, 1]);

  // Filters: an action family, an actor, and paging by id.
  assert.deepEqual(
    (await entries('?action=login')).map((e) => e.action),
    ['login', 'login.failed'],
    'the family, not logout',
  );
  assert.deepEqual(
    (await entries('?actor=CLI:OPS')).map((e) => e.action),
    ['key.revoked', 'key.created', 'user.created'],
  );
  const [newest] = await entries('?limit=1');
  assert.equal((await entries(`?before=${newest.id}&limit=500`)).length, log.length - 1);
});

test('the log is append-only: the database refuses to change, remove or empty it', async () => {
  for (const statement of [
    sql`update audit_log set actor = 'someone else'`,
    sql`delete from audit_log`,
    sql`truncate audit_log`,
  ]) {
    await assert.rejects(t.deps.db.execute(statement), (error: unknown) => sqlStateOf(error) === '55000');
  }
  assert.ok((await entries()).length >= 10, 'nothing was lost');
});

test('the export is CSV a spreadsheet cannot run, and is itself recorded', async () => {
  assert.equal((await signIn('=HYPERLINK("https://evil.example")', 'x')).status, 401);
  const response = await t.call('GET', '/api/v1/audit.csv?action=login');
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-disposition')!, /kept-audit\.csv/);
  const rows = parse(await response.text(), { columns: true }) as Record<string, string>[];
  assert.deepEqual(
    rows.map((r) => [r.actor, r.action]),
    [
      ['\'=hyperlink("https://evil.example")', 'login.failed'],
      ['rosa@example.com', 'login'],
      ['rosa@example.com', 'login.failed'],
    ],
  );
  const [exported] = await entries('?action=export.audit');
  assert.deepEqual([exported.actor, exported.target, exported.detail], ['key:test', '3 entries', { action: 'login' }]);
  assert.equal((await t.call('GET', '/api/v1/audit.csv?before=soon')).status, 400);
});
