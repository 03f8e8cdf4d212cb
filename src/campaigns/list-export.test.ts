// The call list as a dialer and a spreadsheet take it: phones in E.164 with no formula quote,
// every other cell still formula-safe.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { phoneCell } from '../shared/spreadsheet.ts';

let t: TestApp;

before(async () => {
  t = await createTestApp('admin', { defaultCountry: 'DE' });
  const people = [
    { externalId: 'P1', phone: '+49 30 8322669', name: '=HYPERLINK("https://evil.example","call me")' },
    { externalId: 'P2', phone: '030 8322670', name: 'Anna Berg' },
    { externalId: 'P3', phone: '+1 (415) 555-2671', name: '@SUM(1+1)' },
  ];
  const stored = await ingestEvents(
    t.deps,
    people.flatMap((p, i) => [
      { id: `u${i}`, type: 'customer.upsert', customer: { externalId: p.externalId, phone: p.phone }, name: p.name },
      {
        id: `k${i}`,
        type: 'consent',
        customer: { externalId: p.externalId },
        at: '2026-01-01T00:00:00Z',
        granted: true,
      },
    ]),
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
});
after(() => t.close());

test('a call list carries phones in E.164 without a quote, names still neutralised', async () => {
  const segment = await expectJson(
    t.call('POST', '/api/v1/segments', { name: 'All', rule: { match: 'all', conditions: [] } }),
    201,
  );
  const campaign = await expectJson(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Call them',
      kind: 'offer',
      channel: 'phone',
      segmentId: segment.id,
      holdoutShare: 0,
      arms: [{ name: 'call' }],
    }),
    201,
  );
  await expectJson(t.call('POST', `/api/v1/campaigns/${campaign.id}/start`));
  const response = await t.call('GET', `/api/v1/campaigns/${campaign.id}/list.csv`);
  assert.equal(response.status, 200);
  const text = await response.text();
  const rows: Record<string, string>[] = parse(text, { columns: true });
  const byId = new Map(rows.map((r) => [r.customer, r]));
  assert.deepEqual([...byId.keys()].sort(), ['P1', 'P2', 'P3']);
  assert.equal(byId.get('P1')!.phone, '+49308322669');
  assert.match(text, /,\+49308322669,/, 'written exactly, no apostrophe');
  assert.equal(byId.get('P2')!.phone, '+49308322670', 'a national number gets the default country');
  assert.equal(byId.get('P3')!.phone, '+14155552671');
  assert.equal(byId.get('P1')!.name, '\'=HYPERLINK("https://evil.example","call me")');
  assert.equal(byId.get('P3')!.name, "'@SUM(1+1)");
});

test('a phone cell that is no E.164 number stays formula-safe', () => {
  assert.equal(phoneCell('+49 30 8322669', 'DE'), '+49308322669');
  assert.equal(phoneCell('=HYPERLINK("x")', 'DE'), '\'=HYPERLINK("x")');
  assert.equal(phoneCell('+49=1+2', 'DE'), "'+49=1+2");
  assert.equal(phoneCell('-12', 'DE'), "'-12");
  assert.equal(phoneCell(null, 'DE'), null);
});

test('the audit and privacy exports write instants in ISO 8601 and held E.164 phones without a quote', async () => {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
  const audit: Record<string, string>[] = parse(await (await t.call('GET', '/api/v1/audit.csv')).text(), {
    columns: true,
  });
  assert.ok(audit.length > 0);
  for (const row of audit) assert.match(row.at, iso);
  const [customer] = await expectJson(t.call('GET', '/api/v1/customers?q=P1')).then(
    (b) => b.customers ?? b.items ?? [],
  );
  assert.ok(customer, 'P1 is found');
  const lines: string[][] = parse(
    await (await t.call('GET', `/api/v1/customers/${customer.id}/export?format=csv`)).text(),
  );
  const value = (table: string, field: string) =>
    lines.filter((l) => l[0] === table && l[2] === field).map((l) => l[3]);
  assert.deepEqual(value('customers', 'phone'), ['+49308322669']);
  for (const at of value('customers', 'created_at')) assert.match(at, iso);
  assert.deepEqual(value('customers', 'name'), ['\'=HYPERLINK("https://evil.example","call me")']);
});
