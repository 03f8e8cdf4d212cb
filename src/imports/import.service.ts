import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { attributeTypes, type AttributeType } from '../customers/index.ts';
import type { Db } from '../db/connection.ts';
import type { WriteCounts } from '../db/upsert.ts';
import type { Deps } from '../deps.ts';
import { refreshCustomers, resolveFacts, writeResolved } from '../facts/index.ts';
import { upsertProducts } from '../orders/index.ts';
import { AppError } from '../shared/errors.ts';
import { formulaSafe } from '../shared/spreadsheet.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { readCsv, type CsvRecord } from './csv-source.ts';
import { dateParser } from './date-format.ts';
import { resolveColumns, type ImportCounts, type ImportOptions } from './import.ts';
import {
  findImport,
  findImportByJob,
  findUnfinished,
  finishImport,
  insertImport,
  listImportJobs,
  noteImportError,
  refreshStatistics,
  rememberCustomers,
  rememberedCustomers,
  saveCheckpoint,
  type ImportJobRow,
  type ImportRow,
} from './import.repository.ts';
import { convertRow, detectType, isRowError, type Row, type RowError } from './import.rows.ts';
import { factsOfRows } from './row-facts.ts';

const chunkSize = 10_000;
const typeSampleRows = 1000;

export type { ImportJobRow };

/** Upload jobs with their imports, newest first: the one job `jobId`, or the latest `limit`. */
export const importJobs = (deps: Deps, filter: { jobId?: number; limit: number }) => listImportJobs(deps.db, filter);
/** The import an upload's background job made. */
export const importOfJob = (deps: Deps, jobId: number) => findImportByJob(deps.db, jobId);

export interface ImportOutcome {
  importId: number;
  counts: ImportCounts;
  rejectedFile: string | null;
  resumed: boolean;
}
interface Pending {
  record: CsvRecord;
  row: Row;
}
interface Rejected {
  record: CsvRecord;
  error: RowError;
}

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

const attributeKey = (header: string) =>
  header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .replace(/^(\d)/, 'a_$1')
    .slice(0, 63);

/**
 * Imports a CSV file: every row is imported or reported with its row number and reason; the same
 * file twice changes nothing; a crash resumes from the last committed chunk.
 */
