import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { listOrder, searchCondition } from './customer.read-model.ts';

let t: TestApp;
const who = { email: 'rosa@example.com', externalId: 'R-1' };
before(async () => {
  t = await createTestApp();
  const events = [
    {
      id: 'c1',
      type: 'customer.upsert',
      customer: who,
      at: '2025-01-01T00:00:00Z',
      name: 'Rosa Diaz',
      acquisitionChannel: 'social',
      attributes: { vip: true, birth_year: 1990 },
      address: { line1: '1 Main St', city: 'Springfield', country: 'US' },
    },
    {
      id: 'c2',
      type: 'customer.upsert',
      customer: { externalId: 'B-2', email: 'ben@example.com', phone: '+44 7700 900123' },
      name: 'Ben Okafor',
      acquisitionChannel: 'web',
    },
    {
      id: 'c3',
      type: 'customer.upsert',
      customer: { externalId: 'A-3', email: 'ada@example.com' },
      name: 'Ada Lovelace',
      acquisitionChannel: 'web',
    },
    {
      id: 'o1',
      type: 'order',
      customer: who,
      orderId: 'O-1',
      at: '2025-01-02T10:00:00Z',
      channel: 'web',
      lines: [{ product: 'mug', category: 'kitchen', quantity: 2, unitPrice: '10.00' }],
    },
    {
      id: 'o2',
      type: 'order',
      customer: who,
      orderId: 'O-2',
      at: '2025-03-02T10:00:00Z',
      channel: 'store',
      lines: [{ product: 'tea', amount: '4.50' }],
    },
    {
      id: 'o3',
      type: 'order',
      customer: { externalId: 'B-2' },
      orderId: 'O-3',
      at: '2025-02-02T10:00:00Z',
      lines: [{ product: 'tea', amount: '4.50' }],
    },
    {
      id: 'r1',
      type: 'return',
      customer: who,
      returnId: 'RT-1',
      orderId: 'O-1',
      at: '2025-01-05T10:00:00Z',
      amount: '10.00',
      reasonCode: 'wrong_item',
      reason: 'wrong shade of blue',
    },
    {
      id: 't1',
      type: 'ticket.opened',
      customer: who,
      ticketId: 'T-1',
      at: '2025-01-05T11:00:00Z',
      channel: 'chat',
      category: 'wrong_item',
      subject: 'Wrong colour',
      orderId: 'O-1',
    },
    {
      id: 't2',
      type: 'ticket.resolved',
      customer: who,
      ticketId: 'T-1',
      at: '2025-01-06T12:00:00Z',
      outcome: 'replaced',
    },
    {
      id: 'n1',
      type: 'note',
      customer: who,
      at: '2025-01-06T12:05:00Z',
      body: 'Relieved after replacement',
      feeling: 1,
      author: 'sam',
      channel: 'phone',
    },
    {
      id: 'p1',
      type: 'touchpoint',
      customer: who,
      at: '2025-01-03T08:00:00Z',
      channel: 'email',
      direction: 'out',
      kind: 'newsletter',
      campaign: 'jan',
    },
    {
      id: 's1',
      type: 'survey.response',
      customer: who,
      at: '2025-01-07T00:00:00Z',
      survey: 'nps',
      question: 'Recommend us?',
      score: 9,
    },
    { id: 'i1', type: 'incident', customer: who, at: '2025-01-04T00:00:00Z', kind: 'late_delivery', orderId: 'O-1' },
    {
      id: 'a1',
      type: 'address.change',
      customer: who,
      at: '2025-02-01T00:00:00Z',
      address: { line1: '9 Elm St', city: 'Shelbyville', country: 'US' },
    },
    {
      id: 'f1',
      type: 'status.change',
      customer: { externalId: 'A-3' },
      at: '2025-02-02T00:00:00Z',
      flag: 'do_not_contact',
      active: true,
    },
  ];
  const response = await t.call('POST', '/api/v1/events', { events });
  const body = await response.json();
  assert.equal(body.accepted, events.length, JSON.stringify(body));
});
after(async () => {
  await t.close();
});

const get = async (path: string) => {
  const response = await t.call('GET', path);
  return { status: response.status, body: await response.json() };
};
test('the search is served by the trigram index on both databases, not by reading every customer', async () => {
  for (const q of ['okafor', 'ada@example', '07700 900123']) {
    const plan = await t.deps.db.transaction(async (tx) => {
      await tx.execute(sql`set local enable_seqscan = off`);
      return queryRows<{ 'QUERY PLAN': string }>(
        tx,
        sql`explain select id from customers c where ${searchCondition(q)}`,
      );
    });
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(text, /customers_search_idx/, `${q}: ${text}`);
  }
});

