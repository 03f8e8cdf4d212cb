// Generated CSV files against the import's promise: every file either imports, with every data row
// counted once as imported, updated, unchanged or rejected (and each rejected row in the
// rejected-rows file with its row, line and reason), or stops before writing anything with an
// AppError that says what is wrong. Files are built from a model that knows, for each row, whether
// it is valid and which field breaks a rule, and on which line it starts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { formulaSafe } from '../shared/spreadsheet.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import type { ImportKind } from './import.ts';
import { runImport } from './import.service.ts';

// A failure prints its seed and path; KEPT_FUZZ_SEED=<seed> replays the same files.
const seed = Number(process.env.KEPT_FUZZ_SEED ?? 20_261_204);
const numRuns = 50;

let deps: Deps;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-fuzz-'));
  deps = await createTestDeps({ dataDir: work });
  // A flags file names existing customers only: every customer reference a file may hold is one.
  await ingestEvents(
    deps,
    Array.from({ length: 30 }, (_, i) => ({
      id: `seed-${i + 1}`,
      type: 'customer.upsert',
      customer: { externalId: `C${i + 1}`, email: `c${i + 1}@example.com` },
    })),
    { source: 'test' },
  );
});
after(async () => {
  await deps.close();
  fs.rmSync(work, { recursive: true, force: true });
});

type Delimiter = ',' | ';' | '\t';
/** A cell as the file holds it, and the field a row holding it is rejected for (null: valid). */
interface Cell {
  value: string;
  bad: string | null;
}
interface Column {
  name: string;
  cell: fc.Arbitrary<Cell>;
}

const good = (value: string): Cell => ({ value, bad: null });
/** Mostly valid values, so most rows import and the ones that break a rule stand out. */
const mostly = (...choices: fc.Arbitrary<Cell>[]) =>
  fc.oneof(...choices.map((arbitrary, i) => ({ weight: i < choices.length - 1 ? 12 : 2, arbitrary })));
const valid = (...values: string[]) => fc.constantFrom(...values).map(good);
const invalid = (field: string, ...values: string[]) =>
  fc.constantFrom(...values).map((value): Cell => ({ value, bad: field }));
const pad = (n: number) => String(n).padStart(2, '0');
const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

// Quotes, delimiters, line ends, a BOM mid-text, emoji, a lone surrogate (written as U+FFFD), formula signs.
const textChar = fc.constantFrom(
  'a',
  'b',
  'Z',
  ' ',
  'é',
  '€',
  '😀',
  'א',
  '"',
  ',',
  ';',
  '\t',
  '\r',
  '\n',
  '\r\n',
  '\uFEFF',
  '\uFFFD',
  '\uD800',
  '=',
  '+',
  '-',
  '@',
  '＝',
  '\u0007',
);

/** Any text, judged as the import must: empty when required, or longer than `max` once trimmed, is refused. */
function text(field: string, max: number, required = false): fc.Arbitrary<Cell> {
  return fc
    .oneof(
      { weight: 10, arbitrary: fc.stringMatching(/^[a-z]{1,8}$/) },
      { weight: 6, arbitrary: fc.array(textChar, { maxLength: 12 }).map((chars) => chars.join('')) },
      // A quote inside a cell that does not start with one is a character: 12" pizza reads as it is written.
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.stringMatching(/^[a-z0-9 ]{1,5}$/), fc.stringMatching(/^[a-z ]{1,5}$/))
          .map(([a, b]) => `${a}"${b}`),
      },
      {
        weight: 1,
        arbitrary: fc.constantFrom(max, max + 1, Math.min(max * 40, 300_000)).map((n) => ` ${'x'.repeat(n)} `),
      },
    )
    .map((value) => {
      const stored = value.replace(lone, '\uFFFD').trim();
      return { value, bad: (required && !stored) || stored.length > max ? field : null };
    });
}

