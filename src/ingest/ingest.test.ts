import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { deadLetter } from './ingest.repository.ts';
import { ingestLimits } from './ingest.service.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

const count = async (table: string) =>
  (await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from ${sql.raw(table)}`))[0].n;
const send = (events: unknown[]) => t.call('POST', '/api/v1/events', { events });
const order = (id: string, email: string, orderId: string, at: string, amount = '20.00') => ({
  id,
  type: 'order',
  customer: { email },
  orderId,
  at,
  lines: [
    { product: 'mug', quantity: 2, unitPrice: '10.00' },
    { product: 'tea', amount },
  ],
});

test('every event type is stored with exact values and the customer is one person', async () => {
  const who = { email: 'Rosa@Example.com', externalId: 'R-1' };
  const response = await send([
    {
      id: 'a1',
      type: 'customer.upsert',
      customer: who,
      name: 'Rosa Diaz',
      acquisitionChannel: 'social',
      createdAt: '2025-01-01T09:00:00Z',
      attributes: { vip: true, birth_year: 1990, favourite: 'tea', member_since: '2024-05-01' },
      address: { line1: '1 Main St', city: 'Springfield', country: 'us' },
    },
    order('a2', 'rosa@example.com', 'O-1', '2025-01-02T10:00:00Z', '5.55'),
    {
      id: 'a3',
      type: 'return',
      customer: { externalId: 'R-1' },
      returnId: 'RT-1',
      orderId: 'O-1',
      at: '2025-01-05T10:00:00Z',
      amount: '5.55',
      reasonCode: 'wrong_item',
    },
    {
      id: 'a4',
      type: 'touchpoint',
      customer: who,
      at: '2025-01-03T08:00:00Z',
      channel: 'email',
      direction: 'out',
      kind: 'newsletter',
      campaign: 'jan',
    },
    {
      id: 'a5',
      type: 'ticket.opened',
      customer: who,
      ticketId: 'T-1',
      at: '2025-01-05T11:00:00Z',
      channel: 'chat',
      category: 'wrong_item',
      orderId: 'O-1',
    },
    {
      id: 'a6',
      type: 'ticket.updated',
      customer: who,
      ticketId: 'T-1',
      at: '2025-01-05T12:00:00Z',
      status: 'pending',
      assignee: 'sam',
    },
    {
      id: 'a7',
      type: 'ticket.resolved',
      customer: who,
      ticketId: 'T-1',
      at: '2025-01-06T12:00:00Z',
      outcome: 'replaced',
    },
    { id: 'a8', type: 'incident', customer: who, at: '2025-01-04T00:00:00Z', kind: 'wrong_item', orderId: 'O-1' },
    {
      id: 'a9',
      type: 'survey.response',
      customer: who,
      at: '2025-01-07T00:00:00Z',
      survey: 'nps',
      question: 'Recommend us?',
      score: 9,
      answer: 'Quick fix',
    },
    {
      id: 'a10',
      type: 'note',
      customer: who,
      at: '2025-01-06T12:05:00Z',
      body: 'Relieved after replacement',
      feeling: 1,
      author: 'sam',
      channel: 'phone',
    },
    {
      id: 'a11',
      type: 'address.change',
      customer: who,
      at: '2025-02-01T00:00:00Z',
      address: { line1: '9 Elm St', city: 'Shelbyville', country: 'US' },
    },
    { id: 'a12', type: 'status.change', customer: who, at: '2025-02-02T00:00:00Z', flag: 'moved', active: true },
    {
      id: 'a13',
      type: 'consent',
      customer: who,
      at: '2025-01-01T09:00:00Z',
      granted: true,
      wording: 'Email me offers',
    },
    {
      id: 'a14',
      type: 'delivery',
      customer: who,
      orderId: 'O-1',
      at: '2025-01-03T15:00:00Z',
      status: 'delivered',
      carrier: 'DHL',
      detail: 'Left with a neighbour',
    },
  ]);
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.deepEqual(
    [body.accepted, body.duplicate, body.rejected],
    [14, 0, 0],
    JSON.stringify(body.results.filter((r: { errors?: unknown }) => r.errors)),
  );
  assert.equal(new Set(body.results.map((r: { customerId: number }) => r.customerId)).size, 1);
  const [customer] = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select name, email, external_id, acquisition_channel, attributes, flags, stage, created_at from customers`,
  );
  assert.deepEqual(
    { ...customer, created_at: new Date(customer.created_at as string).toISOString() },
    {
      name: 'Rosa Diaz',
      email: 'rosa@example.com',
      external_id: 'R-1',
      acquisition_channel: 'social',
      attributes: { vip: true, birth_year: 1990, favourite: 'tea', member_since: '2024-05-01' },
      flags: ['moved'],
      stage: 'trial',
      created_at: '2025-01-01T09:00:00.000Z',
    },
  );
  const [orderRow] = await queryRows<{ total: string; ordered_at: string; lines: number }>(
    t.deps.db,
    sql`
    select total, ordered_at, (select count(*)::int from order_lines) as lines from orders`,
  );
  assert.deepEqual(
    { ...orderRow, ordered_at: new Date(orderRow.ordered_at).toISOString() },
    { total: '25.55', ordered_at: '2025-01-02T10:00:00.000Z', lines: 2 },
  );
  const [ticket] = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select status, outcome, assignee, order_id is not null as linked, first_response_at is not null as responded from tickets`,
  );
  assert.deepEqual(ticket, { status: 'resolved', outcome: 'replaced', assignee: 'sam', linked: true, responded: true });
  const [returned] = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select amount, reason_code, order_id is not null as linked from returns`,
  );
  assert.deepEqual(returned, { amount: '5.55', reason_code: 'wrong_item', linked: true });
  const [delivery] = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select external_id, status, carrier, detail, source, at::text, order_id is not null as linked from deliveries`,
  );
  assert.deepEqual(delivery, {
    external_id: 'a14',
    status: 'delivered',
    carrier: 'DHL',
    detail: 'Left with a neighbour',
    source: 'api',
    at: '2025-01-03 15:00:00+00',
    linked: true,
  });
  const addresses = await queryRows<{ line1: string; valid_to: string | null }>(
    t.deps.db,
    sql`select line1, valid_to from addresses order by valid_from`,
  );
  assert.deepEqual(
    addresses.map((a) => [a.line1, a.valid_to === null ? null : new Date(a.valid_to).toISOString()]),
    [
      ['1 Main St', '2025-02-01T00:00:00.000Z'],
      ['9 Elm St', null],
    ],
  );
  for (const [table, n] of [
    ['touchpoints', 1],
    ['incidents', 1],
    ['survey_responses', 1],
    ['notes', 1],
    ['ticket_updates', 2],
    ['status_changes', 1],
    ['ingested_events', 14],
  ] as const) {
    assert.equal(await count(table), n, table);
  }
  const consent = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select list, granted, source, wording from consent_ledger`,
  );
  assert.deepEqual(consent, [{ list: 'marketing', granted: true, source: 'api', wording: 'Email me offers' }]);
});

