// Subscriptions through both doors (events, files) into one state per subscription; on the
// timeline, erased with the person, merged with the duplicate.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { runImport } from '../imports/import.service.ts';

let t: TestApp;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-subscriptions-'));
  t = await createTestApp('admin', { dataDir: work });
});
after(async () => {
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const rows = <T>(query: ReturnType<typeof sql>) => queryRows<T>(t.deps.db, query);
const send = (events: unknown[]) => t.call('POST', '/api/v1/events', { events });
const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());

interface State {
  external_id: string;
  plan: string | null;
  price: string | null;
  currency: string | null;
  period: string;
  started_at: string;
  renewed_at: string | null;
  renewals: number;
  cancelled_at: string | null;
  cancel_reason_code: string | null;
  cancel_reason: string | null;
  updated_at: string;
}
async function stateOf(externalId: string) {
  const [row] = await rows<State>(sql`
    select external_id, plan, price::text, currency, period, started_at, renewed_at, renewals, cancelled_at,
      cancel_reason_code, cancel_reason, updated_at
    from subscriptions where external_id = ${externalId}`);
  return (
    row && {
      ...row,
      started_at: iso(row.started_at),
      renewed_at: iso(row.renewed_at),
      cancelled_at: iso(row.cancelled_at),
      updated_at: iso(row.updated_at),
    }
  );
}
const eventCount = async (subscriptionId: string) =>
  (
    await rows<{ n: number }>(
      sql`select count(*)::int as n from subscription_events where subscription_id = ${subscriptionId}`,
    )
  )[0].n;

const who = { email: 'sub@example.com' };
const lifecycle = [
  {
    id: 's1',
    type: 'subscription',
    customer: who,
    subscriptionId: 'SUB-E1',
    change: 'started',
    at: '2025-01-01T09:00:00Z',
    plan: 'Tea box',
    price: '12.50',
    currency: 'eur',
    period: 'month',
  },
  {
    id: 's2',
    type: 'subscription',
    customer: who,
    subscriptionId: 'SUB-E1',
    change: 'renewed',
    at: '2025-02-01T09:00:00Z',
  },
  {
    id: 's3',
    type: 'subscription',
    customer: who,
    subscriptionId: 'SUB-E1',
    change: 'cancelled',
    at: '2025-02-20T09:00:00Z',
    reasonCode: 'too_expensive',
    reason: 'Found a cheaper box',
  },
];

test('events: started, renewed, cancelled give the state; the same batch again changes nothing; a renewal after the cancellation reactivates', async () => {
  const first = await expectJson(send(lifecycle));
  assert.deepEqual([first.accepted, first.duplicate, first.rejected], [3, 0, 0]);
  const cancelled = {
    external_id: 'SUB-E1',
    plan: 'Tea box',
    price: '12.50',
    currency: 'EUR',
    period: 'month',
    started_at: '2025-01-01T09:00:00.000Z',
    renewed_at: '2025-02-01T09:00:00.000Z',
    renewals: 1,
    cancelled_at: '2025-02-20T09:00:00.000Z',
    cancel_reason_code: 'too_expensive',
    cancel_reason: 'Found a cheaper box',
    updated_at: '2025-02-20T09:00:00.000Z',
  };
  assert.deepEqual(await stateOf('SUB-E1'), cancelled);

  const again = await expectJson(send(lifecycle));
  assert.deepEqual([again.accepted, again.duplicate, again.rejected], [0, 3, 0]);
  // The same events under new ids: accepted, stored once.
  const renamed = await expectJson(send(lifecycle.map((e) => ({ ...e, id: `${e.id}-again` }))));
  assert.deepEqual([renamed.accepted, renamed.rejected], [3, 0]);
  assert.equal(await eventCount('SUB-E1'), 3);
  assert.deepEqual(await stateOf('SUB-E1'), cancelled);

  const back = await expectJson(
    send([
      {
        id: 's4',
        type: 'subscription',
        customer: who,
        subscriptionId: 'SUB-E1',
        change: 'renewed',
        at: '2025-03-05T09:00:00Z',
        plan: 'Tea box small',
        price: '8.00',
      },
    ]),
  );
  assert.equal(back.accepted, 1);
  assert.deepEqual(await stateOf('SUB-E1'), {
    ...cancelled,
    plan: 'Tea box small',
    price: '8.00',
    renewed_at: '2025-03-05T09:00:00.000Z',
    renewals: 2,
    cancelled_at: null,
    cancel_reason_code: null,
    cancel_reason: null,
    updated_at: '2025-03-05T09:00:00.000Z',
  });

  // Told out of order: a renewal alone first, its start later; the start is the start.
  await expectJson(
    send([
      {
        id: 'o1',
        type: 'subscription',
        customer: who,
        subscriptionId: 'SUB-E2',
        change: 'renewed',
        at: '2025-05-01T00:00:00Z',
      },
    ]),
  );
  assert.equal((await stateOf('SUB-E2'))!.started_at, '2025-05-01T00:00:00.000Z');
  await expectJson(
    send([
      {
        id: 'o2',
        type: 'subscription',
        customer: who,
        subscriptionId: 'SUB-E2',
        change: 'started',
        at: '2025-04-01T00:00:00Z',
        period: 'year',
      },
    ]),
  );
  const outOfOrder = (await stateOf('SUB-E2'))!;
  assert.deepEqual(
    [outOfOrder.started_at, outOfOrder.renewals, outOfOrder.period, outOfOrder.cancelled_at],
    ['2025-04-01T00:00:00.000Z', 1, 'year', null],
  );
});

test('events: a reason on a renewal, a missing subscriptionId and an unknown period are refused naming the field', async () => {
  const base = { type: 'subscription', customer: { email: 'bad-sub@example.com' }, at: '2025-01-01T00:00:00Z' };
  const response = await send([
    { ...base, id: 'b1', subscriptionId: 'SUB-B', change: 'renewed', reason: 'moved away' },
    { ...base, id: 'b2', subscriptionId: 'SUB-B', change: 'started', reasonCode: 'moved' },
    { ...base, id: 'b3', change: 'started' },
    { ...base, id: 'b4', subscriptionId: 'SUB-B', change: 'started', period: 'fortnight' },
    { ...base, id: 'b5', subscriptionId: 'SUB-B', change: 'paused' },
  ]);
  assert.equal(response.status, 400);
  const results: { status: string; errors: { field: string; message: string }[] }[] = (await response.json()).error
    .details.results;
  assert.deepEqual(
    results.map((r) => [r.status, r.errors[0].field]),
    [
      ['rejected', 'reason'],
      ['rejected', 'reasonCode'],
      ['rejected', 'subscriptionId'],
      ['rejected', 'period'],
      ['rejected', 'change'],
    ],
  );
  assert.match(results[0].errors[0].message, /only for change "cancelled"/);
  assert.equal(await eventCount('SUB-B'), 0);
  assert.equal((await rows(sql`select 1 from customers where email = 'bad-sub@example.com'`)).length, 0);
});

test('the event is in the OpenAPI document', async () => {
  const doc = await expectJson(t.call('GET', '/api/openapi.json'));
  const text = JSON.stringify(doc.components.schemas.Event);
  for (const word of ['"subscription"', 'subscriptionId', 'reasonCode', '"quarter"'])
    assert.ok(text.includes(word), word);
});

const header = 'customer,subscription,started_at,plan,price,currency,period,renewed_at,cancelled_at,reason_code,reason';
const file = (name: string, lines: string[]) => {
  const csv = path.join(work, name);
  fs.writeFileSync(csv, [header, ...lines].join('\n'));
  return csv;
};
const importFile = (csv: string) => runImport(t.deps, { kind: 'subscriptions', file: csv, map: {}, encoding: 'utf-8' });

test('a file: one row is one subscription (1 to 3 events), counted once; bad rows are rejected naming the field and leave nothing', async () => {
  const csv = file('subscriptions.csv', [
    'F1@example.com,SUB-F1,2025-01-05,Gold,9.90,EUR,Monthly,2025-02-05,2025-03-01,Too expensive,Found a cheaper box',
    'F2,,2025-02-01,Basic,60,eur,Annual,,,,',
    'F3,SUB-F3,2025-03-01,Basic,5.00,EUR,week,2025-03-08,,,',
    'F4,SUB-F4,2025-04-01,Gold,9.90,EUR,month,,2025-03-01,,',
    'F5,SUB-F5,2025-04-01,Gold,9.90,EUR,month,,,,moved away',
  ]);
  const outcome = await importFile(csv);
  assert.deepEqual(outcome.counts, { read: 5, imported: 3, updated: 0, unchanged: 0, rejected: 2 });
  const rejected = fs.readFileSync(outcome.rejectedFile!, 'utf8').trim().split(/\r?\n/).slice(1);
  assert.equal(rejected.length, 2);
  assert.match(rejected[0], /^F4,.*,4,5,"?cancelled_at: before started_at \(2025-03-01 < 2025-04-01\)/);
  assert.match(rejected[1], /^F5,.*,5,6,"?reason: a reason is for a cancellation; cancelled_at is empty/);
  assert.equal((await eventCount('SUB-F4')) + (await eventCount('SUB-F5')), 0);
  assert.equal((await rows(sql`select 1 from customers where external_id in ('F4', 'F5')`)).length, 0);

  const events = await rows<{ change: string; at: string; plan: string | null; reason_code: string | null }>(
    sql`select change, at, plan, reason_code from subscription_events where subscription_id = 'SUB-F1' order by at`,
  );
  assert.deepEqual(
    events.map((e) => [e.change, iso(e.at), e.plan, e.reason_code]),
    [
      ['started', '2025-01-05T00:00:00.000Z', 'Gold', null],
      ['renewed', '2025-02-05T00:00:00.000Z', null, null],
      ['cancelled', '2025-03-01T00:00:00.000Z', null, 'too_expensive'],
    ],
  );
  assert.deepEqual(await stateOf('SUB-F1'), {
    external_id: 'SUB-F1',
    plan: 'Gold',
    price: '9.90',
    currency: 'EUR',
    period: 'month',
    started_at: '2025-01-05T00:00:00.000Z',
    renewed_at: '2025-02-05T00:00:00.000Z',
    renewals: 1,
    cancelled_at: '2025-03-01T00:00:00.000Z',
    cancel_reason_code: 'too_expensive',
    cancel_reason: 'Found a cheaper box',
    updated_at: '2025-03-01T00:00:00.000Z',
  });
  const f2 = (await stateOf('F2:2025-02-01'))!;
  assert.deepEqual([f2.price, f2.currency, f2.period, f2.renewals, f2.cancelled_at], ['60.00', 'EUR', 'year', 0, null]);
  assert.equal(await eventCount('SUB-F3'), 2);

  const again = await importFile(csv);
  assert.deepEqual(again.counts, { read: 5, imported: 0, updated: 0, unchanged: 3, rejected: 2 });
  // A row that adds a cancellation to a subscription already stored is one updated row.
  const later = await importFile(
    file('later.csv', ['F3,SUB-F3,2025-03-01,Basic,5.00,EUR,week,2025-03-08,2025-03-20,moved,']),
  );
  assert.deepEqual(later.counts, { read: 1, imported: 0, updated: 1, unchanged: 0, rejected: 0 });
  assert.equal((await stateOf('SUB-F3'))!.cancelled_at, '2025-03-20T00:00:00.000Z');
});

test('the timeline shows each event; erasure removes them with the person', async () => {
  const [{ id }] = await rows<{ id: number }>(sql`select id from customers where email = 'f1@example.com'`);
  const timeline = await expectJson(t.call('GET', `/api/v1/customers/${id}/timeline?kind=subscription`));
  assert.deepEqual(
    timeline.entries.map((e: { kind: string; at: string; title: string }) => [e.kind, e.at, e.title]),
    [
      ['subscription', '2025-03-01T00:00:00.000Z', 'Subscription cancelled: Found a cheaper box'],
      ['subscription', '2025-02-05T00:00:00.000Z', 'Subscription renewed'],
      ['subscription', '2025-01-05T00:00:00.000Z', 'Subscription started: Gold (9.90 EUR/month)'],
    ],
  );
  assert.deepEqual(timeline.entries[0].detail, {
    subscriptionId: 'SUB-F1',
    change: 'cancelled',
    plan: null,
    price: null,
    currency: null,
    period: null,
    reasonCode: 'too_expensive',
    reason: 'Found a cheaper box',
  });

  const erased = await expectJson(t.call('POST', `/api/v1/customers/${id}/erase`, { confirm: 'erase' }));
  assert.deepEqual([erased.tables.subscription_events, erased.tables.subscriptions], [3, 1]);
  assert.equal(await eventCount('SUB-F1'), 0);
  assert.equal(await stateOf('SUB-F1'), undefined);
  assert.ok((await stateOf('SUB-F3')) !== undefined, 'nobody else is touched');
});

test('a merge moves subscriptions: an event both hold is kept once and the state is recomputed', async () => {
  const event = (id: string, customer: object, change: string, at: string, extra: object = {}) => ({
    id,
    type: 'subscription',
    customer,
    subscriptionId: 'SUB-M',
    change,
    at,
    ...extra,
  });
  const [ada, byron] = [{ externalId: 'M-1' }, { email: 'm2@example.com' }];
  await expectJson(
    send([
      event('m1', ada, 'started', '2025-01-01T00:00:00Z', { plan: 'Box' }),
      event('m2', byron, 'started', '2025-01-01T00:00:00Z', { plan: 'Box' }),
      event('m3', byron, 'renewed', '2025-02-01T00:00:00Z'),
      event('m4', byron, 'cancelled', '2025-02-10T00:00:00Z', { reasonCode: 'moved' }),
      event('m5', byron, 'started', '2025-01-01T00:00:00Z', { subscriptionId: 'SUB-M2' }),
    ]),
  );
  const idOf = async (where: ReturnType<typeof sql>) =>
    (await rows<{ id: number }>(sql`select id from customers where ${where}`))[0].id;
  const [into, from] = [await idOf(sql`external_id = 'M-1'`), await idOf(sql`email = 'm2@example.com'`)];
  const merged = await expectJson(t.call('POST', `/api/v1/customers/${into}/merge`, { from }));
  assert.deepEqual([merged.moved.subscription_events, merged.moved.subscriptions], [3, 2]);
  const events = await rows<{ customer_id: number; change: string }>(
    sql`select customer_id, change from subscription_events where subscription_id = 'SUB-M' order by at`,
  );
  assert.deepEqual(
    events.map((e) => [e.customer_id, e.change]),
    [
      [into, 'started'],
      [into, 'renewed'],
      [into, 'cancelled'],
    ],
  );
  const state = await rows<{
    customer_id: number;
    external_id: string;
    renewals: number;
    cancel_reason_code: string | null;
  }>(
    sql`select customer_id, external_id, renewals, cancel_reason_code from subscriptions where external_id in ('SUB-M', 'SUB-M2') order by external_id`,
  );
  assert.deepEqual(state, [
    { customer_id: into, external_id: 'SUB-M', renewals: 1, cancel_reason_code: 'moved' },
    { customer_id: into, external_id: 'SUB-M2', renewals: 0, cancel_reason_code: null },
  ]);
});
