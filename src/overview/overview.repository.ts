import { queryRows, sql, type Db } from '../db/connection.ts';

/** This month's moves between stages (the lifecycle history since `since`), largest first. */
export async function stageMovesSince(
  db: Db,
  since: Date,
): Promise<{ from: string | null; to: string; customers: number }[]> {
  return queryRows(
    db,
    sql`select from_stage as "from", to_stage as "to", count(*)::int as customers
    from lifecycle_changes where at >= ${since.toISOString()}
    group by 1, 2 order by 3 desc, 1, 2`,
  );
}

/** Customers created since `since` (they arrived as prospects). */
export async function customersCreatedSince(db: Db, since: Date): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from customers where created_at >= ${since.toISOString()}`,
  );
  return row.n;
}

/** Customers at risk by the latest current analysis, and their value at stake. */
export async function atRiskTotals(db: Db): Promise<{ customers: number; valueAtStake: string }> {
  const [row] = await queryRows<{ customers: number; valueAtStake: string }>(
    db,
    sql`
    select count(*)::int as customers, coalesce(sum(s.value_at_stake), 0)::numeric(14, 2)::text as "valueAtStake"
    from scores s join customers c on c.id = s.customer_id and c.stage = 'at_risk'
    where s.run_id = (select id from analysis_runs where status = 'done' and current order by id desc limit 1) and s.stage = 'at_risk'`,
  );
  return row;
}

/** The campaigns started most recently. */
export async function latestStartedCampaigns(db: Db, limit: number): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`select id::int as id from campaigns where started_at is not null order by started_at desc, id desc limit ${limit}`,
  );
  return rows.map((r) => r.id);
}

/** The first instant of the month under way in the business time zone, and its date. */
export async function monthStartOf(db: Db, now: Date, timeZone: string): Promise<{ at: Date; day: string }> {
  const [row] = await queryRows<{ at: Date | string; day: string }>(
    db,
    sql`select date_trunc('month', ${now.toISOString()}::timestamptz at time zone ${timeZone}) at time zone ${timeZone} as at,
      to_char(date_trunc('month', ${now.toISOString()}::timestamptz at time zone ${timeZone}), 'YYYY-MM-DD') as day`,
  );
  return { at: new Date(row.at), day: row.day };
}