test('a repeated batch, and an id repeated inside a batch, are stored once and answered duplicate', async () => {
  const events = [
    order('d1', 'dup@example.com', 'D-1', '2025-03-01T00:00:00Z'),
    order('d1', 'dup@example.com', 'D-1', '2025-03-01T00:00:00Z'),
  ];
  const first = await (await send(events)).json();
  assert.deepEqual(
    first.results.map((r: { status: string }) => r.status),
    ['accepted', 'duplicate'],
  );
  const before = await count('order_lines');
  const second = await (await send(events)).json();
  assert.deepEqual(
    second.results.map((r: { status: string }) => r.status),
    ['duplicate', 'duplicate'],
  );
  assert.equal(second.results[0].customerId, first.results[0].customerId);
  assert.equal(await count('order_lines'), before);
});

test('concurrent, reordered, overlapping batches store each event exactly once', async () => {
  const ids = Array.from({ length: 60 }, (_, i) => `c${i}`);
  const batches = Array.from({ length: 8 }, (_, b) => {
    const picked = ids.filter((_, i) => (i + b) % 3 !== 0);
    return (b % 2 ? picked.reverse() : picked).map((id) => ({
      id,
      type: 'touchpoint',
      customer: { externalId: `K-${Number(id.slice(1)) % 7}` },
      at: '2025-04-01T00:00:00Z',
      channel: 'web',
      direction: 'in',
      kind: 'visit',
    }));
  });
  const answers = await Promise.all(batches.map(async (events) => (await send(events)).json()));
  const accepted = answers.flatMap((a) =>
    a.results.filter((r: { status: string }) => r.status === 'accepted').map((r: { id: string }) => r.id),
  );
  assert.equal(accepted.length, new Set(accepted).size, 'no id accepted twice');
  assert.equal(accepted.length, ids.length);
  const [{ n }] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select count(*)::int as n from touchpoints where external_id like 'c%'`,
  );
  assert.equal(n, ids.length);
  const [{ people }] = await queryRows<{ people: number }>(
    t.deps.db,
    sql`select count(*)::int as people from customers where external_id like 'K-%'`,
  );
  assert.equal(people, 7);
});

test('concurrent order batches about the same customers in opposite orders neither deadlock nor fall back to one by one', async () => {
  const warn = t.deps.logger.warn.bind(t.deps.logger);
  const warnings: string[] = [];
  (t.deps.logger as { warn: unknown }).warn = (...args: unknown[]) => {
    warnings.push(String(args.at(-1)));
    return (warn as (...a: unknown[]) => void)(...args);
  };
  try {
    const batches = Array.from({ length: 4 }, (_, b) => {
      const events = Array.from({ length: 120 }, (_, i) => ({
        id: `dl-${b}-${i}`,
        type: 'order',
        customer: { externalId: `DL-${i % 40}` },
        orderId: `DL-${b}-${i}`,
        at: `2025-05-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
        lines: [{ product: 'mug', amount: '12.00' }],
      }));
      return b % 2 ? events.reverse() : events;
    });
    const answers = await Promise.all(batches.map(async (events) => (await send(events)).json()));
    assert.deepEqual(
      answers.map((a) => a.accepted),
      [120, 120, 120, 120],
    );
    assert.deepEqual(
      warnings.filter((w) => /isolating/.test(w)),
      [],
      'no batch was split into single events',
    );
    const [{ orders }] = await queryRows<{ orders: number }>(
      t.deps.db,
      sql`select sum(order_count)::int as orders from customers where external_id like 'DL-%'`,
    );
    assert.equal(orders, 480, 'every customer row counts its orders from all four batches');
  } finally {
    (t.deps.logger as { warn: unknown }).warn = warn;
  }
});