const date = (field: string, required: boolean) =>
  mostly(
    fc
      .tuple(
        fc.integer({ min: 1900, max: 2999 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 0, max: 3 }),
      )
      .map(([y, m, d, form]) =>
        good(
          [
            `${y}-${pad(m)}-${pad(d)}`,
            `${y}-${pad(m)}-${pad(d)}T10:30:00Z`,
            ` ${y}-${pad(m)}-${pad(d)} 23:59 `,
            `${y}-${pad(m)}-${pad(d)}T00:00:00.5-01:00`,
          ][form],
        ),
      ),
    valid('1900-01-01', '2999-12-31', ...(required ? [] : [''])),
    invalid(
      field,
      '1899-12-31',
      '3000-01-01',
      '0026-01-01',
      '2026-02-30',
      '2026-02-31T10:00:00Z',
      '2026-13-01',
      '2026-01-01T24:00:00Z',
      'yesterday',
      '20260101',
      ...(required ? [''] : []),
    ),
  );

const plain = fc.oneof(
  fc.integer({ min: 0, max: 999_999 }).map(String),
  fc.tuple(fc.nat(99_999), fc.nat(99)).map(([a, b]) => `${a}.${pad(b)}`),
);
/** Money and quantities as a file in this delimiter writes them: a decimal comma is read in semicolon files only. */
const decimalIn = (delimiter: Delimiter) => (value: string) =>
  delimiter === ';' && value.includes('.') ? fc.constantFrom(value, value.replace('.', ',')) : fc.constant(value);
const moneyCell = (
  field: string,
  delimiter: Delimiter,
  options: { negative?: boolean; empty?: string | null; small?: boolean },
) =>
  mostly(
    plain.chain(decimalIn(delimiter)).map(good),
    valid('0', ' 12.5 ', ...(options.small ? [] : ['999999999999.99']), ...(options.negative ? ['-4.50', '-0'] : [])),
    fc.oneof(
      invalid(
        field,
        '1234567890123',
        '1.234',
        'abc',
        '1e3',
        '12.',
        'NaN',
        '１２',
        ...(options.negative ? [] : ['-5']),
        ...(delimiter === ';' ? [] : ['12,50']),
      ),
      ...(options.empty === undefined ? [] : [fc.constant<Cell>({ value: '', bad: options.empty })]),
    ),
  );
const quantityCell = (delimiter: Delimiter, options: { negative?: boolean; large?: boolean }) =>
  mostly(
    valid(
      '1',
      '2',
      '0.5',
      '3.125',
      '',
      ...(options.negative ? ['-1', '-2.5'] : []),
      ...(options.large ? ['99999999999.999'] : []),
    ),
    fc.constantFrom('7.5').chain(decimalIn(delimiter)).map(good),
    invalid(
      'quantity',
      '0',
      '0.000',
      '-0',
      '123456789012',
      '1.2345',
      'one',
      '1e3',
      ...(options.negative ? [] : ['-1']),
    ),
  );
const channelCell = (field: string, required: boolean) =>
  mostly(
    valid('web', 'Email', 'direct mail', 'Direct-Mail', ...(required ? [] : [''])),
    invalid(field, 'fax', 'tv', ...(required ? [''] : [])),
  );
const customerCell = mostly(
  fc.integer({ min: 1, max: 30 }).chain((n) => valid(`C${n}`, ` C${n} `, `c${n}@example.com`, `C${n}@Example.com`)),
  invalid('customer', '', 'bad@', 'a b@x.com', '@', 'x'.repeat(201)),
);

interface Shape {
  kind: ImportKind;
  columns: Column[];
}

