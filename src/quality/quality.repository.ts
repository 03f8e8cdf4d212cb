// Data quality in tables: the entry checks' warnings stored with each record (record_warnings), the
// problems counted over the whole base, the customers behind a count, and the daily score
// (quality_snapshots). Also reads customers, addresses, duplicate_pairs, email_suppressions and
// the consent copy on the customer row.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { checkRecord } from './checks.ts';
import { problemCodes, warningCodes, type ProblemCode, type RecordWarning } from './quality.ts';

/** Written by the address review (another check), kept when the entry checks rewrite a record's warnings. */
const keptCodes = ['address_review'];

/**
 * Runs the entry checks on these customers and rewrites their stored warnings: one query reads the
 * profiles (name, email, phone, dates, attributes, current address), one deletes and one inserts.
 * Customers that no longer exist are skipped. Call it after a record's profile, contact or address changed.
 */
export async function checkRecords(
  db: Db,
  customerIds: readonly number[],
  options: { now: Date; defaultCountry: string },
): Promise<{ checked: number; warnings: number }> {
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return { checked: 0, warnings: 0 };
  const rows = await queryRows<{
    id: number;
    name: string | null;
    email: string | null;
    phone: string | null;
    created_at: string | Date | null;
    first_order_at: string | Date | null;
    attributes: Record<string, unknown>;
    postal_code: string | null;
    country: string | null;
  }>(
    db,
    sql`
    select c.id, c.name, c.email, c.phone, c.created_at, c.first_order_at, c.attributes, a.postal_code, a.country
    from customers c
    left join lateral (
      select postal_code, country from addresses a where a.customer_id = c.id and a.valid_to is null
      order by (a.kind = 'postal') desc, a.valid_from desc, a.id desc limit 1
    ) a on true
    where c.id = any(${array(ids)}::bigint[])`,
  );
  const found: (RecordWarning & { customerId: number })[] = [];
  for (const row of rows) {
    const warnings = checkRecord(
      {
        name: row.name,
        email: row.email,
        phone: row.phone,
        createdAt: row.created_at === null ? null : new Date(row.created_at),
        firstOrderAt: row.first_order_at === null ? null : new Date(row.first_order_at),
        attributes: row.attributes ?? {},
        postalCode: row.postal_code,
        country: row.country,
      },
      options,
    );
    for (const warning of warnings) found.push({ ...warning, customerId: Number(row.id) });
  }
  const customerColumn = array(found.map((w) => w.customerId));
  const fieldColumn = array(found.map((w) => w.field));
  const codeColumn = array(found.map((w) => w.code));
  // What is no longer found goes; what is found again keeps when it was first found.
  await db.execute(sql`
    delete from record_warnings w
    where w.customer_id = any(${array(ids)}::bigint[]) and not (w.code = any(${array(keptCodes)}::text[]))
      and (w.customer_id, w.field, w.code) not in (
        select * from unnest(${customerColumn}::bigint[], ${fieldColumn}::text[], ${codeColumn}::text[]))`);
  if (found.length > 0) {
    await db.execute(sql`
      insert into record_warnings (customer_id, field, code, message, suggestion, found_at)
      select u.*, ${options.now.toISOString()}::timestamptz
      from unnest(${customerColumn}::bigint[], ${fieldColumn}::text[], ${codeColumn}::text[],
        ${array(found.map((w) => w.message))}::text[], ${array(found.map((w) => w.suggestion))}::text[]) as u
      on conflict (customer_id, field, code) do update set message = excluded.message, suggestion = excluded.suggestion`);
  }
  return { checked: rows.length, warnings: found.length };
}

/** The customers with each problem, with the problem in words: (customer_id, message, suggestion) per row. */
const problemRows: Record<ProblemCode, ReturnType<typeof sql>> = {
  duplicate: sql`
    select p.customer_id, 'May be the same person as customer #' || p.other || ' (score ' || p.score::text || ')'
      || coalesce(': ' || (select string_agg(e, '; ') from jsonb_array_elements_text(p.evidence) e), '') as message,
      null::text as suggestion, p.score as rank
    from (select first_id as customer_id, second_id as other, score, evidence from duplicate_pairs where status = 'open'
      union all select second_id, first_id, score, evidence from duplicate_pairs where status = 'open') p`,
  stale_address: sql`
    select id as customer_id, case when 'moved' = any(flags) then 'Marked moved: the current address is no longer theirs'
      else 'Marked undeliverable: post to the current address comes back' end as message, null::text as suggestion, 1 as rank
    from customers where flags && array['moved', 'undeliverable']::text[]
    union all select customer_id, message, suggestion, 0 from record_warnings where code = 'address_review'`,
  bounced: sql`
    select c.id as customer_id, 'Mail to ' || c.email || case when s.reason = 'complaint' then ' was reported as spam' else ' bounced' end
      || ' on ' || to_char(s.at, 'YYYY-MM-DD') || ': no mail goes to it' as message, null::text as suggestion, 0 as rank
    from customers c join email_suppressions s on s.email = lower(c.email)`,
  missing_consent: sql`
    select id as customer_id, 'No marketing consent on record, neither given nor withdrawn' as message, null::text as suggestion, 0 as rank
    from customers where consent -> 'marketing' is null`,
  ...(Object.fromEntries(
    warningCodes.map((code) => [
      code,
      sql`select customer_id, message, suggestion, 0 as rank from record_warnings where code = ${code}`,
    ]),
  ) as Record<(typeof warningCodes)[number], ReturnType<typeof sql>>),
};

