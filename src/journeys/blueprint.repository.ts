// The blueprint's SQL: each stage's entries in the window with where they went next, the first time
// each designed step happened while they were in it, and the gaps between the designed and the
// actual path. Set-based: one pass over each history table, joined on customer_id.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import {
  activeStages,
  confirmationHours,
  gapSampleSize,
  likePattern,
  seconds,
  timingEdges,
  type Design,
  type GapCustomer,
  type Outcome,
  type StageCount,
  type StepCustomer,
} from './blueprint.ts';
import type { Trigger } from './journey.ts';

type Fragment = ReturnType<typeof sql>;
const at = (d: Date) => sql`${d.toISOString()}::timestamptz`;
const raw = (column: string) => sql.raw(column);

/**
 * In a transaction of its own: compiling these statements (PostgreSQL's JIT) costs more than it
 * wins, and the join of the stage entries with their history sorts and hashes in memory with a
 * little more than the default work_mem.
 */
function inMemory<T>(db: Db, run: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    await tx.execute(sql`set local work_mem = '64MB'`);
    return run(tx);
  });
}

/** Each designed step of these stages as one row for SQL. */
const specOf = (designs: Design[]) =>
  designs.flatMap((d) =>
    d.steps.map((s) => ({
      stage: d.stage,
      key: s.key,
      kinds: s.kinds,
      matching: s.matching === undefined ? null : likePattern(s.matching),
      transactional: s.transactional ?? null,
      seconds: seconds(s),
    })),
  );

/**
 * Every customer's latest entry into each of these stages in [since, now], each designed step with
 * when it first happened while they were in the stage, and its outcome. CTE `classified`.
 */
function classified(designs: Design[], since: Date, now: Date): Fragment {
  const spec = specOf(designs);
  const stages = designs.map((d) => d.stage);
  const kinds = [...new Set(spec.flatMap((s) => s.kinds))];
  const within = (column: string) => sql`${raw(column)} >= ${at(since)} and ${raw(column)} <= ${at(now)}`;
  // Only the history a step can match is read; each table once.
  const sources: Fragment[] = [
    sql`select t.customer_id, t.at, t.kind, t.direction = 'out' as outbound, t.campaign as name,
        coalesce(t.detail->>'transactional', 'false') = 'true' as transactional, false as strictly_after
      from touchpoints t
      where ${within('t.at')} and (t.kind = any(${array(kinds)}::text[])${kinds.includes('contact') ? sql` or t.direction = 'out'` : sql``})`,
    ...(kinds.includes('order')
      ? [
          sql`select o.customer_id, o.ordered_at, 'order', false, o.channel, null, true from orders o where ${within('o.ordered_at')}`,
        ]
      : []),
    ...(kinds.includes('survey_response')
      ? [
          sql`select r.customer_id, r.at, 'survey_response', false, r.survey, null, false from survey_responses r where ${within('r.at')}`,
        ]
      : []),
    ...(kinds.includes('survey_invitation')
      ? [
          sql`select i.customer_id, i.created_at, 'survey_invitation', false, v.key, null, false
            from survey_invitations i join surveys v on v.id = i.survey_id where ${within('i.created_at')}`,
        ]
      : []),
  ];
  return sql`
    spec as (
      select * from jsonb_to_recordset(${JSON.stringify(spec)}::jsonb)
        as s(stage text, key text, kinds jsonb, matching text, transactional boolean, seconds float8)
    ),
    changes as (
      select customer_id, id, to_stage, at, lead(to_stage) over w as next_stage, lead(at) over w as next_at
      from lifecycle_changes where ${within('at')}
      window w as (partition by customer_id order by at, id)
    ),
    entries as (
      select distinct on (customer_id, to_stage) customer_id, to_stage as stage, at as entered_at,
        next_stage as left_to, next_at as left_at
      from changes where to_stage = any(${array(stages)}::text[])
      order by customer_id, to_stage, at desc, id desc
    ),
    pairs as materialized (
      select e.customer_id, e.stage, e.entered_at, e.left_to, e.left_at, s.key, s.kinds, s.matching, s.transactional,
        e.entered_at + make_interval(secs => s.seconds) as due_at
      from entries e join spec s on s.stage = e.stage
    ),
    events as (${sql.join(sources, sql` union all `)}),
    done as (
      select p.customer_id, p.stage, p.key, min(v.at) as done_at
      from pairs p join events v on v.customer_id = p.customer_id
      where (v.at > p.entered_at or (v.at = p.entered_at and not v.strictly_after))
        and v.at <= coalesce(p.left_at, ${at(now)})
        and (p.kinds ? v.kind or (v.outbound and p.kinds ? 'contact'))
        and (p.matching is null or v.name ilike p.matching)
        and (p.transactional is null or v.transactional is null or v.transactional = p.transactional)
      group by 1, 2, 3
    ),
    classified as (
      select p.customer_id, p.stage, p.key, p.entered_at, p.left_to, p.left_at, d.done_at,
        case
          when d.done_at <= p.due_at then 'on_time'
          when d.done_at is not null then 'late'
          when p.left_at < p.due_at then 'left_first'
          when p.due_at > ${at(now)} then 'not_due'
          else 'missed'
        end as outcome
      from pairs p left join done d on d.customer_id = p.customer_id and d.stage = p.stage and d.key = p.key
    )`;
}

