// Editing a record (docs/record.md): each change lands once, with who and why, on the timeline and in
// the audit log; the same change by event lands the same way; a value another customer holds is refused.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import type { Role } from '../auth/auth.ts';
import { queryRows, sql } from '../db/connection.ts';
import { runImport } from '../imports/import.service.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';

let t: TestApp;
const keys = new Map<Role, string>();
let ana = 0;
let bob = 0;

const as = (role: Role, method: string, path: string, body?: unknown) =>
  t.app.request(path, {
    method,
    headers: { authorization: `Bearer ${keys.get(role)}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const ingest = (events: Record<string, unknown>[]) => ingestEvents(t.deps, events, { source: 'test' });
const edits = (customerId: number) =>
  queryRows<{ field: string; before: unknown; after: unknown; actor: string; reason: string | null }>(
    t.deps.db,
    sql`select field, before, after, actor, reason from record_edits where customer_id = ${customerId} order by id`,
  );
const audits = (action: string) =>
  queryRows<{ actor: string; target: string; detail: Record<string, unknown> }>(
    t.deps.db,
    sql`select actor, target, detail from audit_log where action = ${action} order by id`,
  );
const timeline = async (customerId: number) =>
  (
    (await expectJson(t.call('GET', `/api/v1/customers/${customerId}/timeline?kind=edit`))) as {
      entries: { title: string; detail: Record<string, unknown> }[];
    }
  ).entries;

before(async () => {
  t = await createTestApp('admin');
  for (const role of ['admin', 'marketer', 'agent', 'analyst'] as const)
    keys.set(role, (await createApiKey(t.deps, role, role)).key);
  const stored = await ingest([
    {
      id: 'a',
      type: 'customer.upsert',
      customer: { externalId: 'E-1', email: 'ana@exmaple.com', phone: '+49 30 1111111' },
      name: 'ana smith',
    },
    { id: 'b', type: 'customer.upsert', customer: { externalId: 'E-2', email: 'bob@example.com' }, name: 'Bob' },
  ]);
  [ana, bob] = stored.results.map((r) => r.customerId!);
});
after(() => t.close());

test('a marketer fixes a name and an email typo: the record, the edits, the audit log and the timeline say so', async () => {
  const record = await expectJson(
    as('marketer', 'PATCH', `/api/v1/customers/${ana}`, {
      name: 'Ana Smith',
      email: ' Ana@Example.com ',
      reason: 'typo fixed',
    }),
  );
  assert.equal(record.name, 'Ana Smith');
  assert.equal(record.email, 'ana@example.com');
  // The old email stays an identity: events naming it still find her.
  assert.deepEqual(
    record.identities
      .filter((i: { kind: string }) => i.kind === 'email')
      .map((i: { value: string }) => i.value)
      .sort(),
    ['ana@example.com', 'ana@exmaple.com'],
  );
  assert.deepEqual(await edits(ana), [
    { field: 'name', before: 'ana smith', after: 'Ana Smith', actor: 'key:marketer', reason: 'typo fixed' },
    {
      field: 'email',
      before: 'ana@exmaple.com',
      after: 'ana@example.com',
      actor: 'key:marketer',
      reason: 'typo fixed',
    },
  ]);
  const [entry] = await audits('customer.edited');
  assert.deepEqual(entry, {
    actor: 'key:marketer',
    target: `customer #${ana}`,
    detail: { fields: ['name', 'email'], reason: 'typo fixed' },
  });
  const titles = (await timeline(ana)).map((e) => e.title).sort();
  assert.deepEqual(titles, ['Email changed by key:marketer: typo fixed', 'Name changed by key:marketer: typo fixed']);
  const email = (await timeline(ana)).find((e) => e.detail.field === 'email')!;
  assert.deepEqual(email.detail, {
    field: 'email',
    before: 'ana@exmaple.com',
    after: 'ana@example.com',
    actor: 'key:marketer',
    reason: 'typo fixed',
  });
  const found = await ingest([
    { id: 'n1', type: 'note', customer: { email: 'ana@exmaple.com' }, at: '2026-03-01T10:00:00Z', body: 'called' },
  ]);
  assert.equal(found.results[0].customerId, ana);

  // The same values again change nothing and write nothing.
  await expectJson(
    as('marketer', 'PATCH', `/api/v1/customers/${ana}`, {
      name: 'Ana Smith',
      email: 'ana@example.com',
      reason: 'again',
    }),
  );
  assert.equal((await edits(ana)).length, 2);
  assert.equal((await audits('customer.edited')).length, 1);
});

