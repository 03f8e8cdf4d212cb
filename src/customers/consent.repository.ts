import { array, sql, type Db } from '../db/connection.ts';

/** The list a marketing campaign needs consent for, unless it names another. */
export const marketingList = 'marketing';

export interface ConsentInput { customerId: number; list: string; granted: boolean; at: Date; source: string; wording: string | null }

/** Appends to the consent ledger: nothing is ever updated or deleted; the latest entry per list counts. */
export async function recordConsent(db: Db, rows: ConsentInput[]): Promise<void> {
  if (rows.length === 0) return;
  await db.execute(sql`
    insert into consent_ledger (customer_id, list, granted, at, source, wording)
    select * from unnest(${array(rows.map((r) => r.customerId))}::bigint[], ${array(rows.map((r) => r.list))}::text[], ${array(rows.map((r) => r.granted))}::boolean[],
      ${array(rows.map((r) => r.at.toISOString()))}::timestamptz[], ${array(rows.map((r) => r.source))}::text[], ${array(rows.map((r) => r.wording))}::text[])`);
}
