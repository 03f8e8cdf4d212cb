import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import type { Deps } from '../deps.ts';
import { queryRows, sql } from '../db/connection.ts';
import { resolveCustomers } from './customer.repository.ts';
import { normaliseRef } from './identity.ts';
import { lifecycleTransitions, purchaseStage } from './lifecycle.ts';
import { refreshLifecycle } from './lifecycle.repository.ts';

let deps: Deps;
before(async () => {
  deps = await createTestDeps();
});
after(async () => {
  await deps.close();
});

const at = (iso: string) => new Date(iso);
const noOrders = {
  firstOrderAt: null,
  firstOrderId: null,
  secondDayAt: null,
  secondDayOrderId: null,
  lastOrderAt: null,
  lastOrderId: null,
};

test('purchase days decide prospect, trial and true customer', () => {
  assert.deepEqual([0, 1, 2, 7].map(purchaseStage), ['prospect', 'trial', 'customer', 'customer']);
});

test('a history arriving at once gives both transitions at the times they happened', () => {
  const transitions = lifecycleTransitions({
    stage: 'prospect',
    flags: [],
    previousOrderDays: 0,
    orderDays: 3,
    firstOrderAt: at('2025-01-05T10:00:00Z'),
    firstOrderId: 'A',
    secondDayAt: at('2025-02-01T09:00:00Z'),
    secondDayOrderId: 'B',
    lastOrderAt: at('2025-03-01T00:00:00Z'),
    lastOrderId: 'C',
  });
  assert.deepEqual(
    transitions.map((t) => [t.from, t.to, t.at.toISOString()]),
    [
      ['prospect', 'trial', '2025-01-05T10:00:00.000Z'],
      ['trial', 'customer', '2025-02-01T09:00:00.000Z'],
    ],
  );
  assert.match(transitions[1].cause, /second purchase day \(order B\)/);
});

test('a lapsed customer who buys again is won back, an at-risk one is a customer again; suppression wins over purchases', () => {
  const won = lifecycleTransitions({
    ...noOrders,
    stage: 'lapsed',
    flags: [],
    previousOrderDays: 4,
    orderDays: 5,
    lastOrderAt: at('2025-06-01T00:00:00Z'),
    lastOrderId: 'Z',
  });
  assert.deepEqual(
    won.map((t) => t.to),
    ['won_back'],
  );
  const resumed = lifecycleTransitions({
    ...noOrders,
    stage: 'at_risk',
    flags: [],
    previousOrderDays: 4,
    orderDays: 5,
    lastOrderAt: at('2025-06-01T00:00:00Z'),
    lastOrderId: 'Y',
  });
  assert.deepEqual(
    resumed.map((t) => [t.to, t.cause]),
    [['customer', 'ordered again (order Y): activity resumed']],
  );
  assert.deepEqual(
    lifecycleTransitions({
      ...noOrders,
      stage: 'best',
      flags: [],
      previousOrderDays: 4,
      orderDays: 5,
      lastOrderAt: at('2025-06-01T00:00:00Z'),
      lastOrderId: 'X',
    }),
    [],
    'a best customer buying stays best',
  );
  const suppressed = lifecycleTransitions({
    ...noOrders,
    stage: 'customer',
    flags: ['deceased'],
    previousOrderDays: 2,
    orderDays: 3,
    flagChange: { at: at('2025-01-01T00:00:00Z'), cause: 'deceased' },
  });
  assert.deepEqual(
    suppressed.map((t) => [t.to, t.cause]),
    [['suppressed', 'deceased']],
  );
  assert.deepEqual(
    lifecycleTransitions({ ...noOrders, stage: 'customer', flags: [], previousOrderDays: 2, orderDays: 2 }),
    [],
  );
});

test('one person, one customer: the same email, phone and id by several paths', async () => {
  const refs = [
    normaliseRef({ email: ' Ana@Example.COM ' }, 'US'),
    normaliseRef({ email: 'ana@example.com', phone: '(415) 555-0132' }, 'US'),
    normaliseRef({ externalId: 'C-9', phone: '+1 415 555 0132' }, 'US'),
    normaliseRef({ externalId: 'C-10' }, 'US'),
  ];
  const { ids, created } = await resolveCustomers(deps.db, refs, { source: 'test', createMissing: true });
  assert.equal(created.size, 2);
  assert.equal(ids[0], ids[1]);
  assert.equal(ids[1], ids[2]);
  assert.notEqual(ids[3], ids[0]);
  const [ana] = await queryRows<{ email: string; phone: string; external_id: string }>(
    deps.db,
    sql`select email, phone, external_id from customers where id = ${ids[0]}`,
  );
  assert.deepEqual(ana, { email: 'ana@example.com', phone: '+14155550132', external_id: 'C-9' });
  const { ids: again, created: none } = await resolveCustomers(
    deps.db,
    [normaliseRef({ externalId: 'C-10' }, 'US'), normaliseRef({ email: 'nobody@x.org' }, 'US')],
    { source: 'test', createMissing: false },
  );
  assert.deepEqual(again, [ids[3], null]);
  assert.equal(none.size, 0);
  const [{ n }] = await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from customers`);
  assert.equal(n, 2);
});

test('refreshLifecycle counts purchase days in the business time zone and records transitions once', async () => {
  const {
    ids: [id],
  } = await resolveCustomers(deps.db, [normaliseRef({ externalId: 'L-1' }, 'US')], {
    source: 'test',
    createMissing: true,
  });
  // Two orders on the same UTC day but, in Los Angeles, on different days; one more later.
  await deps.db.execute(sql`insert into orders (customer_id, external_id, ordered_at, total, source) values
    (${id}, 'o1', '2025-03-01T02:00:00Z', 10, 'test'), (${id}, 'o2', '2025-03-01T20:00:00Z', 10, 'test')`);
  const utc = await refreshLifecycle(deps.db, [id!], { timeZone: 'UTC' });
  assert.deepEqual(
    utc.map((w) => w.transition.to),
    ['trial'],
  );
  await deps.db.execute(sql`update customers set stage = 'prospect', order_days = 0 where id = ${id}`);
  await deps.db.execute(sql`delete from lifecycle_changes`);
  const la = await refreshLifecycle(deps.db, [id!], { timeZone: 'America/Los_Angeles' });
  assert.deepEqual(
    la.map((w) => [w.transition.to, w.transition.at.toISOString()]),
    [
      ['trial', '2025-03-01T02:00:00.000Z'],
      ['customer', '2025-03-01T20:00:00.000Z'],
    ],
  );
  assert.deepEqual(await refreshLifecycle(deps.db, [id!], { timeZone: 'America/Los_Angeles' }), []);
  const [row] = await queryRows<{ stage: string; order_days: number; changes: number }>(
    deps.db,
    sql`select stage, order_days, (select count(*)::int from lifecycle_changes where customer_id = ${id}) as changes from customers where id = ${id}`,
  );
  assert.deepEqual(row, { stage: 'customer', order_days: 2, changes: 2 });
});