/**
 * The counts behind each stage's funnel, in one query: outcomes per step, the timing bins and
 * quantiles (days), where those who left went with and without each step, and where all entrants went.
 */
export async function stageCounts(db: Db, designs: Design[], since: Date, now: Date): Promise<StageCount[]> {
  const days = sql`extract(epoch from done_at - entered_at) / 86400`;
  const rows = await inMemory(db, (tx) =>
    queryRows<StageCount>(
      tx,
      sql`
    with ${classified(designs, since, now)}
    select 'outcome' as part, stage, key, outcome as what, count(*)::int as n, null::float8[] as quantiles
      from classified group by stage, key, outcome
    union all
    select 'bin', stage, key, width_bucket(${days}, ${array(timingEdges)}::float8[])::text, count(*)::int, null
      from classified where done_at is not null group by 2, 3, 4
    union all
    select 'timing', stage, key, null, count(*)::int,
      percentile_cont(array[0.25, 0.5, 0.75, 0.9]) within group (order by ${days})
      from classified where done_at is not null group by 2, 3
    union all
    select case when done_at is null then 'without' else 'after' end, stage, key, left_to, count(*)::int, null
      from classified where left_to is not null group by 1, 2, 3, 4
    union all
    select 'left', stage, null, left_to, count(*)::int, null from entries group by 2, 4`,
    ),
  );
  return rows.map((r) => ({ ...r, quantiles: r.quantiles && r.quantiles.map(Number) }));
}

/** The customers of one step's outcome, by customer number. */
export async function stepCustomers(
  db: Db,
  design: Design,
  step: string,
  outcome: Outcome,
  options: { since: Date; now: Date; limit: number },
): Promise<StepCustomer[]> {
  const one = { ...design, steps: design.steps.filter((s) => s.key === step) };
  return inMemory(db, (tx) =>
    queryRows<StepCustomer>(
      tx,
      sql`
    with ${classified([one], options.since, options.now)}
    select c.id, c.name, p.entered_at::text as "enteredAt", p.done_at::text as "doneAt", p.left_to as "leftTo"
    from classified p join customers c on c.id = p.customer_id
    where p.outcome = ${outcome}
    order by c.id limit ${options.limit}`,
    ),
  );
}

interface GapRows {
  n: number;
  customers: number;
  sample: GapCustomer[] | null;
}
const sampleOf = (rows: Fragment, detail: Fragment) => sql`
  (select jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'detail', ${detail}) order by s.id)
   from (select * from ${rows} order by id limit ${gapSampleSize}) s)`;

/**
 * Customers in an active stage who have been buying for at least `days` and got no outbound
 * contact in the last `days` (the rule last_contact_at not_in_last_days says the same).
 */
