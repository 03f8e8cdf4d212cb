import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { upsertTouchpoints } from '../channels/touchpoint.repository.ts';
import { resolveCustomers } from '../customers/customer.repository.ts';
import { erasedMessage, erasedRefs } from '../privacy/erasure.ts';
import { normaliseRef } from '../customers/identity.ts';
import { refreshLifecycle } from '../customers/lifecycle.repository.ts';
import { checkAttributeTypes, upsertProfiles, type AttributeType } from '../customers/profile.repository.ts';
import { queryRows, refreshStatistics, sql, type Db } from '../db/connection.ts';
import type { WriteCounts } from '../db/upsert.ts';
import type { Deps } from '../deps.ts';
import { upsertOrders, upsertReturns, type OrderInput } from '../orders/order.repository.ts';
import { isNegativeDecimal, negateDecimal } from '../shared/decimal.ts';
import { AppError } from '../shared/errors.ts';
import { formulaSafe } from '../shared/spreadsheet.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { upsertTickets } from '../support/ticket.repository.ts';
import { upsertSurveyResponses } from '../surveys/survey.repository.ts';
import { readCsv, type CsvRecord } from './csv-source.ts';
import { dateParser } from './date-format.ts';
import { resolveColumns, type ImportCounts, type ImportOptions } from './import.ts';
import {
  findImport, findUnfinished, finishImport, insertImport, nextOrdinals, noteImportError, rememberCustomers, rememberedCustomers, saveCheckpoint, type ImportRow,
} from './import.repository.ts';
import { convertRow, detectType, isRowError, type Row, type RowError } from './import.rows.ts';

const chunkSize = 10_000;
const typeSampleRows = 1000;

export interface ImportOutcome { importId: number; counts: ImportCounts; rejectedFile: string | null; resumed: boolean }
interface Pending { record: CsvRecord; row: Row }
interface Rejected { record: CsvRecord; error: RowError }

async function fingerprint(file: string, size: number): Promise<string> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 1 << 20));
    await handle.read(head, 0, head.length, 0);
    return createHash('sha256').update(`${size}:`).update(head).digest('hex');
  } finally {
    await handle.close();
  }
}

const attributeKey = (header: string) => header.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').replace(/^(\d)/, 'a_$1').slice(0, 63);

/**
 * Imports a CSV file: every row is imported or reported with its row number and reason; the same
 * file twice changes nothing; a crash resumes from the last committed chunk.
 */