function shapes(delimiter: Delimiter): fc.Arbitrary<Shape> {
  // A column no target reads: any text but NUL, however long.
  const note: Column = {
    name: 'note',
    cell: fc.oneof(
      fc.array(textChar, { maxLength: 12 }).map((chars) => good(chars.join(''))),
      valid('y'.repeat(300_000)),
    ),
  };
  const optional = (columns: Column[]) => fc.subarray(columns);
  const kinds: Record<ImportKind, fc.Arbitrary<Shape>> = {
    orders: fc.boolean().chain((derived) =>
      optional([
        { name: 'order', cell: text('order', 200) },
        { name: 'product', cell: text('product', 200) },
        { name: 'category', cell: text('category', 100) },
        { name: 'channel', cell: channelCell('channel', false) },
        {
          name: 'currency',
          cell: mostly(valid('EUR', 'usd', ' gbp ', ''), invalid('currency', 'EURO', 'E1R', '€UR', 'EU')),
        },
        { name: 'quantity', cell: quantityCell(delimiter, { negative: true, large: !derived }) },
        note,
        ...(derived ? [] : [{ name: 'unit_price', cell: moneyCell('unit_price', delimiter, { empty: null }) }]),
      ]).map((extra) => ({
        kind: 'orders' as const,
        columns: [
          { name: 'customer', cell: customerCell },
          { name: 'at', cell: date('at', true) },
          derived
            ? { name: 'unit_price', cell: moneyCell('unit_price', delimiter, { empty: 'amount', small: true }) }
            : { name: 'amount', cell: moneyCell('amount', delimiter, { negative: true }) },
          ...extra,
        ],
      })),
    ),
    returns: optional([
      { name: 'return', cell: text('return', 200) },
      { name: 'order', cell: text('order', 200) },
      { name: 'product', cell: text('product', 200) },
      { name: 'quantity', cell: quantityCell(delimiter, { large: true }) },
      { name: 'reason_code', cell: text('reason_code', 60) },
      { name: 'reason', cell: text('reason', 2000) },
      note,
    ]).map((extra) => ({
      kind: 'returns' as const,
      columns: [
        { name: 'customer', cell: customerCell },
        { name: 'at', cell: date('at', true) },
        { name: 'amount', cell: moneyCell('amount', delimiter, { empty: 'amount' }) },
        ...extra,
      ],
    })),
    touchpoints: optional([
      { name: 'id', cell: text('id', 200) },
      { name: 'campaign', cell: text('campaign', 200) },
      note,
      { name: 'direction', cell: mostly(valid('', 'in', 'OUT'), invalid('direction', 'sideways')) },
    ]).map((extra) => ({
      kind: 'touchpoints' as const,
      columns: [
        { name: 'customer', cell: customerCell },
        { name: 'at', cell: date('at', true) },
        { name: 'channel', cell: channelCell('channel', true) },
        { name: 'kind', cell: text('kind', 60, true) },
        ...extra,
      ],
    })),
    tickets: optional([
      { name: 'channel', cell: channelCell('channel', false) },
      { name: 'category', cell: text('category', 60) },
      { name: 'priority', cell: text('priority', 60) },
      { name: 'status', cell: text('status', 60) },
      { name: 'subject', cell: text('subject', 500) },
      { name: 'order', cell: text('order', 200) },
      { name: 'resolved_at', cell: date('resolved_at', false) },
      { name: 'outcome', cell: text('outcome', 60) },
      note,
    ]).map((extra) => ({
      kind: 'tickets' as const,
      columns: [
        { name: 'customer', cell: customerCell },
        { name: 'ticket', cell: text('ticket', 200, true) },
        { name: 'opened_at', cell: date('opened_at', true) },
        ...extra,
      ],
    })),
    surveys: optional([
      { name: 'id', cell: text('id', 200) },
      { name: 'answer', cell: text('answer', 5000) },
      { name: 'channel', cell: channelCell('channel', false) },
      note,
      {
        name: 'score',
        cell: mostly(
          valid('-1000', '1000', '0', '-3.25', '', ...(delimiter === ';' ? ['7,5'] : [])),
          invalid('score', '1000.01', '1001', '7.555', 'NaN', 'Infinity', '1e2', ...(delimiter === ';' ? [] : ['7,5'])),
        ),
      },
    ]).map((extra) => ({
      kind: 'surveys' as const,
      columns: [
        { name: 'customer', cell: customerCell },
        { name: 'at', cell: date('at', true) },
        { name: 'survey', cell: text('survey', 200, true) },
        { name: 'question', cell: text('question', 500, true) },
        ...extra,
      ],
    })),
    // Renewals and cancellations only on a date no start comes after, so each cell alone decides its row;
    // reasons only beside a cancellation (a reason without one is refused).
    subscriptions: fc
      .tuple(
        optional([
          { name: 'subscription', cell: text('subscription', 200) },
          { name: 'plan', cell: text('plan', 200) },
          { name: 'price', cell: moneyCell('price', delimiter, { empty: null }) },
          {
            name: 'currency',
            cell: mostly(valid('EUR', 'usd', ''), invalid('currency', 'EURO', 'E1R')),
          },
          {
            name: 'period',
            cell: mostly(
              valid('', 'month', 'Monthly', ' ANNUAL ', 'weekly', 'quarter', 'Yearly'),
              invalid('period', 'fortnight', 'daily'),
            ),
          },
          {
            name: 'renewed_at',
            cell: mostly(valid('', '2999-12-31'), invalid('renewed_at', '2026-13-01', 'soon')),
          },
          note,
        ]),
        fc.boolean(),
      )
      .map(([extra, cancellations]) => ({
        kind: 'subscriptions' as const,
        columns: [
          { name: 'customer', cell: customerCell },
          { name: 'started_at', cell: date('started_at', true) },
          ...extra,
          ...(cancellations
            ? [
                {
                  name: 'cancelled_at',
                  cell: mostly(valid('2999-12-31'), invalid('cancelled_at', '2026-02-30', 'later')),
                },
                {
                  name: 'reason_code',
                  cell: mostly(
                    valid('', 'too_expensive', 'Too Expensive', 'moved-away'),
                    invalid('reason_code', 'bad!code', 'x'.repeat(61)),
                  ),
                },
                { name: 'reason', cell: text('reason', 2000) },
              ]
            : []),
        ],
      })),
    products: optional([
      { name: 'name', cell: text('name', 300) },
      { name: 'category', cell: text('category', 100) },
      { name: 'price', cell: moneyCell('price', delimiter, { empty: null }) },
      { name: 'cost', cell: moneyCell('cost', delimiter, { empty: null }) },
      { name: 'currency', cell: mostly(valid('EUR', 'usd', ''), invalid('currency', 'EURO', 'E1R')) },
      note,
    ]).map((extra) => ({
      kind: 'products' as const,
      columns: [{ name: 'id', cell: text('id', 200, true) }, ...extra],
    })),
    flags: optional([
      { name: 'at', cell: date('at', false) },
      { name: 'reason', cell: text('reason', 2000) },
      note,
    ]).map((extra) => ({
      kind: 'flags' as const,
      columns: [
        { name: 'customer', cell: customerCell },
        {
          name: 'flag',
          cell: mostly(
            valid('moved', 'Deceased', 'GONE AWAY', 'do not contact', 'do_not_contact', 'Undeliverable'),
            invalid('flag', 'maybe', '', 'alive'),
          ),
        },
        ...extra,
      ],
    })),
    customers: optional([
      {
        name: 'email',
        cell: mostly(
          fc.integer({ min: 1, max: 30 }).chain((n) => valid('', `c${n}@example.com`, ` C${n}@Example.COM `)),
          invalid('email', 'nope', 'a b@x.com', 'x@', 'x'.repeat(321)),
        ),
      },
      {
        name: 'phone',
        cell: mostly(valid('', '+1 555 0100', '555-0123'), invalid('phone', 'abc', '12', '+1', '5'.repeat(51))),
      },
      { name: 'name', cell: text('name', 300) },
      { name: 'created_at', cell: date('created_at', false) },
      { name: 'acquisition_channel', cell: channelCell('acquisition_channel', false) },
      { name: 'city', cell: text('city', 200) },
      { name: 'postal_code', cell: text('postal_code', 40) },
      { name: 'country', cell: mostly(valid('', 'DE', 'us'), invalid('country', 'U1', 'DEU', 'Ü')) },
      // A custom attribute: letters only, so its type stays text whichever file defines it first.
      { name: 'note', cell: mostly(valid('', 'tea', 'blue sky'), invalid('note', 'a'.repeat(2001))) },
    ]).map((extra) => ({
      kind: 'customers' as const,
      columns: [
        {
          name: 'id',
          cell: mostly(
            fc.integer({ min: 1, max: 30 }).chain((n) => valid(`C${n}`)),
            invalid('id', 'x'.repeat(201)),
          ),
        },
        ...extra,
      ],
    })),
  };
  return fc
    .constantFrom(...(Object.keys(kinds) as ImportKind[]))
    .chain((kind) => kinds[kind])
    .chain((shape) =>
      fc.shuffledSubarray(shape.columns, { minLength: shape.columns.length }).map((columns) => ({ ...shape, columns })),
    );
}

