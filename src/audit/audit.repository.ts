import { queryRows, sql, type Db } from '../db/connection.ts';
import type { AuditLogEntry } from './audit.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  detail?: Record<string, unknown>;
  ip?: string | null;
}

/** Longest list an entry keeps: a bulk action names its first ids and counts them all (`<key>Total`). */
export const auditListLimit = 20;
const bounded = (detail: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(detail).flatMap(([k, v]) =>
      Array.isArray(v) && v.length > auditListLimit
        ? [
            [k, v.slice(0, auditListLimit)],
            [`${k}Total`, v.length],
          ]
        : [[k, v]],
    ),
  );

/** Appends one entry; in the caller's transaction when given one, so it stands or falls with what it records. */
export async function audit(db: Db, entry: AuditEntry): Promise<void> {
  await db.execute(sql`insert into audit_log (actor, action, target, detail, ip)
    values (${entry.actor}, ${entry.action}, ${entry.target ?? null}, ${JSON.stringify(bounded(entry.detail ?? {}))}::jsonb, ${entry.ip ?? null})`);
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  before?: number;
  limit: number;
}

/** Newest first; `action` matches a whole action or its family (`login` matches `login.failed`). */
export async function listAudit(db: Db, filter: AuditFilter): Promise<AuditLogEntry[]> {
  const rows = await queryRows<AuditLogEntry>(
    db,
    sql`
    select id, at, actor, action, target, detail, ip from audit_log
    where ${filter.action ? sql`(action = ${filter.action} or action like ${`${filter.action}.%`})` : sql`true`}
      and ${filter.actor ? sql`lower(actor) = lower(${filter.actor})` : sql`true`}
      and ${filter.before ? sql`id < ${filter.before}` : sql`true`}
    order by id desc limit ${filter.limit}`,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id), at: new Date(r.at).toISOString() }));
}