test('limits: event size, batch bytes and batch length at limit-1, limit and limit+1', async () => {
  const sized = (id: string, bytes: number) => {
    const event = {
      id,
      type: 'touchpoint',
      customer: { externalId: 'L-1' },
      at: '2025-01-01T00:00:00Z',
      channel: 'web',
      direction: 'in',
      kind: 'visit',
    };
    const base = Buffer.byteLength(JSON.stringify({ ...event, detail: { pad: 'x' } })) - 1;
    return { ...event, detail: { pad: 'x'.repeat(bytes - base) } };
  };
  assert.equal(Buffer.byteLength(JSON.stringify(sized('s0', ingestLimits.eventBytes))), ingestLimits.eventBytes);
  const sizedResponse = await send([
    sized('s1', ingestLimits.eventBytes - 1),
    sized('s2', ingestLimits.eventBytes),
    sized('s3', ingestLimits.eventBytes + 1),
  ]);
  const answer = await sizedResponse.json();
  assert.equal(sizedResponse.status, 200, JSON.stringify(answer).slice(0, 500));
  assert.deepEqual(
    answer.results.map((r: { status: string }) => r.status),
    ['accepted', 'accepted', 'rejected'],
  );
  assert.match(answer.results[2].errors[0].message, /32769 bytes; the limit is 32768/);

  const bodyOf = (bytes: number) => {
    const prefix = '{"events":[],"pad":"';
    return `${prefix}${'x'.repeat(bytes - prefix.length - 2)}"}`;
  };
  for (const [bytes, status] of [
    [ingestLimits.batchBytes - 1, 200],
    [ingestLimits.batchBytes, 200],
    [ingestLimits.batchBytes + 1, 413],
  ] as const) {
    const body = bodyOf(bytes);
    assert.equal(Buffer.byteLength(body), bytes);
    assert.equal((await t.call('POST', '/api/v1/events', body)).status, status, `body of ${bytes} bytes`);
  }
  const touch = (i: number) => ({
    id: `n${i}`,
    type: 'touchpoint',
    customer: { externalId: 'N' },
    at: '2025-01-01T00:00:00Z',
    channel: 'web',
    direction: 'in',
    kind: 'v',
  });
  for (const [n, status] of [
    [ingestLimits.batchEvents - 1, 200],
    [ingestLimits.batchEvents, 200],
    [ingestLimits.batchEvents + 1, 413],
  ] as const) {
    const events = Array.from({ length: n }, (_, i) => touch(i));
    const response = await send(events);
    assert.equal(response.status, status, `${n} events`);
    if (status === 413) assert.match((await response.json()).error.message, /2501 events; the limit is 2500/);
  }
});