/** How many customers have each problem, how many have any, and how many there are. */
export async function problemCounts(
  db: Db,
): Promise<{ customers: number; withProblems: number; counts: Record<ProblemCode, number> }> {
  const union = sql.join(
    problemCodes.map((code) => sql`select customer_id, ${code}::text as code from (${problemRows[code]}) p`),
    sql` union all `,
  );
  const [rows, [total]] = await Promise.all([
    queryRows<{ code: string | null; customers: number }>(
      db,
      sql`
      select p.code, count(distinct p.customer_id)::int as customers
      from (${union}) p join customers c on c.id = p.customer_id
      group by grouping sets ((p.code), ())`,
    ),
    queryRows<{ customers: number }>(db, sql`select count(*)::int as customers from customers`),
  ]);
  const counts = Object.fromEntries(problemCodes.map((code) => [code, 0])) as Record<ProblemCode, number>;
  let withProblems = 0;
  for (const row of rows) {
    if (row.code === null) withProblems = Number(row.customers);
    else counts[row.code as ProblemCode] = Number(row.customers);
  }
  return { customers: Number(total.customers), withProblems, counts };
}

/** One page of the customers with a problem, by customer number, each with the problem in words. */
export async function problemCustomers(
  db: Db,
  problem: ProblemCode,
  options: { page: number; pageSize: number },
): Promise<{
  customers: {
    id: number;
    externalId: string | null;
    name: string | null;
    email: string | null;
    message: string;
    suggestion: string | null;
  }[];
  total: number;
}> {
  const [rows, [total]] = await Promise.all([
    queryRows<{
      id: number;
      external_id: string | null;
      name: string | null;
      email: string | null;
      message: string;
      suggestion: string | null;
    }>(
      db,
      sql`
      select c.id, c.external_id, c.name, c.email, p.message, p.suggestion
      from (select distinct on (customer_id) customer_id, message, suggestion from (${problemRows[problem]}) p
        order by customer_id, rank desc, message) p
      join customers c on c.id = p.customer_id
      order by c.id limit ${options.pageSize} offset ${(options.page - 1) * options.pageSize}`,
    ),
    queryRows<{ total: number }>(
      db,
      sql`select count(distinct p.customer_id)::int as total from (${problemRows[problem]}) p join customers c on c.id = p.customer_id`,
    ),
  ]);
  return {
    customers: rows.map((r) => ({
      id: Number(r.id),
      externalId: r.external_id,
      name: r.name,
      email: r.email,
      message: r.message,
      suggestion: r.suggestion,
    })),
    total: Number(total.total),
  };
}

export interface SnapshotRow {
  day: string;
  customers: number;
  score: number;
  counts: Record<string, number>;
}

/** Stores the day's score; `replace` overwrites a row the day already has, else it is kept. */
export async function saveSnapshot(db: Db, row: SnapshotRow, options: { replace: boolean }): Promise<void> {
  const values = sql`(${row.day}, ${row.customers}, ${row.score}, ${JSON.stringify(row.counts)}::jsonb, now())`;
  await db.execute(
    options.replace
      ? sql`insert into quality_snapshots (day, customers, score, counts, at) values ${values}
          on conflict (day) do update set customers = excluded.customers, score = excluded.score, counts = excluded.counts, at = excluded.at`
      : sql`insert into quality_snapshots (day, customers, score, counts, at) values ${values} on conflict (day) do nothing`,
  );
}

/** Whether the day has its snapshot. */
export async function hasSnapshot(db: Db, day: string): Promise<boolean> {
  const rows = await queryRows<{ day: string }>(db, sql`select day from quality_snapshots where day = ${day}`);
  return rows.length > 0;
}

/** The score per day, oldest first, over at most the latest `days` snapshots. */
export async function snapshotHistory(
  db: Db,
  days: number,
): Promise<{ day: string; score: number; customers: number }[]> {
  const rows = await queryRows<{ day: string; score: string; customers: number }>(
    db,
    sql`select day, score::text as score, customers from quality_snapshots order by day desc limit ${days}`,
  );
  return rows.reverse().map((r) => ({ day: r.day, score: Number(r.score), customers: Number(r.customers) }));
}
