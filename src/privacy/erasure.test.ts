// P16: erasure leaves no personal data, and the person stays erased.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { signToken } from '../auth/signing.ts';
import { queryRows, sql } from '../db/connection.ts';
import { deadLetter } from '../ingest/ingest.repository.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { runImport } from '../imports/import.service.ts';
import { erasedRefs } from './erasure.ts';
import { allTables } from './privacy.repository.ts';

const who = { externalId: 'C-QX-7781', email: 'Ines.Quarterfield@Example.com', phone: '+44 20 7946 0321' };
/** Everything that would identify her, as it would be stored (normalised) and as it was sent. */
const traces = [
  'Quarterfield',
  'ines.quarterfield@example.com',
  'C-QX-7781',
  '+442079460321',
  '17 Lantern Row',
  'Zanzibar parcel',
  'hates the blue wrapping',
  'Shoe box crushed',
  'Wrong colour of scarf',
];

let t: TestApp;
let work: string;
let herId: number;
before(async () => {
  t = await createTestApp('admin');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-erase-'));
  const day = (d: number) => `2026-0${1 + Math.floor(d / 28)}-${String(1 + (d % 28)).padStart(2, '0')}T10:00:00Z`;
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'u1',
        type: 'customer.upsert',
        customer: who,
        name: 'Ines Quarterfield',
        attributes: { nickname: 'Quarterfield the younger' },
      },
      {
        id: 'a1',
        type: 'address.change',
        customer: who,
        at: day(0),
        address: { kind: 'postal', line1: '17 Lantern Row', city: 'Bristol', postalCode: 'BS1 4DJ', country: 'GB' },
      },
      {
        id: 'o1',
        type: 'order',
        customer: who,
        orderId: 'O-1',
        at: day(1),
        lines: [{ product: 'Scarf', amount: '30.00' }],
      },
      {
        id: 'o2',
        type: 'order',
        customer: who,
        orderId: 'O-2',
        at: day(40),
        lines: [{ product: 'Gloves', amount: '20.00' }],
      },
      {
        id: 'r1',
        type: 'return',
        customer: who,
        returnId: 'R-1',
        orderId: 'O-1',
        at: day(3),
        quantity: '1',
        amount: '30.00',
        reasonCode: 'wrong_item',
        reason: 'Wrong colour of scarf',
      },
      {
        id: 'n1',
        type: 'note',
        customer: who,
        at: day(4),
        body: 'Zanzibar parcel: she hates the blue wrapping',
        feeling: -1,
        author: 'sam',
      },
      { id: 't1', type: 'ticket.opened', customer: who, ticketId: 'T-1', at: day(5), subject: 'Shoe box crushed' },
      {
        id: 'i1',
        type: 'incident',
        customer: who,
        at: day(5),
        kind: 'damaged',
        detail: { what: 'Shoe box crushed in transit' },
      },
      { id: 'k1', type: 'consent', customer: who, at: day(0), granted: true, wording: 'Yes, send me news' },
      {
        id: 's1',
        type: 'survey.response',
        customer: who,
        at: day(6),
        survey: 'nps',
        question: 'Recommend us?',
        score: 3,
        answer: 'Shoe box crushed, twice',
      },
      {
        id: 'p1',
        type: 'touchpoint',
        customer: who,
        at: day(7),
        channel: 'phone',
        direction: 'in',
        kind: 'call',
        detail: { summary: 'Called about the Zanzibar parcel' },
      },
      {
        id: 'f1',
        type: 'status.change',
        customer: who,
        at: day(8),
        flag: 'moved',
        active: true,
        note: 'Left 17 Lantern Row',
      },
      ...Array.from({ length: 30 }, (_, i) => ({
        id: `x${i}`,
        type: 'order' as const,
        customer: { externalId: `OTHER-${i}` },
        orderId: `X-${i}`,
        at: day(i),
        lines: [{ amount: '10.00' }],
      })),
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  herId = stored.results[0].customerId!;
  await deadLetter(t.deps.db, {
    source: 'test',
    eventId: 'bad-1',
    payload: { customer: { email: 'ines.quarterfield@example.com' }, note: 'Zanzibar parcel' },
    reason: 'test',
  });
  await deadLetter(t.deps.db, {
    source: 'test',
    eventId: 'bad-2',
    payload: { customer: { externalId: 'C' } },
    reason: 'another customer, whose id is a part of hers',
  });
  await t.deps.db.execute(
    sql`insert into email_suppressions (email, reason, at) values ('ines.quarterfield@example.com', 'hard bounce', now())`,
  );
  await t.deps.mailer.send({
    to: 'ines.quarterfield@example.com',
    subject: 'For Ines Quarterfield',
    html: '<p>Hi Ines Quarterfield</p>',
    text: 'Hi',
    headers: {},
    messageId: '<m1@kept>',
  });
  await analyze(t.deps, { asOf: '2026-03-01' });
});
after(async () => {
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The text of every row of every table, and on PostgreSQL the output of pg_dump too. */
async function dump(): Promise<string> {
  const parts: string[] = [];
  for (const table of await allTables(t.deps.db)) {
    const rows = await queryRows<{ row: string }>(
      t.deps.db,
      table === '__drizzle_migrations'
        ? sql`select t::text as row from drizzle.__drizzle_migrations t`
        : sql`select t::text as row from ${sql.identifier(table)} t`,
    );
    parts.push(...rows.map((r) => `${table}: ${r.row}`));
  }
  if (t.deps.database.kind === 'postgres')
    parts.push(execFileSync('pg_dump', [t.deps.config.databaseUrl!], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  return parts.join('\n');
}
const found = (text: string) => traces.filter((trace) => text.toLowerCase().includes(trace.toLowerCase()));

test('erasure asks for confirmation, deletes every record about the person and nothing of anyone else, and the dump holds no trace of them', async () => {
  assert.deepEqual(found(await dump()).sort(), [...traces].sort(), 'every trace is in the database before the erasure');
  const othersBefore = (
    await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from orders where customer_id <> ${herId}`)
  )[0].n;

  assert.equal((await t.call('POST', `/api/v1/customers/${herId}/erase`, {})).status, 400);
  const erased = await expectJson(t.call('POST', `/api/v1/customers/${herId}/erase`, { confirm: 'erase' }));
  assert.equal(erased.customerId, herId);
  assert.deepEqual(
    [
      erased.tables.customers,
      erased.tables.orders,
      erased.tables.order_lines,
      erased.tables.dead_letters,
      erased.tables.captured_mail,
      erased.tables.email_suppressions,
    ],
    [1, 2, 2, 1, 1, 1],
  );
  assert.equal(erased.tables.scores, 1, 'her scores go too');

  assert.deepEqual(found(await dump()), []);
  const [{ n }] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select count(*)::int as n from orders where customer_id <> ${herId}`,
  );
  assert.equal(n, othersBefore, "no one else's orders went");
  const [{ letters }] = await queryRows<{ letters: number }>(
    t.deps.db,
    sql`select count(*)::int as letters from dead_letters`,
  );
  assert.equal(letters, 1, 'the failed event of a customer whose id is a part of hers stays');

  assert.equal((await t.call('GET', `/api/v1/customers/${herId}`)).status, 404);
  assert.equal((await t.call('POST', `/api/v1/customers/${herId}/erase`, { confirm: 'erase' })).status, 404);
  const [entry] = (await expectJson(t.call('GET', '/api/v1/audit?action=customer.erased'))).entries;
  assert.deepEqual([entry.target, entry.detail.rows, entry.detail.identities], [`customer #${herId}`, erased.rows, 3]);
});

test('an erased person cannot come back by event, API or import, by any identity they had; everyone else still can', async () => {
  const again = await ingestEvents(
    t.deps,
    [
      {
        id: 'back-1',
        type: 'customer.upsert',
        customer: { email: ' INES.QUARTERFIELD@example.com ' },
        name: 'Ines Quarterfield',
      },
      {
        id: 'back-2',
        type: 'order',
        customer: { externalId: 'C-QX-7781' },
        orderId: 'O-9',
        at: '2026-03-02T10:00:00Z',
        lines: [{ amount: '5.00' }],
      },
      {
        id: 'back-3',
        type: 'note',
        customer: { phone: '+44 (20) 7946-0321' },
        at: '2026-03-02T10:00:00Z',
        body: 'Zanzibar parcel again',
      },
      { id: 'new-1', type: 'customer.upsert', customer: { email: 'someone.new@example.com' }, name: 'Someone New' },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    again.results.map((r) => [r.status, r.errors?.[0]?.field]),
    [
      ['rejected', 'customer'],
      ['rejected', 'customer'],
      ['rejected', 'customer'],
      ['accepted', undefined],
    ],
  );
  assert.match(again.results[0].errors![0].message, /asked to be erased/);

  const response = await t.call('POST', '/api/v1/events', {
    events: [{ id: 'back-4', type: 'customer.upsert', customer: { email: 'ines.quarterfield@example.com' } }],
  });
  assert.equal((await expectJson(response, 400)).error.details.results[0].errors[0].field, 'customer');

  const file = path.join(work, 'customers.csv');
  fs.writeFileSync(
    file,
    'email,name\nines.quarterfield@example.com,Ines Quarterfield\nfresh@example.com,Fresh Person\n',
  );
  const outcome = await runImport(t.deps, {
    kind: 'customers',
    file,
    map: {},
    encoding: 'utf-8',
    rejectedFile: path.join(work, 'rejected.csv'),
  });
  assert.deepEqual([outcome.counts.imported, outcome.counts.rejected], [1, 1]);
  const rejected = fs.readFileSync(outcome.rejectedFile!, 'utf8');
  assert.match(rejected, /,1,2,"?email: this person asked to be erased/);
  assert.deepEqual(found(rejected), [], 'the rejected-rows file names the row, not her data');

  const preferences = `/p/${await signToken(t.deps, 'preferences', String(herId))}`;
  assert.match(await (await t.app.request(preferences)).text(), /We hold nothing about you/);
  await t.app.request(preferences, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'do=none',
  });
  const [{ entries }] = await queryRows<{ entries: number }>(
    t.deps.db,
    sql`select count(*)::int as entries from consent_ledger where customer_id = ${herId}`,
  );
  assert.equal(entries, 0, 'an old preference link records nothing');

  assert.deepEqual(found(await dump()), [], 'nothing of hers was stored by the attempts');
});

test('a changed KEPT_SECRET stops ingest rather than letting erased people back in', async () => {
  const otherKey = { ...t.deps, config: { ...t.deps.config, secret: 'a different secret' } };
  await assert.rejects(
    erasedRefs(otherKey, t.deps.db, [{ externalId: 'anyone', email: null, phone: null }]),
    /hashed with another key: KEPT_SECRET changed/,
  );
});
