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
  pBuy90: 0.1,
  valueAtStake: 400,
  expectedOrderValue: 60,
  averageDaysBetween: 20,
  daysSinceOrder: 95,
  flags: [],
  openTicket: null,
  badExperience: null,
  unhappy: null,
  exitAnswer: null,
  problem: null,
  rule: null,
  uplift: null,
  upliftSource: null,
  incrementalValue: null,
};

test('the suggestion follows what the customer went through, then what is at stake', () => {
  assert.deepEqual(suggest({ ...base, openTicket: { id: 'T-9', category: 'late', openedDaysAgo: 12 } }, 25), {
    action: 'call',
    giftValue: null,
    reason:
      'ticket T-9 (late) open for 12 days: call and resolve it; usually orders every 20 days; 95 days since the last order; probability still active 0.30',
    ruleId: null,
  });
  const wrong = suggest({ ...base, badExperience: { kind: 'wrong_item', orderId: 'O-3', daysAgo: 20 } }, 25);
  assert.equal(wrong.action, 'apology_replacement');
  assert.match(wrong.reason, /^wrong item on order O-3 20 days ago and no follow-up: apologise and replace it/);
  assert.equal(suggest({ ...base, unhappy: { what: 'answered nps 3', daysAgo: 5 } }, 25).action, 'call');
  assert.deepEqual(suggest(base, 25), {
    action: 'gift',
    giftValue: 6,
    reason:
      'worth 400.00 over the next year if they stay, with no problem on record: a small unexpected gift of 6.00; usually orders every 20 days; 95 days since the last order; probability still active 0.30',
    ruleId: null,
  });
  assert.equal(suggest({ ...base, expectedOrderValue: 900 }, 25).giftValue, 25, 'never over the allowance');
  assert.equal(suggest({ ...base, valueAtStake: 40 }, 25).action, 'nothing');
});