export async function runImport(deps: Deps, options: ImportOptions, hooks: { onProgress?: ProgressReporter; importId?: number; jobId?: number } = {}): Promise<ImportOutcome> {
  const stat = await fs.promises.stat(options.file);
  let parseDate: ReturnType<typeof dateParser>;
  try {
    parseDate = dateParser(options.dateFormat, deps.config.timeZone);
  } catch (error) {
    throw new AppError('bad_request', (error as Error).message);
  }
  const { header, delimiter, records } = await readCsv(options.file, { encoding: options.encoding, delimiter: options.delimiter, onBytes: (bytes) => hooks.onProgress?.(bytes, stat.size) });
  const columns = resolveColumns(options.kind, header, options.map);

  // Customers: every unmapped column is a custom attribute, typed from the first rows.
  const sample: CsvRecord[] = [];
  let attributes: { index: number; key: string; type: AttributeType }[] = [];
  if (options.kind === 'customers') {
    const mapped = new Set(columns.values());
    const unmapped = header.map((name, index) => ({ name, index })).filter((c) => !mapped.has(c.index) && attributeKey(c.name));
    // Pulled by hand: breaking out of for-await would close the stream for the rest of the file.
    while (sample.length < typeSampleRows) {
      const next = await records.next();
      if (next.done) break;
      sample.push(next.value);
    }
    const keys = unmapped.map((c) => attributeKey(c.name));
    const defined = new Map((await queryRows<{ key: string; type: AttributeType }>(deps.db, sql`select key, type from attribute_definitions`)).map((r) => [r.key, r.type]));
    attributes = unmapped.map((c, i) => ({ index: c.index, key: keys[i], type: defined.get(keys[i]) ?? detectType(sample.map((r) => r.values[c.index] ?? '')) }));
  }

  const fileHash = await fingerprint(options.file, stat.size);
  const stored = { map: options.map, dateFormat: options.dateFormat ?? null, delimiter, encoding: options.encoding };
  let current: ImportRow | undefined = hooks.importId ? await findImport(deps.db, hooks.importId) : await findUnfinished(deps.db, options.kind, fileHash, stored);
  const resumed = current !== undefined && current.checkpoint_row > 0;
  current ??= await insertImport(deps.db, { kind: options.kind, fileName: path.resolve(options.file), fileSize: stat.size, fileHash, options: stored, status: 'running', jobId: hooks.jobId });
  const importId = current.id;
  const rejectedFile = options.rejectedFile ?? current.rejected_file ?? path.join(deps.config.dataDir, 'imports', `${importId}-rejected.csv`);
  fs.mkdirSync(path.dirname(rejectedFile), { recursive: true });
  // Rejected rows of chunks that never committed are cut off; the committed ones stay.
  const rejectedHeader = stringify([[...header, 'row', 'line', 'reason'].map(formulaSafe)]);
  if (current.rejected_bytes > 0 && fs.existsSync(rejectedFile)) fs.truncateSync(rejectedFile, current.rejected_bytes);
  else fs.writeFileSync(rejectedFile, rejectedHeader);
  let rejectedBytes = fs.statSync(rejectedFile).size;
  const counts: ImportCounts = { ...current.counts };
  const checkpoint = current.checkpoint_row;

  const context = {
    values: [] as string[],
    get(target: string) { const index = columns.get(target); return index === undefined ? '' : (this.values[index] ?? '').trim(); },
    has: (target: string) => columns.has(target),
    parseDate, decimalComma: delimiter === ';', attributes, defaultCountry: deps.config.defaultCountry,
    names: header.map((name, index) => [...columns].find(([, column]) => column === index)?.[0] ?? name),
  };
  let pending: Pending[] = [];
  let rejected: Rejected[] = [];
  let lastRow = checkpoint;

  const flush = async () => {
    if (pending.length === 0 && rejected.length === 0) return;
    const chunk = pending;
    const bad = rejected;
    pending = [];
    rejected = [];
    await deps.db.transaction(async (tx) => {
      const outcome = await writeChunk(deps, tx, importId, options.kind, chunk, columns.has('order'));
      bad.push(...outcome.rejected);
      // The rejected rows are on disk before the checkpoint that counts them commits.
      if (bad.length > 0) {
        const lines = stringify(bad.sort((a, b) => a.record.row - b.record.row).map(rejectedLine(header)));
        const handle = fs.openSync(rejectedFile, 'a');
        fs.writeSync(handle, lines);
        fs.fsyncSync(handle);
        fs.closeSync(handle);
        rejectedBytes += Buffer.byteLength(lines);
      }
      counts.read += chunk.length + bad.length - outcome.rejected.length;
      counts.imported += outcome.counts.inserted;
      counts.updated += outcome.counts.updated;
      counts.unchanged += outcome.counts.unchanged;
      counts.rejected += bad.length;
      await saveCheckpoint(tx, importId, { row: lastRow, counts, rejectedFile, rejectedBytes });
    });
  };

  const handle = async (record: CsvRecord) => {
    lastRow = record.row;
    if (record.row <= checkpoint) return;
    if (record.values.length !== header.length) {
      // Most often a cell that starts with a quote and runs on to the next quote in the file.
      const spans = record.lines > 1 ? ` (the row runs over lines ${record.line} to ${record.line + record.lines - 1}: is a quote missing?)` : '';
      rejected.push({ record, error: { field: 'row', message: `expected ${header.length} columns as in the header, found ${record.values.length}${spans}` } });
    } else {
      context.values = record.values;
      const row = convertRow(options.kind, context);
      if (isRowError(row)) rejected.push({ record, error: row });
      else pending.push({ record, row });
    }
    if (pending.length + rejected.length >= chunkSize) await flush();
  };
  try {
    for (const record of sample) await handle(record);
    for await (const record of records) await handle(record);
    await flush();
    // Purchase days and stages, once per customer whose orders changed (not once per chunk).
    for (let after = 0; ;) {
      const ids = await rememberedCustomers(deps.db, importId, after, 5000);
      if (ids.length === 0) break;
      await deps.db.transaction((tx) => refreshLifecycle(tx, ids, { timeZone: deps.config.timeZone }));
      after = ids.at(-1)!;
    }
    await finishImport(deps.db, importId, { status: 'done' });
    await refreshStatistics(deps.db);
  } catch (error) {
    // The import stays resumable: its checkpoint marks what is committed. Noting why must not hide why.
    await noteImportError(deps.db, importId, error instanceof Error ? error.message : String(error))
      .catch((noted: unknown) => deps.logger.error({ err: noted, importId }, 'could not note why the import stopped'));
    throw error;
  }
  return { importId, counts, rejectedFile: counts.rejected > 0 ? rejectedFile : null, resumed };
}

