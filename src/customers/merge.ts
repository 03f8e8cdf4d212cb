// Two records that turn out to be one person become one (DESIGN: one person, one customer): every
// row of the duplicate moves to the customer kept, in one transaction, found through the catalogue
// like the privacy export, so a new table moves too. Two records of one thing that both customers
// hold under the same key (the same order id, both in one campaign) stop the merge with what
// clashes: nothing is dropped without a person deciding.
import { audit, type AuditEntry } from '../audit/index.ts';
import { affectedRows, queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { customerTables } from '../privacy/privacy.repository.ts';
import { AppError, sqlState, sqlStateOf } from '../shared/errors.ts';
import { refreshLifecycle } from './lifecycle.repository.ts';

/** The first database error in a chain with a constraint name, for the message. */
function clash(error: unknown): { constraint?: string; table?: string; detail?: string } {
  for (let e = error as { constraint?: string; table?: string; detail?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.constraint) return e;
  }
  return {};
}

export interface Merge { into: number; from: number; moved: Record<string, number> }

/** Moves everything of customer `from` to `into` and deletes `from`; audited. Scores go (the next analysis scores the merged customer). */
export async function mergeCustomers(deps: Deps, into: number, from: number, by: Pick<AuditEntry, 'actor' | 'ip'>): Promise<Merge> {
  if (into === from) throw new AppError('bad_request', 'a customer cannot be merged into itself', { issues: [{ path: 'from', message: 'another customer than the one merged into' }] });
  try {
    return await deps.db.transaction(async (tx) => {
      const locked = await queryRows<{ id: number }>(tx, sql`select id from customers where id in (${into}, ${from}) order by id for update`);
      for (const id of [into, from]) if (!locked.some((r) => Number(r.id) === id)) throw new AppError('not_found', `No customer ${id}`);
      await tx.execute(sql`delete from scores where customer_id = ${from}`);
      const moved: Record<string, number> = {};
      for (const table of await customerTables(tx)) {
        if (table === 'customers') continue;
        const n = await affectedRows(tx, sql`update ${sql.identifier(table)} set customer_id = ${into} where customer_id = ${from}`);
        if (n > 0) moved[table] = n;
      }
      // The profile keeps what the customer kept had, and takes what only the duplicate had.
      await tx.execute(sql`
        update customers c set email = coalesce(c.email, d.email), phone = coalesce(c.phone, d.phone), external_id = coalesce(c.external_id, d.external_id),
          name = coalesce(c.name, d.name), acquisition_channel = coalesce(c.acquisition_channel, d.acquisition_channel),
          created_at = least(c.created_at, d.created_at), attributes = d.attributes || c.attributes,
          flags = array(select distinct unnest(c.flags || d.flags) order by 1), updated_at = now(),
          consent = coalesce((select jsonb_object_agg(list, granted) from (
            select distinct on (list) list, granted from consent_ledger where customer_id = ${into} order by list, at desc, id desc) l), '{}'::jsonb)
        from customers d where c.id = ${into} and d.id = ${from}`);
      await tx.execute(sql`delete from customers where id = ${from}`);
      await refreshLifecycle(tx, [into], { timeZone: deps.config.timeZone });
      await audit(tx, { ...by, action: 'customer.merged', target: `customer #${into}`, detail: { from, moved } });
      return { into, from, moved };
    });
  } catch (error) {
    if (sqlStateOf(error) !== sqlState.uniqueViolation) throw error;
    const { table, constraint, detail } = clash(error);
    throw new AppError('conflict', `Both customers hold the same record in ${table ?? 'a table'} (${constraint ?? 'a unique key'}${detail ? `: ${detail}` : ''}); `
      + 'resolve it (e.g. remove the duplicate order) and merge again. Nothing was changed.', { table, constraint });
  }
}
