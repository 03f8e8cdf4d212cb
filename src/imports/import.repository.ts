import { array, queryRows, refreshStatistics as analyze, sql, type Db } from '../db/connection.ts';
import { cleanText } from '../shared/input.ts';
import type { ImportCounts, ImportJobPayload } from './import.ts';

// A message stored for people to read: whatever the file put in it, text the column takes, and short.
const errorLength = 2000;
const storedError = (message: string) => cleanText(message.slice(0, errorLength));

export interface ImportRow {
  id: number;
  kind: string;
  file_name: string;
  file_size: number;
  file_hash: string;
  options: Record<string, unknown>;
  status: string;
  job_id: number | null;
  checkpoint_row: number;
  counts: ImportCounts;
  rejected_file: string | null;
  rejected_bytes: number;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

const columns = sql`id, kind, file_name, file_size, file_hash, options, status, job_id, checkpoint_row, counts, rejected_file, rejected_bytes, error, created_at, finished_at`;

/** An import of the same file with the same options that did not finish: it is resumed. */
export async function findUnfinished(
  db: Db,
  kind: string,
  fileHash: string,
  options: Record<string, unknown>,
): Promise<ImportRow | undefined> {
  const [row] = await queryRows<ImportRow>(
    db,
    sql`
    select ${columns} from imports
    where kind = ${kind} and file_hash = ${fileHash} and options = ${JSON.stringify(options)}::text::jsonb and status in ('running', 'queued')
    order by id desc limit 1`,
  );
  return row;
}

export async function insertImport(
  db: Db,
  row: {
    kind: string;
    fileName: string;
    fileSize: number;
    fileHash: string;
    options: Record<string, unknown>;
    status: string;
    jobId?: number;
  },
): Promise<ImportRow> {
  const [created] = await queryRows<ImportRow>(
    db,
    sql`
    insert into imports (kind, file_name, file_size, file_hash, options, status, job_id, counts)
    values (${row.kind}, ${row.fileName}, ${row.fileSize}, ${row.fileHash}, ${JSON.stringify(row.options)}::text::jsonb, ${row.status}, ${row.jobId ?? null},
      '{"read":0,"imported":0,"updated":0,"unchanged":0,"rejected":0}'::jsonb)
    returning ${columns}`,
  );
  return created;
}

export async function findImport(db: Db, id: number): Promise<ImportRow | undefined> {
  const [row] = await queryRows<ImportRow>(db, sql`select ${columns} from imports where id = ${id}`);
  return row;
}

/** The import an upload's background job made. */
export async function findImportByJob(db: Db, jobId: number): Promise<ImportRow | undefined> {
  const [row] = await queryRows<ImportRow>(
    db,
    sql`select ${columns} from imports where job_id = ${jobId} order by id desc limit 1`,
  );
  return row;
}

/** An upload's background job with the import it made, once that began. */
export interface ImportJobRow {
  job_id: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  payload: Pick<ImportJobPayload, 'kind' | 'fileName'> & Record<string, unknown>;
  done: number;
  total: number | null;
  job_error: string | null;
  created_at: string;
  finished_at: string | null;
  import_id: number | null;
  counts: ImportCounts | null;
  import_error: string | null;
}

/** Upload jobs with their imports, newest first: the one job `jobId`, or the latest `limit`. */
export async function listImportJobs(db: Db, filter: { jobId?: number; limit: number }): Promise<ImportJobRow[]> {
  return queryRows<ImportJobRow>(
    db,
    sql`
    select j.id as job_id, j.status, j.payload, j.done, j.total, j.error as job_error, j.created_at, j.finished_at,
      i.id as import_id, i.counts, i.error as import_error
    from jobs j left join imports i on i.job_id = j.id
    where j.kind = 'import' and ${filter.jobId === undefined ? sql`true` : sql`j.id = ${filter.jobId}`}
    order by j.id desc limit ${filter.limit}`,
  );
}

export async function listImports(db: Db, limit: number): Promise<ImportRow[]> {
  return queryRows<ImportRow>(db, sql`select ${columns} from imports order by id desc limit ${limit}`);
}

/** Commits a chunk's outcome: in the same transaction as the chunk's writes. */
export async function saveCheckpoint(
  db: Db,
  id: number,
  checkpoint: { row: number; counts: ImportCounts; rejectedFile: string; rejectedBytes: number; status?: string },
): Promise<void> {
  await db.execute(sql`
    update imports set checkpoint_row = ${checkpoint.row}, counts = ${JSON.stringify(checkpoint.counts)}::text::jsonb,
      rejected_file = ${checkpoint.rejectedFile}, rejected_bytes = ${checkpoint.rejectedBytes}, status = coalesce(${checkpoint.status ?? null}, status)
    where id = ${id}`);
}

export async function finishImport(
  db: Db,
  id: number,
  outcome: { status: 'done' | 'failed'; error?: string },
): Promise<void> {
  await db.execute(
    sql`update imports set status = ${outcome.status}, error = ${outcome.error === undefined ? null : storedError(outcome.error)}, finished_at = now() where id = ${id}`,
  );
  if (outcome.status === 'done') await db.execute(sql`delete from import_key_counts where import_id = ${id}`);
}

/** Why an import stopped; it stays resumable from its checkpoint. */
export async function noteImportError(db: Db, id: number, message: string): Promise<void> {
  await db.execute(sql`update imports set error = ${storedError(message)} where id = ${id}`);
}

/**
 * The occurrence number of each key in file order (1 for its first row in the file, 2 for the
 * next ...), continuing from earlier chunks of the same import.
 */
export async function nextOrdinals(db: Db, importId: number, keys: string[]): Promise<number[]> {
  if (keys.length === 0) return [];
  const distinct = [...new Set(keys)];
  const rows = await queryRows<{ key: string; seen: number }>(
    db,
    sql`
    select key, seen from import_key_counts where import_id = ${importId} and key = any(${array(distinct)}::text[])`,
  );
  const seen = new Map(rows.map((row) => [row.key, row.seen]));
  const ordinals = keys.map((key) => {
    const next = (seen.get(key) ?? 0) + 1;
    seen.set(key, next);
    return next;
  });
  await db.execute(sql`
    insert into import_key_counts (import_id, key, seen)
    select ${importId}, * from unnest(${array(distinct)}::text[], ${array(distinct.map((key) => seen.get(key)!))}::bigint[])
    on conflict (import_id, key) do update set seen = excluded.seen`);
  return ordinals;
}

/** Notes customers whose orders this import changed; their lifecycle is refreshed once, at the end. */
export async function rememberCustomers(db: Db, importId: number, customerIds: number[]): Promise<void> {
  if (customerIds.length === 0) return;
  await db.execute(sql`
    insert into import_key_counts (import_id, key, seen)
    select ${importId}, 'lifecycle:' || id, 1 from unnest(${array(customerIds)}::bigint[]) as t(id)
    on conflict (import_id, key) do nothing`);
}

/** A page of the customers remembered by rememberCustomers, in id order after `afterId`. */
export async function rememberedCustomers(db: Db, importId: number, afterId: number, limit: number): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    select substr(key, 11)::bigint as id from import_key_counts
    where import_id = ${importId} and key like 'lifecycle:%' and substr(key, 11)::bigint > ${afterId}
    order by 1 limit ${limit}`,
  );
  return rows.map((row) => row.id);
}

/** Fresh planner statistics once an import's rows are written (PGlite has no autovacuum to do it). */
export async function refreshStatistics(db: Db): Promise<void> {
  await analyze(db);
}
