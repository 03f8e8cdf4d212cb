import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createApiKey } from '../auth/auth.service.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { steadyCustomerOrders } from '../../test/steady-customers.ts';
import { suggest, type WorklistFacts } from './worklist.ts';

const base: WorklistFacts = {
  stage: 'at_risk',
  pAlive: 0.3,
  valueAtStake: 400,
  expectedOrderValue: 60,
  averageDaysBetween: 20,
  daysSinceOrder: 95,
  openTicket: null,
  badExperience: null,
  unhappy: null,
};

test('the suggestion follows what the customer went through, then what is at stake', () => {
  assert.deepEqual(suggest({ ...base, openTicket: { id: 'T-9', category: 'late', openedDaysAgo: 12 } }, 25), {
    action: 'call',
    giftValue: null,
    reason:
      'ticket T-9 (late) open for 12 days: call and resolve it; usually orders every 20 days; 95 days since the last order; probability still active 0.30',
  });
  const wrong = suggest({ ...base, badExperience: { kind: 'wrong_item', orderId: 'O-3', daysAgo: 20 } }, 25);
  assert.equal(wrong.action, 'apology_replacement');
  assert.match(wrong.reason, /^wrong item on order O-3 20 days ago and no follow-up: apologise and replace it/);
  assert.equal(suggest({ ...base, unhappy: { what: 'answered nps 3', daysAgo: 5 } }, 25).action, 'call');
  assert.deepEqual(suggest(base, 25), {
    action: 'gift',
    giftValue: 6,
    reason:
      'worth 400.00 over the next year if they stay and nothing went wrong: a small unexpected gift of 6.00; usually orders every 20 days; 95 days since the last order; probability still active 0.30',
  });
  assert.equal(suggest({ ...base, expectedOrderValue: 900 }, 25).giftValue, 25, 'never over the allowance');
  assert.equal(suggest({ ...base, valueAtStake: 40 }, 25).action, 'nothing');
});

let t: TestApp;
const clock = () => t.deps.clock as { now: () => Date };
const setNow = (iso: string) => {
  clock().now = () => new Date(iso);
};
const idOf = async (externalId: string) =>
  (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = ${externalId}`))[0].id;

before(async () => {
  t = await createTestApp('agent', { care: { giftAllowance: 25, surveyLinkDays: 60 } });
  // 120 customers ordering every 20 days through 2025; C1-C40 stop in May.
  const events = steadyCustomerOrders(120, 40);
  events.push({
    id: 'inc',
    type: 'incident',
    customer: { externalId: 'C2' },
    at: '2025-12-20T10:00:00Z',
    kind: 'wrong_item',
    orderId: 'O2-7',
  });
  for (let i = 0; i < events.length; i += 2000)
    assert.equal((await ingestEvents(t.deps, events.slice(i, i + 2000), { source: 'test' })).rejected, 0);
  setNow('2026-01-10T12:00:00Z');
  await analyze(t.deps);
});
after(async () => {
  await t.close();
});

test('the worklist ranks customers at risk by value at stake x risk and says why, with a suggestion', async () => {
  const response = await t.call('GET', '/api/v1/worklist?limit=200');
  assert.equal(response.status, 200);
  const { items, giftAllowance } = await response.json();
  assert.equal(giftAllowance, 25);
  assert.ok(items.length >= 30, `the customers who stopped are on it: ${items.length}`);
  const [{ n }] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select count(*)::int as n from customers where stage in ('at_risk', 'lapsed')`,
  );
  assert.equal(items.length, n);
  for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].priority >= items[i].priority, 'sorted by priority');
  // queue=mine: the customers with an open ticket assigned to the caller (this API key, named key:test).
  const c5 = await idOf('C5');
  assert.equal(
    (await t.call('POST', `/api/v1/customers/${c5}/tickets`, { subject: 'Where is my parcel?', category: 'late' }))
      .status,
    201,
  );
  const mine = (await (await t.call('GET', '/api/v1/worklist?queue=mine')).json()).items;
  assert.deepEqual(
    mine.map((i: { customerId: number }) => i.customerId),
    [c5],
  );
  const wrong = items.find(
    (item: { suggestion: { action: string } }) => item.suggestion.action === 'apology_replacement',
  );
  assert.equal(wrong.customerId, await idOf('C2'));
  assert.match(wrong.suggestion.reason, /^wrong item on order O2-7 21 days ago and no follow-up/);
});