// Text no column or spreadsheet takes (NUL, a lone surrogate) is written as U+FFFD; the reason says so.
const unstorable = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A rejected row as the rejected-rows file has it: the original cells, row, line and reason, each safe to open in a spreadsheet. */
const rejectedLine = (header: string[]) => (rejected: Rejected) => {
  const { record, error } = rejected;
  const values = header.map((_, i) => record.values[i] ?? '');
  const written = values.map((value) => value.replace(unstorable, '\uFFFD'));
  const replaced = written.some((value, i) => value !== values[i]) ? '; NUL characters and lone surrogates are written here as U+FFFD' : '';
  const reason = `${error.message.startsWith(error.field) ? error.message : `${error.field}: ${error.message}`}${replaced}`;
  return [...written, record.row, record.line, reason].map(formulaSafe);
};

async function writeChunk(deps: Deps, tx: Db, importId: number, kind: ImportOptions['kind'], chunk: Pending[], hasOrderColumn: boolean):
  Promise<{ counts: WriteCounts; rejected: Rejected[] }> {
  const source = `import:${importId}`;
  const refs = chunk.map((p) => normaliseRef(p.row.ref, deps.config.defaultCountry));
  const erased = await erasedRefs(deps, tx, refs);
  // The rejected-rows file names the row, not the values: they are the erased person's.
  const rejected: Rejected[] = chunk.filter((_, i) => erased.has(i)).map((p) => ({ record: { ...p.record, values: [] }, error: { field: kind === 'customers' ? 'email' : 'customer', message: erasedMessage } }));
  const live = chunk.filter((_, i) => !erased.has(i));
  const { ids, created } = await resolveCustomers(tx, refs.filter((_, i) => !erased.has(i)), { source, createMissing: true });
  const items: (Pending & { customerId: number })[] = [];
  live.forEach((p, i) => {
    if (ids[i] === null) rejected.push({ record: p.record, error: { field: kind === 'customers' ? 'email' : 'customer', message: 'not a usable customer reference (an email needs an @ and a domain; a phone needs digits)' } });
    else items.push({ ...p, customerId: ids[i]! });
  });
  const total: WriteCounts = { inserted: 0, updated: 0, unchanged: 0 };
  const add = (c: WriteCounts) => { total.inserted += c.inserted; total.updated += c.updated; total.unchanged += c.unchanged; };
  const of = <K extends Row['kind']>(k: K) => items.filter((p) => p.row.kind === k) as (Pending & { customerId: number; row: Extract<Row, { kind: K }> })[];
  const ordinals = <T extends { customerId: number }>(list: T[], key: (item: T) => string) => nextOrdinals(tx, importId, list.map((item) => `${item.customerId}|${key(item)}`));

  if (kind === 'orders') {
    const rows = of('order');
    const credits = rows.filter((p) => isNegativeDecimal(p.row.quantity) || isNegativeDecimal(p.row.amount));
    const lines = rows.filter((p) => !credits.includes(p));
    const lineNos = await ordinals(lines, (p) => `o:${p.row.orderId}`);
    const orders = new Map<string, OrderInput>();
    lines.forEach((p, i) => {
      const key = `${p.customerId}|${p.row.orderId}`;
      const order = orders.get(key) ?? { customerId: p.customerId, externalId: p.row.orderId, orderedAt: p.row.at, channel: p.row.channel, currency: p.row.currency, source, lines: [] };
      order.lines.push({ lineNo: lineNos[i], product: p.row.product, category: p.row.category, quantity: p.row.quantity, unitPrice: p.row.unitPrice, amount: p.row.amount });
      orders.set(key, order);
    });
    const written = await upsertOrders(tx, [...orders.values()]);
    add(written);
    await rememberCustomers(tx, importId, written.changedCustomers);
    const creditNos = await ordinals(credits, (p) => `c:${p.row.orderId}`);
    add(await upsertReturns(tx, credits.map((p, i) => ({
      customerId: p.customerId, externalId: `${p.row.orderId}#credit-${creditNos[i]}`, orderExternalId: hasOrderColumn ? p.row.orderId : null,
      returnedAt: p.row.at, product: p.row.product, quantity: isNegativeDecimal(p.row.quantity) ? negateDecimal(p.row.quantity) : p.row.quantity,
      amount: isNegativeDecimal(p.row.amount) ? negateDecimal(p.row.amount) : p.row.amount, reasonCode: 'credit_note', reason: null, source,
    }))));
  } else if (kind === 'returns') {
    const rows = of('return');
    const nos = await ordinals(rows, (p) => `r:${p.row.returnId ?? `${p.row.at.toISOString()}|${p.row.product}|${p.row.amount}`}`);
    add(await upsertReturns(tx, rows.map((p, i) => ({
      customerId: p.customerId, externalId: p.row.returnId ?? `${p.row.at.toISOString()}|${p.row.product ?? ''}|${p.row.amount}#${nos[i]}`, orderExternalId: p.row.orderId,
      returnedAt: p.row.at, product: p.row.product, quantity: p.row.quantity, amount: p.row.amount, reasonCode: p.row.reasonCode, reason: p.row.reason, source,
    }))));
  } else if (kind === 'touchpoints') {
    const rows = of('touchpoint');
    const nos = await ordinals(rows.filter((p) => !p.row.id), (p) => `t:${p.row.at.toISOString()}|${p.row.channel}|${p.row.touch}`);
    let n = 0;
    add(await upsertTouchpoints(tx, rows.map((p) => ({
      customerId: p.customerId, externalId: p.row.id ?? `${p.row.at.toISOString()}|${p.row.channel}|${p.row.touch}#${nos[n++]}`, at: p.row.at,
      channel: p.row.channel, direction: p.row.direction, kind: p.row.touch, campaign: p.row.campaign, detail: null,
    }))));
  } else if (kind === 'tickets') {
    add(await upsertTickets(tx, of('ticket').map((p) => ({
      customerId: p.customerId, externalId: p.row.ticketId, openedAt: p.row.openedAt, channel: p.row.channel, category: p.row.category, priority: p.row.priority,
      status: p.row.status, subject: p.row.subject, orderExternalId: p.row.orderId, assignee: null, resolvedAt: p.row.resolvedAt, outcome: p.row.outcome,
    }))));
  } else if (kind === 'surveys') {
    const rows = of('survey');
    const nos = await ordinals(rows.filter((p) => !p.row.id), (p) => `s:${p.row.at.toISOString()}|${p.row.survey}|${p.row.question}`);
    let n = 0;
    add(await upsertSurveyResponses(tx, rows.map((p) => ({
      customerId: p.customerId, externalId: p.row.id ?? `${p.row.at.toISOString()}|${p.row.survey}|${p.row.question}#${nos[n++]}`, at: p.row.at,
      survey: p.row.survey, question: p.row.question, score: p.row.score, answer: p.row.answer, channel: p.row.channel,
    }))));
  } else {
    const rows = of('customer');
    const typeErrors = await checkAttributeTypes(tx, rows.map((p) => ({ attributes: p.row.attributes })));
    const badRows = new Set(typeErrors.map((e) => e.index));
    for (const error of typeErrors) rejected.push({ record: rows[error.index].record, error: { field: error.field, message: error.message } });
    const good = rows.filter((_, i) => !badRows.has(i));
    const { changed } = await upsertProfiles(tx, good.map((p) => ({
      customerId: p.customerId, name: p.row.name ?? undefined, createdAt: p.row.createdAt ?? undefined, acquisitionChannel: p.row.acquisitionChannel ?? undefined,
      attributes: p.row.attributes, address: p.row.address ? { kind: 'postal' as const, ...p.row.address, at: deps.clock.now(), source } : undefined,
    })));
    const counted = new Set<number>();
    for (const p of good) {
      if (created.has(p.customerId) && !counted.has(p.customerId)) total.inserted++;
      else if (changed.includes(p.customerId) && !counted.has(p.customerId)) total.updated++;
      else total.unchanged++;
      counted.add(p.customerId);
    }
  }
  return { counts: total, rejected };
}
