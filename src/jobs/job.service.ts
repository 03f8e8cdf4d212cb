// Background work started from the UI or API: one row per job with its progress, run in this
// process, picked up again after a restart.
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import type { ProgressReporter } from '../shared/progress.ts';

export type JobHandler = (deps: Deps, payload: Record<string, unknown>, jobId: number, report: ProgressReporter) => Promise<Record<string, unknown>>;

export interface JobRow {
  id: number; kind: string; status: 'queued' | 'running' | 'done' | 'failed'; done: number; total: number | null;
  payload: Record<string, unknown>; result: Record<string, unknown> | null; error: string | null;
  created_at: string; started_at: string | null; finished_at: string | null;
}

const handlers = new Map<string, JobHandler>();
/** Jobs running in this process, so tests and shutdown can wait for them. */
const running = new Map<number, Promise<void>>();
// Progress is written at most this often; the final figures always.
const progressEveryMs = 500;

export function registerJobHandler(kind: string, handler: JobHandler): void {
  handlers.set(kind, handler);
}

export async function findJob(deps: Deps, id: number): Promise<JobRow | undefined> {
  const [row] = await queryRows<JobRow>(deps.db, sql`
    select id, kind, status, done, total, payload, result, error, created_at, started_at, finished_at from jobs where id = ${id}`);
  return row;
}

/** Records a job and starts it in the background; its row tells how far it got. */
export async function startJob(deps: Deps, kind: string, payload: Record<string, unknown>): Promise<number> {
  if (!handlers.has(kind)) throw new Error(`no handler for job kind ${kind}`);
  const [{ id }] = await queryRows<{ id: number }>(deps.db, sql`
    insert into jobs (kind, status, payload) values (${kind}, 'queued', ${JSON.stringify(payload)}::text::jsonb) returning id`);
  run(deps, id, kind, payload);
  return id;
}

function run(deps: Deps, id: number, kind: string, payload: Record<string, unknown>): void {
  const work = (async () => {
    let last = 0;
    let pending: Promise<unknown> = Promise.resolve();
    const report: ProgressReporter = (done, total) => {
      const now = Date.now();
      if (now - last < progressEveryMs) return;
      last = now;
      pending = pending.then(() => deps.db.execute(sql`update jobs set done = ${done}, total = ${total ?? null}, heartbeat_at = now() where id = ${id}`)).catch(() => undefined);
    };
    await deps.db.execute(sql`update jobs set status = 'running', started_at = coalesce(started_at, now()), heartbeat_at = now() where id = ${id}`);
    try {
      const result = await handlers.get(kind)!(deps, payload, id, report);
      await pending;
      await deps.db.execute(sql`update jobs set status = 'done', done = coalesce(total, done), result = ${JSON.stringify(result)}::text::jsonb, finished_at = now() where id = ${id}`);
    } catch (error) {
      await pending;
      deps.logger.warn({ err: error, job: id, kind }, 'job failed');
      await deps.db.execute(sql`update jobs set status = 'failed', error = ${(error as Error).message}, finished_at = now() where id = ${id}`);
    }
  })();
  running.set(id, work);
  void work.finally(() => running.delete(id));
}

/** Jobs that were running when the process stopped start again (their handlers resume, not repeat). */
export async function resumeJobs(deps: Deps): Promise<number> {
  const rows = await queryRows<{ id: number; kind: string; payload: Record<string, unknown> }>(deps.db, sql`
    select id, kind, payload from jobs where status in ('queued', 'running') order by id`);
  // A job this process already runs (started just before, e.g. the demo's first analysis) is not started twice.
  const interrupted = rows.filter((row) => handlers.has(row.kind) && !running.has(row.id));
  for (const row of interrupted) run(deps, row.id, row.kind, row.payload);
  return interrupted.length;
}

/** Waits for the jobs running in this process (tests; a clean shutdown). */
export async function settleJobs(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running.values()]);
}

/** Calls `start` every night at `hour` o'clock in the business time zone while the server runs; returns a stop. */
export function everyNight(deps: Deps, hour: number, what: string, start: () => Promise<unknown>): () => void {
  let timer: NodeJS.Timeout;
  const next = () => {
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: deps.config.timeZone, hour: 'numeric', minute: 'numeric', hourCycle: 'h23' })
      .formatToParts(deps.clock.now()).map((p) => [p.type, Number(p.value)]));
    let minutes = hour * 60 - (parts.hour * 60 + parts.minute);
    if (minutes <= 0) minutes += 24 * 60;
    timer = setTimeout(() => {
      start().catch((error) => deps.logger.error({ err: error }, `${what} did not start`));
      next();
    }, minutes * 60_000);
    timer.unref();
  };
  next();
  return () => clearTimeout(timer);
}

/** Calls `run` every `ms` while the server runs, never two at once; returns a stop. */
export function every(deps: Deps, ms: number, what: string, run: () => Promise<unknown>): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void run().catch((error) => deps.logger.error({ err: error }, `${what} failed`)).finally(() => { busy = false; });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