test('the worklist listens: no gift to a moved address or after a complaint, exit answers heard, the gone and the sure left alone', () => {
  const moved = suggest({ ...base, flags: ['moved'] }, 25);
  assert.deepEqual([moved.action, moved.giftValue], ['call', null]);
  assert.match(moved.reason, /^address flagged moved: no gift by post/);
  const undeliverable = suggest(
    { ...base, flags: ['undeliverable'], rule: { id: 4, action: 'offer', text: 'x', experience: 'gift_received' } },
    25,
  );
  assert.equal(undeliverable.action, 'call', 'not even an approved offer goes to an undeliverable address');
  const exit = suggest({ ...base, exitAnswer: { answer: 'Nobody answered my emails', daysAgo: 12 } }, 25);
  assert.equal(exit.action, 'call');
  assert.match(exit.reason, /^told us why they stopped 12 days ago: "Nobody answered my emails": call to answer that/);
  const complained = suggest({ ...base, problem: { what: 'a late delivery on order O-4', daysAgo: 40 } }, 25);
  assert.equal(complained.action, 'gift');
  assert.match(
    complained.reason,
    /had a late delivery on order O-4 40 days ago: a small unexpected gift of 6.00 to make up for it/,
  );
  for (const s of [moved, exit, complained]) assert.doesNotMatch(s.reason, /nothing went wrong|no problem on record/);
  const gone = suggest({ ...base, pAlive: 0.02, uplift: 0, upliftSource: 'model', incrementalValue: -4 }, 25);
  assert.deepEqual(
    [gone.action, gone.reason.split(':')[0]],
    ['nothing', 'probably already gone (probability still active 0.02)'],
  );
  const sure = suggest(
    { ...base, pAlive: 0.9, pBuy90: 0.85, uplift: 0.001, upliftSource: 'model', incrementalValue: -3.6 },
    25,
  );
  assert.match(sure.reason, /^likely to buy anyway \(chance of an order in 90 days 0.85\)/);
  const moving = suggest({ ...base, uplift: 0.2, upliftSource: 'model', incrementalValue: 76 }, 25);
  assert.equal(moving.action, 'gift');
  assert.match(
    moving.reason,
    /expected to bring 74.00 more than doing nothing; a personal action raises their chance of buying by about 20 points/,
  );
  const late = { kind: 'late_delivery', orderId: 'O-1', daysAgo: 3 };
  const rule = {
    id: 7,
    action: 'call' as const,
    text: 'trial user + late delivery, no follow-up: 30 % buy again; followed up: 55 %',
    experience: 'late_delivery',
  };
  const ruled = suggest({ ...base, badExperience: late, rule }, 25);
  assert.deepEqual([ruled.action, ruled.ruleId], ['call', 7]);
  assert.match(
    ruled.reason,
    /late delivery on order O-1 3 days ago and no follow-up: call .* \(approved rule: trial user \+ late delivery/,
  );
});

let t: TestApp;
const clock = () => t.deps.clock as { now: () => Date };
const setNow = (iso: string) => {
  clock().now = () => new Date(iso);
};
const idOf = async (externalId: string) =>
  (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = ${externalId}`))[0].id;

before(async () => {
  t = await createTestApp('agent', {
    care: {
      giftAllowance: 25,
      surveyLinkDays: 60,
      actionCosts: { call: 4, apology_replacement: 15, offer: 5 },
      worklistHoldout: 0.1,
      outcomeDays: 90,
      lapseDays: 180,
      assumedUplift: 0.1,
    },
  });
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

test('the worklist ranks customers at risk by expected incremental value and says why, with a suggestion', async () => {
  const response = await t.call('GET', '/api/v1/worklist?limit=200&show=all');
  assert.equal(response.status, 200);
  const { items, giftAllowance, ranking } = await response.json();
  assert.equal(giftAllowance, 25);
  assert.ok(items.length >= 30, `the customers who stopped are on it: ${items.length}`);
  const [{ n, held }] = await queryRows<{ n: number; held: number }>(
    t.deps.db,
    sql`select count(*)::int as n, count(*) filter (where ((id * 2654435761) % 1000) < 100)::int as held
      from customers where stage in ('at_risk', 'lapsed')`,
  );
  assert.equal(items.length, n - held, 'everyone at risk or lapsed but the random holdout');
  assert.deepEqual([ranking.by, ranking.heldOut, ranking.holdoutShare], ['incremental_value', held, 0.1]);
  assert.ok(held > 0, 'someone is held out');
  const all = (await (await t.call('GET', '/api/v1/worklist?limit=200&holdout=include&show=all')).json()).items;
  assert.equal(all.length, n);
  // By default the customers whom acting is not expected to pay for fall away, unless something needs putting right.
  const worth = await (await t.call('GET', '/api/v1/worklist?limit=200')).json();
  const leftOff = items.filter(
    (i: { incrementalValue: number; openTicket: unknown; badExperience: unknown }) =>
      i.incrementalValue <= 0 && !i.openTicket && !i.badExperience,
  );
  assert.ok(leftOff.length > 0, 'someone is not worth a personal action');
  assert.equal(worth.items.length, items.length - leftOff.length);
  assert.equal(worth.ranking.leftOff, leftOff.length);
  assert.ok(
    worth.items.every(
      (i: { suggestion: { action: string }; openTicket: unknown }) => i.suggestion.action !== 'nothing' || i.openTicket,
    ),
  );
  assert.ok(
    all
      .filter((i: { holdout: boolean }) => i.holdout)
      .every((i: { suggestion: { action: string } }) => i.suggestion.action === 'nothing'),
  );
  for (let i = 1; i < items.length; i++)
    assert.ok(items[i - 1].incrementalValue >= items[i].incrementalValue, 'sorted by incremental value');
  // No randomised evidence yet in this store: the assumed effect, on those still reachable who would not buy anyway.
  assert.ok(items.every((i: { upliftSource: string }) => i.upliftSource === 'assumed'));
  for (const i of items)
    assert.ok(
      Math.abs(i.incrementalValue - (0.1 * Math.max(0, i.pAlive - i.pBuy90) * i.valueAtStake - 4)) < 0.01,
      `incremental value of ${i.customerId}`,
    );
  // queue=mine: the customers with an open ticket assigned to the caller (this API key, named key:test).
  const c5 = await idOf('C5');
  assert.equal(
    (await t.call('POST', `/api/v1/customers/${c5}/tickets`, { subject: 'Where is my parcel?', category: 'late' }))
      .status,
    201,
  );
  const mine = (await (await t.call('GET', '/api/v1/worklist?queue=mine&show=all')).json()).items;
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

  const left = (await (await t.call('GET', '/api/v1/worklist?limit=200&show=all')).json()).items.map(
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
