import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { findSpikes, poissonTail } from './glitch.ts';

test('a spike is a week well above the weeks before it, and big enough to matter', () => {
  const weeks = Array.from({ length: 10 }, (_, i) => `w${i}`);
  const spikes = findSpikes(weeks, [
    { source: 'incident', category: 'wrong_item', counts: [1, 2, 1, 1, 2, 1, 1, 2, 9, 1] },
    { source: 'ticket', category: 'late', counts: [0, 0, 0, 0, 0, 0, 0, 0, 4, 0] },
    { source: 'return', category: 'damaged', counts: [10, 12, 9, 11, 10, 12, 9, 11, 13, 10] },
  ]);
  assert.deepEqual(spikes, [{ week: 'w8', source: 'incident', category: 'wrong_item', count: 9, expected: 1.4 }]);
  assert.ok(Math.abs(poissonTail(8, 2.5) - 0.004247) < 1e-6 && poissonTail(0, 3) === 1);
  // Eight when two or three a week is usual happens a few times a year by chance: not a spike.
  assert.deepEqual(
    findSpikes(weeks, [{ source: 'return', category: 'damaged', counts: [2, 3, 2, 3, 2, 3, 2, 3, 8, 2] }]),
    [],
  );
});

let t: TestApp;
const clock = () => t.deps.clock as { now: () => Date };
const setNow = (iso: string) => {
  clock().now = () => new Date(iso);
};
const send = async (events: unknown[]) =>
  assert.equal((await ingestEvents(t.deps, events, { source: 'test' })).rejected, 0);
const order = (who: string, at: string) => ({
  id: `o-${who}-${at}`,
  type: 'order',
  customer: { externalId: who },
  orderId: `O-${who}-${at}`,
  at,
  lines: [{ amount: '20.00' }],
});

before(async () => {
  t = await createTestApp('agent');
  await send([
    order('A', '2026-02-01T10:00:00Z'),
    {
      id: 'ia',
      type: 'incident',
      customer: { externalId: 'A' },
      at: '2026-02-03T10:00:00Z',
      kind: 'wrong_item',
      orderId: 'O-A-2026-02-01T10:00:00Z',
    },
    order('B', '2026-02-01T10:00:00Z'),
    { id: 'ib', type: 'incident', customer: { externalId: 'B' }, at: '2026-02-05T10:00:00Z', kind: 'damaged' },
    order('C', '2026-02-20T10:00:00Z'),
    { id: 'ic', type: 'incident', customer: { externalId: 'C' }, at: '2026-02-27T10:00:00Z', kind: 'late_delivery' },
    order('D', '2026-02-01T10:00:00Z'),
    {
      id: 'sd',
      type: 'survey.response',
      customer: { externalId: 'D' },
      at: '2026-02-10T10:00:00Z',
      survey: 'nps',
      question: 'Recommend us?',
      score: 2,
    },
  ]);
});
after(async () => {
  await t.close();
});

test('bad experiences nobody followed up are listed; closing the loop is tracked to whether the customer bought again', async () => {
  const [{ id: b }] = (await (await t.call('GET', '/api/v1/customers?q=B')).json()).customers;
  setNow('2026-02-06T09:00:00Z');
  assert.equal(
    (
      await t.call('POST', `/api/v1/customers/${b}/contacts`, {
        channel: 'phone',
        summary: 'Sent a new one',
        feeling: 1,
      })
    ).status,
    201,
  );

  setNow('2026-03-01T12:00:00Z');
  const { customers } = await (await t.call('GET', '/api/v1/recovery?days=3')).json();
  assert.deepEqual(
    customers.map((c: { name: string | null; what: string; waitingDays: number; source: string }) => [
      c.what,
      c.waitingDays,
      c.source,
    ]),
    [
      ['wrong item', 26, 'incident'],
      ['answered nps 2', 19, 'survey'],
    ],
  );
  assert.equal(customers[0].orderId, 'O-A-2026-02-01T10:00:00Z');

  await send([order('B', '2026-03-15T10:00:00Z')]);
  setNow('2026-08-01T12:00:00Z');
  const { outcomes } = await (await t.call('GET', '/api/v1/recovery/outcomes?days=3&window=90')).json();
  assert.deepEqual(outcomes, [
    { followedUp: true, experiences: 1, bought: 1, boughtShare: 1, medianHoursToFollowUp: 23 },
    { followedUp: false, experiences: 3, bought: 0, boughtShare: 0, medianHoursToFollowUp: null },
  ]);
});

test('the glitch view counts problems by week, category, portal step and channel, and flags the spike', async () => {
  setNow('2026-05-06T12:00:00Z');
  const events: unknown[] = [];
  // One wrong item a week from mid February to 2026-04-21, then eight in the week of 2026-04-27.
  for (let w = 0; w < 10; w++)
    events.push({
      id: `g${w}`,
      type: 'incident',
      customer: { externalId: `G${w}` },
      at: new Date(Date.UTC(2026, 1, 17) + w * 7 * 86_400_000).toISOString(),
      kind: 'wrong_item',
      channel: 'web',
    });
  for (let k = 0; k < 8; k++)
    events.push({
      id: `s${k}`,
      type: 'incident',
      customer: { externalId: `S${k}` },
      at: `2026-04-2${8 + (k % 2)}T10:00:00Z`,
      kind: 'wrong_item',
      channel: 'store',
    });
  events.push(
    {
      id: 'p1',
      type: 'touchpoint',
      customer: { externalId: 'P' },
      at: '2026-04-29T10:00:00Z',
      channel: 'web',
      direction: 'in',
      kind: 'portal_step',
      detail: { step: 'login' },
    },
    {
      id: 'p2',
      type: 'touchpoint',
      customer: { externalId: 'P' },
      at: '2026-04-29T10:05:00Z',
      channel: 'web',
      direction: 'in',
      kind: 'portal_step',
      detail: { step: 'return_form' },
    },
    {
      id: 'p3',
      type: 'incident',
      customer: { externalId: 'P' },
      at: '2026-04-29T10:30:00Z',
      kind: 'portal_abandoned',
      channel: 'web',
    },
  );
  await send(events);
  const glitches = await (await t.call('GET', '/api/v1/glitches?weeks=12')).json();
  assert.equal(glitches.weeks.length, 12);
  assert.equal(glitches.weeks.at(-1), '2026-05-04');
  const wrong = glitches.series.find((s: { category: string }) => s.category === 'wrong_item');
  assert.equal(wrong.counts[glitches.weeks.indexOf('2026-04-27')], 8);
  assert.deepEqual(glitches.spikes, [
    { week: '2026-04-27', source: 'incident', category: 'wrong_item', count: 8, expected: 1 },
  ]);
  const portal = glitches.series.find((s: { source: string }) => s.source === 'portal');
  assert.deepEqual([portal.category, portal.total], ['return_form', 1]);
  const store = glitches.channels.find((c: { channel: string }) => c.channel === 'store');
  assert.equal(store.counts[glitches.weeks.indexOf('2026-04-27')], 8);
});