export async function silentCustomers(db: Db, days: number, now: Date): Promise<GapRows> {
  const cut = sql`${at(now)} - make_interval(days => ${days}::int)`;
  const [row] = await queryRows<GapRows>(
    db,
    sql`
    with silent as (
      select c.id, c.name from customers c
      where c.stage = any(${array([...activeStages])}::text[]) and c.first_order_at <= ${cut}
        and not exists (select 1 from touchpoints t where t.customer_id = c.id and t.direction = 'out' and t.at > ${cut})
    )
    select count(*)::int as n, count(*)::int as customers,
      ${sampleOf(
        sql`silent`,
        sql`coalesce('last contact ' || (select to_char(max(t.at) at time zone 'UTC', 'YYYY-MM-DD') from touchpoints t
          where t.customer_id = s.id and t.direction = 'out'), 'never contacted')`,
      )} as sample
    from silent`,
  );
  return row;
}

/** Orders in [since, now - 1 hour] with no transactional mail within the hour after them. */
export async function unconfirmedOrders(db: Db, since: Date, now: Date): Promise<GapRows> {
  const hours = sql`make_interval(hours => ${confirmationHours}::int)`;
  const [row] = await queryRows<GapRows>(
    db,
    sql`
    with unconfirmed as (
      select o.customer_id, o.external_id, o.ordered_at from orders o
      where o.ordered_at >= ${at(since)} and o.ordered_at <= ${at(now)} - ${hours}
        and not exists (
          select 1 from touchpoints t
          where t.customer_id = o.customer_id and t.kind = 'email_sent' and t.direction = 'out'
            and t.detail->>'transactional' = 'true' and t.at >= o.ordered_at and t.at <= o.ordered_at + ${hours})
    ),
    people as (
      select u.customer_id as id, c.name, count(*)::int as orders, max(u.ordered_at) as latest,
        (array_agg(u.external_id order by u.ordered_at desc))[1] as latest_order
      from unconfirmed u join customers c on c.id = u.customer_id group by u.customer_id, c.name
    )
    select (select count(*)::int from unconfirmed) as n, count(*)::int as customers,
      ${sampleOf(
        sql`people`,
        sql`case when s.orders = 1 then 'order ' else s.orders || ' orders, the latest ' end || s.latest_order || ' of '
          || to_char(s.latest at time zone 'UTC', 'YYYY-MM-DD')`,
      )} as sample
    from people`,
  );
  return row;
}

/** Per stage, the customers in it now and the first of them by number. */
export async function customersInStages(
  db: Db,
  stages: string[],
): Promise<{ stage: string; n: number; sample: GapCustomer[] }[]> {
  return queryRows(
    db,
    sql`
    with ranked as (
      select c.stage, c.id, c.name, count(*) over (partition by c.stage)::int as n,
        row_number() over (partition by c.stage order by c.id) as k
      from customers c where c.stage = any(${array(stages)}::text[])
    )
    select stage, max(n)::int as n,
      jsonb_agg(jsonb_build_object('id', id, 'name', name, 'detail', null) order by id) as sample
    from ranked where k <= ${gapSampleSize} group by stage`,
  );
}

/** What starts each active journey. */
export async function activeTriggers(db: Db): Promise<Trigger[]> {
  const rows = await queryRows<{ trigger: Trigger }>(db, sql`select trigger from journeys where status = 'active'`);
  return rows.map((r) => r.trigger);
}

export async function savedDesigns(
  db: Db,
): Promise<{ stage: string; steps: unknown; updatedBy: string; updatedAt: string }[]> {
  return queryRows(
    db,
    sql`select stage, steps, updated_by as "updatedBy", updated_at::text as "updatedAt" from blueprints order by stage`,
  );
}

export async function writeDesign(db: Db, stage: string, steps: unknown, by: string, now: Date): Promise<void> {
  await db.execute(sql`
    insert into blueprints (stage, steps, updated_by, updated_at) values (${stage}, ${JSON.stringify(steps)}::jsonb, ${by}, ${at(now)})
    on conflict (stage) do update set steps = excluded.steps, updated_by = excluded.updated_by, updated_at = excluded.updated_at`);
}

/** Removes a stage's saved design; false when it had none. */
export async function deleteDesign(db: Db, stage: string): Promise<boolean> {
  const rows = await queryRows(db, sql`delete from blueprints where stage = ${stage} returning stage`);
  return rows.length > 0;
}
