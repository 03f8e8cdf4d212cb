// The SQL of the programme's lift (lift.service.ts): per calendar month in the business time zone
// and over the whole span, the customers of each group (universal control or marketed to) with what
// they bought; who of the control group any programme reached; how many marketing messages went out.
// Everything is aggregated here: per period and group, never a row per customer.
import { queryRows, sql, type Db } from '../db/connection.ts';
import type { GroupTally, PeriodBounds, VolumeSource } from './lift.ts';
import { inUniversalControlSql } from './programme.repository.ts';

type Fragment = ReturnType<typeof sql>;
interface Window {
  now: Date;
  timeZone: string;
  months: number;
}

/** The wall-clock start of the span's first month. */
const firstMonth = (w: Window): Fragment =>
  sql`(date_trunc('month', ${w.now.toISOString()}::timestamptz at time zone ${w.timeZone}) - make_interval(months => ${w.months - 1}))`;

/** For the rest of the transaction: compiling these statements (PostgreSQL's JIT) costs more than it wins. */
export async function settingsForReport(db: Db): Promise<void> {
  await db.execute(sql`set local jit = off`);
}

/** The last `months` calendar months (the current one up to now) and the whole span ('span'), as instants. */
export async function periodBounds(db: Db, w: Window): Promise<PeriodBounds[]> {
  const now = sql`${w.now.toISOString()}::timestamptz`;
  const rows = await queryRows<{ period: string; starts: Date | string; ends: Date | string }>(
    db,
    sql`
    select * from (
      select to_char(m, 'YYYY-MM') as period, m at time zone ${w.timeZone} as starts,
        least((m + interval '1 month') at time zone ${w.timeZone}, ${now}) as ends
      from generate_series(${firstMonth(w)}, date_trunc('month', ${now} at time zone ${w.timeZone}), interval '1 month') m
      union all
      select 'span', ${firstMonth(w)} at time zone ${w.timeZone}, ${now}
    ) b order by period = 'span', period`,
  );
  return rows.map((r) => ({ period: r.period, from: new Date(r.starts), to: new Date(r.ends) }));
}

/**
 * Per period and group: the customers who existed at its start (created, or first ordered, before
 * it; erased people are gone), who of them ordered in it and for how much (with the sum of squares
 * per customer, for the interval), who had ordered before it and who of those ordered again.
 */
export async function groupTallies(db: Db, w: Window & { share: number }): Promise<GroupTally[]> {
  const now = sql`${w.now.toISOString()}::timestamptz`;
  const rows = await queryRows<{
    period: string;
    control: boolean;
    customers: number;
    buyers: number | null;
    revenue_text: string | null;
    revenue: number | null;
    squares: number | null;
    repeat_customers: number;
    retained: number | null;
  }>(
    db,
    sql`
    -- Month k (1 = the first) starts at starts[k]; width_bucket places any instant among them
    -- (0: before the span), so "before month k" is "bucket < k" and the span is month 1's start.
    with months as materialized (
      select row_number() over (order by m)::int as k, m as local_start, m at time zone ${w.timeZone} as starts
      from generate_series(${firstMonth(w)}, date_trunc('month', ${now} at time zone ${w.timeZone}), interval '1 month') m
    ),
    edges as materialized (select array_agg(starts order by k) as starts from months),
    periods as (
      select k, k as month, to_char(local_start, 'YYYY-MM') as period from months
      union all
      select 0, 1, 'span'
    ),
    population as materialized (
      select c.id, ${inUniversalControlSql(sql`c.id`, w.share)} as control,
        width_bucket(least(c.created_at, coalesce(c.first_order_at, c.created_at)), e.starts) as since,
        width_bucket(c.first_order_at, e.starts) as first
      from customers c cross join edges e where not c.flags && array['erased']::text[]
    ),
    -- Customers by when they arrived and first ordered: few rows, so counting each period's
    -- population is a join of small tables.
    arrivals as (
      select control, since, first, count(*)::int as n from population group by 1, 2, 3
    ),
    counted as (
      select p.k, a.control, sum(a.n)::int as customers,
        coalesce(sum(a.n) filter (where a.first < p.month), 0)::int as repeat_customers
      from periods p join arrivals a on a.since < p.month group by 1, 2
    ),
    -- One pass over the span's orders, by customer and month, then by customer over the span.
    by_month as (
      select o.customer_id, width_bucket(o.ordered_at, e.starts) as k, sum(o.total) as revenue
      from orders o cross join edges e
      where o.ordered_at >= e.starts[1] and o.ordered_at < ${now}
      group by 1, 2
    ),
    spent as (
      select customer_id, k, revenue from by_month
      union all
      select customer_id, 0, sum(revenue) from by_month group by 1
    ),
    bought as (
      select s.k, p.control, count(*)::int as buyers, sum(s.revenue)::text as revenue_text,
        sum(s.revenue)::float8 as revenue, sum(s.revenue::float8 * s.revenue::float8)::float8 as squares,
        count(*) filter (where p.first < greatest(s.k, 1))::int as retained
      from spent s join population p on p.id = s.customer_id and p.since < greatest(s.k, 1)
      group by 1, 2
    )
    select p.period, c.control, c.customers, b.buyers, b.revenue_text, b.revenue, b.squares, c.repeat_customers, b.retained
    from counted c join periods p on p.k = c.k left join bought b on b.k = c.k and b.control = c.control
    order by 1, 2`,
  );
  return rows.map((r) => ({
    period: r.period,
    control: r.control,
    customers: r.customers,
    buyers: r.buyers ?? 0,
    revenueText: r.revenue_text ?? '0',
    revenue: r.revenue ?? 0,
    squares: r.squares ?? 0,
    repeatCustomers: r.repeat_customers,
    retained: r.retained ?? 0,
  }));
}