test('an agent accepts, changes or rejects a suggestion; each is kept with its reason and leaves the worklist', async () => {
  const c2 = await idOf('C2');
  const accepted = await t.call('POST', `/api/v1/worklist/${c2}/decisions`, { decision: 'accepted' });
  assert.equal(accepted.status, 201);
  assert.deepEqual(await accepted.json().then((b) => [b.action, b.needsApproval]), ['apology_replacement', false]);
  assert.equal(
    (await t.call('POST', `/api/v1/worklist/${c2}/decisions`, { decision: 'accepted' })).status,
    409,
    'decided once',
  );
  const timeline = await (await t.call('GET', `/api/v1/customers/${c2}/timeline?kind=decision`)).json();
  assert.match(timeline.entries[0].title, /^Worklist: key:test accepted apology replacement$/);
  assert.match(timeline.entries[0].detail.suggestionReason, /wrong item on order O2-7/);

  const c3 = await idOf('C3');
  const missing = await t.call('POST', `/api/v1/worklist/${c3}/decisions`, { decision: 'rejected' });
  assert.equal(missing.status, 400);
  assert.match((await missing.json()).error.message, /Say why/);
  const gift = await t.call('POST', `/api/v1/worklist/${c3}/decisions`, {
    decision: 'changed',
    action: 'gift',
    giftValue: 40,
    reason: 'A loyal customer since 2019',
  });
  assert.equal(gift.status, 201);
  const giftBody = await gift.json();
  assert.deepEqual([giftBody.action, giftBody.giftValue, giftBody.needsApproval], ['gift', 40, true]);
  const { approvals } = await (await t.call('GET', '/api/v1/worklist/approvals')).json();
  assert.deepEqual(
    approvals.map((a: { customerId: number; giftValue: string }) => [a.customerId, a.giftValue]),
    [[c3, '40.00']],
  );
  assert.equal(
    (await t.call('POST', `/api/v1/worklist/${c3}/decisions/${giftBody.id}/approve`)).status,
    403,
    'an agent cannot approve',
  );
  const { key: adminKey } = await createApiKey(t.deps, 'boss', 'admin');
  assert.equal(
    (
      await t.call('POST', `/api/v1/worklist/${c3}/decisions/${giftBody.id}/approve`, undefined, {
        authorization: `Bearer ${adminKey}`,
      })
    ).status,
    204,
  );
  assert.deepEqual((await (await t.call('GET', '/api/v1/worklist/approvals')).json()).approvals, []);

  const left = (await (await t.call('GET', '/api/v1/worklist?limit=200')).json()).items.map(
    (i: { customerId: number }) => i.customerId,
  );
  assert.ok(!left.includes(c2) && !left.includes(c3));
});

test('a recorded contact with how the customer felt lands on the timeline, and outcomes compare decisions', async () => {
  const c4 = await idOf('C4');
  const contact = await t.call('POST', `/api/v1/customers/${c4}/contacts`, {
    channel: 'phone',
    summary: 'Moved house, will order again',
    feeling: 1,
  });
  assert.equal(contact.status, 201);
  const { entries } = await (await t.call('GET', `/api/v1/customers/${c4}/timeline?kind=note`)).json();
  assert.deepEqual(
    [entries[0].title, entries[0].detail.feeling, entries[0].channel],
    ['Note by key:test: We contacted them by phone: Moved house, will order again', 1, 'phone'],
  );
  assert.equal(
    (await t.call('POST', `/api/v1/customers/${c4}/contacts`, { channel: 'phone', summary: 'x', feeling: 3 })).status,
    400,
  );

  await t.call('POST', `/api/v1/worklist/${c4}/decisions`, { decision: 'rejected', reason: 'Spoke to them already' });
  // C2 (accepted) buys again a month later; C4 (rejected) does not.
  await ingestEvents(
    t.deps,
    [
      {
        id: 'back',
        type: 'order',
        customer: { externalId: 'C2' },
        orderId: 'O2-back',
        at: '2026-02-10T10:00:00Z',
        lines: [{ amount: '55.00' }],
      },
    ],
    { source: 'test' },
  );
  setNow('2026-04-15T12:00:00Z');
  const { outcomes } = await (await t.call('GET', '/api/v1/worklist/outcomes?days=90')).json();
  assert.deepEqual(outcomes, [
    { decision: 'accepted', decisions: 1, bought: 1, boughtShare: 1, revenue: '55.00' },
    { decision: 'changed', decisions: 1, bought: 0, boughtShare: 0, revenue: '0.00' },
    { decision: 'rejected', decisions: 1, bought: 0, boughtShare: 0, revenue: '0.00' },
  ]);
});
