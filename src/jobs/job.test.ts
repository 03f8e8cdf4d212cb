import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { registerJobHandler, resumeJobs, settleJobs, startJob } from './job.service.ts';

let deps: Deps;
before(async () => { deps = await createTestDeps(); });
after(async () => { await settleJobs(); await deps.close(); });

test('at start, jobs left queued or running by a stopped process run again, and a job this process already runs is not started twice', async () => {
  const runs: number[] = [];
  let release = () => undefined as void;
  const held = new Promise<void>((resolve) => { release = resolve; });
  registerJobHandler('test-count', async (_deps, payload) => { runs.push(payload.n as number); await held; return { n: payload.n }; });
  // As a process that stopped mid-job leaves it.
  await deps.db.execute(sql`insert into jobs (kind, status, payload) values ('test-count', 'running', '{"n": 1}'::jsonb)`);
  await startJob(deps, 'test-count', { n: 2 });
  assert.equal(await resumeJobs(deps), 1, 'only the interrupted job');
  release();
  await settleJobs();
  assert.deepEqual(runs.sort(), [1, 2]);
  const rows = await queryRows<{ status: string }>(deps.db, sql`select status from jobs where kind = 'test-count' order by id`);
  assert.deepEqual(rows.map((r) => r.status), ['done', 'done']);
});