/**
 * Marketing that went out between `from` and `now`, one row per message: campaign mail and lists
 * (not a journey's campaign row: journeys count from their steps), journey marketing mail (never
 * transactional mail), and outbound touchpoints of a campaign run elsewhere (never transactional
 * ones; not Kept's own campaign and journey touchpoints, nor those of a campaign recorded in Kept
 * with its members: those are the rows above, counted once).
 */
const marketingSql = (from: Fragment, now: Fragment): Fragment => sql`(
  select m.customer_id, m.sent_at as at, 'campaigns' as source, 'campaign "' || k.name || '"' as programme
  from campaign_members m join campaigns k on k.id = m.campaign_id
  where m.status in ('sent', 'listed', 'external') and m.sent_at >= ${from} and m.sent_at < ${now}
    and not exists (select 1 from journeys j where j.campaign_id = m.campaign_id)
  union all
  select s.customer_id, s.at, 'journeys', 'journey "' || j.name || '"'
  from journey_steps s join journeys j on j.id = s.journey_id
  where s.outcome = 'sent' and s.marketing and s.at >= ${from} and s.at < ${now}
  union all
  select t.customer_id, t.at, 'elsewhere', 'campaign "' || t.campaign || '"'
  from touchpoints t
  where t.direction = 'out' and t.campaign is not null and t.external_id not like 'campaign:%' and t.external_id not like 'journey:%'
    and coalesce(t.detail ->> 'transactional', '') <> 'true'
    and not exists (select 1 from campaigns k where k.status = 'external' and k.name = t.campaign)
    and t.at >= ${from} and t.at < ${now})`;

/** Marketing messages by month (in the business time zone) and source, from `from` to now. */
export async function marketingVolume(
  db: Db,
  w: { from: Date; now: Date; timeZone: string },
): Promise<{ month: string; source: VolumeSource; messages: number }[]> {
  return queryRows(
    db,
    sql`
    select to_char(x.at at time zone ${w.timeZone}, 'YYYY-MM') as month, x.source, count(*)::int as messages
    from ${marketingSql(sql`${w.from.toISOString()}::timestamptz`, sql`${w.now.toISOString()}::timestamptz`)} x
    group by 1, 2 order by 1, 2`,
  );
}

/** The programmes named in the control group's health, most members reached first; `touched` counts them all. */
export const programmesShown = 50;

/**
 * The universal control group now (its size, of all customers) and its members whom a marketing
 * programme reached between `from` and now, by programme: 0 unless the group was contaminated.
 */
export async function controlHealth(
  db: Db,
  w: { from: Date; now: Date; share: number },
): Promise<{ size: number; customers: number; touched: number; byProgramme: { programme: string; n: number }[] }> {
  const from = sql`${w.from.toISOString()}::timestamptz`;
  const now = sql`${w.now.toISOString()}::timestamptz`;
  const [row] = await queryRows<{
    size: number;
    customers: number;
    touched: number;
    by_programme: { programme: string; n: number }[];
  }>(
    db,
    sql`
    with members as materialized (
      select c.id from customers c where not c.flags && array['erased']::text[] and ${inUniversalControlSql(sql`c.id`, w.share)}
    ),
    touched as (
      select distinct x.customer_id, x.programme from ${marketingSql(from, now)} x
      where x.customer_id in (select id from members)
    )
    select (select count(*)::int from members) as size,
      (select count(*)::int from customers c where not c.flags && array['erased']::text[]) as customers,
      (select count(distinct customer_id)::int from touched) as touched,
      (select coalesce(jsonb_agg(jsonb_build_object('programme', programme, 'n', n) order by n desc, programme), '[]'::jsonb)
        from (select programme, count(*)::int as n from touched group by 1 order by 2 desc, 1 limit ${programmesShown}) p) as by_programme`,
  );
  return { size: row.size, customers: row.customers, touched: row.touched, byProgramme: row.by_programme };
}