interface Row {
  cells: Cell[];
  /** A cell more than the header has. */
  extra: boolean;
  /** A NUL put into this cell, at this position. */
  nul: { cell: number; at: number } | null;
  /** Whether a quoted cell is written even where no quote is needed. */
  quoteAll: boolean;
  end: '\n' | '\r\n' | '\r';
  blankBefore: boolean;
}

interface File {
  delimiter: Delimiter;
  kind: ImportKind;
  header: string[];
  rows: Row[];
  bom: boolean;
  headerEnd: '\n' | '\r\n' | '\r';
  lastEnd: boolean;
  /** Bytes that are not UTF-8, put into a cell of a row. */
  notUtf8: { row: number; cell: number; bytes: number[] } | null;
  /** The last cell of the last row opens a quote that nothing closes. */
  unclosed: boolean;
  /** A quoted cell that goes on after its closing quote ("ab"cd). */
  afterQuote: { row: number; cell: number } | null;
  /** A NUL in the header (as a UTF-16 file read as UTF-8 has). */
  headerNul: boolean;
}

/** true about once in `n`. */
const rarely = (n: number) => fc.nat(n - 1).map((k) => k === 0);
/** A value about once in `n`, else null. */
const sometimes = <T>(n: number, value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: value });
const lineEnd = fc.constantFrom<Row['end']>('\n', '\r\n', '\r');
const files: fc.Arbitrary<File> = fc
  .constantFrom<Delimiter>(',', ';', '\t')
  .chain((delimiter) =>
    shapes(delimiter).chain((shape) =>
      fc.record({
        delimiter: fc.constant(delimiter),
        kind: fc.constant(shape.kind),
        header: fc.constant(shape.columns.map((column) => column.name)),
        rows: fc.array(
          fc.record({
            cells: fc.tuple(...shape.columns.map((column) => column.cell)),
            extra: rarely(10),
            nul: sometimes(6, fc.record({ cell: fc.nat(shape.columns.length - 1), at: fc.nat(3) })),
            quoteAll: fc.boolean(),
            end: lineEnd,
            blankBefore: rarely(8),
          }),
          { maxLength: 10 },
        ),
        bom: fc.boolean(),
        headerEnd: lineEnd,
        lastEnd: fc.boolean(),
        notUtf8: sometimes(
          10,
          fc.record({
            row: fc.nat(9),
            cell: fc.nat(shape.columns.length - 1),
            bytes: fc.constantFrom<number[]>(
              [0xff],
              [0xc0, 0xaf],
              [0xed, 0xa0, 0x80],
              [0x80],
              [0xe2, 0x82],
              [0xf4, 0x90, 0x80, 0x80],
            ),
          }),
        ),
        unclosed: rarely(10),
        afterQuote: sometimes(12, fc.record({ row: fc.nat(9), cell: fc.nat(shape.columns.length - 1) })),
        headerNul: rarely(15),
      }),
    ),
  )
  .map((file) =>
    file.rows.length === 0
      ? { ...file, notUtf8: null, unclosed: false, afterQuote: null }
      : {
          ...file,
          notUtf8: file.notUtf8 && { ...file.notUtf8, row: file.notUtf8.row % file.rows.length },
          afterQuote: file.afterQuote && { ...file.afterQuote, row: file.afterQuote.row % file.rows.length },
        },
  );

