// Retention per data class (P18): a sweep, nightly and on demand, deletes what is older than its
// class allows (docs/security.md). Customers past retention are deleted the way an erasure deletes
// them, without the hash that would keep them out. Rows left with no customer (an erasure that
// raced a writer) go on every sweep.
import fs from 'node:fs';
import path from 'node:path';
import { audit, listAudit } from '../audit/index.ts';
import { retentionDefaults, type RetentionClass } from '../config.ts';
import type { Deps } from '../deps.ts';
import { everyNight, startJob } from '../jobs/job.service.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { eraseCustomer } from './erasure.ts';
import { customerTables } from './privacy.repository.ts';
import {
  deleteCapturedMailBefore,
  deleteDeadLettersBefore,
  deleteEventIdsBefore,
  deleteFinishedDeliveriesBefore,
  deleteJobsFinishedBefore,
  deleteOrphans,
  deleteScoresOfRunsBefore,
  deleteSessionsEndedBefore,
  forgetRejectedFile,
  importsWithRejectedFiles,
  inactiveCustomers,
  refreshStatistics,
  uploadsFinishedBefore,
} from './retention.repository.ts';

/** What each class is, in words, for the docs, the API and the Audit page. */
export const retentionClasses: Record<RetentionClass, string> = {
  sessions: 'staff sign-in sessions, counted from when they ended',
  captured_mail: 'mail captured instead of sent (no SMTP server configured)',
  dead_letters: 'failed events kept for replay',
  jobs: 'finished background jobs and their results',
  import_files:
    'uploaded import files and rejected-rows files in the data folder, counted from when the import finished',
  score_history: 'scores of past analyses (the latest analysis is always kept)',
  event_ids: 'ids of received events, kept to answer a repeat as duplicate',
  webhook_deliveries: 'webhook deliveries that were delivered or gave up (dead), with what they carried',
  inactive_customers:
    'customers with no order, contact, ticket or note in that time and no subscription running or changed in it: everything about them',
};

export interface SweepResult {
  class: RetentionClass | 'orphans';
  days: number | null;
  deleted: number;
}

/** Deletes a file Kept made in its data folder; a path chosen by whoever ran `kept import --rejected` is theirs. */
function removeOwnFile(deps: Deps, file: unknown): number {
  if (
    typeof file !== 'string' ||
    path.relative(deps.config.dataDir, path.resolve(file)).startsWith('..') ||
    !fs.existsSync(file)
  )
    return 0;
  fs.rmSync(file, { force: true });
  return 1;
}

const sweeps: Record<RetentionClass, (deps: Deps, cutoff: string) => Promise<number>> = {
  sessions: (deps, cutoff) => deleteSessionsEndedBefore(deps.db, cutoff),
  captured_mail: (deps, cutoff) => deleteCapturedMailBefore(deps.db, cutoff),
  dead_letters: (deps, cutoff) => deleteDeadLettersBefore(deps.db, cutoff),
  import_files: async (deps, cutoff) => {
    let removed = 0;
    for (const row of await importsWithRejectedFiles(deps.db, cutoff)) {
      removed += removeOwnFile(deps, row.rejectedFile);
      await forgetRejectedFile(deps.db, row.id);
    }
    for (const file of await uploadsFinishedBefore(deps.db, cutoff)) removed += removeOwnFile(deps, file);
    return removed;
  },
  // After import_files, which reads the import jobs.
  jobs: (deps, cutoff) => deleteJobsFinishedBefore(deps.db, cutoff),
  score_history: (deps, cutoff) => deleteScoresOfRunsBefore(deps.db, cutoff),
  event_ids: (deps, cutoff) => deleteEventIdsBefore(deps.db, cutoff),
  webhook_deliveries: (deps, cutoff) => deleteFinishedDeliveriesBefore(deps.db, cutoff),
  inactive_customers: async (deps, cutoff) => {
    let deleted = 0;
    for (;;) {
      const idle = await inactiveCustomers(deps.db, cutoff);
      if (idle.length === 0) return deleted;
      for (const id of idle) {
        await eraseCustomer(deps, id, null);
        deleted++;
      }
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
    results.push({
      class: name,
      days,
      deleted: days === null ? 0 : await sweeps[name](deps, new Date(now - days * 86_400_000).toISOString()),
    });
    report?.(i + 1, classes.length + 1, name);
  }
  let orphans = 0;
  for (const table of await customerTables(deps.db)) {
    if (table !== 'customers') orphans += await deleteOrphans(deps.db, table);
  }
  results.push({ class: 'orphans', days: null, deleted: orphans });
  report?.(classes.length + 1, classes.length + 1);
  await refreshStatistics(deps.db);
  await audit(deps.db, {
    actor,
    action: 'retention.swept',
    target: null,
    detail: Object.fromEntries(results.map((r) => [r.class, r.deleted])),
  });
  return results;
}

/** The sweep every night at 03:00 in the business time zone, after the analysis. */
export const scheduleRetention = (deps: Deps) =>
  everyNight(deps, 3, 'retention sweep', () => startJob(deps, 'retention', {}));

/** The latest sweeps (at most 30), newest first: when, by whom, and how many rows of each class went. */
export async function latestSweeps(
  deps: Deps,
): Promise<{ at: string; actor: string; deleted: Record<string, number> }[]> {
  const entries = await listAudit(deps.db, { action: 'retention.swept', limit: 30 });
  return entries.map((e) => ({ at: e.at, actor: e.actor, deleted: e.detail as Record<string, number> }));
}
