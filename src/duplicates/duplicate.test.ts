// The duplicate queue through the API: find, list with both records, decide (merge, not the same
// person, later), what a second run keeps, who may do what, and the audit trail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';

let t: TestApp;
let agentKey: string;
let analystKey: string;
const as = (key: string, method: string, path: string, body?: unknown) =>
  t.app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

const people = [
  ['K1', 'Anna Keller', 'anna.keller@example.com', '+493012345678', 'Hauptstrasse 5', '10115'],
  ['K2', 'Keller Anna', 'anna.keller+shop@example.com', undefined, 'Hauptstrasse 5', '10115'],
  ['K3', 'Ben Brandt', 'ben.brandt@example.com', '+494012345679', 'Gartenweg 9', '20095'],
  ['K4', 'Ben Brandt', 'ben.brandt@exmaple.com', '040 12345679', 'Gartenweg 9', '20095'],
  ['K5', 'Clara Vogel', 'clara@example.com', '+498912345670', 'Am Markt 1', '80331'],
  ['K6', 'C. Vogel', undefined, '0049 89 12345670', 'Am Markt 1', '80331'],
  ['K7', 'Clara Vogel', 'clara.v@post.example', '+493099999999', 'Am Markt 3', '80331'],
  ['K8', 'Peter Keller', 'peter.keller@example.com', undefined, 'Hauptstrasse 5', '10115'],
] as const;

before(async () => {
  t = await createTestApp('admin');
  agentKey = (await createApiKey(t.deps, 'agent', 'agent')).key;
  analystKey = (await createApiKey(t.deps, 'analyst', 'analyst')).key;
  const result = await ingestEvents(
    t.deps,
    people.map(([externalId, name, email, phone, line1, postalCode]) => ({
      id: `u-${externalId}`,
      type: 'customer.upsert',
      customer: { externalId, ...(email ? { email } : {}), ...(phone ? { phone } : {}) },
      name,
      address: { line1, postalCode, city: 'Berlin', country: 'DE' },
    })),
    { source: 'test' },
  );
  assert.ok(
    result.results.every((r) => r.status !== 'rejected'),
    JSON.stringify(result.results),
  );
});
after(() => t.close());

const pairsOf = (body: { pairs: { first: { externalId: string }; second: { externalId: string } }[] }) =>
  body.pairs.map((p) => `${p.first.externalId}-${p.second.externalId}`);

test('the finder proposes the planted pairs, not the same name at another address nor a family member, and the queue shows both records', async () => {
  const found = await expectJson(t.call('POST', '/api/v1/duplicates/find'));
  assert.equal(found.customers, people.length);
  assert.equal(found.found, 3);
  assert.equal(found.added, 3);
  const queue = await expectJson(as(agentKey, 'GET', '/api/v1/duplicates'));
  assert.deepEqual(pairsOf(queue).sort(), ['K1-K2', 'K3-K4', 'K5-K6']);
  assert.equal(queue.total, 3);
  // Highest score first; evidence in words; each side with its contacts and address.
  assert.ok(queue.pairs[0].score >= queue.pairs[2].score);
  const vogel = queue.pairs.find((p: { first: { externalId: string } }) => p.first.externalId === 'K5');
  assert.equal(vogel.score, 0.8);
  assert.deepEqual(vogel.evidence, [
    'same phone number',
    'same address and postcode',
    'same surname, first name given as an initial',
  ]);
  assert.equal(vogel.first.postalCode, '80331');
  assert.equal(vogel.first.line1, 'Am Markt 1');
  assert.equal(vogel.second.name, 'C. Vogel');
  assert.equal(vogel.status, 'open');
});

test('roles: agents review and decide, only marketers and admins run the finder, analysts see no queue', async () => {
  assert.equal((await as(agentKey, 'POST', '/api/v1/duplicates/find')).status, 403);
  assert.equal((await as(analystKey, 'GET', '/api/v1/duplicates')).status, 403);
  assert.equal((await as(agentKey, 'POST', '/api/v1/duplicates/1/abc', { decision: 'later' })).status, 400);
  assert.equal((await as(agentKey, 'POST', '/api/v1/duplicates/1/8', { decision: 'later' })).status, 404);
  const bad = await expectJson(as(agentKey, 'POST', '/api/v1/duplicates/1/2', { decision: 'maybe' }), 400);
  assert.equal(bad.error.details.issues[0].path, 'decision');
});

