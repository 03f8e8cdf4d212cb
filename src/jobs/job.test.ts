import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { findJob, registerJobHandler, releaseJobs, resumeJobs, settleJobs, startJob } from './job.service.ts';

let deps: Deps;
before(async () => {
  deps = await createTestDeps();
});
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** The same deps with a logger that keeps what it is given. */
function listening() {
  const logged: { level: string; message: string }[] = [];
  const keep = (level: string) => (_fields: unknown, message: string) => {
    logged.push({ level, message });
  };
  return {
    logged,
    deps: {
      ...deps,
      logger: {
        ...deps.logger,
        info: keep('info'),
        warn: keep('warn'),
        error: keep('error'),
      } as unknown as Deps['logger'],
    },
  };
}
after(async () => {
  await settleJobs();
  await deps.close();
});

test('at start, jobs left queued or running by a stopped process run again, and a job this process already runs is not started twice', async () => {
  const runs: number[] = [];
  let release = () => undefined as void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  registerJobHandler('test-count', async (_deps, payload) => {
    runs.push(payload.n as number);
    await held;
    return { n: payload.n };
  });
  // As a process that stopped mid-job leaves it.
  await deps.db.execute(
    sql`insert into jobs (kind, status, payload) values ('test-count', 'running', '{"n": 1}'::jsonb)`,
  );
  await startJob(deps, 'test-count', { n: 2 });
  assert.equal(await resumeJobs(deps), 1, 'only the interrupted job');
  release();
  await settleJobs();
  assert.deepEqual(runs.sort(), [1, 2]);
  const rows = await queryRows<{ status: string }>(
    deps.db,
    sql`select status from jobs where kind = 'test-count' order by id`,
  );
  assert.deepEqual(
    rows.map((r) => r.status),
    ['done', 'done'],
  );
});

test('every start counts as an attempt; a job started 3 times without finishing is parked, failed with the reason, and its kind cleans up', async () => {
  const runs: number[] = [];
  const cleaned: unknown[] = [];
  registerJobHandler(
    'test-crashy',
    async (_deps, payload) => {
      runs.push(payload.n as number);
      return {};
    },
    {
      onFailed: (_deps, payload) => {
        cleaned.push(payload.n);
      },
    },
  );
  const [{ id: twice }] = await queryRows<{ id: number }>(
    deps.db,
    sql`insert into jobs (kind, status, attempts, payload) values ('test-crashy', 'running', 2, '{"n": 2}'::jsonb) returning id`,
  );
  const [{ id: thrice }] = await queryRows<{ id: number }>(
    deps.db,
    sql`insert into jobs (kind, status, attempts, payload) values ('test-crashy', 'running', 3, '{"n": 3}'::jsonb) returning id`,
  );
  const { deps: quiet, logged } = listening();
  assert.equal(await resumeJobs(quiet), 1);
  await settleJobs();
  assert.deepEqual(runs, [2], 'the job started 3 times is not started a fourth');
  const resumed = await findJob(deps, twice);
  assert.deepEqual([resumed?.status, resumed?.attempts], ['done', 3]);
  const parked = await findJob(deps, thrice);
  assert.deepEqual(
    [parked?.status, parked?.attempts, parked?.error],
    ['failed', 3, 'interrupted 3 times without finishing (the server stopped while it ran), so it is not tried again'],
  );
  assert.ok(parked?.finished_at);
  assert.deepEqual(cleaned, [3]);
  assert.deepEqual(
    logged.map((l) => l.message),
    ['job parked: interrupted too often'],
  );
  assert.equal(await resumeJobs(deps), 0, 'a parked job stays parked');
  const started = await startJob(deps, 'test-crashy', { n: 4 });
  await settleJobs();
  assert.equal((await findJob(deps, started))?.attempts, 1);
});

test('a clean stop gives back the start of a running job: restarts for a deploy never park it', async () => {
  let release = () => undefined as void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  registerJobHandler('test-deploy', async () => {
    await held;
    return {};
  });
  const id = await startJob(deps, 'test-deploy', {});
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal((await findJob(deps, id))?.attempts, 1);
  await releaseJobs(deps);
  assert.equal((await findJob(deps, id))?.attempts, 0);
  release();
  await settleJobs();
  assert.deepEqual([(await findJob(deps, id))?.status, (await findJob(deps, id))?.attempts], ['done', 0]);
});

test('a job failing with an error no column can hold (NUL, a lone surrogate, a megabyte) is failed with it cleaned and cut, and nothing rejects', async () => {
  registerJobHandler('test-nul', async () => {
    throw new Error(`bad \u0000 byte \uD800 ${'x'.repeat(1_000_000)}`);
  });
  const id = await startJob(deps, 'test-nul', {});
  await settleJobs();
  const job = await findJob(deps, id);
  assert.equal(job?.status, 'failed');
  assert.ok(job?.error?.startsWith('bad  byte \uFFFD xxx'), job?.error?.slice(0, 20));
  assert.equal(job?.error?.length, 2000 - 1);
  assert.deepEqual(unhandled, []);
});

test('when even marking the job failed fails, the error is logged and the job promise still settles', async () => {
  registerJobHandler('test-unmarkable', async (jobDeps) => {
    // The failure cannot be written: the column it goes to is gone for the moment.
    await jobDeps.db.execute(sql`alter table jobs rename column error to error_away`);
    throw new Error('first failure');
  });
  const { deps: quiet, logged } = listening();
  const id = await startJob(quiet, 'test-unmarkable', {});
  await settleJobs();
  await deps.db.execute(sql`alter table jobs rename column error_away to error`);
  assert.deepEqual(
    logged.map((l) => `${l.level}: ${l.message}`),
    ['warn: job failed', 'error: could not mark the job failed'],
  );
  assert.equal((await findJob(deps, id))?.status, 'running', 'left to resume');
  await deps.db.execute(sql`update jobs set status = 'failed' where id = ${id}`);
  assert.deepEqual(unhandled, []);
});