test('an email another customer holds is refused with 409 naming that customer, and nothing changes', async () => {
  const response = await as('agent', 'PATCH', `/api/v1/customers/${ana}`, {
    name: 'Ana B. Smith',
    email: 'bob@example.com',
    reason: 'she said so',
  });
  const body = await response.json();
  assert.equal(response.status, 409, JSON.stringify(body));
  assert.match(body.error.message, new RegExp(`bob@example.com is already the email of customer #${bob}.*merge`));
  assert.equal(body.error.details.customerId, bob);
  assert.equal(body.error.details.issues[0].path, 'email');
  const record = await expectJson(t.call('GET', `/api/v1/customers/${ana}`));
  assert.equal(record.name, 'Ana Smith', 'the whole edit is refused');
  assert.equal(record.email, 'ana@example.com');
});

test('the same change by event lands the same way: contact.change with a reason, customer.upsert over a name', async () => {
  const stored = await ingest([
    {
      id: 'c1',
      type: 'contact.change',
      customer: { externalId: 'E-1' },
      at: '2026-03-02T09:00:00Z',
      phone: '+49 30 2222222',
      reason: 'new number from the shop',
    },
    {
      id: 'c2',
      type: 'contact.change',
      customer: { externalId: 'E-2' },
      at: '2026-03-02T09:00:00Z',
      email: 'ana@example.com',
    },
    { id: 'c3', type: 'contact.change', customer: { externalId: 'E-2' }, at: '2026-03-02T09:00:00Z' },
    { id: 'u1', type: 'customer.upsert', customer: { externalId: 'E-2' }, name: 'Robert' },
    { id: 'u2', type: 'customer.upsert', customer: { externalId: 'E-3' }, name: 'Cleo' },
  ]);
  assert.deepEqual(
    stored.results.map((r) => [r.status, r.errors?.[0].field]),
    [
      ['accepted', undefined],
      ['rejected', 'email'],
      ['rejected', 'email'],
      ['accepted', undefined],
      ['accepted', undefined],
    ],
  );
  assert.match(stored.results[1].errors![0].message, new RegExp(`customer #${ana}`));
  const record = await expectJson(t.call('GET', `/api/v1/customers/${ana}`));
  assert.equal(record.phone, '+49302222222');
  assert.deepEqual((await edits(ana)).at(-1), {
    field: 'phone',
    before: '+49301111111',
    after: '+49302222222',
    actor: 'event c1',
    reason: 'new number from the shop',
  });
  const [phone] = (await timeline(ana)).filter((e) => e.detail.field === 'phone');
  assert.equal(phone.title, 'Phone changed by event c1: new number from the shop');
  // A door's change over a value that was there is kept; a new customer's first name is not an edit.
  assert.deepEqual(await edits(bob), [
    { field: 'name', before: 'Bob', after: 'Robert', actor: 'event u1', reason: null },
  ]);
  assert.deepEqual(await edits(stored.results[4].customerId!), []);
});

test('attributes are set and removed, typed; a new address is dated and the old one kept', async () => {
  await expectJson(
    as('marketer', 'PATCH', `/api/v1/customers/${bob}`, {
      attributes: { tier: 'gold', vip: true },
      acquisitionChannel: 'store',
      reason: 'from the loyalty desk',
    }),
  );
  const removed = await expectJson(
    as('admin', 'PATCH', `/api/v1/customers/${bob}`, { attributes: { tier: null }, reason: 'tier ended' }),
  );
  assert.deepEqual(
    removed.attributes.map((a: { key: string }) => a.key),
    ['vip'],
  );
  const wrongType = await expectJson(
    as('marketer', 'PATCH', `/api/v1/customers/${bob}`, { attributes: { vip: 'yes' }, reason: 'x' }),
    400,
  );
  assert.equal(wrongType.error.details.issues[0].path, 'attributes.vip');
  assert.deepEqual(
    (await edits(bob)).slice(1).map((e) => [e.field, e.before, e.after, e.actor]),
    [
      ['acquisition_channel', null, 'store', 'key:marketer'],
      ['attributes.tier', null, 'gold', 'key:marketer'],
      ['attributes.vip', null, true, 'key:marketer'],
      ['attributes.tier', 'gold', null, 'key:admin'],
    ],
  );

  await expectJson(
    as('agent', 'POST', `/api/v1/customers/${bob}/addresses`, {
      line1: 'Alte Str. 1',
      city: 'Berlin',
      postalCode: '10115',
      country: 'de',
      validFrom: '2026-01-01T00:00:00Z',
      reason: 'first address on file',
    }),
  );
  const record = await expectJson(
    as('agent', 'POST', `/api/v1/customers/${bob}/addresses`, {
      line1: 'Neue Str. 2',
      city: 'Hamburg',
      postalCode: '20095',
      country: 'DE',
      reason: 'moved, told us on the phone',
    }),
  );
  const [newer, older] = record.addresses;
  assert.deepEqual(
    [newer.line1, newer.current, older.line1, older.current, older.validTo === newer.validFrom],
    ['Neue Str. 2', true, 'Alte Str. 1', false, true],
  );
  const moved = (await edits(bob)).at(-1)!;
  assert.deepEqual(moved, {
    field: 'address.postal',
    before: { line1: 'Alte Str. 1', line2: null, city: 'Berlin', region: null, postalCode: '10115', country: 'DE' },
    after: { line1: 'Neue Str. 2', city: 'Hamburg', postalCode: '20095', country: 'DE' },
    actor: 'key:agent',
    reason: 'moved, told us on the phone',
  });
  assert.deepEqual(
    (await audits('customer.address_added')).map((a) => a.detail.reason),
    ['first address on file', 'moved, told us on the phone'],
  );
  assert.ok(
    (await timeline(bob)).some((e) => e.title === 'Postal address changed by key:agent: moved, told us on the phone'),
  );
  // The same address again is no change; one in the future or before the current one is refused.
  const before = (await edits(bob)).length;
  await expectJson(
    as('agent', 'POST', `/api/v1/customers/${bob}/addresses`, {
      line1: 'Neue Str. 2',
      city: 'Hamburg',
      postalCode: '20095',
      country: 'DE',
      reason: 'again',
    }),
  );
  assert.equal((await edits(bob)).length, before);
  for (const validFrom of ['2999-01-01T00:00:00Z', '2025-01-01T00:00:00Z']) {
    const refused = await expectJson(
      as('agent', 'POST', `/api/v1/customers/${bob}/addresses`, { line1: 'X', validFrom, reason: 'x' }),
      400,
    );
    assert.equal(refused.error.details.issues[0].path, 'validFrom');
  }
});