test('malformed bodies are 400 with a reason; bad events are rejected with the field', async () => {
  for (const body of ['', '[', '{"events": {}}', '[1,2]', 'null', '{"event": []}']) {
    const response = await t.call('POST', '/api/v1/events', body);
    assert.equal(response.status, 400, `body ${JSON.stringify(body)}`);
    assert.equal((await response.json()).error.code, 'bad_request');
  }
  const response = await send([
    { id: 'm1', type: 'order', customer: {}, orderId: 'X', at: '2025-01-01T00:00:00Z', lines: [{ amount: 1 }] },
    {
      id: 'm2',
      type: 'order',
      customer: { email: 'm@example.com' },
      orderId: 'X',
      at: 'yesterday',
      lines: [{ amount: 1 }],
    },
    { id: 'm3', type: 'teleport', customer: { email: 'm@example.com' } },
    {
      id: 'm4',
      type: 'order',
      customer: { email: 'm@example.com' },
      orderId: 'X',
      at: '2025-01-01T00:00:00Z',
      lines: [{ amount: 'ten' }],
    },
    { type: 'note', customer: { email: 'm@example.com' }, at: '2025-01-01T00:00:00Z', body: 'no id' },
    {
      id: 'm6',
      type: 'ticket.updated',
      customer: { email: 'm@example.com' },
      ticketId: 'NOPE',
      at: '2025-01-01T00:00:00Z',
      status: 'pending',
    },
    { id: 'm7', type: 'delivery', customer: { email: 'm@example.com' }, at: '2025-01-01T00:00:00Z', status: 'lost' },
  ]);
  assert.equal(response.status, 400);
  const results = (await response.json()).error.details.results;
  assert.deepEqual(
    results.map((r: { errors: { field: string }[] }) => r.errors[0].field),
    ['customer', 'at', 'type', 'lines.0.amount', 'id', 'ticketId', 'status'],
  );
  assert.equal(await count(`ingested_events where event_id like 'm%'`), 0);
});