test('a page of the list is read in order from an index for the common sorts, so it stops after the page', async () => {
  const sorts = [
    { sort: 'last_order', direction: 'desc' },
    { sort: 'last_order', direction: 'asc' },
    { sort: 'created', direction: 'desc' },
    { sort: 'created', direction: 'asc' },
    { sort: 'name', direction: 'asc' },
  ] as const;
  for (const order of sorts) {
    const plan = await t.deps.db.transaction(async (tx) => {
      // Whatever the table's size, a plan that sorts is the last resort.
      await tx.execute(sql`set local enable_sort = off`);
      return queryRows<{ 'QUERY PLAN': string }>(
        tx,
        sql`explain select c.id from customers c order by ${listOrder(order)} limit 50`,
      );
    });
    const text = plan.map((r) => r['QUERY PLAN']).join('\n');
    assert.doesNotMatch(text, /Sort/, `${order.sort} ${order.direction}: ${text}`);
    assert.match(text, /Index (Only )?Scan/, `${order.sort} ${order.direction}: ${text}`);
  }
});

test('the list counts up to 10,000 and a search up to 1,000, and says when there are more', async () => {
  await t.deps.db.execute(
    sql`insert into customers (external_id, name) select 'CAP-' || n, 'Capped ' || n from generate_series(1, 1001) n`,
  );
  try {
    const search = (await get('/api/v1/customers?q=capped&pageSize=10')).body;
    assert.deepEqual([search.customers.length, search.total, search.totalCapped], [10, 1000, true]);
    const list = (await get('/api/v1/customers?pageSize=10')).body;
    assert.deepEqual([list.total, list.totalCapped], [1004, false], 'the three customers and the thousand and one');
  } finally {
    await t.deps.db.execute(sql`delete from customers where external_id like 'CAP-%'`);
  }
});

const rosaId = async () => (await get('/api/v1/customers?q=rosa')).body.customers[0].id as number;

test('the list searches by name word, email and external id, filters, sorts and counts', async () => {
  const names = async (query: string) =>
    (await get(`/api/v1/customers?${query}`)).body.customers.map((c: { name: string }) => c.name);
  assert.deepEqual(await names('q=okafor'), ['Ben Okafor']);
  assert.deepEqual(await names('q=ADA@'), ['Ada Lovelace']);
  assert.deepEqual(await names('q=R-1'), ['Rosa Diaz']);
  assert.deepEqual(await names('q=%25'), [], 'a % is matched literally, not as a wildcard');
  assert.deepEqual(await names('q=lov'), ['Ada Lovelace'], 'a word of the name');
  assert.deepEqual(await names('q=ace'), [], 'the middle of a word is no match, though its trigrams are there');
  assert.deepEqual(await names('q=Ro'), ['Rosa Diaz'], 'one or two characters: the start of the name');
  assert.deepEqual(await names(`q=${encodeURIComponent('07700 900123')}`), ['Ben Okafor'], 'a phone typed nationally');
  assert.deepEqual(await names(`q=${encodeURIComponent('+44 7700')}`), ['Ben Okafor'], 'the start of a phone number');
  assert.deepEqual(await names('q=7700'), [], 'fewer than six digits do not search phone numbers');
  assert.deepEqual(await names('stage=customer'), ['Rosa Diaz']);
  assert.deepEqual(await names('channel=web&sort=name&direction=asc'), ['Ada Lovelace', 'Ben Okafor']);
  assert.deepEqual(await names('flag=do_not_contact'), ['Ada Lovelace']);
  assert.deepEqual(await names('stage=suppressed'), ['Ada Lovelace'], 'do-not-contact suppresses');
  assert.deepEqual(await names('sort=last_order&direction=desc'), ['Rosa Diaz', 'Ben Okafor', 'Ada Lovelace']);
  const page = await get('/api/v1/customers?sort=name&direction=asc&pageSize=2&page=2');
  assert.deepEqual(
    [page.body.customers.map((c: { name: string }) => c.name), page.body.total, page.body.totalCapped],
    [['Rosa Diaz'], 3, false],
  );
  const bad = await get('/api/v1/customers?sort=shoe_size');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.issues?.[0]?.path ?? bad.body.error.details.issues[0].path, 'sort');
  const facets = await get('/api/v1/customers/facets');
  assert.deepEqual(facets.body, {
    stages: [
      { stage: 'customer', customers: 1 },
      { stage: 'suppressed', customers: 1 },
      { stage: 'trial', customers: 1 },
    ],
    channels: ['social', 'web'],
    flags: ['do_not_contact'],
  });
});

