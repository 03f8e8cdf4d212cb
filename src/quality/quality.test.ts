// Entry checks stored with the record (by event and by CSV import), cleared when fixed; the
// data-quality page's counts, score, customers per problem and one snapshot a day.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { runImport } from '../imports/import.service.ts';
import { takeQualitySnapshot } from './index.ts';
import type { QualityCustomers, QualityReport } from './quality.ts';

let t: TestApp;
let work: string;
const idOf = async (externalId: string) =>
  Number(
    (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = ${externalId}`))[0]
      ?.id ?? 0,
  );
const send = (events: unknown[]) => expectJson(t.call('POST', '/api/v1/events', { events }));
const warningsOf = async (externalId: string) =>
  (await expectJson(t.call('GET', `/api/v1/customers/${await idOf(externalId)}`))).warnings as {
    field: string;
    code: string;
    message: string;
    suggestion: string | null;
  }[];

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-quality-'));
  t = await createTestApp('admin', { defaultCountry: 'DE', dataDir: work });
});
after(async () => {
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('an event stores the warnings with the record, in words with the suggestion; fixing the value clears them', async () => {
  await send([
    {
      id: 'q1',
      type: 'customer.upsert',
      customer: { externalId: 'Q-1', email: 'anna@exmaple.com', phone: '030 12' },
      name: 'ANNA KELLER',
      attributes: { birth_date: '2031-01-01' },
      address: { line1: 'Invalidenstraße 1', postalCode: '10 115', city: 'Berlin', country: 'DE' },
    },
    {
      id: 'q2',
      type: 'customer.upsert',
      customer: { externalId: 'Q-2', email: 'ben@example.com', phone: '+49 30 901820' },
      name: 'Ben Fischer',
      address: { line1: 'Hauptstraße 2', postalCode: '10115', city: 'Berlin', country: 'DE' },
    },
  ]);
  assert.deepEqual(await warningsOf('Q-1'), [
    {
      field: 'attributes.birth_date',
      code: 'date_range',
      message: 'birth_date 2031-01-01 is a birth date in the future',
      suggestion: null,
    },
    {
      field: 'email',
      code: 'email_typo',
      message: 'exmaple.com looks like a typo of example.com',
      suggestion: 'anna@exmaple.com'.replace('exmaple', 'example'),
    },
    { field: 'name', code: 'name_case', message: 'The name ANNA KELLER is all capitals', suggestion: 'Anna Keller' },
    { field: 'phone', code: 'phone_invalid', message: '+493012 is not a valid German number', suggestion: null },
    {
      field: 'postal_code',
      code: 'postcode_format',
      message: '10 115 is not a German postcode (five digits)',
      suggestion: '10115',
    },
  ]);
  assert.deepEqual(await warningsOf('Q-2'), []);

  // Another helper's check writes address_review; the entry checks keep it when they rewrite.
  await t.deps.db.execute(sql`insert into record_warnings (customer_id, field, code, message)
    values (${await idOf('Q-1')}, 'address', 'address_review', 'The address may be old: review it')`);
  const [before] = await queryRows<{ found_at: string }>(
    t.deps.db,
    sql`select found_at::text from record_warnings where customer_id = ${await idOf('Q-1')} and code = 'phone_invalid'`,
  );
  // The name and postcode fixed (a new address): those warnings go, the others stay as first found.
  await send([
    {
      id: 'q1-fix',
      type: 'customer.upsert',
      customer: { externalId: 'Q-1' },
      name: 'Anna Keller',
      attributes: { birth_date: '1990-04-01' },
      address: { line1: 'Invalidenstraße 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
    },
  ]);
  assert.deepEqual(
    (await warningsOf('Q-1')).map((w) => w.code),
    ['address_review', 'email_typo', 'phone_invalid'],
  );
  const [kept] = await queryRows<{ found_at: string }>(
    t.deps.db,
    sql`select found_at::text from record_warnings where customer_id = ${await idOf('Q-1')} and code = 'phone_invalid'`,
  );
  assert.equal(kept.found_at, before.found_at);
});

test('a CSV import of customers stores the warnings of each row it created or changed', async () => {
  const file = path.join(work, 'customers.csv');
  fs.writeFileSync(
    file,
    [
      'id,email,name,phone,created_at,postal_code,country',
      'C-1,carla@gmial.com,carla rossi,,2024-01-05,1234,AT',
      'C-2,dora@example.com,Dora Lind,+46 8 123 456 78,2024-01-05,11455,SE',
      'C-3,eve@example.com,eve@example.com,,2024-01-05,SW1A 1AA,GB',
    ].join('\n'),
  );
  const outcome = await runImport(t.deps, { kind: 'customers', file, map: {}, encoding: 'utf-8' });
  assert.equal(outcome.counts.imported, 3);
  assert.deepEqual(
    (await warningsOf('C-1')).map((w) => [w.code, w.suggestion]),
    [
      ['email_typo', 'carla@gmail.com'],
      ['name_case', 'Carla Rossi'],
    ],
  );
  assert.deepEqual(
    (await warningsOf('C-2')).map((w) => [w.code, w.message, w.suggestion]),
    [['postcode_format', '11455 is not a Swedish postcode (three digits, a space and two, like 114 55)', '114 55']],
  );
  assert.deepEqual(
    (await warningsOf('C-3')).map((w) => w.message),
    ['The name eve@example.com is an email address'],
  );
  // The same file again changes nothing and keeps the warnings.
  await runImport(t.deps, { kind: 'customers', file, map: {}, encoding: 'utf-8' });
  assert.equal((await warningsOf('C-1')).length, 2);
});

test('the data-quality page counts customers per problem, scores the share without any, and lists them', async () => {
  const q1 = await idOf('Q-1');
  const q2 = await idOf('Q-2');
  const c2 = await idOf('C-2');
  await send([
    {
      id: 'q2-moved',
      type: 'status.change',
      customer: { externalId: 'Q-2' },
      at: '2026-03-04T10:00:00Z',
      flag: 'moved',
      active: true,
    },
    { id: 'c2-consent', type: 'consent', customer: { externalId: 'C-2' }, at: '2026-01-01T00:00:00Z', granted: true },
    { id: 'c3-consent', type: 'consent', customer: { externalId: 'C-3' }, at: '2026-01-01T00:00:00Z', granted: false },
  ]);
  await t.deps.db.execute(
    sql`insert into email_suppressions (email, reason, at) values ('dora@example.com', 'hard_bounce', '2026-05-01T00:00:00Z')`,
  );
  await t.deps.db.execute(sql`insert into duplicate_pairs (first_id, second_id, score, evidence, status)
    values (${Math.min(q1, c2)}, ${Math.max(q1, c2)}, 0.91, '["same phone"]'::jsonb, 'open'),
      (${Math.min(q2, c2)}, ${Math.max(q2, c2)}, 0.5, '[]'::jsonb, 'distinct')`);

  const report = (await expectJson(t.call('GET', '/api/v1/quality'))) as QualityReport;
  const counts = Object.fromEntries(report.problems.map((p) => [p.code, p.customers]));
  assert.deepEqual(counts, {
    duplicate: 2,
    stale_address: 2,
    bounced: 1,
    phone_invalid: 1,
    email_typo: 2,
    email_invalid: 0,
    postcode_format: 1,
    name_case: 1,
    name_form: 1,
    date_range: 0,
    missing_consent: 3,
  });
  // Five customers, every one with some problem: Q-1, Q-2 (moved), C-1, C-2 (bounced), C-3.
  assert.equal(report.customers, 5);
  assert.equal(report.clean, 0);
  assert.equal(report.score, 0);
  assert.ok(report.problems.every((p) => p.label && p.about));

  // C-2 fixed: postcode in its written form, bounce cleared, pair decided: 1 of 5 clean.
  await send([
    {
      id: 'c2-fix',
      type: 'address.change',
      customer: { externalId: 'C-2' },
      at: '2026-06-01T00:00:00Z',
      address: { line1: 'Drottninggatan 1', postalCode: '114 55', city: 'Stockholm', country: 'SE' },
    },
  ]);
  await t.deps.db.execute(sql`delete from email_suppressions`);
  await t.deps.db.execute(sql`update duplicate_pairs set status = 'distinct'`);
  const fixed = (await expectJson(t.call('GET', '/api/v1/quality'))) as QualityReport;
  assert.equal(fixed.clean, 1);
  assert.equal(fixed.score, 20);

  const typos = (await expectJson(
    t.call('GET', '/api/v1/quality/customers?problem=email_typo&pageSize=1'),
  )) as QualityCustomers;
  assert.equal(typos.total, 2);
  assert.deepEqual(typos.customers, [
    {
      id: q1,
      externalId: 'Q-1',
      name: 'Anna Keller',
      email: 'anna@exmaple.com',
      message: 'exmaple.com looks like a typo of example.com',
      suggestion: 'anna@example.com',
    },
  ]);
  const page2 = (await expectJson(
    t.call('GET', '/api/v1/quality/customers?problem=email_typo&pageSize=1&page=2'),
  )) as QualityCustomers;
  assert.equal(page2.customers[0].externalId, 'C-1');
  const stale = (await expectJson(
    t.call('GET', '/api/v1/quality/customers?problem=stale_address'),
  )) as QualityCustomers;
  assert.deepEqual(
    stale.customers.map((c) => [c.externalId, c.message]),
    [
      ['Q-1', 'The address may be old: review it'],
      ['Q-2', 'Marked moved: the current address is no longer theirs'],
    ],
  );
  const consent = (await expectJson(
    t.call('GET', '/api/v1/quality/customers?problem=missing_consent'),
  )) as QualityCustomers;
  assert.deepEqual(consent.customers.map((c) => c.externalId).sort(), ['C-1', 'Q-1', 'Q-2']);

  const bad = await expectJson(t.call('GET', '/api/v1/quality/customers?problem=nonsense'), 400);
  assert.equal(bad.error.details.issues[0].path, 'problem');
});

test('one snapshot a day: taken by the first look, replaced by the analysis, a new row the next day', async () => {
  const rows = () =>
    queryRows<{ day: string; score: string }>(
      t.deps.db,
      sql`select day, score::text as score from quality_snapshots order by day`,
    );
  // The earlier tests' looks took today's snapshot once (score 0); later looks do not replace it.
  const today = await rows();
  assert.equal(today.length, 1);
  assert.equal(Number(today[0].score), 0);
  await takeQualitySnapshot(t.deps);
  assert.deepEqual(
    (await rows()).map((r) => Number(r.score)),
    [20],
  );
  const tomorrow = { ...t.deps, clock: { now: () => new Date(Date.now() + 86_400_000) } };
  await takeQualitySnapshot(tomorrow);
  const history = (await expectJson(t.call('GET', '/api/v1/quality'))) as QualityReport;
  assert.equal(history.history.length, 2);
  assert.deepEqual(
    history.history.map((h) => h.score),
    [20, 20],
  );
  assert.ok(history.history[0].day < history.history[1].day);
});

test('an agent may see the page; an analyst may not (it lists people by name)', async () => {
  const { createApiKey } = await import('../auth/auth.service.ts');
  const agent = await createApiKey(t.deps, 'agent', 'agent');
  const analyst = await createApiKey(t.deps, 'analyst', 'analyst');
  const as = (key: string) => t.app.request('/api/v1/quality', { headers: { authorization: `Bearer ${key}` } });
  assert.equal((await as(agent.key)).status, 200);
  assert.equal((await as(analyst.key)).status, 403);
});

test("the analysis job takes the day's snapshot again, replacing the earlier one", async () => {
  const { startJob, settleJobs, findJob } = await import('../jobs/job.service.ts');
  await t.deps.db.execute(sql`update quality_snapshots set score = 1, counts = '{}'::jsonb`);
  const jobId = await startJob(t.deps, 'analyze', {});
  await settleJobs();
  assert.equal((await findJob(t.deps, jobId))?.status, 'done', JSON.stringify(await findJob(t.deps, jobId)));
  const rows = await queryRows<{ score: string; counts: Record<string, number> }>(
    t.deps.db,
    sql`select score::text as score, counts from quality_snapshots where day = ${new Date().toISOString().slice(0, 10)}`,
  );
  assert.equal(Number(rows[0].score), 20);
  assert.equal(rows[0].counts.email_typo, 2);
});
