// P18: each class of data goes when its retention is over, and nothing younger goes with it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { loadConfig, retentionDefaults } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import { deadLetter } from '../ingest/ingest.repository.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { settleJobs } from '../jobs/job.service.ts';

let t: TestApp;
let work: string;
const now = Date.now();
const ago = (days: number) => new Date(now - days * 86_400_000).toISOString();
const n = async (query: ReturnType<typeof sql>) => (await queryRows<{ n: number }>(t.deps.db, query))[0].n;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-retention-'));
  t = await createTestApp('admin', { dataDir: work, retention: { ...retentionDefaults, inactive_customers: 730 } });
  const order = (id: string, who: string, days: number) => ({
    id,
    type: 'order' as const,
    customer: { externalId: who },
    orderId: id,
    at: ago(days),
    lines: [{ amount: '10.00' }],
  });
  const stored = await ingestEvents(
    t.deps,
    [
      order('o1', 'GONE', 1000),
      order('o2', 'GONE', 900),
      order('o3', 'BACK', 1000),
      order('o4', 'BACK', 100),
      { id: 'c1', type: 'customer.upsert', customer: { externalId: 'TALKS' }, createdAt: ago(1000) },
      order('o5', 'TALKS', 1000),
      { id: 'n1', type: 'note', customer: { externalId: 'TALKS' }, at: ago(10), body: 'Called about a gift' },
    ],
    { source: 'test' },
  );
  assert.equal(stored.rejected, 0);
  await t.deps.db.execute(sql`update customers set created_at = ${ago(1000)}::timestamptz`);

  await t.deps.db.execute(
    sql`insert into sessions (token_hash, user_id, expires_at) values ('old', 1, ${ago(31)}::timestamptz), ('recent', 1, ${ago(29)}::timestamptz)`,
  );
  for (const [subject, days] of [
    ['old mail', 91],
    ['new mail', 89],
  ] as const) {
    await t.deps.db.execute(
      sql`insert into captured_mail (at, "to", subject, headers, html, text) values (${ago(days)}::timestamptz, 'a@example.com', ${subject}, '{}'::jsonb, '', '')`,
    );
  }
  await deadLetter(t.deps.db, { source: 'test', eventId: 'old', payload: {}, reason: 'x' });
  await deadLetter(t.deps.db, { source: 'test', eventId: 'new', payload: {}, reason: 'x' });
  await t.deps.db.execute(sql`update dead_letters set created_at = ${ago(366)}::timestamptz where event_id = 'old'`);

  // An upload and its rejected rows, 31 days old; a rejected-rows file a person chose outside the data folder is theirs.
  fs.mkdirSync(path.join(work, 'uploads'));
  const upload = path.join(work, 'uploads', 'old.csv');
  const rejected = path.join(work, 'imports-1-rejected.csv');
  const theirs = path.join(os.tmpdir(), `kept-theirs-${process.pid}.csv`);
  for (const file of [upload, rejected, theirs]) fs.writeFileSync(file, 'x\n');
  const [{ id: job }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`insert into jobs (kind, status, payload, finished_at)
    values ('import', 'done', ${JSON.stringify({ file: upload })}::jsonb, ${ago(31)}::timestamptz) returning id`,
  );
  await t.deps.db.execute(
    sql`insert into jobs (kind, status, payload, finished_at) values ('analysis', 'done', '{}'::jsonb, ${ago(91)}::timestamptz), ('analysis', 'done', '{}'::jsonb, ${ago(89)}::timestamptz)`,
  );
  await t.deps.db.execute(sql`insert into imports (kind, file_name, file_size, file_hash, options, status, job_id, rejected_file, finished_at) values
    ('orders', 'old.csv', 2, 'h1', '{}'::jsonb, 'done', ${job}, ${rejected}, ${ago(31)}::timestamptz),
    ('orders', 'mine.csv', 2, 'h2', '{}'::jsonb, 'done', null, ${theirs}, ${ago(31)}::timestamptz)`);

  // Two analyses: the older one's scores are history, the latest is always kept.
  await analyze(t.deps, { asOf: ago(400).slice(0, 10) });
  await analyze(t.deps, {});
  await t.deps.db.execute(
    sql`update analysis_runs set started_at = ${ago(401)}::timestamptz where id = (select min(id) from analysis_runs)`,
  );
  // A subscriber's churn score from each analysis (of the customer who ordered last, who stays): the
  // older one goes with its run's scores.
  await t.deps.db.execute(
    sql`insert into churn_scores (run_id, customer_id, subscription_id, probability, factors)
      select id, (select customer_id from orders order by ordered_at desc limit 1), 'sub-1', 0.5, '{}' from analysis_runs`,
  );
  await t.deps.db.execute(
    sql`update ingested_events set received_at = ${ago(401)}::timestamptz where event_id in ('o1', 'o3')`,
  );
  // A note left behind by a writer that raced an erasure.
  await t.deps.db.execute(
    sql`insert into notes (customer_id, external_id, at, body) values (999999, 'orphan', now(), 'left behind')`,
  );
});
after(async () => {
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test('a sweep deletes each class past its days and nothing younger, audits the counts, and the Audit API shows them', async () => {
  const before = { runs: await n(sql`select count(distinct run_id)::int as n from scores`) };
  assert.equal(before.runs, 2);
  const { jobId } = await expectJson(t.call('POST', '/api/v1/retention/sweep'), 202);
  await settleJobs();
  const job = await expectJson(t.call('GET', `/api/v1/jobs/${jobId}`));
  assert.equal(job.status, 'done', job.error);
  const deleted = Object.fromEntries(
    (job.result.results as { class: string; deleted: number }[]).map((r) => [r.class, r.deleted]),
  );
  const customers = await queryRows<{ external_id: string }>(
    t.deps.db,
    sql`select external_id from customers order by external_id`,
  );
  assert.deepEqual(
    customers.map((c) => c.external_id),
    ['BACK', 'TALKS'],
    'GONE had nothing for two years; BACK ordered, TALKS was called',
  );
  assert.deepEqual(deleted, {
    sessions: 1,
    captured_mail: 1,
    dead_letters: 1,
    import_files: 2,
    jobs: 1,
    score_history: 3,
    event_ids: 2,
    webhook_deliveries: 0,
    inactive_customers: 1,
    orphans: 1,
  });
  assert.deepEqual(
    await queryRows(t.deps.db, sql`select token_hash from sessions where token_hash in ('old', 'recent')`),
    [{ token_hash: 'recent' }],
  );
  assert.equal(await n(sql`select count(*)::int as n from captured_mail where subject = 'new mail'`), 1);
  assert.equal(await n(sql`select count(distinct run_id)::int as n from scores`), 1, 'the latest analysis stays');
  assert.equal(
    await n(sql`select count(*)::int as n from churn_scores where run_id = (select max(id) from analysis_runs)`),
    1,
    "the latest analysis's churn score stays",
  );
  assert.equal(await n(sql`select count(*)::int as n from churn_scores`), 1, "the older analysis's churn score went");
  assert.equal(
    await n(sql`select count(*)::int as n from orders where customer_id not in (select id from customers)`),
    0,
  );
  assert.equal(await n(sql`select count(*)::int as n from notes where customer_id = 999999`), 0);
  assert.deepEqual(fs.readdirSync(path.join(work, 'uploads')), []);
  assert.ok(!fs.existsSync(path.join(work, 'imports-1-rejected.csv')));
  const theirs = path.join(os.tmpdir(), `kept-theirs-${process.pid}.csv`);
  assert.ok(fs.existsSync(theirs), "a file outside the data folder is not Kept's to delete");
  fs.rmSync(theirs);

  const view = await expectJson(t.call('GET', '/api/v1/retention'));
  assert.deepEqual(view.classes.find((c: { class: string }) => c.class === 'inactive_customers').days, 730);
  assert.deepEqual(view.sweeps[0].deleted, deleted);
  const again = await expectJson(t.call('POST', '/api/v1/retention/sweep'), 202);
  await settleJobs();
  const second = await expectJson(t.call('GET', `/api/v1/jobs/${again.jobId}`));
  assert.ok(
    (second.result.results as { deleted: number }[]).every((r) => r.deleted === 0),
    'a second sweep finds nothing more',
  );
});

test('KEPT_RETENTION sets days per class over the defaults, and a wrong class or number is refused with what is allowed', () => {
  const retention = (value: string) => loadConfig({}, { KEPT_RETENTION: value }).retention;
  assert.deepEqual(retention('captured_mail=30, inactive_customers=1095,jobs=never'), {
    ...retentionDefaults,
    captured_mail: 30,
    inactive_customers: 1095,
    jobs: null,
  });
  assert.throws(() => retention('mail=3'), /no data class "mail"; the classes are sessions, captured_mail/);
  assert.throws(() => retention('jobs=0'), /jobs must be a whole number of days \(at least 1\) or never, got "0"/);
});
