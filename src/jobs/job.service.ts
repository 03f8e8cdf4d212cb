// Background work started from the UI or API: one row per job with its progress, run in this
// process, picked up again after a restart.
import type { Deps } from '../deps.ts';
import { cleanText } from '../shared/input.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import {
  findJobRow,
  giveBackStarts,
  insertJob,
  markJobDone,
  markJobFailed,
  markJobRunning,
  recordJobProgress,
  unfinishedJobs,
  type JobRow,
} from './job.repository.ts';

export type { JobRow };

export type JobHandler = (
  deps: Deps,
  payload: Record<string, unknown>,
  jobId: number,
  report: ProgressReporter,
) => Promise<Record<string, unknown>>;

/** What a kind does once its job has failed for good (its handler threw, or it was parked), e.g. remove its files. */
export type FailureHandler = (deps: Deps, payload: Record<string, unknown>) => Promise<void> | void;

const handlers = new Map<string, { handler: JobHandler; onFailed?: FailureHandler }>();
/** Jobs running in this process, so tests and shutdown can wait for them. */
const running = new Map<number, Promise<void>>();
// Progress is written at most this often; the final figures always.
const progressEveryMs = 500;
/**
 * A job started this many times without finishing (the process stopped in it each time, as a crash
 * that the job itself causes would) is parked: failed, with a reason, instead of started again.
 */
export const maxAttempts = 3;
// Whatever an error carries (a file's NUL bytes, a megabyte of text), the column takes it and people can read it.
const errorLength = 2000;
const storedError = (message: string) => cleanText(message.slice(0, errorLength));

export function registerJobHandler(
  kind: string,
  handler: JobHandler,
  options: { onFailed?: FailureHandler } = {},
): void {
  handlers.set(kind, { handler, onFailed: options.onFailed });
}

export async function findJob(deps: Deps, id: number): Promise<JobRow | undefined> {
  return findJobRow(deps.db, id);
}

/** Records a job and starts it in the background; its row tells how far it got. */
export async function startJob(deps: Deps, kind: string, payload: Record<string, unknown>): Promise<number> {
  if (!handlers.has(kind)) throw new Error(`no handler for job kind ${kind}`);
  const id = await insertJob(deps.db, kind, payload);
  run(deps, id, kind, payload);
  return id;
}

// Never rejects: a job that fails, even to record its failure, is logged and leaves the process serving.
function run(deps: Deps, id: number, kind: string, payload: Record<string, unknown>): void {
  const work = (async () => {
    let last = 0;
    let pending: Promise<unknown> = Promise.resolve();
    const report: ProgressReporter = (done, total) => {
      const now = Date.now();
      if (now - last < progressEveryMs) return;
      last = now;
      pending = pending.then(() => recordJobProgress(deps.db, id, done, total)).catch(() => undefined);
    };
    try {
      await markJobRunning(deps.db, id);
      const result = await handlers.get(kind)!.handler(deps, payload, id, report);
      await pending;
      await markJobDone(deps.db, id, result);
    } catch (error) {
      await pending;
      deps.logger.warn({ err: error, job: id, kind }, 'job failed');
      await fail(deps, id, kind, payload, error instanceof Error ? error.message : String(error));
    }
  })().catch((error: unknown) => deps.logger.error({ err: error, job: id, kind }, 'job ended in an unexpected way'));
  running.set(id, work);
  void work.finally(() => running.delete(id));
}

/** Marks a job failed for good and lets its kind clean up; a job that cannot even be marked stays as it was, to resume. */
async function fail(
  deps: Deps,
  id: number,
  kind: string,
  payload: Record<string, unknown>,
  message: string,
): Promise<void> {
  try {
    await markJobFailed(deps.db, id, storedError(message));
  } catch (error) {
    deps.logger.error({ err: error, job: id, kind }, 'could not mark the job failed');
    return;
  }
  try {
    await handlers.get(kind)?.onFailed?.(deps, payload);
  } catch (error) {
    deps.logger.error({ err: error, job: id, kind }, 'could not clean up after the failed job');
  }
}

/**
 * Jobs that were running when the process stopped start again (their handlers resume, not repeat);
 * one already started maxAttempts times is parked instead. Returns how many started.
 */
export async function resumeJobs(deps: Deps): Promise<number> {
  const rows = await unfinishedJobs(deps.db);
  // A job this process already runs (started just before, e.g. the demo's first analysis) is not started twice.
  const interrupted = rows.filter((row) => handlers.has(row.kind) && !running.has(row.id));
  let started = 0;
  for (const row of interrupted) {
    if (row.attempts >= maxAttempts) {
      deps.logger.warn({ job: row.id, kind: row.kind, attempts: row.attempts }, 'job parked: interrupted too often');
      await fail(
        deps,
        row.id,
        row.kind,
        row.payload,
        `interrupted ${row.attempts} times without finishing (the server stopped while it ran), so it is not tried again`,
      );
    } else {
      run(deps, row.id, row.kind, row.payload);
      started++;
    }
  }
  return started;
}

/**
 * On a clean stop (SIGTERM, Ctrl-C) the jobs still running give back their start: a restart, a
 * deploy, is not the job's fault and must not bring it nearer to being parked.
 */
export async function releaseJobs(deps: Deps): Promise<void> {
  if (running.size === 0) return;
  await giveBackStarts(deps.db, [...running.keys()]).catch((error: unknown) =>
    deps.logger.warn({ err: error }, 'could not give back the starts of the running jobs'),
  );
}

/** Waits for the jobs running in this process (tests; a clean shutdown). */
export async function settleJobs(): Promise<void> {
  while (running.size > 0) await Promise.allSettled([...running.values()]);
}

/** Calls `start` every night at `hour` o'clock in the business time zone while the server runs; returns a stop. */
export function everyNight(deps: Deps, hour: number, what: string, start: () => Promise<unknown>): () => void {
  let timer: NodeJS.Timeout;
  const next = () => {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone: deps.config.timeZone,
        hour: 'numeric',
        minute: 'numeric',
        hourCycle: 'h23',
      })
        .formatToParts(deps.clock.now())
        .map((p) => [p.type, Number(p.value)]),
    );
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
    void run()
      .catch((error) => deps.logger.error({ err: error }, `${what} failed`))
      .finally(() => {
        busy = false;
      });
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
