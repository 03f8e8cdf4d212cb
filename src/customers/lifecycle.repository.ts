import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { lifecycleTransitions, type Stage, type Transition } from './lifecycle.ts';

interface FactsRow {
  id: number;
  stage: Stage;
  flags: string[];
  previous_order_days: number;
  order_days: number;
  first_order_at: string | null;
  first_order_id: string | null;
  second_day_at: string | null;
  second_day_order_id: string | null;
  last_order_at: string | null;
  last_order_id: string | null;
  order_count: number;
  spend: string;
  /** An array literal, passed back as it came. */
  recent_orders: string;
}

/** How many of the latest order times each customer row keeps (segments count recent orders from them). */
export const recentOrdersKept = 10;

const toDate = (value: string | null) => (value === null ? null : new Date(value));

/**
 * Brings purchase facts (order days, first and last order, number of orders, spend, the latest
 * order times) and the lifecycle stage of these customers up to date with their orders and flags,
 * recording each transition with its time and cause. Purchase days are counted in the business time zone. Returns the transitions written.
 */
export async function refreshLifecycle(
  db: Db,
  customerIds: number[],
  options: { timeZone: string; flagChange?: { at: Date; cause: string } },
): Promise<{ customerId: number; transition: Transition }[]> {
  if (customerIds.length === 0) return [];
  // Lock the rows in one order first. A concurrent writer about the same customers then waits here
  // for the other to commit, and the facts below (a new snapshot per statement) include its orders:
  // without it each computed the facts from its own orders alone and the last to write won.
  await db.execute(sql`
    select count(*) from (select id from customers where id = any(${array(customerIds)}::bigint[]) order by id for update) locked`);
  const rows = await queryRows<FactsRow>(
    db,
    sql`
    with target as (
      select distinct unnest(${array(customerIds)}::bigint[]) as id
    ), ranked as (
      select o.customer_id, o.ordered_at, o.external_id, o.total,
        dense_rank() over (partition by o.customer_id order by (o.ordered_at at time zone ${options.timeZone})::date) as day_rank,
        row_number() over (partition by o.customer_id order by o.ordered_at desc, o.id desc) as newest
      from orders o join target t on t.id = o.customer_id
    ), facts as (
      select customer_id,
        max(day_rank) as order_days,
        min(ordered_at) as first_order_at,
        (array_agg(external_id order by ordered_at, external_id))[1] as first_order_id,
        min(ordered_at) filter (where day_rank = 2) as second_day_at,
        (array_agg(external_id order by ordered_at, external_id) filter (where day_rank = 2))[1] as second_day_order_id,
        max(ordered_at) as last_order_at,
        max(external_id) filter (where newest = 1) as last_order_id,
        count(*)::int as order_count,
        sum(total)::text as spend,
        array_agg(ordered_at order by newest) filter (where newest <= ${recentOrdersKept}) as recent_orders
      from ranked group by customer_id
    )
    select c.id, c.stage, c.flags, c.order_days as previous_order_days,
      coalesce(f.order_days, 0)::int as order_days,
      f.first_order_at, f.first_order_id, f.second_day_at, f.second_day_order_id, f.last_order_at, f.last_order_id,
      coalesce(f.order_count, 0) as order_count, coalesce(f.spend, '0') as spend, coalesce(f.recent_orders, '{}')::text as recent_orders
    from customers c join target t on t.id = c.id left join facts f on f.customer_id = c.id
    order by c.id`,
  );

  const written: { customerId: number; transition: Transition }[] = [];
  const updates: { id: number; stage: Stage; stageChangedAt: Date | null; row: FactsRow }[] = [];
  for (const row of rows) {
    const transitions = lifecycleTransitions({
      stage: row.stage,
      flags: row.flags,
      previousOrderDays: row.previous_order_days,
      orderDays: row.order_days,
      firstOrderAt: toDate(row.first_order_at),
      firstOrderId: row.first_order_id,
      secondDayAt: toDate(row.second_day_at),
      secondDayOrderId: row.second_day_order_id,
      lastOrderAt: toDate(row.last_order_at),
      lastOrderId: row.last_order_id,
      flagChange: options.flagChange,
    });
    for (const transition of transitions) written.push({ customerId: row.id, transition });
    const last = transitions.at(-1);
    updates.push({ id: row.id, stage: last?.to ?? row.stage, stageChangedAt: last?.at ?? null, row });
  }
  if (updates.length === 0) return written;
  await db.execute(sql`
    update customers c set
      stage = u.stage,
      stage_changed_at = coalesce(u.stage_changed_at, c.stage_changed_at),
      order_days = u.order_days,
      first_order_at = u.first_order_at,
      last_order_at = u.last_order_at,
      order_count = u.order_count,
      spend = u.spend,
      recent_orders = u.recent_orders::timestamptz[],
      -- A customer is one no later than their first order, whenever we first heard of them.
      created_at = least(c.created_at, u.first_order_at),
      updated_at = now()
    from unnest(
      ${array(updates.map((u) => u.id))}::bigint[], ${array(updates.map((u) => u.stage))}::text[],
      ${array(updates.map((u) => u.stageChangedAt?.toISOString() ?? null))}::timestamptz[],
      ${array(updates.map((u) => u.row.order_days))}::bigint[],
      ${array(updates.map((u) => u.row.first_order_at))}::timestamptz[], ${array(updates.map((u) => u.row.last_order_at))}::timestamptz[],
      ${array(updates.map((u) => u.row.order_count))}::bigint[], ${array(updates.map((u) => u.row.spend))}::numeric[],
      ${array(updates.map((u) => u.row.recent_orders))}::text[]
    ) as u(id, stage, stage_changed_at, order_days, first_order_at, last_order_at, order_count, spend, recent_orders)
    where c.id = u.id
      and (c.stage, c.order_days, c.first_order_at, c.last_order_at, c.order_count, c.spend, c.recent_orders)
        is distinct from (u.stage, u.order_days, u.first_order_at, u.last_order_at, u.order_count, u.spend, u.recent_orders::timestamptz[])`);
  if (written.length > 0) {
    await db.execute(sql`
      insert into lifecycle_changes (customer_id, from_stage, to_stage, at, cause)
      select * from unnest(
        ${array(written.map((w) => w.customerId))}::bigint[], ${array(written.map((w) => w.transition.from))}::text[],
        ${array(written.map((w) => w.transition.to))}::text[], ${array(written.map((w) => w.transition.at.toISOString()))}::timestamptz[],
        ${array(written.map((w) => w.transition.cause))}::text[])`);
  }
  return written;
}