export async function runImport(
  deps: Deps,
  options: ImportOptions,
  hooks: { onProgress?: ProgressReporter; importId?: number; jobId?: number } = {},
): Promise<ImportOutcome> {
  const stat = await fs.promises.stat(options.file);
  let parseDate: ReturnType<typeof dateParser>;
  try {
    parseDate = dateParser(options.dateFormat, deps.config.timeZone);
  } catch (error) {
    throw new AppError('bad_request', (error as Error).message);
  }
  const { header, delimiter, records } = await readCsv(options.file, {
    encoding: options.encoding,
    delimiter: options.delimiter,
    onBytes: (bytes) => hooks.onProgress?.(bytes, stat.size),
  });
  // An upload runs as a job: its message speaks of the column mapping, not the CLI's --map.
  const columns = resolveColumns(options.kind, header, options.map, hooks.jobId === undefined ? 'cli' : 'upload');

  // Customers: every unmapped column is a custom attribute, typed from the first rows.
  const sample: CsvRecord[] = [];
  let attributes: { index: number; key: string; type: AttributeType }[] = [];
  if (options.kind === 'customers') {
    const mapped = new Set(columns.values());
    const unmapped = header
      .map((name, index) => ({ name, index }))
      .filter((c) => !mapped.has(c.index) && attributeKey(c.name));
    // Pulled by hand: breaking out of for-await would close the stream for the rest of the file.
    while (sample.length < typeSampleRows) {
      const next = await records.next();
      if (next.done) break;
      sample.push(next.value);
    }
    const keys = unmapped.map((c) => attributeKey(c.name));
    const defined = await attributeTypes(deps.db);
    attributes = unmapped.map((c, i) => ({
      index: c.index,
      key: keys[i],
      type: defined.get(keys[i]) ?? detectType(sample.map((r) => r.values[c.index] ?? '')),
    }));
  }

  const fileHash = await fingerprint(options.file, stat.size);
  const stored = { map: options.map, dateFormat: options.dateFormat ?? null, delimiter, encoding: options.encoding };
  let current: ImportRow | undefined = hooks.importId
    ? await findImport(deps.db, hooks.importId)
    : await findUnfinished(deps.db, options.kind, fileHash, stored);
  const resumed = current !== undefined && current.checkpoint_row > 0;
  current ??= await insertImport(deps.db, {
    kind: options.kind,
    fileName: path.resolve(options.file),
    fileSize: stat.size,
    fileHash,
    options: stored,
    status: 'running',
    jobId: hooks.jobId,
  });
  const importId = current.id;
  const rejectedFile =
    options.rejectedFile ??
    current.rejected_file ??
    path.join(deps.config.dataDir, 'imports', `${importId}-rejected.csv`);
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
    get(target: string) {
      const index = columns.get(target);
      return index === undefined ? '' : (this.values[index] ?? '').trim();
    },
    has: (target: string) => columns.has(target),
    parseDate,
    decimalComma: delimiter === ';',
    attributes,
    defaultCountry: deps.config.defaultCountry,
    timeZone: deps.config.timeZone,
    // A snapshot's tenure counts back from the day the import began (the same day when it resumes).
    importedAt: new Date(current.created_at),
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
      const spans =
        record.lines > 1
          ? ` (the row runs over lines ${record.line} to ${record.line + record.lines - 1}: is a quote missing?)`
          : '';
      rejected.push({
        record,
        error: {
          field: 'row',
          message: `expected ${header.length} columns as in the header, found ${record.values.length}${spans}`,
        },
      });
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
    for (let after = 0; ; ) {
      const ids = await rememberedCustomers(deps.db, importId, after, 5000);
      if (ids.length === 0) break;
      await deps.db.transaction((tx) => refreshCustomers(deps, tx, ids));
      after = ids.at(-1)!;
    }
    await finishImport(deps.db, importId, { status: 'done' });
    await refreshStatistics(deps.db);
  } catch (error) {
    // The import stays resumable: its checkpoint marks what is committed. Noting why must not hide why.
    await noteImportError(deps.db, importId, error instanceof Error ? error.message : String(error)).catch(
      (noted: unknown) => deps.logger.error({ err: noted, importId }, 'could not note why the import stopped'),
    );
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
  const replaced = written.some((value, i) => value !== values[i])
    ? '; NUL characters and lone surrogates are written here as U+FFFD'
    : '';
  const reason = `${error.message.startsWith(error.field) ? error.message : `${error.field}: ${error.message}`}${replaced}`;
  return [...written, record.row, record.line, reason].map(formulaSafe);
};

async function writeChunk(
  deps: Deps,
  tx: Db,
  importId: number,
  kind: ImportOptions['kind'],
  chunk: Pending[],
  hasOrderColumn: boolean,
): Promise<{ counts: WriteCounts; rejected: Rejected[] }> {
  // The catalogue is no customer's fact: its rows go to its own writer, past the customer pipeline.
  if (kind === 'products') {
    const products = chunk.flatMap(({ row }) => (row.kind === 'product' ? [row] : []));
    return { counts: await upsertProducts(tx, products, deps.clock.now()), rejected: [] };
  }
  const source = `import:${importId}`;
  const items = chunk.flatMap((p, index) => (p.row.kind === 'product' ? [] : [{ index, ref: p.row.ref, row: p.row }]));
  const resolution = await resolveFacts(deps, tx, items, {
    source,
    referenceField: kind === 'customers' ? 'email' : 'customer',
    // A provider's flags file is about customers Kept has: an unknown one is a rejected row, never a new customer.
    createMissing: kind !== 'flags',
  });
  const facts = await factsOfRows(tx, resolution.resolved, { importId, hasOrderColumn, now: () => deps.clock.now() });
  const written = await writeResolved(deps, tx, facts, { source, lifecycle: 'defer', created: resolution.created });
  // Purchase days and stages are refreshed once per customer when the whole file is in.
  await rememberCustomers(tx, importId, written.changedCustomers);
  const rejected = [...resolution.rejected, ...written.rejected].map(
    ([index, { field, message, erased }]): Rejected => ({
      // The rejected-rows file names the row, not the values: they are the erased person's.
      record: erased ? { ...chunk[index].record, values: [] } : chunk[index].record,
      error: { field, message },
    }),
  );
  return { counts: written.counts, rejected };
}
