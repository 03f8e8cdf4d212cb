// The demo's reads and writes: whether the store is empty, and fresh planner statistics after a load.
import { queryRows, sql, type Db } from '../db/connection.ts';

export { refreshStatistics } from '../db/connection.ts';

export async function hasCustomers(db: Db): Promise<boolean> {
  const [{ n }] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from (select 1 from customers limit 1) c`,
  );
  return n > 0;
}