test('lifecycle follows purchases and flags, each transition with its time and cause', async () => {
  const email = 'life@example.com';
  await send([order('l1', email, 'L-1', '2025-05-01T10:00:00Z')]);
  await send([order('l2', email, 'L-2', '2025-05-01T18:00:00Z')]);
  const stage = async () =>
    (await queryRows<{ stage: string }>(t.deps.db, sql`select stage from customers where email = ${email}`))[0].stage;
  assert.equal(await stage(), 'trial', 'two orders on one day are one purchase day');
  await send([order('l3', email, 'L-3', '2025-06-01T10:00:00Z')]);
  assert.equal(await stage(), 'customer');
  await send([
    {
      id: 'l4',
      type: 'status.change',
      customer: { email },
      at: '2025-07-01T00:00:00Z',
      flag: 'deceased',
      active: true,
    },
  ]);
  assert.equal(await stage(), 'suppressed');
  const changes = await queryRows<{ to_stage: string; at: string; cause: string }>(
    t.deps.db,
    sql`
    select to_stage, at, cause from lifecycle_changes where customer_id = (select id from customers where email = ${email}) order by at`,
  );
  assert.deepEqual(
    changes.map((c) => [c.to_stage, new Date(c.at).toISOString()]),
    [
      ['trial', '2025-05-01T10:00:00.000Z'],
      ['customer', '2025-06-01T10:00:00.000Z'],
      ['suppressed', '2025-07-01T00:00:00.000Z'],
    ],
  );
  assert.match(changes[2].cause, /deceased set \(event l4\)/);
});

test('an attribute of another type is rejected naming the field', async () => {
  await send([{ id: 't1', type: 'customer.upsert', customer: { externalId: 'T-1' }, attributes: { shoe_size: 42 } }]);
  const response = await send([
    { id: 't2', type: 'customer.upsert', customer: { externalId: 'T-2' }, attributes: { shoe_size: true } },
    { id: 't3', type: 'customer.upsert', customer: { externalId: 'T-3' }, attributes: { shoe_size: 38 } },
  ]);
  const results = (await response.json()).results;
  assert.equal(results[0].status, 'rejected');
  assert.deepEqual(results[0].errors, [
    { field: 'attributes.shoe_size', message: 'shoe_size is a number; got boolean true' },
  ]);
  assert.equal(results[1].status, 'accepted');
});

test('an event that fails unexpectedly is dead-lettered, the rest accepted, and it can be replayed', async () => {
  await t.deps.db.execute(
    sql.raw(`
    create function refuse_poison() returns trigger language plpgsql as $$
    begin if new.kind = 'poison' then raise exception 'poison touchpoint'; end if; return new; end $$`),
  );
  await t.deps.db.execute(
    sql.raw('create trigger poison before insert on touchpoints for each row execute function refuse_poison()'),
  );
  const touch = (id: string, kind: string) => ({
    id,
    type: 'touchpoint',
    customer: { externalId: 'P-1' },
    at: '2025-01-01T00:00:00Z',
    channel: 'web',
    direction: 'in',
    kind,
  });
  const answer = await (await send([touch('p1', 'visit'), touch('p2', 'poison'), touch('p3', 'visit')])).json();
  assert.deepEqual(
    answer.results.map((r: { status: string }) => r.status),
    ['accepted', 'rejected', 'accepted'],
  );
  assert.match(answer.results[1].errors[0].message, /kept as a dead letter/);
  const letters = await (await t.call('GET', '/api/v1/dead-letters')).json();
  assert.equal(letters.deadLetters.length, 1);
  assert.match(letters.deadLetters[0].reason, /poison touchpoint/);
  // A replay that fails again updates the letter; it does not add another.
  const again = await (await t.call('POST', `/api/v1/dead-letters/${letters.deadLetters[0].id}/replay`)).json();
  assert.equal(again.rejected, 1);
  const waiting = (await (await t.call('GET', '/api/v1/dead-letters')).json()).deadLetters;
  assert.equal(waiting.length, 1);
  assert.equal(waiting[0].replayedAt, null);
  assert.match(waiting[0].reason, /^replay .* failed: event: could not be applied \(poison touchpoint\)/);
  await t.deps.db.execute(sql.raw('drop trigger poison on touchpoints'));
  const replay = await (await t.call('POST', `/api/v1/dead-letters/${letters.deadLetters[0].id}/replay`)).json();
  assert.equal(replay.accepted, 1);
  assert.equal(await count(`touchpoints where external_id in ('p1','p2','p3')`), 3);
  const done = (await (await t.call('GET', '/api/v1/dead-letters')).json()).deadLetters;
  assert.equal(done.length, 1);
  assert.notEqual(done[0].replayedAt, null);
  assert.equal((await t.call('POST', `/api/v1/dead-letters/${letters.deadLetters[0].id}/replay`)).status, 409);
});

