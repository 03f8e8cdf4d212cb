import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import type { ImportOptions } from './import.ts';
import { runImport } from './import.service.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
let deps: Deps;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-import-'));
  deps = await createTestDeps({ dataDir: work });
});
after(async () => {
  await deps.close();
  fs.rmSync(work, { recursive: true, force: true });
});

const run = (kind: ImportOptions['kind'], file: string, extra: Partial<ImportOptions> = {}) =>
  runImport(deps, { kind, file: path.join(fixtures, file), map: {}, encoding: 'utf-8', ...extra });
const rows = <T>(query: ReturnType<typeof sql>) => queryRows<T>(deps.db, query);
const rejectedRows = (file: string) => fs.readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1);

test('BOM, CRLF and quoted newlines are read; bad dates and amounts are rejected with row and reason; the last row needs no newline', async () => {
  const outcome = await run('orders', 'bom-crlf-quoted.csv');
  assert.deepEqual(outcome.counts, { read: 5, imported: 3, updated: 0, unchanged: 0, rejected: 2 });
  const lines = await rows<{ product: string; amount: string }>(sql`select product, amount from order_lines order by customer_id, order_id, line_no`);
  assert.deepEqual(lines, [{ product: 'Mug, large', amount: '20.00' }, { product: 'Tea\r\nEarl Grey', amount: '5.50' }, { product: 'Mug', amount: '3.00' }]);
  const rejected = rejectedRows(outcome.rejectedFile!);
  assert.equal(rejected.length, 2);
  assert.match(rejected[0], /,3,5,"at: expected a date like 2026-03-01 .*found ""2025-13-40""/);
  assert.match(rejected[1], /,4,6,"quantity: expected a number like 12.50, found ""one""/);
  const again = await run('orders', 'bom-crlf-quoted.csv');
  assert.deepEqual(again.counts, { read: 5, imported: 0, updated: 0, unchanged: 3, rejected: 2 });
});

test('semicolon files with decimal commas and a date format; tab files; both sniffed', async () => {
  const semicolon = await run('orders', 'semicolon.csv', { dateFormat: 'dd/MM/yyyy' });
  assert.deepEqual(semicolon.counts, { read: 2, imported: 2, updated: 0, unchanged: 0, rejected: 0 });
  const [order] = await rows<{ total: string; ordered_at: string }>(sql`select total, ordered_at from orders where external_id = 'O1' and total = 12.50`);
  assert.equal(new Date(order.ordered_at).toISOString(), '2025-02-01T00:00:00.000Z');
  const tab = await run('orders', 'tab.csv');
  assert.deepEqual(tab.counts, { read: 2, imported: 2, updated: 0, unchanged: 0, rejected: 0 });
});

test('a missing required column stops the import before anything is written, naming the header', async () => {
  const before = (await rows<{ n: number }>(sql`select count(*)::int as n from imports`))[0].n;
  await assert.rejects(run('orders', 'missing-column.csv'), /needs a column for customer; at; amount or unit_price\. Its header is: client, when, total/);
  await assert.rejects(run('orders', 'missing-column.csv', { map: { customer: 'nope' } }), /no column "nope"/);
  assert.equal((await rows<{ n: number }>(sql`select count(*)::int as n from imports`))[0].n, before);
});

test('non-UTF-8 stops with the line and a hint; with --encoding windows-1252 the accents are right', async () => {
  await assert.rejects(run('customers', 'latin1.csv'), /not UTF-8: invalid bytes on line 2.*--encoding windows-1252/);
  const outcome = await run('customers', 'latin1.csv', { encoding: 'windows-1252' });
  assert.equal(outcome.counts.imported, 1);
  const [customer] = await rows<{ name: string; city: string }>(sql`select c.name, a.city from customers c join addresses a on a.customer_id = c.id where c.external_id = 'L1'`);
  assert.deepEqual(customer, { name: 'René Müller', city: 'Köln' });
});

test('customers: unmapped columns become typed attributes; a value of the wrong type rejects its row', async () => {
  const outcome = await run('customers', 'customers.csv');
  assert.deepEqual(outcome.counts, { read: 4, imported: 3, updated: 0, unchanged: 0, rejected: 1 });
  const types = await rows<{ key: string; type: string }>(sql`select key, type from attribute_definitions where key in ('loyalty_member','birth_year','member_since','favourite') order by key`);
  assert.deepEqual(types.map((t) => `${t.key}:${t.type}`), ['birth_year:number', 'favourite:text', 'loyalty_member:text', 'member_since:date']);
  const [ana] = await rows<{ attributes: Record<string, unknown>; created_at: string }>(sql`select attributes, created_at from customers where external_id = 'K1'`);
  assert.deepEqual(ana.attributes, { birth_year: 1980, favourite: 'tea', loyalty_member: 'yes', member_since: '2023-01-01' });
  assert.match(rejectedRows(outcome.rejectedFile!).join('\n'), /K4,not-an-email.*,4,5,"email: expected an address like name@example.com, found ""not-an-email"""/);
  const again = await run('customers', 'customers.csv');
  assert.deepEqual(again.counts, { read: 4, imported: 0, updated: 0, unchanged: 3, rejected: 1 });
  const conflict = await run('customers', 'customers-conflict.csv');
  assert.deepEqual(conflict.counts, { read: 2, imported: 1, updated: 0, unchanged: 0, rejected: 1 });
  assert.match(rejectedRows(conflict.rejectedFile!)[0], /^K5,nineteen,1,2,"birth_year is a number column; found ""nineteen"""$/);
});

test('lines of one order spread over the file are one order numbered in file order; negative quantity is a return', async () => {
  const outcome = await run('orders', 'split-order.csv');
  assert.deepEqual(outcome.counts, { read: 4, imported: 4, updated: 0, unchanged: 0, rejected: 0 });
  const lines = await rows<{ external_id: string; line_no: number; product: string; category: string | null; total: string }>(sql`
    select o.external_id, l.line_no, l.product, l.category, o.total from orders o join order_lines l on l.order_id = o.id and l.customer_id = o.customer_id
    where o.customer_id = (select id from customers where external_id = 'C9') order by o.external_id, l.line_no`);
  assert.deepEqual(lines.map((l) => [l.external_id, l.line_no, l.product, l.category, l.total]), [['A', 1, 'x', 'kitchen', '5.50'], ['A', 2, 'z', 'bath', '5.50'], ['B', 1, 'y', null, '2.00']]);
  const [credit] = await rows<{ amount: string; quantity: string; reason_code: string; linked: boolean }>(sql`
    select amount, quantity, reason_code, order_id is not null as linked from returns where customer_id = (select id from customers where external_id = 'C9')`);
  assert.deepEqual(credit, { amount: '1.00', quantity: '1.000', reason_code: 'credit_note', linked: true });
});
