// The statements of a merge (merge.ts): two customers locked, the duplicate's rows moved table by
// table, the profiles joined, the duplicate deleted; all in the caller's transaction.
import { eq, inArray } from 'drizzle-orm';
import { affectedRows, array, sql, type Db } from '../db/connection.ts';
import { customers } from './customer.schema.ts';

/** Locks these customers until the transaction ends, in id order; the ids that exist. */
export async function lockCustomers(db: Db, ids: number[]): Promise<number[]> {
  const rows = await db
    .select({ id: customers.id })
    .from(customers)
    .where(inArray(customers.id, ids))
    .orderBy(customers.id)
    .for('update');
  return rows.map((r) => r.id);
}

/** The customer's scores (and subscription churn scores) go: the next analysis scores the merged customer. */
export async function deleteScoresOf(db: Db, customerId: number): Promise<void> {
  await db.execute(sql`delete from scores where customer_id = ${customerId}`);
  await db.execute(sql`delete from churn_scores where customer_id = ${customerId}`);
}

/**
 * The experiences catalogue and the outcome cases drawn from it are derived per customer: both
 * customers' rows go (a repeat may now be a first, or the other way round), and the next analysis
 * rebuilds them for the merged customer.
 */
export async function deleteDerivedOf(db: Db, customerIds: number[]): Promise<void> {
  await db.execute(sql`delete from experiences where customer_id = any(${array(customerIds)}::bigint[])`);
  await db.execute(sql`delete from outcome_cases where customer_id = any(${array(customerIds)}::bigint[])`);
}

/** Gives the rows of one table (one with a customer_id) of customer `from` to `into`; how many moved. */
export const moveCustomerRows = (db: Db, table: string, from: number, into: number) =>
  affectedRows(db, sql`update ${sql.identifier(table)} set customer_id = ${into} where customer_id = ${from}`);

/** The profile of `into` keeps what it had and takes what only `from` had; its consent is read again from its ledger. */
export async function mergeProfile(db: Db, into: number, from: number): Promise<void> {
  await db.execute(sql`
    update customers c set email = coalesce(c.email, d.email), phone = coalesce(c.phone, d.phone), external_id = coalesce(c.external_id, d.external_id),
      name = coalesce(c.name, d.name), acquisition_channel = coalesce(c.acquisition_channel, d.acquisition_channel),
      created_at = least(c.created_at, d.created_at), attributes = d.attributes || c.attributes,
      flags = array(select distinct unnest(c.flags || d.flags) order by 1), updated_at = now(),
      consent = coalesce((select jsonb_object_agg(list, granted) from (
        select distinct on (list) list, granted from consent_ledger where customer_id = ${into} order by list, at desc, id desc) l), '{}'::jsonb)
    from customers d where c.id = ${into} and d.id = ${from}`);
}

export async function deleteCustomer(db: Db, id: number): Promise<void> {
  await db.delete(customers).where(eq(customers.id, id));
}
