// One person, one customer: a duplicate found later is merged, losing nothing; a clash stops it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';

let t: TestApp;
const idOf = async (externalOrEmail: string) =>
  Number(
    (
      await queryRows<{ id: number }>(
        t.deps.db,
        sql`
  select customer_id as id from identities where value = ${externalOrEmail}`,
      )
    )[0]?.id ?? 0,
  );
before(async () => {
  t = await createTestApp('agent');
  const a = { externalId: 'A-1', email: 'ada@example.com' };
  const b = { email: 'ada.byron@example.com', phone: '+44 20 7946 0111' };
  const stored = await ingestEvents(
    t.deps,
    [
      { id: 'a', type: 'customer.upsert', customer: a, name: 'Ada Byron', attributes: { tier: 'gold' } },
      {
        id: 'a1',
        type: 'order',
        customer: a,
        orderId: 'O-1',
        at: '2026-01-02T10:00:00Z',
        lines: [{ amount: '30.00' }],
      },
      { id: 'ak', type: 'consent', customer: a, at: '2026-01-01T00:00:00Z', granted: true },
      {
        id: 'b',
        type: 'customer.upsert',
        customer: b,
        name: 'A. Byron',
        attributes: { tier: 'silver', shoe_size: 38 },
      },
      {
        id: 'b1',
        type: 'order',
        customer: b,
        orderId: 'O-2',
        at: '2026-02-02T10:00:00Z',
        lines: [{ amount: '20.00' }],
      },
      {
        id: 'b2',
        type: 'order',
        customer: b,
        orderId: 'O-3',
        at: '2026-03-02T10:00:00Z',
        lines: [{ amount: '12.50' }],
      },
      {
        id: 'bt',
        type: 'ticket.opened',
        customer: b,
        ticketId: 'T-1',
        at: '2026-03-03T10:00:00Z',
        subject: 'Late parcel',
      },
      { id: 'bf', type: 'status.change', customer: b, at: '2026-03-04T10:00:00Z', flag: 'moved', active: true },
      { id: 'bk', type: 'consent', customer: b, list: 'recipes', at: '2026-03-01T00:00:00Z', granted: true },
      {
        id: 'c',
        type: 'order',
        customer: { externalId: 'C-1' },
        orderId: 'SAME',
        at: '2026-01-05T10:00:00Z',
        lines: [{ amount: '5.00' }],
      },
      {
        id: 'd',
        type: 'order',
        customer: { externalId: 'D-1' },
        orderId: 'SAME',
        at: '2026-01-05T10:00:00Z',
        lines: [{ amount: '5.00' }],
      },
    ],
    { source: 'test' },
  );
  assert.equal(stored.rejected, 0);
});
after(async () => {
  await t.close();
});

test('merging moves every record of the duplicate to the customer kept, fills the profile, recomputes the facts, and the duplicate is gone', async () => {
  const [ada, byron] = [await idOf('A-1'), await idOf('ada.byron@example.com')];
  const merged = await expectJson(t.call('POST', `/api/v1/customers/${ada}/merge`, { from: byron }));
  assert.deepEqual(
    [
      merged.into,
      merged.from,
      merged.moved.orders,
      merged.moved.order_lines,
      merged.moved.tickets,
      merged.moved.identities,
    ],
    [ada, byron, 2, 2, 1, 2],
  );

  const record = await expectJson(t.call('GET', `/api/v1/customers/${ada}`));
  assert.deepEqual(
    [record.name, record.email, record.phone, record.externalId],
    ['Ada Byron', 'ada@example.com', '+442079460111', 'A-1'],
  );
  assert.deepEqual(
    record.attributes.map((a: { key: string; value: unknown }) => [a.key, a.value]),
    [
      ['shoe_size', 38],
      ['tier', 'gold'],
    ],
    "the kept customer's values win; the duplicate's others come along",
  );
  assert.deepEqual(
    [record.totals.orders, record.purchaseDays, record.stage, record.flags],
    [3, 3, 'customer', ['moved']],
  );
  const [facts] = await queryRows<{ order_count: number; spend: string; consent: Record<string, boolean> }>(
    t.deps.db,
    sql`select order_count, spend::text, consent from customers where id = ${ada}`,
  );
  assert.deepEqual(facts, { order_count: 3, spend: '62.50', consent: { marketing: true, recipes: true } });
  const timeline = await expectJson(t.call('GET', `/api/v1/customers/${ada}/timeline?kind=ticket`));
  assert.equal(timeline.entries.length, 1);
  assert.equal((await t.call('GET', `/api/v1/customers/${byron}`)).status, 404);

  // From now on the duplicate's email and phone find the customer kept.
  const next = await ingestEvents(
    t.deps,
    [
      {
        id: 'later',
        type: 'note',
        customer: { email: 'ada.byron@example.com' },
        at: '2026-04-01T10:00:00Z',
        body: 'Called',
      },
    ],
    { source: 'test' },
  );
  assert.equal(next.results[0].customerId, ada);
  const [entry] = (await expectJson(t.call('GET', '/api/v1/customers?q=ada'))).customers;
  assert.equal(entry.id, ada);
  const [{ n }] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select count(*)::int as n from audit_log where action = 'customer.merged' and target = ${`customer #${ada}`} and (detail ->> 'from')::bigint = ${byron}`,
  );
  assert.equal(n, 1);
});

test('two customers holding the same order id are not merged: 409 names the clash and nothing changes', async () => {
  const [c, d] = [await idOf('C-1'), await idOf('D-1')];
  const refused = await t.call('POST', `/api/v1/customers/${c}/merge`, { from: d });
  assert.equal(refused.status, 409);
  assert.match((await refused.json()).error.message, /orders .*orders_external_key.*SAME.*Nothing was changed/);
  const owners = await queryRows<{ customer_id: number }>(
    t.deps.db,
    sql`select customer_id from orders where external_id = 'SAME' order by customer_id`,
  );
  assert.deepEqual(
    owners.map((o) => Number(o.customer_id)),
    [c, d].sort((x, y) => x - y),
  );
  assert.equal((await t.call('POST', `/api/v1/customers/${c}/merge`, { from: c })).status, 400);
  assert.equal((await t.call('POST', `/api/v1/customers/${c}/merge`, { from: 999999 })).status, 404);
});
