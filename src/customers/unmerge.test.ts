// A merge can be undone within 30 days: both records come back as they were and every row goes back
// to its owner; what arrived for the customer kept after the merge stays with it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { allTables } from '../privacy/privacy.repository.ts';

let t: TestApp;
const idOf = async (value: string) =>
  Number(
    (
      await queryRows<{ id: number }>(t.deps.db, sql`select customer_id as id from identities where value = ${value}`)
    )[0]?.id ?? 0,
  );
/** Every row of every table, whole, but the merge records, the audit log (which record the merge and its undo) and the test's API key (its last use). */
async function everything(): Promise<Record<string, string[]>> {
  const dump: Record<string, string[]> = {};
  for (const table of await allTables(t.deps.db)) {
    if (['merges', 'audit_log', 'api_keys', '__drizzle_migrations'].includes(table)) continue;
    const rows = await queryRows<{ row: string }>(
      t.deps.db,
      sql`select to_jsonb(x)::text as row from ${sql.identifier(table)} x order by 1`,
    );
    dump[table] = rows.map((r) => r.row);
  }
  return dump;
}
const a = { externalId: 'A-1', email: 'ada@example.com' };
const b = { externalId: 'B-1', email: 'ada.byron@example.com', phone: '+44 20 7946 0111' };
const at = (day: number) => new Date(Date.UTC(2026, 0, day, 10)).toISOString();

before(async () => {
  t = await createTestApp('agent');
  const stored = await ingestEvents(
    t.deps,
    [
      { id: 'a', type: 'customer.upsert', customer: a, name: 'Ada Byron', attributes: { tier: 'gold' } },
      { id: 'a1', type: 'order', customer: a, orderId: 'O-1', at: at(2), lines: [{ amount: '30.00', product: 'Mug' }] },
      { id: 'ak', type: 'consent', customer: a, at: at(1), granted: true },
      {
        id: 'aa',
        type: 'address.change',
        customer: a,
        at: at(1),
        address: { kind: 'postal', line1: '1 Quay Street', city: 'Bristol', postalCode: 'BS1 4DJ', country: 'GB' },
      },
      {
        id: 'b',
        type: 'customer.upsert',
        customer: b,
        name: 'A. BYRON',
        attributes: { tier: 'silver', shoe_size: 38 },
      },
      {
        id: 'b1',
        type: 'order',
        customer: b,
        orderId: 'O-2',
        at: at(20),
        lines: [{ amount: '20.00' }, { amount: '4.00' }],
      },
      { id: 'b2', type: 'order', customer: b, orderId: 'O-3', at: at(40), lines: [{ amount: '12.50' }] },
      {
        id: 'br',
        type: 'return',
        customer: b,
        returnId: 'R-1',
        orderId: 'O-2',
        at: at(25),
        amount: '4.00',
        reason: 'broken',
      },
      { id: 'bt', type: 'ticket.opened', customer: b, ticketId: 'T-1', at: at(41), subject: 'Late parcel' },
      { id: 'bn', type: 'note', customer: b, at: at(42), body: 'Called back', feeling: -1 },
      { id: 'bf', type: 'status.change', customer: b, at: at(43), flag: 'undeliverable', active: true },
      { id: 'bk', type: 'consent', customer: b, list: 'recipes', at: at(3), granted: true },
      {
        id: 'bp',
        type: 'touchpoint',
        customer: b,
        at: at(21),
        channel: 'email',
        direction: 'out',
        kind: 'email_sent',
        campaign: 'Spring',
      },
    ],
    { source: 'test' },
  );
  assert.equal(stored.rejected, 0, JSON.stringify(stored.results.filter((r) => r.status === 'rejected')));
});
after(async () => {
  await t.close();
});

test('a merge and its undo leave every table as it was; an order that came after the merge stays with the customer kept', async () => {
  const [ada, byron] = [await idOf('A-1'), await idOf('B-1')];
  const [first, second] = ada < byron ? [ada, byron] : [byron, ada];
  await t.deps.db.execute(
    sql`insert into duplicate_pairs (first_id, second_id, score, evidence) values (${first}, ${second}, 0.9, '["same name"]'::jsonb)`,
  );
  const before = await everything();
  const merged = await expectJson(t.call('POST', `/api/v1/customers/${ada}/merge`, { from: byron }));
  assert.ok(merged.mergeId > 0);
  const during = await everything();
  assert.notDeepEqual(during, before);
  assert.deepEqual(
    (await queryRows<{ status: string }>(t.deps.db, sql`select status from duplicate_pairs`)).map((p) => p.status),
    ['merged'],
  );
  const [listed] = (await expectJson(t.call('GET', '/api/v1/merges'))).merges;
  assert.deepEqual(
    [listed.id, listed.into, listed.from, listed.fromName, listed.undoable],
    [merged.mergeId, ada, byron, 'A. BYRON', true],
  );

  const undone = await expectJson(t.call('POST', `/api/v1/merges/${merged.mergeId}/undo`));
  assert.deepEqual([undone.into, undone.from], [ada, byron]);
  assert.deepEqual(await everything(), before, 'every table as it was before the merge');
  assert.equal((await t.call('POST', `/api/v1/merges/${merged.mergeId}/undo`)).status, 409, 'undone already');
  const actions = await queryRows<{ action: string }>(
    t.deps.db,
    sql`select action from audit_log where action in ('customer.merged', 'customer.unmerged') order by id`,
  );
  assert.deepEqual(
    actions.map((r) => r.action),
    ['customer.merged', 'customer.unmerged'],
  );

  // Merged again; an order arrives for the customer kept; the undo leaves it there.
  const again = await expectJson(t.call('POST', `/api/v1/customers/${ada}/merge`, { from: byron }));
  const later = await ingestEvents(
    t.deps,
    [
      {
        id: 'late',
        type: 'order',
        customer: { email: 'ada.byron@example.com' },
        orderId: 'O-9',
        at: at(60),
        lines: [{ amount: '9.00' }],
      },
    ],
    { source: 'test' },
  );
  assert.equal(later.results[0].customerId, ada);
  await expectJson(t.call('POST', `/api/v1/merges/${again.mergeId}/undo`));
  const owners = await queryRows<{ external_id: string; customer_id: number }>(
    t.deps.db,
    sql`select external_id, customer_id from orders order by external_id`,
  );
  assert.deepEqual(
    owners.map((o) => [o.external_id, Number(o.customer_id)]),
    [
      ['O-1', ada],
      ['O-2', byron],
      ['O-3', byron],
      ['O-9', ada],
    ],
  );
  const record = await expectJson(t.call('GET', `/api/v1/customers/${byron}`));
  assert.deepEqual([record.name, record.externalId, record.flags], ['A. BYRON', 'B-1', ['undeliverable']]);
});

test('a merge older than 30 days cannot be undone; an unknown merge is 404', async () => {
  const [ada, byron] = [await idOf('A-1'), await idOf('B-1')];
  const merged = await expectJson(t.call('POST', `/api/v1/customers/${ada}/merge`, { from: byron }));
  await t.deps.db.execute(sql`update merges set at = at - interval '31 days' where id = ${merged.mergeId}`);
  const refused = await t.call('POST', `/api/v1/merges/${merged.mergeId}/undo`);
  assert.equal(refused.status, 409);
  assert.match((await refused.json()).error.message, /older than 30 days/);
  assert.equal((await t.call('POST', '/api/v1/merges/999999/undo')).status, 404);
  assert.equal((await t.call('POST', '/api/v1/merges/abc/undo')).status, 400);
});