test('a dead letter keeps any payload, also what jsonb refuses, and reads it back as sent', async () => {
  const payload = {
    id: 'nul-1',
    type: 'note',
    customer: { email: 'n@example.com' },
    body: 'a\u0000b',
    detail: { '\u0000': '\ud800' },
  };
  await deadLetter(t.deps.db, { source: 'test', eventId: 'nul-1', payload, reason: 'test' });
  const [letter] = (await (await t.call('GET', '/api/v1/dead-letters')).json()).deadLetters.filter(
    (l: { eventId: string }) => l.eventId === 'nul-1',
  );
  assert.deepEqual(letter.payload, payload);
});

// Issue 16, findings 2-4: text a column cannot hold, nesting that overflowed the stack, values that
// passed validation and failed in the database. Each event is answered on its own, with the field;
// the good events of the batch are stored, the bad ones leave nothing and no dead letter.
test('NUL, unpaired surrogates, deep nesting and values out of range are rejected per event, naming the field', async () => {
  const note = (id: string, extra: object) => ({
    id,
    type: 'note',
    customer: { externalId: 'H-1' },
    at: '2025-01-01T00:00:00Z',
    body: 'fine',
    ...extra,
  });
  // Written as text: JSON.stringify itself overflows the stack on 5,000 levels, which is how the size check failed.
  const deep = `${'{"d":'.repeat(5000)}"bottom"${'}'.repeat(5000)}`;
  const touch = `{"id":"h-deep","type":"touchpoint","customer":{"externalId":"H-1"},"at":"2025-01-01T00:00:00Z","channel":"web","direction":"in","kind":"visit","detail":${deep}}`;
  assert.ok(touch.length < ingestLimits.eventBytes);
  const orderOf = (id: string, extra: object, line: object = { amount: '5.00' }) => ({
    id,
    type: 'order',
    customer: { externalId: 'H-1' },
    orderId: id,
    at: '2025-01-01T00:00:00Z',
    lines: [line],
    ...extra,
  });
  const letters = await count('dead_letters');
  const events = [
    note('h-ok', {}),
    note('h-nul', { body: 'nul\u0000here' }),
    { ...note('h-nul-email', {}), customer: { email: 'nul\u0000@x.com' } },
    note('h-surrogate', { author: 'half \ud83d' }),
    note('h-key', { id: 'h-key', body: 'x', channel: 'web', extra: { 'k\u0000': 1 } }),
    'DEEP',
    orderOf('h-year', { at: '0000-01-01T00:00:00Z' }),
    orderOf('h-big', {}, { amount: 1e21 }),
    orderOf('h-tiny', {}, { amount: 5e-324 }),
    orderOf('h-float', {}, { amount: 0.1 + 0.2 }),
    orderOf('h-negative', {}, { amount: -5 }),
    orderOf('h-zero-quantity', {}, { quantity: 0, unitPrice: '5.00' }),
    orderOf('h-negative-price', {}, { unitPrice: '-5.00' }),
    orderOf('h-product', {}, { quantity: '99999999999', unitPrice: '999999999999' }),
    orderOf('h-currency', { currency: '€€€' }),
    { ...orderOf('h-email', {}), customer: { email: '@' } },
    { ...orderOf('h-phone', {}), customer: { phone: '-- --' } },
    {
      id: 'h-score',
      type: 'survey.response',
      customer: { externalId: 'H-1' },
      at: '2025-01-01T00:00:00Z',
      survey: 'nps',
      question: 'Q',
      score: 9.125,
    },
    orderOf('h-max', { currency: 'eur' }, { quantity: '99999999999.999', amount: '999999999999.99' }),
  ];
  const response = await t.call('POST', '/api/v1/events', JSON.stringify({ events }).replace('"DEEP"', touch));
  assert.equal(response.status, 200);
  const results: { id: string; status: string; errors?: { field: string; message: string }[] }[] = (
    await response.json()
  ).results;
  const field = (id: string) => {
    const r = results.find((x) => x.id === id)!;
    return r.status === 'rejected' ? r.errors![0].field : r.status;
  };
  assert.deepEqual(Object.fromEntries(results.map((r) => [r.id, field(r.id)])), {
    'h-ok': 'accepted',
    'h-nul': 'body',
    'h-nul-email': 'customer.email',
    'h-surrogate': 'author',
    'h-key': 'extra.k\u0000',
    'h-deep': `detail${'.d'.repeat(31)}`,
    'h-year': 'at',
    'h-big': 'lines.0.amount',
    'h-tiny': 'lines.0.amount',
    'h-float': 'lines.0.amount',
    'h-negative': 'lines.0.amount',
    'h-zero-quantity': 'lines.0.quantity',
    'h-negative-price': 'lines.0.unitPrice',
    'h-product': 'lines.0.amount',
    'h-currency': 'currency',
    'h-email': 'customer.email',
    'h-phone': 'customer.phone',
    'h-score': 'score',
    'h-max': 'accepted',
  });
  assert.match(results.find((r) => r.id === 'h-deep')!.errors![0].message, /nests deeper than 32 levels/);
  assert.equal(await count('dead_letters'), letters, 'validation failures are answered, not dead-lettered');
  assert.equal(await count(`ingested_events where event_id like 'h-%'`), 2);
  const [max] = await queryRows<{ total: string; currency: string; quantity: string }>(
    t.deps.db,
    sql`
    select o.total::text, o.currency, l.quantity::text from orders o join order_lines l on l.customer_id = o.customer_id and l.order_id = o.id where o.external_id = 'h-max'`,
  );
  assert.deepEqual(max, { total: '999999999999.99', currency: 'EUR', quantity: '99999999999.999' });
});

test('ingest requires authentication and is documented in OpenAPI', async () => {
  const response = await t.app.request('/api/v1/events', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"events":[]}',
  });
  assert.equal(response.status, 401);
  const doc = await (await t.call('GET', '/api/openapi.json')).json();
  assert.ok(doc.paths['/api/v1/events']?.post, Object.keys(doc.paths).join(', '));
});

test('an order sent again with changed lines gets its total again; an unchanged resend keeps it', async () => {
  await send([order('tot-1', 'totals@example.com', 'O-TOT', '2025-03-01T10:00:00Z', '1.00')]);
  const total = async () =>
    (await queryRows<{ total: string }>(t.deps.db, sql`select total from orders where external_id = 'O-TOT'`))[0].total;
  assert.equal(await total(), '21.00');
  await send([order('tot-2', 'totals@example.com', 'O-TOT', '2025-03-01T10:00:00Z', '7.25')]);
  assert.equal(await total(), '27.25');
  await send([order('tot-3', 'totals@example.com', 'O-TOT', '2025-03-01T10:00:00Z', '7.25')]);
  assert.equal(await total(), '27.25');
});
