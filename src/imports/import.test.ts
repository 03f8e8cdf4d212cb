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
import { parse } from 'csv-parse/sync';
import { AppError } from '../shared/errors.ts';
import { formulaSafe } from '../shared/spreadsheet.ts';

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
  const lines = await rows<{ product: string; amount: string }>(
    sql`select product, amount from order_lines order by customer_id, order_id, line_no`,
  );
  assert.deepEqual(lines, [
    { product: 'Mug, large', amount: '20.00' },
    { product: 'Tea\r\nEarl Grey', amount: '5.50' },
    { product: 'Mug', amount: '3.00' },
  ]);
  const rejected = rejectedRows(outcome.rejectedFile!);
  assert.equal(rejected.length, 2);
  assert.match(rejected[0], /,3,5,"at: expected a date like 2026-03-01 .*found ""2025-13-40""/);
  assert.match(
    rejected[1],
    /,4,6,"quantity: expected a decimal number with at most 11 digits before the point and 3 after, like 12.500, found ""one""/,
  );
  const again = await run('orders', 'bom-crlf-quoted.csv');
  assert.deepEqual(again.counts, { read: 5, imported: 0, updated: 0, unchanged: 3, rejected: 2 });
});

test('semicolon files with decimal commas and a date format; tab files; both sniffed', async () => {
  const semicolon = await run('orders', 'semicolon.csv', { dateFormat: 'dd/MM/yyyy' });
  assert.deepEqual(semicolon.counts, { read: 2, imported: 2, updated: 0, unchanged: 0, rejected: 0 });
  const [order] = await rows<{ total: string; ordered_at: string }>(
    sql`select total, ordered_at from orders where external_id = 'O1' and total = 12.50`,
  );
  assert.equal(new Date(order.ordered_at).toISOString(), '2025-02-01T00:00:00.000Z');
  const tab = await run('orders', 'tab.csv');
  assert.deepEqual(tab.counts, { read: 2, imported: 2, updated: 0, unchanged: 0, rejected: 0 });
});

test('a missing required column stops the import before anything is written, naming the header', async () => {
  const before = (await rows<{ n: number }>(sql`select count(*)::int as n from imports`))[0].n;
  await assert.rejects(
    run('orders', 'missing-column.csv'),
    /needs a column for customer; at; amount or unit_price\. Its header is: client, when, total/,
  );
  await assert.rejects(run('orders', 'missing-column.csv', { map: { customer: 'nope' } }), /no column "nope"/);
  assert.equal((await rows<{ n: number }>(sql`select count(*)::int as n from imports`))[0].n, before);
});

test('non-UTF-8 stops with the line and a hint; with --encoding windows-1252 the accents are right', async () => {
  await assert.rejects(run('customers', 'latin1.csv'), /not UTF-8: invalid bytes on line 2.*--encoding windows-1252/);
  const outcome = await run('customers', 'latin1.csv', { encoding: 'windows-1252' });
  assert.equal(outcome.counts.imported, 1);
  const [customer] = await rows<{ name: string; city: string }>(
    sql`select c.name, a.city from customers c join addresses a on a.customer_id = c.id where c.external_id = 'L1'`,
  );
  assert.deepEqual(customer, { name: 'René Müller', city: 'Köln' });
});

