// The jobs table: one row per background job, its status, progress and outcome.
import { array, queryRows, sql, type Db } from '../db/connection.ts';

export interface JobRow {
  id: number;
  kind: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  attempts: number;
  done: number;
  total: number | null;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export async function findJobRow(db: Db, id: number): Promise<JobRow | undefined> {
  const [row] = await queryRows<JobRow>(
    db,
    sql`
    select id, kind, status, attempts, done, total, payload, result, error, created_at, started_at, finished_at from jobs where id = ${id}`,
  );
  return row;
}

export async function insertJob(db: Db, kind: string, payload: Record<string, unknown>): Promise<number> {
  const [{ id }] = await queryRows<{ id: number }>(
    db,
    sql`
    insert into jobs (kind, status, payload) values (${kind}, 'queued', ${JSON.stringify(payload)}::text::jsonb) returning id`,
  );
  return id;
}

export async function markJobRunning(db: Db, id: number): Promise<void> {
  await db.execute(sql`
    update jobs set status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()), heartbeat_at = now() where id = ${id}`);
}

export async function recordJobProgress(db: Db, id: number, done: number, total: number | undefined): Promise<void> {
  await db.execute(
    sql`update jobs set done = ${done}, total = ${total ?? null}, heartbeat_at = now() where id = ${id}`,
  );
}

export async function markJobDone(db: Db, id: number, result: Record<string, unknown>): Promise<void> {
  await db.execute(
    sql`update jobs set status = 'done', done = coalesce(total, done), result = ${JSON.stringify(result)}::text::jsonb, finished_at = now() where id = ${id}`,
  );
}

export async function markJobFailed(db: Db, id: number, error: string): Promise<void> {
  await db.execute(sql`update jobs set status = 'failed', error = ${error}, finished_at = now() where id = ${id}`);
}

/** Jobs not finished, oldest first: queued, or running when the process that ran them stopped. */
export async function unfinishedJobs(db: Db) {
  return queryRows<{ id: number; kind: string; payload: Record<string, unknown>; attempts: number }>(
    db,
    sql`
    select id, kind, payload, attempts from jobs where status in ('queued', 'running') order by id`,
  );
}

/** Takes back one start of each of these jobs that is still running. */
export async function giveBackStarts(db: Db, ids: number[]): Promise<void> {
  await db.execute(
    sql`update jobs set attempts = greatest(attempts - 1, 0) where status = 'running' and id = any(${array(ids)}::bigint[])`,
  );
}
