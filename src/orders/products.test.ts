// The catalogue: `kept import products` (through runImport, as the CLI and uploads run it) and the
// product.upsert event write it; what reads order lines takes its category and cost.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { runImport } from '../imports/import.service.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';

let t: TestApp;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-products-'));
  t = await createTestApp('admin', { dataDir: work });
});
after(async () => {
  await t.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const catalogue = () =>
  queryRows<{
    sku: string;
    name: string | null;
    category: string | null;
    price: string | null;
    cost: string | null;
    currency: string | null;
  }>(t.deps.db, sql`select sku, name, category, price::text, cost::text, currency from products order by sku`);
const importFile = (name: string, text: string, map: Record<string, string> = {}) => {
  const file = path.join(work, name);
  fs.writeFileSync(file, text);
  return runImport(t.deps, { kind: 'products', file, map, encoding: 'utf-8' });
};

test('a products file: good rows in, a bad price named by row and column, the same file again changes nothing', async () => {
  const file = [
    'sku,name,category,price,cost,currency',
    'TWL-01,Bath towel,towels,20.00,8.50,eur',
    'CDL-02,Soy candle,candles,12.5,4,EUR',
    'MUG-03,Mug,kitchen,-3.00,1.00,EUR',
    'TEA-04,Earl Grey,,6.90,,',
    'BAD-05,Odd,misc,9.99,1.00,EURO',
  ].join('\n');
  const first = await importFile('products.csv', file);
  assert.deepEqual(first.counts, { read: 5, imported: 3, updated: 0, unchanged: 0, rejected: 2 });
  const [head, ...rejected] = parse(fs.readFileSync(first.rejectedFile!, 'utf8')) as string[][];
  assert.deepEqual(head, ['sku', 'name', 'category', 'price', 'cost', 'currency', 'row', 'line', 'reason']);
  assert.deepEqual(
    rejected.map((r) => r.slice(-3)),
    [
      ['3', '4', 'price must not be negative, found "-3.00"'],
      ['5', '6', 'currency: expected a three-letter code like EUR, found "EURO"'],
    ],
  );
  assert.deepEqual(await catalogue(), [
    { sku: 'CDL-02', name: 'Soy candle', category: 'candles', price: '12.50', cost: '4.00', currency: 'EUR' },
    { sku: 'TEA-04', name: 'Earl Grey', category: null, price: '6.90', cost: null, currency: null },
    { sku: 'TWL-01', name: 'Bath towel', category: 'towels', price: '20.00', cost: '8.50', currency: 'EUR' },
  ]);
  const [{ updated_at: stamped }] = await queryRows<{ updated_at: string }>(
    t.deps.db,
    sql`select updated_at::text from products where sku = 'TWL-01'`,
  );

  const again = await importFile('products-again.csv', file);
  assert.deepEqual(again.counts, { read: 5, imported: 0, updated: 0, unchanged: 3, rejected: 2 });
  const [{ updated_at: still }] = await queryRows<{ updated_at: string }>(
    t.deps.db,
    sql`select updated_at::text from products where sku = 'TWL-01'`,
  );
  assert.equal(still, stamped, 'an unchanged product keeps its time');

  // A file of costs alone, its columns mapped: only the costs change; an empty cell keeps what is stored.
  const costs = await importFile('costs.csv', 'Artikel;EK\nTEA-04;2,10\nTWL-01;\n', { id: 'Artikel', cost: 'EK' });
  assert.deepEqual(costs.counts, { read: 2, imported: 0, updated: 1, unchanged: 1, rejected: 0 });
  assert.deepEqual(
    (await catalogue()).find((p) => p.sku === 'TEA-04'),
    {
      sku: 'TEA-04',
      name: 'Earl Grey',
      category: null,
      price: '6.90',
      cost: '2.10',
      currency: null,
    },
  );
  assert.equal((await catalogue()).find((p) => p.sku === 'TWL-01')?.cost, '8.50');
});

test('a file without an id column stops before anything is written, naming the column', async () => {
  await assert.rejects(importFile('no-id.csv', 'name,price\nMug,3\n'), /a products file needs a column for id/);
});

test("the catalogue's category wins over an order line's, on the timeline, in segments and templates; margins where costs are known", async () => {
  // The product.upsert event writes the same catalogue (no customer; answered without one).
  const events = await ingestEvents(
    t.deps,
    [
      { id: 'p1', type: 'product.upsert', sku: 'SOCK-9', name: 'Wool socks', category: 'clothing', cost: '3.00' },
      { id: 'p2', type: 'product.upsert', sku: 'SOCK-9', customer: { externalId: 'X' } },
      { id: 'p3', type: 'product.upsert', sku: 'MUG-03', price: '-1' },
      {
        id: 'o1',
        type: 'order',
        customer: { externalId: 'C1', email: 'c1@example.com' },
        orderId: 'O1',
        at: '2026-03-01T10:00:00Z',
        lines: [
          { product: 'TWL-01', category: 'misc', quantity: '2', unitPrice: '20.00' },
          { product: 'SOCK-9', category: 'misc', amount: '9.00' },
        ],
      },
      {
        id: 'o2',
        type: 'order',
        customer: { externalId: 'C2' },
        orderId: 'O2',
        at: '2026-03-02T10:00:00Z',
        lines: [
          { product: 'TWL-01', amount: '20.00' },
          { product: 'Gift card', category: 'misc', amount: '25.00' },
        ],
      },
      {
        id: 'o3',
        type: 'order',
        customer: { externalId: 'C3' },
        orderId: 'O3',
        at: '2026-03-03T10:00:00Z',
        lines: [{ product: 'Gift card', category: 'misc', amount: '25.00' }],
      },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    events.results.map((r) => [r.id, r.status, r.customerId === undefined ? 'no customer' : 'customer']),
    [
      ['p1', 'accepted', 'no customer'],
      ['p2', 'accepted', 'no customer'],
      ['p3', 'rejected', 'no customer'],
      ['o1', 'accepted', 'customer'],
      ['o2', 'accepted', 'customer'],
      ['o3', 'accepted', 'customer'],
    ],
  );
  assert.deepEqual(events.results[2].errors, [{ field: 'price', message: 'must not be negative' }]);
  assert.deepEqual(
    (await catalogue()).find((p) => p.sku === 'SOCK-9'),
    {
      sku: 'SOCK-9',
      name: 'Wool socks',
      category: 'clothing',
      price: null,
      cost: '3.00',
      currency: null,
    },
  );

  const customerId = async (externalId: string) =>
    (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = ${externalId}`))[0].id;
  const orderOf = async (externalId: string) => {
    const body = await expectJson(
      t.call('GET', `/api/v1/customers/${await customerId(externalId)}/timeline?kinds=order`),
    );
    const entries = body.entries ?? body.items ?? body;
    return entries.find((e: { kind: string }) => e.kind === 'order').detail;
  };
  const o1 = await orderOf('C1');
  assert.deepEqual(
    o1.lines.map((l: Record<string, unknown>) => [l.sku, l.product, l.category, l.cost, l.margin]),
    [
      ['TWL-01', 'Bath towel', 'towels', '8.50', '23.00'],
      ['SOCK-9', 'Wool socks', 'clothing', '3.00', '6.00'],
    ],
  );
  assert.equal(o1.margin, '29.00', 'every line has a cost: the order has a margin');
  const o2 = await orderOf('C2');
  assert.deepEqual(
    o2.lines.map((l: Record<string, unknown>) => [l.sku, l.category, l.margin]),
    [
      ['TWL-01', 'towels', '11.50'],
      ['Gift card', 'misc', null],
    ],
  );
  assert.equal(o2.margin, null, 'a line without a cost leaves the order without a margin');

  const preview = async (field: string, value: string) => {
    const body = await expectJson(
      t.call('POST', '/api/v1/segments/preview', {
        rule: { match: 'all', conditions: [{ field, op: 'is', value }] },
      }),
    );
    return body.sample.map((s: { externalId: string }) => s.externalId).sort();
  };
  assert.deepEqual(await preview('category_bought', 'towels'), ['C1', 'C2'], 'the catalogue category counts');
  assert.deepEqual(
    await preview('category_bought', 'misc'),
    ['C2', 'C3'],
    "a line's own category only off the catalogue",
  );
  assert.deepEqual(await preview('product_bought', 'Wool socks'), ['C1'], 'a product by its catalogue name');
  assert.deepEqual(await preview('product_bought', 'sock-9'), ['C1'], 'and by its SKU');
  const fields = await expectJson(t.call('GET', '/api/v1/segments/fields'));
  for (const category of ['candles', 'clothing', 'misc', 'towels'])
    assert.ok(fields.categories.includes(category), category);

  const mail = await expectJson(
    t.call('POST', '/api/v1/templates/preview', {
      subject: 'Hi',
      body: '<p>{{ customer.interests | join: "," }}|{% for p in customer.purchases %}{{ p.product }}/{{ p.category }};{% endfor %}</p>',
      customerId: await customerId('C1'),
    }),
  );
  assert.match(mail.html, /clothing,towels\|/);
  assert.match(mail.html, /Bath towel\/towels;Wool socks\/clothing;/);
});