test('customers: unmapped columns become typed attributes; a value of the wrong type rejects its row', async () => {
  const outcome = await run('customers', 'customers.csv');
  assert.deepEqual(outcome.counts, { read: 4, imported: 3, updated: 0, unchanged: 0, rejected: 1 });
  const types = await rows<{ key: string; type: string }>(
    sql`select key, type from attribute_definitions where key in ('loyalty_member','birth_year','member_since','favourite') order by key`,
  );
  assert.deepEqual(
    types.map((t) => `${t.key}:${t.type}`),
    ['birth_year:number', 'favourite:text', 'loyalty_member:text', 'member_since:date'],
  );
  const [ana] = await rows<{ attributes: Record<string, unknown>; created_at: string }>(
    sql`select attributes, created_at from customers where external_id = 'K1'`,
  );
  assert.deepEqual(ana.attributes, {
    birth_year: 1980,
    favourite: 'tea',
    loyalty_member: 'yes',
    member_since: '2023-01-01',
  });
  assert.match(
    rejectedRows(outcome.rejectedFile!).join('\n'),
    /K4,not-an-email.*,4,5,"email: expected an address like name@example.com, found ""not-an-email"""/,
  );
  const again = await run('customers', 'customers.csv');
  assert.deepEqual(again.counts, { read: 4, imported: 0, updated: 0, unchanged: 3, rejected: 1 });
  const conflict = await run('customers', 'customers-conflict.csv');
  assert.deepEqual(conflict.counts, { read: 2, imported: 1, updated: 0, unchanged: 0, rejected: 1 });
  assert.match(
    rejectedRows(conflict.rejectedFile!)[0],
    /^K5,nineteen,1,2,"birth_year is a number column; found ""nineteen"""$/,
  );
});

test('lines of one order spread over the file are one order numbered in file order; negative quantity is a return', async () => {
  const outcome = await run('orders', 'split-order.csv');
  assert.deepEqual(outcome.counts, { read: 4, imported: 4, updated: 0, unchanged: 0, rejected: 0 });
  const lines = await rows<{
    external_id: string;
    line_no: number;
    product: string;
    category: string | null;
    total: string;
  }>(sql`
    select o.external_id, l.line_no, l.product, l.category, o.total from orders o join order_lines l on l.order_id = o.id and l.customer_id = o.customer_id
    where o.customer_id = (select id from customers where external_id = 'C9') order by o.external_id, l.line_no`);
  assert.deepEqual(
    lines.map((l) => [l.external_id, l.line_no, l.product, l.category, l.total]),
    [
      ['A', 1, 'x', 'kitchen', '5.50'],
      ['A', 2, 'z', 'bath', '5.50'],
      ['B', 1, 'y', null, '2.00'],
    ],
  );
  const [credit] = await rows<{ amount: string; quantity: string; reason_code: string; linked: boolean }>(sql`
    select amount, quantity, reason_code, order_id is not null as linked from returns where customer_id = (select id from customers where external_id = 'C9')`);
  assert.deepEqual(credit, { amount: '1.00', quantity: '1.000', reason_code: 'credit_note', linked: true });
});

/** Imports `content` written to a file of its own; the rejected rows come back parsed, without the header. */
async function importText(kind: ImportOptions['kind'], content: string | Buffer, extra: Partial<ImportOptions> = {}) {
  const file = path.join(work, `${kind}-${Math.random().toString(36).slice(2)}.csv`);
  fs.writeFileSync(file, content);
  const outcome = await runImport(deps, { kind, file, map: {}, encoding: 'utf-8', ...extra });
  const rejected = outcome.rejectedFile ? (parse(fs.readFileSync(outcome.rejectedFile, 'utf8')) as string[][]) : [];
  return { ...outcome, header: rejected[0], rejected: rejected.slice(1) };
}
const reasons = (rows: string[][]) => rows.map((cells) => `${cells.at(-3)}: ${cells.at(-1)}`);

test('a NUL byte in a cell rejects its row naming the column (written as U+FFFD); the rest of the file imports and the import records no error', async () => {
  const outcome = await importText(
    'orders',
    'customer,at,amount\nnul\u0000@x.com,2026-01-01,5\nok@x.com,2026-01-01,6\n',
  );
  assert.deepEqual(outcome.counts, { read: 2, imported: 1, updated: 0, unchanged: 0, rejected: 1 });
  assert.deepEqual(outcome.rejected, [
    [
      'nul\uFFFD@x.com',
      '2026-01-01',
      '5',
      '1',
      '2',
      'customer: contains a NUL character (\\u0000), which text cannot hold; NUL characters and lone surrogates are written here as U+FFFD',
    ],
  ]);
  const [stored] = await rows<{ status: string; error: string | null }>(
    sql`select status, error from imports where id = ${outcome.importId}`,
  );
  assert.deepEqual(stored, { status: 'done', error: null });
  assert.deepEqual(await rows(sql`select email from customers where email like 'nul%'`), []);
});

