// The demo's reads and writes: whether the store is empty, the ids Kept gave the demo's customers,
// which past campaigns are recorded already, and fresh planner statistics after a load.
import { array, queryRows, sql, type Db } from '../db/connection.ts';

export { refreshStatistics } from '../db/connection.ts';

export async function hasCustomers(db: Db): Promise<boolean> {
  const [{ n }] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from (select 1 from customers limit 1) c`,
  );
  return n > 0;
}

/** Kept's id of each customer whose external id starts with `prefix` (one seed's customers: `D<seed>-`). */
export async function customerIdsByExternalId(db: Db, prefix: string): Promise<Map<string, number>> {
  const rows = await queryRows<{ external_id: string; id: string }>(
    db,
    sql`select external_id, id::text as id from customers where starts_with(external_id, ${prefix})`,
  );
  return new Map(rows.map((r) => [r.external_id, Number(r.id)]));
}

/** Which of these campaign names a campaign already has: loading the demo again records none twice. */
export async function campaignNamesTaken(db: Db, names: string[]): Promise<Set<string>> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select distinct name from campaigns where name = any(${array(names)}::text[])`,
  );
  return new Set(rows.map((r) => r.name));
}
