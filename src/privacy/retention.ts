// Retention per data class (P18): a sweep, nightly and on demand, deletes what is older than its
// class allows (docs/security.md). Customers past retention are deleted the way an erasure deletes
// them, without the hash that would keep them out. Rows left with no customer (an erasure that
// raced a writer) go on every sweep.
import fs from 'node:fs';
import path from 'node:path';
import { audit } from '../audit/audit.repository.ts';
import { retentionDefaults, type RetentionClass } from '../config.ts';
import { affectedRows, queryRows, refreshStatistics, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { everyNight, startJob } from '../jobs/job.service.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { eraseCustomer } from './erasure.ts';
import { customerTables } from './privacy.repository.ts';

/** What each class is, in words, for the docs, the API and the Audit page. */
export const retentionClasses: Record<RetentionClass, string> = {
  sessions: 'staff sign-in sessions, counted from when they ended',
  captured_mail: 'mail captured instead of sent (no SMTP server configured)',
  dead_letters: 'failed events kept for replay',
  jobs: 'finished background jobs and their results',
  import_files: 'uploaded import files and rejected-rows files in the data folder, counted from when the import finished',
  score_history: 'scores of past analyses (the latest analysis is always kept)',
  event_ids: 'ids of received events, kept to answer a repeat as duplicate',
  webhook_deliveries: 'webhook deliveries that were delivered or gave up (dead), with what they carried',
  inactive_customers: 'customers with no order, contact, ticket or note in that time: everything about them',
};

export interface SweepResult { class: RetentionClass | 'orphans'; days: number | null; deleted: number }

/** Deletes a file Kept made in its data folder; a path chosen by whoever ran `kept import --rejected` is theirs. */
function removeOwnFile(deps: Deps, file: unknown): number {
  if (typeof file !== 'string' || path.relative(deps.config.dataDir, path.resolve(file)).startsWith('..') || !fs.existsSync(file)) return 0;
  fs.rmSync(file, { force: true });
  return 1;
}

const sweeps: Record<RetentionClass, (deps: Deps, cutoff: string) => Promise<number>> = {
  sessions: (deps, cutoff) => affectedRows(deps.db, sql`delete from sessions where expires_at < ${cutoff}::timestamptz`),
  captured_mail: (deps, cutoff) => affectedRows(deps.db, sql`delete from captured_mail where at < ${cutoff}::timestamptz`),
  dead_letters: (deps, cutoff) => affectedRows(deps.db, sql`delete from dead_letters where created_at < ${cutoff}::timestamptz`),
  import_files: async (deps, cutoff) => {
    let removed = 0;
    const finished = await queryRows<{ id: number; rejected_file: string | null }>(deps.db, sql`
      select id, rejected_file from imports where finished_at < ${cutoff}::timestamptz and rejected_file is not null`);
    for (const row of finished) {
      removed += removeOwnFile(deps, row.rejected_file);
      await deps.db.execute(sql`update imports set rejected_file = null where id = ${row.id}`);
    }
    const uploads = await queryRows<{ file: string }>(deps.db, sql`
      select payload ->> 'file' as file from jobs where kind = 'import' and status in ('done', 'failed') and finished_at < ${cutoff}::timestamptz`);
    for (const { file } of uploads) removed += removeOwnFile(deps, file);
    return removed;
  },
  // After import_files, which reads the import jobs.
  jobs: (deps, cutoff) => affectedRows(deps.db, sql`delete from jobs where status in ('done', 'failed') and finished_at < ${cutoff}::timestamptz`),
  score_history: (deps, cutoff) => affectedRows(deps.db, sql`
    delete from scores where run_id in (
      select id from analysis_runs where started_at < ${cutoff}::timestamptz
        and id <> coalesce((select max(id) from analysis_runs where status = 'done' and current), 0))`),
  event_ids: (deps, cutoff) => affectedRows(deps.db, sql`delete from ingested_events where received_at < ${cutoff}::timestamptz`),
  webhook_deliveries: (deps, cutoff) => affectedRows(deps.db, sql`delete from webhook_deliveries where status in ('delivered', 'dead') and created_at < ${cutoff}::timestamptz`),
  inactive_customers: async (deps, cutoff) => {
    let deleted = 0;
    for (;;) {
      const idle = await queryRows<{ id: number }>(deps.db, sql`
        select c.id from customers c where c.created_at < ${cutoff}::timestamptz
          and not exists (select 1 from orders o where o.customer_id = c.id and o.ordered_at >= ${cutoff}::timestamptz)
          and not exists (select 1 from touchpoints t where t.customer_id = c.id and t.at >= ${cutoff}::timestamptz)
          and not exists (select 1 from tickets k where k.customer_id = c.id and k.opened_at >= ${cutoff}::timestamptz)
          and not exists (select 1 from notes n where n.customer_id = c.id and n.at >= ${cutoff}::timestamptz)
        order by c.id limit 500`);
      if (idle.length === 0) return deleted;
      for (const { id } of idle) { await eraseCustomer(deps, Number(id), null); deleted++; }
    }
  },
};

/** Runs every class with a limit, then removes rows with no customer; one audit entry with the counts. */
export async function sweepRetention(deps: Deps, actor: string, report?: ProgressReporter): Promise<SweepResult[]> {
  const results: SweepResult[] = [];
  const classes = Object.keys(retentionDefaults) as RetentionClass[];
  const now = deps.clock.now().getTime();
  for (const [i, name] of classes.entries()) {
    const days = deps.config.retention[name];
    results.push({ class: name, days, deleted: days === null ? 0 : await sweeps[name](deps, new Date(now - days * 86_400_000).toISOString()) });
    report?.(i + 1, classes.length + 1, name);
  }
  let orphans = 0;
  for (const table of await customerTables(deps.db)) {
    if (table !== 'customers') orphans += await affectedRows(deps.db, sql`delete from ${sql.identifier(table)} t where t.customer_id is not null and not exists (select 1 from customers c where c.id = t.customer_id)`);
  }
  results.push({ class: 'orphans', days: null, deleted: orphans });
  report?.(classes.length + 1, classes.length + 1);
  await refreshStatistics(deps.db);
  await audit(deps.db, { actor, action: 'retention.swept', target: null, detail: Object.fromEntries(results.map((r) => [r.class, r.deleted])) });
  return results;
}

/** The sweep every night at 03:00 in the business time zone, after the analysis. */
export const scheduleRetention = (deps: Deps) => everyNight(deps, 3, 'retention sweep', () => startJob(deps, 'retention', {}));