test('who may edit what: agents correct contact details and addresses, not attributes; analysts nothing', async () => {
  const patch = (role: Role, body: Record<string, unknown>) =>
    as(role, 'PATCH', `/api/v1/customers/${bob}`, { ...body, reason: 'checking roles' });
  assert.equal((await patch('agent', { name: 'Robert B.', phone: '+49 40 3333333' })).status, 200);
  const attributes = await expectJson(patch('agent', { attributes: { vip: false } }), 403);
  assert.match(attributes.error.message, /custom attributes needs the role admin or marketer; you have the role agent/);
  assert.equal((await patch('agent', { acquisitionChannel: 'web' })).status, 403);
  assert.equal((await patch('marketer', { attributes: { vip: false } })).status, 200);
  assert.equal((await patch('analyst', { name: 'X' })).status, 403);
  assert.equal(
    (await as('analyst', 'POST', `/api/v1/customers/${bob}/addresses`, { line1: 'Y', reason: 'x' })).status,
    403,
  );
});

test('bad input is refused naming the field; a malformed or unknown id is 400 or 404', async () => {
  const cases: [unknown, string][] = [
    [{ email: 'ana@example', reason: 'x' }, 'email'],
    [{ phone: '12', reason: 'x' }, 'phone'],
    [{ name: 'Ana' }, 'reason'],
    [{ name: 'Ana', reason: ' ' }, 'reason'],
    [{ reason: 'nothing' }, 'body'],
    [{ attributes: { 'Bad Key': 1 }, reason: 'x' }, 'attributes.Bad Key'],
  ];
  for (const [body, field] of cases) {
    const refused = await expectJson(t.call('PATCH', `/api/v1/customers/${ana}`, body), 400);
    assert.ok(
      refused.error.details.issues.some((i: { path: string }) => i.path === field),
      `${JSON.stringify(body)}: ${JSON.stringify(refused.error)}`,
    );
  }
  await expectJson(t.call('PATCH', '/api/v1/customers/abc', { name: 'A', reason: 'x' }), 400);
  await expectJson(t.call('PATCH', '/api/v1/customers/999999', { name: 'A', reason: 'x' }), 404);
  await expectJson(t.call('POST', '/api/v1/customers/999999/addresses', { line1: 'A', reason: 'x' }), 404);
  const noLine = await expectJson(t.call('POST', `/api/v1/customers/${ana}/addresses`, { reason: 'x' }), 400);
  assert.equal(noLine.error.details.issues[0].path, 'line1');
});

test('a customers file keeps as edits only the values it overwrites, with the import as the actor', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-edit-import-'));
  const file = path.join(work, 'customers.csv');
  fs.writeFileSync(file, 'id,email,name,tier\nE-2,,Bobby,silver\nE-9,new@example.com,Nina,gold\n');
  try {
    const outcome = await runImport(t.deps, { kind: 'customers', file, map: {}, encoding: 'utf-8' });
    assert.equal(outcome.counts.rejected, 0);
    const [{ id: importId }] = await queryRows<{ id: number }>(t.deps.db, sql`select max(id)::int as id from imports`);
    const fromFile = (await edits(bob)).filter((e) => e.actor === `import:${importId}`);
    assert.deepEqual(
      fromFile.map((e) => [e.field, e.before, e.after]),
      [['name', 'Robert B.', 'Bobby']],
      'the first tier of E-2 is no edit; the name over an old one is',
    );
    const [nina] = await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = 'E-9'`);
    assert.deepEqual(await edits(Number(nina.id)), []);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
