import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';

let t: TestApp;
let customerId: number;
const setNow = (iso: string) => {
  (t.deps.clock as { now: () => Date }).now = () => new Date(iso);
};
before(async () => {
  t = await createTestApp('agent');
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'o',
        type: 'order',
        customer: { externalId: 'T-1', email: 'tess@example.com' },
        orderId: 'ORD-9',
        at: '2026-03-01T10:00:00Z',
        lines: [{ product: 'towel', amount: '30.00' }],
      },
    ],
    { source: 'test' },
  );
  customerId = stored.results[0].customerId!;
});
after(async () => {
  await t.close();
});

test('an agent opens a ticket from a call, replies, notes and resolves it; response and resolution times follow the conversation', async () => {
  setNow('2026-03-05T09:00:00Z');
  assert.equal(
    (
      await t.call('POST', `/api/v1/customers/${customerId}/tickets`, {
        subject: 'Towel',
        category: 'wrong_item',
        orderId: 'NOPE',
      })
    ).status,
    400,
  );
  const opened = await t.call('POST', `/api/v1/customers/${customerId}/tickets`, {
    subject: 'Towel in the wrong shade',
    category: 'wrong_item',
    priority: 'high',
    orderId: 'ORD-9',
    message: 'Ordered navy, got sky blue',
  });
  assert.equal(opened.status, 201, await opened.clone().text());
  const { ticketId } = await opened.json();
  const path = `/api/v1/customers/${customerId}/tickets/${ticketId}`;

  setNow('2026-03-05T10:00:00Z');
  await t.call('POST', `${path}/updates`, { direction: 'internal', message: 'Navy is out of stock until Friday' });
  let found = await (await t.call('GET', path)).json();
  assert.deepEqual(
    [found.ticket.status, found.ticket.firstResponseHours, found.ticket.orderId, found.ticket.assignee],
    ['open', null, 'ORD-9', 'key:test'],
    'an internal note is not a response',
  );

  setNow('2026-03-05T11:30:00Z');
  found = await (
    await t.call('POST', `${path}/updates`, { message: 'Sorry! A navy one ships Friday; keep the blue one.' })
  ).json();
  assert.deepEqual([found.ticket.status, found.ticket.firstResponseHours], ['pending', 2.5]);

  setNow('2026-03-06T09:00:00Z');
  found = await (
    await t.call('POST', `${path}/updates`, { outcome: 'replaced', message: 'Replacement delivered' })
  ).json();
  assert.deepEqual(
    [found.ticket.status, found.ticket.outcome, found.ticket.resolutionHours],
    ['resolved', 'replaced', 24],
  );
  assert.deepEqual(
    found.messages.map((m: { direction: string; note: string; author: string }) => [m.direction, m.note]),
    [
      ['in', 'Ordered navy, got sky blue'],
      ['internal', 'Navy is out of stock until Friday'],
      ['out', 'Sorry! A navy one ships Friday; keep the blue one.'],
      ['out', 'Replacement delivered'],
    ],
  );

  const open = (await (await t.call('GET', '/api/v1/tickets')).json()).tickets;
  const closed = (await (await t.call('GET', '/api/v1/tickets?state=closed&queue=mine')).json()).tickets;
  assert.deepEqual([open.length, closed.map((x: { ticketId: number }) => x.ticketId)], [0, [ticketId]]);
  const timeline = await (
    await t.call('GET', `/api/v1/customers/${customerId}/timeline?kind=ticket,ticket_update`)
  ).json();
  assert.equal(timeline.entries.filter((e: { kind: string }) => e.kind === 'ticket_update').length, 4);
  assert.equal((await t.call('POST', `${path}/updates`, {})).status, 400);
});