test('not the same person: the pair leaves the queue and a second run does not reopen it; later stays later', async () => {
  const ids = async (a: string, b: string) => {
    const rows = await queryRows<{ id: number }>(
      t.deps.db,
      sql`select id from customers where external_id in (${a}, ${b}) order by id`,
    );
    return rows.map((r) => r.id);
  };
  const [k3, k4] = await ids('K3', 'K4');
  // Either order of the two ids names the pair.
  assert.deepEqual(await expectJson(as(agentKey, 'POST', `/api/v1/duplicates/${k4}/${k3}`, { decision: 'distinct' })), {
    status: 'distinct',
  });
  const [k1, k2] = await ids('K1', 'K2');
  await expectJson(as(agentKey, 'POST', `/api/v1/duplicates/${k1}/${k2}`, { decision: 'later' }));
  assert.deepEqual(pairsOf(await expectJson(as(agentKey, 'GET', '/api/v1/duplicates'))), ['K5-K6']);
  assert.deepEqual(pairsOf(await expectJson(as(agentKey, 'GET', '/api/v1/duplicates?status=distinct'))), ['K3-K4']);
  const again = await expectJson(t.call('POST', '/api/v1/duplicates/find', { minScore: 0.6 }));
  assert.equal(again.added, 0);
  assert.equal(again.decided, 1);
  assert.equal(again.updated, 2);
  assert.deepEqual(pairsOf(await expectJson(as(agentKey, 'GET', '/api/v1/duplicates'))), ['K5-K6']);
  assert.deepEqual(pairsOf(await expectJson(as(agentKey, 'GET', '/api/v1/duplicates?status=later'))), ['K1-K2']);
  const [decided] = await queryRows<{ decided_by: string; n: number }>(
    t.deps.db,
    sql`select decided_by, (select count(*)::int from audit_log where action = 'duplicates.decided') as n from duplicate_pairs where status = 'distinct'`,
  );
  assert.equal(decided.decided_by, 'key:agent');
  assert.equal(decided.n, 2);
  // A higher bar removes open pairs below it, never decided ones.
  const strict = await expectJson(t.call('POST', '/api/v1/duplicates/find', { minScore: 0.9 }));
  assert.equal(strict.removed, 1);
  assert.deepEqual(pairsOf(await expectJson(as(agentKey, 'GET', '/api/v1/duplicates?status=distinct'))), ['K3-K4']);
  await expectJson(t.call('POST', '/api/v1/duplicates/find'));
});

test('merge from the queue keeps the chosen record, the other goes, and the pair is merged', async () => {
  const [k5, k6] = (
    await queryRows<{ id: number }>(
      t.deps.db,
      sql`select id from customers where external_id in ('K5', 'K6') order by id`,
    )
  ).map((r) => r.id);
  const before = await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from customers`);
  const merged = await expectJson(
    as(agentKey, 'POST', `/api/v1/duplicates/${k5}/${k6}`, { decision: 'merge', keep: k6 }),
  );
  assert.deepEqual(merged, { status: 'merged', kept: k6, removed: k5 });
  const after = await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from customers`);
  assert.equal(after[0].n, before[0].n - 1);
  const [kept] = await queryRows<{ email: string }>(t.deps.db, sql`select email from customers where id = ${k6}`);
  assert.equal(kept.email, 'clara@example.com');
  assert.deepEqual(pairsOf(await expectJson(as(agentKey, 'GET', '/api/v1/duplicates'))), []);
  // Decided once: a second decision is refused (409 while the pair is kept as merged, 404 once it is gone).
  const again = (await as(agentKey, 'POST', `/api/v1/duplicates/${k5}/${k6}`, { decision: 'merge' })).status;
  assert.ok(again === 409 || again === 404, String(again));
  const [entry] = await queryRows<{ detail: { decision: string; kept: number } }>(
    t.deps.db,
    sql`select detail from audit_log where action = 'duplicates.decided' order by id desc limit 1`,
  );
  assert.equal(entry.detail.decision, 'merge');
  assert.equal(entry.detail.kept, k6);
});