test('the record holds profile, typed attributes, identities, address history, stage history and totals', async () => {
  const { status, body } = await get(`/api/v1/customers/${await rosaId()}`);
  assert.equal(status, 200);
  assert.deepEqual(
    [body.name, body.email, body.stage, body.purchaseDays, body.acquisitionChannel],
    ['Rosa Diaz', 'rosa@example.com', 'customer', 2, 'social'],
  );
  assert.equal(body.createdAt, '2025-01-02T10:00:00.000Z', 'a customer since no later than the first order');
  assert.deepEqual(body.attributes, [
    { key: 'birth_year', value: 1990, type: 'number' },
    { key: 'vip', value: true, type: 'boolean' },
  ]);
  assert.deepEqual(body.identities.map((i: { kind: string; value: string }) => `${i.kind}:${i.value}`).sort(), [
    'email:rosa@example.com',
    'external:R-1',
  ]);
  assert.deepEqual(
    body.addresses.map((a: { line1: string; current: boolean }) => [a.line1, a.current]),
    [
      ['9 Elm St', true],
      ['1 Main St', false],
    ],
  );
  assert.deepEqual(
    body.stageHistory.map((s: { from: string | null; to: string }) => `${s.from}→${s.to}`),
    ['trial→customer', 'prospect→trial'],
  );
  assert.deepEqual(body.totals, {
    orders: 2,
    revenue: '24.50',
    returns: 1,
    returned: '10.00',
    tickets: 1,
    openTickets: 0,
    lastContactAt: '2025-01-03T08:00:00.000Z',
  });
  assert.equal((await get('/api/v1/customers/999999')).status, 404);
});

test('one timeline of everything, newest first, filtered by kind and channel, paged by cursor', async () => {
  const id = await rosaId();
  const all = await get(`/api/v1/customers/${id}/timeline?limit=200`);
  const kinds = all.body.entries.map((e: { kind: string }) => e.kind);
  for (const kind of [
    'order',
    'return',
    'touchpoint',
    'ticket',
    'ticket_update',
    'incident',
    'survey',
    'note',
    'stage',
    'address',
  ])
    assert.ok(kinds.includes(kind), kind);
  const times = all.body.entries.map((e: { at: string }) => e.at);
  assert.deepEqual(times, [...times].sort().reverse());
  const order = all.body.entries.find(
    (e: { kind: string; detail: { orderId: string } }) => e.kind === 'order' && e.detail.orderId === 'O-1',
  );
  assert.deepEqual(order.detail.lines, [
    {
      product: 'mug',
      sku: 'mug',
      category: 'kitchen',
      quantity: '2.000',
      unitPrice: '10.00',
      amount: '20.00',
      // Not in the catalogue: no cost, so no margin.
      cost: null,
      margin: null,
    },
  ]);
  const returned = all.body.entries.find((e: { kind: string }) => e.kind === 'return');
  assert.deepEqual([returned.detail.reason, returned.detail.orderId], ['wrong shade of blue', 'O-1']);
  const note = all.body.entries.find((e: { kind: string }) => e.kind === 'note');
  assert.deepEqual([note.detail.feeling, note.channel], [1, 'phone']);

  const orders = await get(`/api/v1/customers/${id}/timeline?kind=order`);
  assert.deepEqual(
    orders.body.entries.map((e: { detail: { orderId: string } }) => e.detail.orderId),
    ['O-2', 'O-1'],
  );
  const email = await get(`/api/v1/customers/${id}/timeline?channel=email`);
  assert.deepEqual(
    email.body.entries.map((e: { kind: string }) => e.kind),
    ['touchpoint'],
  );

  const paged: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { body: { entries: { kind: string; id: number }[]; nextCursor: string | null } } = await get(
      `/api/v1/customers/${id}/timeline?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
    );
    paged.push(...page.body.entries.map((e) => `${e.kind}#${e.id}`));
    cursor = page.body.nextCursor;
  } while (cursor);
  assert.deepEqual(
    paged,
    all.body.entries.map((e: { kind: string; id: number }) => `${e.kind}#${e.id}`),
  );
  assert.equal((await get(`/api/v1/customers/${id}/timeline?kind=orders`)).status, 400);
  assert.equal((await get(`/api/v1/customers/${id}/timeline?cursor=nonsense`)).status, 400);
});