test('rows breaking the value rules of the event API are rejected naming the field; rows on the limits import', async () => {
  const orders = await importText(
    'orders',
    [
      'customer,order,at,quantity,unit_price,amount,currency,product,category',
      'R1,A,2026-01-01,1,,999999999999.99,eur,mug,kitchen', // 1: on the limits
      'R1,B,1900-01-01,99999999999.999,,5,USD,,', // 2
      'R1,C,2999-12-31,,,1234567890123,,,', // 3: 13 digits
      'R1,D,2026-01-01,,,1.234,,,', // 4: 3 decimals
      'R1,E,2026-01-01,0,,5,,,', // 5
      'R1,F,2026-01-01,123456789012,,5,,,', // 6
      'R1,G,2026-01-01,1.2345,,5,,,', // 7
      'R1,H,2026-01-01,2,-1,,,,', // 8: negative unit price
      'R1,I,2026-01-01,99999999999,999999999999,,,,', // 9: quantity x unit price past 12 digits
      'R1,J,2026-01-01,1,,5,EURO,,', // 10
      'R1,K,2026-01-01,1,,5,€UR,,', // 11
      'R1,L,1899-12-31,1,,5,,,', // 12
      'R1,M,3000-01-01,1,,5,,,', // 13
      'R1,N,0026-01-01,1,,5,,,', // 14: would have been 1926
      'R1,O,2026-02-30,1,,5,,,', // 15
      'R1,P,2026-02-31T10:00:00Z,1,,5,,,', // 16: Date would read 3 March
      'R1,Q,2026-01-01T24:00:00Z,1,,5,,,', // 17
      `R1,R,2026-01-01,1,,5,,${'p'.repeat(201)},`, // 18
      `R1,S,2026-01-01,1,,5,,,${'c'.repeat(101)}`, // 19
      `R1,${'o'.repeat(201)},2026-01-01,1,,5,,,`, // 20
      `${'r'.repeat(201)},T,2026-01-01,1,,5,,,`, // 21
      'a b@x.com,U,2026-01-01,1,,5,,,', // 22: an email that normalises to nothing
      'R1,V,2026-01-01,-2,3,,,,', // 23: a credit note, a return
    ].join('\n'),
  );
  assert.deepEqual(reasons(orders.rejected), [
    '3: amount: expected a decimal number with at most 12 digits before the point and 2 after, like 12.50, found "1234567890123"',
    '4: amount: expected a decimal number with at most 12 digits before the point and 2 after, like 12.50, found "1.234"',
    '5: quantity must not be 0, found "0"',
    '6: quantity: expected a decimal number with at most 11 digits before the point and 3 after, like 12.500, found "123456789012"',
    '7: quantity: expected a decimal number with at most 11 digits before the point and 3 after, like 12.500, found "1.2345"',
    '8: unit_price must not be negative, found "-1"',
    '9: amount: quantity x unit_price has more than 12 digits before the point; give the amount',
    '10: currency: expected a three-letter code like EUR, found "EURO"',
    '11: currency: expected a three-letter code like EUR, found "€UR"',
    '12: at: expected a date from 1900-01-01 to 2999-12-31, found "1899-12-31"',
    '13: at: expected a date from 1900-01-01 to 2999-12-31, found "3000-01-01"',
    '14: at: expected a date from 1900-01-01 to 2999-12-31, found "0026-01-01"',
    '15: at: expected a date like 2026-03-01 (or as --date-format says), found "2026-02-30"',
    '16: at: expected a date like 2026-03-01 (or as --date-format says), found "2026-02-31T10:00:00Z"',
    '17: at: expected a date like 2026-03-01 (or as --date-format says), found "2026-01-01T24:00:00Z"',
    '18: product: at most 200 characters, found 201',
    '19: category: at most 100 characters, found 101',
    '20: order: at most 200 characters, found 201',
    '21: customer: an external customer id has at most 200 characters, found 201',
    '22: customer: expected an external customer id or an email like name@example.com, found "a b@x.com"',
  ]);
  assert.deepEqual(orders.counts, { read: 23, imported: 3, updated: 0, unchanged: 0, rejected: 20 });
  const lines = await rows<{
    external_id: string;
    quantity: string;
    amount: string;
    currency: string | null;
    ordered_at: string;
  }>(sql`
    select o.external_id, l.quantity, l.amount, o.currency, o.ordered_at from orders o join order_lines l on l.order_id = o.id
    where o.customer_id = (select id from customers where external_id = 'R1') order by o.external_id`);
  assert.deepEqual(
    lines.map((l) => [
      l.external_id,
      l.quantity,
      l.amount,
      l.currency,
      new Date(l.ordered_at).toISOString().slice(0, 10),
    ]),
    [
      ['A', '1.000', '999999999999.99', 'EUR', '2026-01-01'],
      ['B', '99999999999.999', '5.00', 'USD', '1900-01-01'],
    ],
  );
  const [credit] = await rows<{ quantity: string; amount: string }>(
    sql`select quantity, amount from returns where customer_id = (select id from customers where external_id = 'R1')`,
  );
  assert.deepEqual(credit, { quantity: '2.000', amount: '6.00' });

  const returns = await importText(
    'returns',
    'customer,at,amount,quantity,reason_code\nR2,2026-01-01,-5,1,\nR2,2026-01-01,5,-1,\nR2,2026-01-01,5,1,' +
      'x'.repeat(61) +
      '\nR2,2026-01-01,5,1,damaged\n',
  );
  assert.deepEqual(reasons(returns.rejected), [
    '1: amount must not be negative, found "-5"',
    '2: quantity must be more than 0, found "-1"',
    '3: reason_code: at most 60 characters, found 61',
  ]);
  const surveys = await importText(
    'surveys',
    'customer,at,survey,question,score\nS1,2026-01-01,nps,q,1000.5\nS1,2026-01-01,nps,q,1001\nS1,2026-01-01,nps,q,7.555\nS1,2026-01-01,nps,q,Infinity\nS1,2026-01-01,nps,q,-1000\nS1,2026-01-01,nps,q,7.25\n',
  );
  assert.deepEqual(
    surveys.rejected.map((r) => r.at(-3)),
    ['1', '2', '3', '4'],
  );
  assert.match(
    surveys.rejected[0].at(-1)!,
    /^score: expected a number from -1000 to 1000 with at most 2 decimals, found "1000.5"$/,
  );
  assert.deepEqual(
    (await rows<{ score: string }>(sql`select score from survey_responses order by score`)).map((r) => r.score),
    ['-1000.00', '7.25'],
  );
  const customers = await importText(
    'customers',
    'id,email,phone,name,country,created_at\nP1,p1@example.com,,Ann,DE,2020-01-01\nP2,,12,,,\nP3,x@,,,,\nP4,,,,D1,\nP5,,,' +
      'n'.repeat(301) +
      ',,\nP6,,,,,1800-01-01\n',
  );
  assert.deepEqual(reasons(customers.rejected), [
    '2: phone: expected a phone number (at least 5 digits), found "12"',
    '3: email: expected an address like name@example.com, found "x@"',
    '4: country: expected a two-letter code like US, found "D1"',
    '5: name: at most 300 characters, found 301',
    '6: created_at: expected a date from 1900-01-01 to 2999-12-31, found "1800-01-01"',
  ]);
  assert.deepEqual(
    await rows(sql`select external_id from customers where external_id like 'P_' order by 1`),
    [{ external_id: 'P1' }],
    'never a customer without the identity its row gave',
  );
});

