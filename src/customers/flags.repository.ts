// The status flags in SQL: the same table as flags.ts, for queries that filter or explain.
import type { SQL } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { addressFlags, flagsStopping, type FlagUse, type StatusFlag } from './flags.ts';
import { refreshLifecycle } from './lifecycle.repository.ts';
import { setStatusFlags } from './profile.repository.ts';

const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((v) => sql.raw(`'${v}'`)),
    sql`, `,
  )}]::text[]`;

/** SQL: true when a customer's flags (a text[] column, e.g. sql`c.flags`) stop `use`. */
export function flagStopsSql(flags: SQL, use: FlagUse): SQL {
  return sql`(${flags} && ${textArray(flagsStopping(use))})`;
}

/** SQL: the reason text ('flag deceased') when the flags stop `use`, else null; the same words as flagReason. */
export function flagReasonSql(flags: SQL, use: FlagUse): SQL {
  const cases = flagsStopping(use).map(
    (f) => sql`when ${flags} @> ${textArray([f])} then ${sql.raw(`'flag ${f.replace(/_/g, ' ')}'`)}`,
  );
  return sql`(case ${sql.join(cases, sql` `)} end)`;
}

/**
 * A new current address arrived for these customers (any door: event, file, the record). Those
 * flagged moved or undeliverable since before that address either get the flags cleared (`clear`:
 * a status change whose note says "cleared by a new address (source)", and the lifecycle refreshed
 * as the status writer does) or keep them with a warning on the record to check it (`ask`). A flag
 * set after the address's time stays: the address is older news. Returns the customers cleared.
 */
export async function newAddressArrived(
  db: Db,
  arrivals: { customerId: number; at: Date }[],
  options: { source: string; mode: 'clear' | 'ask'; timeZone: string },
): Promise<number[]> {
  if (arrivals.length === 0) return [];
  const latest = new Map<number, Date>();
  for (const a of arrivals)
    if (!latest.has(a.customerId) || latest.get(a.customerId)! < a.at) latest.set(a.customerId, a.at);
  const flagged = await queryRows<{ customer_id: number; flag: StatusFlag; set_at: string | null }>(
    db,
    sql`
    select c.id as customer_id, f.flag,
      (select max(s.at)::text from status_changes s where s.customer_id = c.id and s.flag = f.flag and s.active) as set_at
    from customers c cross join lateral unnest(c.flags) as f(flag)
    where c.id = any(${array([...latest.keys()])}::bigint[]) and f.flag = any(${array(addressFlags)}::text[])`,
  );
  const stale = flagged.filter((r) => r.set_at === null || new Date(r.set_at) < latest.get(Number(r.customer_id))!);
  if (stale.length === 0) return [];
  if (options.mode === 'ask') {
    const byCustomer = new Map<number, string[]>();
    for (const r of stale)
      byCustomer.set(Number(r.customer_id), [...(byCustomer.get(Number(r.customer_id)) ?? []), r.flag]);
    const ids = [...byCustomer.keys()];
    await db.execute(sql`
      insert into record_warnings (customer_id, field, code, message, suggestion)
      select u.id, 'address', 'address_review', u.message, null
      from unnest(${array(ids)}::bigint[], ${array(ids.map((id) => addressReviewMessage(byCustomer.get(id)!)))}::text[]) as u(id, message)
      on conflict (customer_id, field, code) do update set message = excluded.message, found_at = now()`);
    return [];
  }
  const note = `cleared by a new address (${options.source})`;
  const { changed } = await setStatusFlags(
    db,
    stale.map((r) => ({
      customerId: Number(r.customer_id),
      flag: r.flag,
      active: false,
      at: latest.get(Number(r.customer_id))!,
      source: options.source,
      note,
    })),
  );
  for (const customerId of changed)
    await refreshLifecycle(db, [customerId], {
      timeZone: options.timeZone,
      flagChange: {
        at: latest.get(customerId)!,
        cause: `status ${stale
          .filter((r) => Number(r.customer_id) === customerId)
          .map((r) => r.flag)
          .join(', ')} ${note}`,
      },
    });
  return changed;
}

/** The warning `ask` leaves on the record. */
export function addressReviewMessage(flags: readonly string[]): string {
  const marked = flags.map((f) => f.replace(/_/g, ' ')).join(' and ');
  return `A new address arrived while the customer is marked ${marked}: check it and clear the flag`;
}

/** A customer's current flags, or undefined when there is no such customer. */
export async function currentFlags(db: Db, customerId: number): Promise<string[] | undefined> {
  const [row] = await queryRows<{ flags: string[] }>(db, sql`select flags from customers where id = ${customerId}`);
  return row?.flags;
}

/** A warning to check a new address goes once neither moved nor undeliverable is set any more. */
export async function settleAddressReview(db: Db, customerIds: number[]): Promise<void> {
  if (customerIds.length === 0) return;
  await db.execute(sql`
    delete from record_warnings w using customers c
    where w.customer_id = any(${array(customerIds)}::bigint[]) and w.code = 'address_review'
      and c.id = w.customer_id and not c.flags && ${array(addressFlags)}::text[]`);
}

/** Of these customers, those whose flags stop `use`, with the reason ('flag deceased'). */
export async function flaggedAgainst(db: Db, customerIds: number[], use: FlagUse): Promise<Map<number, string>> {
  if (customerIds.length === 0) return new Map();
  const rows = await queryRows<{ id: number; reason: string }>(
    db,
    sql`
    select c.id, ${flagReasonSql(sql`c.flags`, use)} as reason from customers c
    where c.id = any(${array(customerIds)}::bigint[]) and ${flagStopsSql(sql`c.flags`, use)}`,
  );
  return new Map(rows.map((r) => [Number(r.id), r.reason]));
}