const notUtf8Mark = '\uE000';
const afterQuoteMark = '\uE001';
const breaks = (text: string) => text.match(/\r\n|\r|\n/g)?.length ?? 0;

function quoted(value: string, delimiter: Delimiter, always: boolean): string {
  // A cell must be quoted when it holds the delimiter or a line end, or starts with a quote; a quote elsewhere may stand alone.
  const needed = value.includes(delimiter) || /[\r\n]/.test(value) || value.startsWith('"');
  return needed || (always && value !== '') ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The file's bytes, and what importing it must come to. */
function build(file: File) {
  const { delimiter } = file;
  const header = [...file.header];
  if (file.headerNul) header[0] = `${header[0].slice(0, 2)}\u0000${header[0].slice(2)}`;
  let text = (file.bom ? '\uFEFF' : '') + header.join(delimiter) + file.headerEnd;
  const expected: { row: number; line: number; fields: string[] }[] = [];
  let rows = 0;
  let quoteLine = 0;
  let closingLine = 0;
  let afterQuoteRefusal: { at: number; pattern: string } | undefined;
  file.rows.forEach((row, index) => {
    const values = row.cells.map((cell) => cell.value);
    const fields = row.cells.map((cell) => cell.bad).filter((field): field is string => field !== null);
    if (row.nul) {
      const value = values[row.nul.cell];
      values[row.nul.cell] = value.slice(0, row.nul.at) + '\u0000' + value.slice(row.nul.at);
      fields.push(header[row.nul.cell]);
    }
    if (file.notUtf8?.row === index) values[file.notUtf8.cell] += notUtf8Mark;
    if (row.extra) values.push('x');
    const last = index === file.rows.length - 1;
    const cells = values.map((value) => quoted(value, delimiter, row.quoteAll));
    if (last && file.unclosed) cells[cells.length - 1] = `"${values.at(-1)!.replaceAll('"', '')}`;
    // Not in the cell the unclosed quote opens: that quote is never closed, so nothing follows it.
    const afterQuote =
      file.afterQuote?.row === index && !(last && file.unclosed && file.afterQuote.cell === cells.length - 1)
        ? file.afterQuote.cell
        : -1;
    if (afterQuote >= 0) cells[afterQuote] = `"${values[afterQuote].replaceAll('"', '""')}${afterQuoteMark}"cd`;
    const serialised = cells.join(delimiter);
    if (row.blankBefore) text += row.end;
    const line = 1 + breaks(text);
    const opening =
      1 +
      breaks(
        text +
          cells
            .slice(0, Math.max(0, afterQuote))
            .map((cell) => cell + delimiter)
            .join(''),
      );
    if (last && file.unclosed) quoteLine = 1 + breaks(text + cells.slice(0, -1).join(delimiter));
    text += serialised + (last && !file.lastEnd ? '' : row.end);
    if (afterQuote >= 0) {
      const at = text.indexOf(afterQuoteMark);
      closingLine = 1 + breaks(text.slice(0, at));
      afterQuoteRefusal ??= {
        at,
        pattern: `the cell quoted from line ${opening} \\(data row ${rows + (serialised === '' ? 0 : 1)} \\(line ${line}\\)\\) goes on after its closing quote on line ${closingLine}`,
      };
      text = text.replace(afterQuoteMark, '');
    }
    if (serialised === '') return; // an empty line is no row
    rows++;
    if (row.extra || fields.length > 0) expected.push({ row: rows, line, fields: row.extra ? ['row'] : fields });
  });
  const markAt = text.indexOf(notUtf8Mark);
  const bytes = Buffer.from(text, 'utf8');
  const content =
    markAt < 0
      ? bytes
      : Buffer.concat([
          bytes.subarray(0, Buffer.byteLength(text.slice(0, markAt))),
          Buffer.from(file.notUtf8!.bytes),
          bytes.subarray(Buffer.byteLength(text.slice(0, markAt + 1))),
        ]);
  const refusal =
    afterQuoteRefusal && (markAt < 0 || afterQuoteRefusal.at < markAt)
      ? new RegExp(`^the file cannot be read: ${afterQuoteRefusal.pattern}`)
      : markAt >= 0
        ? new RegExp(`^the file is not UTF-8: invalid bytes on line ${1 + breaks(text.slice(0, markAt))} \\(`)
        : file.unclosed
          ? new RegExp(
              `^the file cannot be read: the quote that opens a cell on line ${quoteLine} \\(data row ${rows}.*\\) is never closed`,
            )
          : file.headerNul
            ? /^column 1 of the header contains a NUL character/
            : null;
  return { content, header, rows, expected, refusal };
}

const count = async (table: string) =>
  (await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from ${sql.raw(table)}`))[0].n;

test('generated files import every row or stop before writing anything, with an AppError that says why', async () => {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(files, async (file) => {
      const { content, header, rows, expected, refusal } = build(file);
      const csv = path.join(work, `fuzz-${++n}.csv`);
      fs.writeFileSync(csv, content);
      const before = { imports: await count('imports'), customers: await count('customers') };
      let outcome: Awaited<ReturnType<typeof runImport>>;
      try {
        // A header of one column has no delimiter to sniff: the file says which, as --delimiter would.
        const delimiter = header.length === 1 ? file.delimiter : undefined;
        outcome = await runImport(deps, { kind: file.kind, file: csv, map: {}, encoding: 'utf-8', delimiter });
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        assert.ok(refusal, `refused a readable file: ${error.message}`);
        assert.match(error.message, refusal);
        assert.deepEqual(
          { imports: await count('imports'), customers: await count('customers') },
          before,
          'nothing written',
        );
        return;
      }
      assert.equal(refusal, null, `imported a file that must be refused (${refusal})`);
      const { read, imported, updated, unchanged, rejected } = outcome.counts;
      assert.equal(read, rows, 'every data row read');
      assert.equal(imported + updated + unchanged + rejected, read, 'every row counted once');
      assert.equal(rejected, expected.length, `rejected rows ${JSON.stringify(expected)}`);
      if (rejected === 0) return;
      const written = fs.readFileSync(outcome.rejectedFile!, 'utf8');
      assert.ok(!written.includes('\u0000'), 'no NUL in the rejected-rows file');
      const [head, ...lines] = parse(written, { relax_quotes: false }) as string[][];
      assert.deepEqual(head, [...header, 'row', 'line', 'reason']);
      assert.deepEqual(
        lines.map((cells) => [Number(cells.at(-3)), Number(cells.at(-2))]),
        expected.map((e) => [e.row, e.line]),
        'row and line of each rejected row',
      );
      lines.forEach((cells, i) => {
        const reason = cells.at(-1)!;
        assert.ok(
          expected[i].fields.some((field) => reason.startsWith(`${field}:`) || reason.startsWith(`${field} `)),
          `row ${expected[i].row}: "${reason}" names one of ${expected[i].fields}`,
        );
        for (const cell of cells) assert.equal(formulaSafe(cell), cell, `formula-safe: ${JSON.stringify(cell)}`);
      });
    }),
    { seed, numRuns, includeErrorInReport: true },
  );
});

test('a 10 MB cell stops the import before anything is written, naming its row and line; a 1 MB cell is a rejected row', async () => {
  const huge = path.join(work, 'huge-cell.csv');
  fs.writeFileSync(
    huge,
    `customer,at,amount,product\nC1,2026-01-01,5,mug\r\nC2,2026-01-01,6,"${'x'.repeat(10 * 1024 * 1024)}"\nC3,2026-01-01,7,cup\n`,
  );
  const imports = await count('imports');
  await assert.rejects(
    runImport(deps, { kind: 'orders', file: huge, map: {}, encoding: 'utf-8' }),
    (error: Error) =>
      error instanceof AppError &&
      /^the file cannot be read: the quote that opens a cell on line 3 \(data row 2 \(line 3\)\) is not closed within 4 MB/.test(
        error.message,
      ),
  );
  fs.writeFileSync(
    huge,
    `customer,at,amount,product\nC1,2026-01-01,5,mug\nC2,2026-01-01,6,${'x'.repeat(10 * 1024 * 1024)}\n`,
  );
  await assert.rejects(
    runImport(deps, { kind: 'orders', file: huge, map: {}, encoding: 'utf-8' }),
    (error: Error) =>
      error instanceof AppError &&
      /^data row 2 \(line 3\) is longer than 4 MB, the longest row Kept reads/.test(error.message),
  );
  assert.equal(await count('imports'), imports, 'nothing written');

  const long = path.join(work, 'long-cell.csv');
  fs.writeFileSync(
    long,
    `customer,at,amount,product,note\nC1,2026-01-01,5,${'x'.repeat(1024 * 1024)},\nC2,2026-01-01,6,mug,${'y'.repeat(1024 * 1024)}\n`,
  );
  const outcome = await runImport(deps, { kind: 'orders', file: long, map: {}, encoding: 'utf-8' });
  assert.deepEqual(
    { read: outcome.counts.read, rejected: outcome.counts.rejected },
    { read: 2, rejected: 1 },
    'a long cell in a column nothing reads is no problem',
  );
  const [, line] = parse(fs.readFileSync(outcome.rejectedFile!, 'utf8')) as string[][];
  assert.deepEqual(line.slice(-3), ['1', '2', 'product: at most 200 characters, found 1,048,576']);
});

test('a row of 10,000 columns is read; a cell in the 5,000th with a NUL, and a row one cell short, are rejected naming them', async () => {
  const filler = Array.from({ length: 9997 }, (_, i) => `c${i + 4}`);
  const header = ['customer', 'at', 'amount', ...filler];
  const row = (customer: string, cells = filler.map((_, i) => `v${i}`)) =>
    [customer, '2026-01-01', '5', ...cells].join(',');
  const withNul = filler.map((_, i) => (i === 4996 ? 'a\u0000b' : ''));
  const wide = path.join(work, 'wide.csv');
  fs.writeFileSync(
    wide,
    [header.join(','), row('W1'), row('W2', withNul), row('W3', filler.slice(1)), row('W4')].join('\n'),
  );
  const outcome = await runImport(deps, { kind: 'orders', file: wide, map: {}, encoding: 'utf-8' });
  assert.deepEqual(outcome.counts, { read: 4, imported: 2, updated: 0, unchanged: 0, rejected: 2 });
  const [head, nul, short] = parse(fs.readFileSync(outcome.rejectedFile!, 'utf8')) as string[][];
  assert.equal(head.length, 10_003);
  assert.equal(nul[5000 - 1], 'a\uFFFDb');
  assert.deepEqual(nul.slice(-3), [
    '2',
    '3',
    'c5000: contains a NUL character (\\u0000), which text cannot hold; NUL characters and lone surrogates are written here as U+FFFD',
  ]);
  assert.deepEqual(short.slice(-3), ['3', '4', 'row: expected 10000 columns as in the header, found 9999']);
});