test('the rejected-rows file is safe to open in a spreadsheet: every cell that would run as a formula starts with a quote', async () => {
  const outcome = await importText(
    'orders',
    [
      'customer,at,amount,=cmd',
      '=HYPERLINK("http://x"),never,1,',
      '+1,never,2,＝1+1',
      '-3,never,3,＋1',
      '@SUM(A1),never,4,－1',
      '"\tx",never,5,＠x',
      'C1,2026-01-01,6,bad\u0000',
    ].join('\n'),
  );
  assert.equal(outcome.header[3], "'=cmd");
  assert.deepEqual(
    outcome.rejected.map((cells) => [cells[0], cells[3]]),
    [
      ['\'=HYPERLINK("http://x")', ''],
      ["'+1", "'＝1+1"],
      ["'-3", "'＋1"],
      ["'@SUM(A1)", "'－1"],
      ["'\tx", "'＠x"],
      ['C1', 'bad\uFFFD'],
    ],
  );
  assert.match(outcome.rejected[5].at(-1)!, /^'=cmd: contains a NUL character/);
  assert.equal(formulaSafe('\rx'), "'\rx");
  assert.equal(formulaSafe('a=b'), 'a=b');
  assert.equal(formulaSafe(-3), -3);
});

test('lone CR line ends and blank lines keep row and line numbers; a quote inside a cell is a character; a row that runs over lines says so', async () => {
  const crs = await importText('orders', 'customer,at,amount\rC1,2026-01-01,5\r\rC2,never,5\rC3,"2026-01-01",6');
  assert.deepEqual(crs.counts, { read: 3, imported: 2, updated: 0, unchanged: 0, rejected: 1 });
  assert.deepEqual(crs.rejected[0].slice(-3, -1), ['2', '4']);
  const stray = await importText(
    'orders',
    'customer,at,amount,product\nC1,2026-01-01,5,"Mug\nC2,2026-01-01,6,pot",cup\nQ4,2026-01-01,8,14" plate\n',
  );
  assert.deepEqual(stray.counts, { read: 2, imported: 1, updated: 0, unchanged: 0, rejected: 1 });
  assert.deepEqual(stray.rejected[0].slice(-3), [
    '1',
    '2',
    'row: expected 4 columns as in the header, found 5 (the row runs over lines 2 to 3: is a quote missing?)',
  ]);
  const [plate] = await rows<{ product: string }>(sql`select product from order_lines where product like '14%'`);
  assert.equal(plate.product, '14" plate', 'a quote inside a cell is a character');
});

test('a file that cannot be read as a whole stops before anything is written, saying why and where', async () => {
  const before = await rows<{ n: number }>(sql`select count(*)::int as n from imports`);
  const refused = async (content: string | Buffer, pattern: RegExp) => {
    await assert.rejects(
      importText('orders', content),
      (error: Error) => error instanceof AppError && pattern.test(error.message),
    );
  };
  await refused(
    'customer,at,amount\nC1,2026-01-01,5\nC2,2026-01-01,"6\nC3,2026-01-01,7\n',
    /^the file cannot be read: the quote that opens a cell on line 3 \(data row 2 \(line 3\)\) is never closed, so the rest of the file would be one cell/,
  );
  await refused(
    'customer,at,amount,product\nC1,2026-01-01,5,"Mug\nC2,2026-01-01,6,12" pizza\n',
    /^the file cannot be read: the cell quoted from line 2 \(data row 1 \(line 2\)\) goes on after its closing quote on line 3/,
  );
  await refused(
    Buffer.concat([
      Buffer.from('customer,at,amount\rC1,2026-01-01,5\r\nC2,2026-01-01,"6\r'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"\n'),
    ]),
    /^the file is not UTF-8: invalid bytes on line 4 \(near byte 53\)/,
  );
  await refused(
    Buffer.from('\uFEFFcustomer,at,amount\n', 'utf16le'),
    /^the file is not UTF-8: invalid bytes on line 1/,
  );
  await refused(
    Buffer.from('customer,at,amount\n', 'utf16le'),
    /^column 1 of the header contains a NUL character .*save it as "CSV UTF-8"/,
  );
  assert.deepEqual(await rows<{ n: number }>(sql`select count(*)::int as n from imports`), before);
});
