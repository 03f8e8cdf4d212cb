import { queryRows, sql, type Db } from '../db/connection.ts';

/** The store currency: the currency most orders are in; null before any order names one. */
export async function storeCurrency(db: Db): Promise<string | null> {
  const [row] = await queryRows<{ currency: string }>(
    db,
    sql`select upper(currency) as currency from orders where currency ~* '^[a-z]{3}$'
      group by 1 order by count(*) desc, 1 limit 1`,
  );
  return row?.currency ?? null;
}
