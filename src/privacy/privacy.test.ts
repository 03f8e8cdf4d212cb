import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { allTables, byEmail, customerTables, notAboutCustomers } from './privacy.repository.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp('admin');
  const who = { externalId: 'C-1', email: 'ines@example.com' };
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'u1',
        type: 'customer.upsert',
        customer: { ...who, phone: '+44 20 7946 0958' },
        name: '=HYPERLINK("https://evil.example")',
        attributes: { shoe_size: 38 },
      },
      {
        id: 'u2',
        type: 'customer.upsert',
        customer: { externalId: 'C-2', email: 'other@example.com' },
        name: 'Someone Else',
      },
      {
        id: 'a1',
        type: 'address.change',
        customer: who,
        at: '2026-01-01T00:00:00Z',
        address: { kind: 'postal', line1: '1 Quay Street', city: 'Bristol', postalCode: 'BS1 4DJ', country: 'GB' },
      },
      {
        id: 'o1',
        type: 'order',
        customer: who,
        orderId: 'O-1',
        at: '2026-01-02T10:00:00Z',
        lines: [{ product: 'Tea towel', amount: '9.00' }],
      },
      {
        id: 'o2',
        type: 'order',
        customer: { externalId: 'C-2' },
        orderId: 'O-2',
        at: '2026-01-02T10:00:00Z',
        lines: [{ product: 'Mug', amount: '12.00' }],
      },
      {
        id: 'n1',
        type: 'note',
        customer: who,
        at: '2026-01-03T10:00:00Z',
        body: 'Asked about delivery to her office',
        feeling: 0,
        author: 'sam',
      },
      {
        id: 't1',
        type: 'ticket.opened',
        customer: who,
        ticketId: 'T-1',
        at: '2026-01-04T10:00:00Z',
        category: 'delivery',
        subject: 'Where is my parcel?',
      },
      {
        id: 'k1',
        type: 'consent',
        customer: who,
        at: '2026-01-01T00:00:00Z',
        granted: true,
        wording: 'Yes, send me news',
      },
      {
        id: 's1',
        type: 'survey.response',
        customer: who,
        at: '2026-01-05T10:00:00Z',
        survey: 'nps',
        question: 'Recommend us?',
        score: 9,
        answer: 'Lovely towels',
      },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
});
after(async () => {
  await t.close();
});

test('every table is covered: read by customer id, read by email, or declared to hold no customer data (a new table fails here until it is classified)', async () => {
  const tables = await allTables(t.deps.db);
  const byId = new Set(await customerTables(t.deps.db));
  const unclassified = tables.filter(
    (name) => name !== 'customers' && !byId.has(name) && !(name in byEmail) && !(name in notAboutCustomers),
  );
  assert.deepEqual(unclassified, [], 'classify these in src/privacy/privacy.repository.ts');
  const stale = [...Object.keys(byEmail), ...Object.keys(notAboutCustomers)].filter((name) => !tables.includes(name));
  assert.deepEqual(stale, [], 'tables that no longer exist');
  assert.ok(byId.size >= 20, `${byId.size} tables by customer id`);
});

test("the export holds the customer's profile and every record about them, and nothing about anyone else", async () => {
  const [{ id }] = (await expectJson(t.call('GET', '/api/v1/customers?q=ines'))).customers;
  const data = await expectJson(t.call('GET', `/api/v1/customers/${id}/export`));
  assert.deepEqual(
    [data.customer.email, data.customer.phone, data.customer.attributes],
    ['ines@example.com', '+442079460958', { shoe_size: 38 }],
  );
  assert.deepEqual(
    data.tables.orders.map((o: { external_id: string }) => o.external_id),
    ['O-1'],
  );
  assert.deepEqual(
    data.tables.order_lines.map((l: { product: string }) => l.product),
    ['Tea towel'],
  );
  assert.equal(data.tables.notes[0].body, 'Asked about delivery to her office');
  assert.equal(data.tables.tickets[0].subject, 'Where is my parcel?');
  assert.equal(data.tables.consent_ledger[0].wording, 'Yes, send me news');
  assert.equal(data.tables.survey_responses[0].answer, 'Lovely towels');
  assert.equal(data.tables.addresses[0].line1, '1 Quay Street');
  assert.deepEqual(data.tables.identities.map((i: { kind: string }) => i.kind).sort(), ['email', 'external', 'phone']);
  for (const [table, rows] of Object.entries(data.tables as Record<string, { customer_id?: number }[]>)) {
    for (const row of rows)
      if ('customer_id' in row) assert.equal(Number(row.customer_id), id, `${table} holds another customer's row`);
  }
  assert.ok(!JSON.stringify(data).includes('other@example.com'));

  const [recorded] = (await expectJson(t.call('GET', '/api/v1/audit?action=export.customer'))).entries;
  assert.deepEqual([recorded.target, recorded.detail.format], [`customer #${id}`, 'json']);
  assert.equal((await t.call('GET', '/api/v1/customers/999999/export')).status, 404);
});

test('as CSV: one line per value, and a name a spreadsheet would run is made text', async () => {
  const [{ id }] = (await expectJson(t.call('GET', '/api/v1/customers?q=ines'))).customers;
  const response = await t.call('GET', `/api/v1/customers/${id}/export?format=csv`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-disposition')!, new RegExp(`kept-customer-${id}\\.csv`));
  const rows = parse(await response.text(), { columns: true }) as {
    table: string;
    row: string;
    field: string;
    value: string;
  }[];
  const value = (table: string, field: string) => rows.find((r) => r.table === table && r.field === field)?.value;
  assert.equal(value('customers', 'name'), `'=HYPERLINK("https://evil.example")`);
  assert.equal(value('notes', 'body'), 'Asked about delivery to her office');
  assert.equal(value('orders', 'total'), '9.00');
});
