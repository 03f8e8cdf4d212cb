// What the retention sweep (retention.ts) deletes, class by class, across the domains' tables:
// sessions, captured_mail, dead_letters, imports (their rejected-rows files), jobs, scores of past
// analysis_runs, ingested_events, webhook_deliveries, and customers with no recent orders,
// touchpoints, tickets or notes. `cutoff` is an ISO instant: what is older goes.
import { affectedRows, queryRows, sql, type Db } from '../db/connection.ts';

export { refreshStatistics } from '../db/connection.ts';
import type { imports } from '../imports/import.schema.ts';

export const deleteSessionsEndedBefore = (db: Db, cutoff: string) =>
  affectedRows(db, sql`delete from sessions where expires_at < ${cutoff}::timestamptz`);

export const deleteCapturedMailBefore = (db: Db, cutoff: string) =>
  affectedRows(db, sql`delete from captured_mail where at < ${cutoff}::timestamptz`);

export const deleteDeadLettersBefore = (db: Db, cutoff: string) =>
  affectedRows(db, sql`delete from dead_letters where created_at < ${cutoff}::timestamptz`);

/** Imports finished before the cutoff that still name a rejected-rows file. */
export const importsWithRejectedFiles = (db: Db, cutoff: string) =>
  queryRows<Pick<typeof imports.$inferSelect, 'id' | 'rejectedFile'>>(
    db,
    sql`
    select id, rejected_file as "rejectedFile" from imports
    where finished_at < ${cutoff}::timestamptz and rejected_file is not null`,
  );

export async function forgetRejectedFile(db: Db, importId: number): Promise<void> {
  await db.execute(sql`update imports set rejected_file = null where id = ${importId}`);
}

/** The uploaded files of import jobs that finished before the cutoff. */
export async function uploadsFinishedBefore(db: Db, cutoff: string): Promise<(string | null)[]> {
  const rows = await queryRows<{ file: string | null }>(
    db,
    sql`
    select payload ->> 'file' as file from jobs where kind = 'import' and status in ('done', 'failed') and finished_at < ${cutoff}::timestamptz`,
  );
  return rows.map((r) => r.file);
}

export const deleteJobsFinishedBefore = (db: Db, cutoff: string) =>
  affectedRows(db, sql`delete from jobs where status in ('done', 'failed') and finished_at < ${cutoff}::timestamptz`);

/** Scores (subscription churn scores, outcome-table cases and reports) of analyses started before the cutoff; the current analysis's stay. Counts the scores. */
export async function deleteScoresOfRunsBefore(db: Db, cutoff: string): Promise<number> {
  const old = sql`select id from analysis_runs where started_at < ${cutoff}::timestamptz
      and id <> coalesce((select max(id) from analysis_runs where status = 'done' and current), 0)`;
  await db.execute(sql`delete from churn_scores where run_id in (${old})`);
  await db.execute(sql`delete from outcome_cases where run_id in (${old})`);
  await db.execute(sql`delete from retention_reports where run_id in (${old})`);
  return affectedRows(db, sql`delete from scores where run_id in (${old})`);
}

export const deleteEventIdsBefore = (db: Db, cutoff: string) =>
  affectedRows(db, sql`delete from ingested_events where received_at < ${cutoff}::timestamptz`);

export const deleteFinishedDeliveriesBefore = (db: Db, cutoff: string) =>
  affectedRows(
    db,
    sql`delete from webhook_deliveries where status in ('delivered', 'dead') and created_at < ${cutoff}::timestamptz`,
  );

/** Up to 500 customers, by id, made before the cutoff with no order, contact, ticket or note since and no subscription running or changed since. */
export async function inactiveCustomers(db: Db, cutoff: string): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    select c.id from customers c where c.created_at < ${cutoff}::timestamptz
      and not exists (select 1 from orders o where o.customer_id = c.id and o.ordered_at >= ${cutoff}::timestamptz)
      and not exists (select 1 from touchpoints t where t.customer_id = c.id and t.at >= ${cutoff}::timestamptz)
      and not exists (select 1 from tickets k where k.customer_id = c.id and k.opened_at >= ${cutoff}::timestamptz)
      and not exists (select 1 from notes n where n.customer_id = c.id and n.at >= ${cutoff}::timestamptz)
      and not exists (select 1 from subscriptions s where s.customer_id = c.id and (s.cancelled_at is null or s.updated_at >= ${cutoff}::timestamptz))
    order by c.id limit 500`,
  );
  return rows.map((r) => Number(r.id));
}

/** Deletes the rows of a table (one with a customer_id) whose customer is gone. */
export const deleteOrphans = (db: Db, table: string) =>
  affectedRows(
    db,
    sql`
  delete from ${sql.identifier(table)} t where t.customer_id is not null and not exists (select 1 from customers c where c.id = t.customer_id)`,
  );
