// The SQL of the retention analysis (retention.service.ts): customers' histories with their
// experiences, the randomised assignments Kept holds, exit answers, and the write-back of the
// outcome tables, the drill-down cases, the drivers and the worklist's uplift onto the scores.
import type { SQL } from 'drizzle-orm';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { CustomerHistory } from './history.ts';

const epochDays = (column: string) => sql.raw(`extract(epoch from ${column}) / 86400`);

/** Customers (with an order up to `asOf`) in id ranges, each with their orders and experiences up to `asOf`. */
export async function readCustomerHistories(
  db: Db,
  o: {
    asOf: Date;
    zeroValueOrders: 'ignore' | 'count';
    sampleEvery: number;
    customerId?: number;
    /** Only these customers: SQL returning them in a column `id` (a saved segment's members). */
    members?: SQL;
    onRange?: (read: number) => void;
  },
): Promise<CustomerHistory[]> {
  const asOf = sql`${o.asOf.toISOString()}::timestamptz`;
  const [{ low, high }] =
    o.customerId !== undefined
      ? [{ low: o.customerId, high: o.customerId }]
      : await queryRows<{ low: number | null; high: number | null }>(
          db,
          sql`select min(id)::float8 as low, max(id)::float8 as high from customers`,
        );
  const out: CustomerHistory[] = [];
  if (low === null || high === null) return out;
  const step = 50_000;
  for (let from = low; from <= high; from += step) {
    const rows = await queryRows<{
      id: number;
      channel: string | null;
      attributes: Record<string, unknown> | null;
      category: string | null;
      order_at: number[] | null;
      order_total: number[] | null;
      exp: [number, string, number, number, string, number | null][] | null;
    }>(
      db,
      sql`
      select c.id::float8 as id, c.acquisition_channel as channel, c.attributes,
        (select coalesce(p.category, l.category) from order_lines l left join products p on p.sku = l.product
          where l.customer_id = c.id and coalesce(p.category, l.category) is not null
          group by 1 order by count(*) desc, 1 limit 1) as category,
        o.ats as order_at, o.totals as order_total,
        (select jsonb_agg(jsonb_build_array(e.id, e.kind, ${epochDays('e.at')}, e.occurrence, e.valence, ${epochDays('e.followed_up_at')}) order by e.at, e.id)
          from experiences e where e.customer_id = c.id and e.at <= ${asOf}) as exp
      from customers c
      join lateral (
        select array_agg(${epochDays('x.ordered_at')}::float8 order by x.ordered_at) as ats, array_agg(x.total::float8 order by x.ordered_at) as totals
        from (select ordered_at, total, row_number() over (order by ordered_at) as k from orders
          where customer_id = c.id and ordered_at <= ${asOf}) x
        where ${o.zeroValueOrders === 'ignore' ? sql`x.total > 0 or x.k = 1` : sql`true`}
      ) o on o.ats is not null
      where c.id >= ${from} and c.id < ${from + step} and c.id % ${o.sampleEvery} = 0 and not c.flags && array['erased']
        and ${o.members === undefined ? sql`true` : sql`c.id in (select m.id from (${o.members}) m)`}
      order by c.id`,
    );
    for (const r of rows)
      out.push({
        customerId: Number(r.id),
        channel: r.channel,
        category: r.category,
        attributes: r.attributes ?? {},
        orders: (r.order_at ?? []).map((at, i) => ({ at: Number(at), total: Number(r.order_total![i]) })),
        experiences: (r.exp ?? []).map(([id, kind, at, occurrence, valence, followed]) => ({
          id: Number(id),
          kind,
          at: Number(at),
          occurrence: Number(occurrence),
          valence: valence === 'gesture' ? 'gesture' : 'problem',
          followedUpAt: followed === null ? null : Number(followed),
        })),
      });
    o.onRange?.(out.length);
  }
  return out;
}

export async function countBuyers(db: Db): Promise<number> {
  const [{ n }] = await queryRows<{ n: number }>(db, sql`select count(distinct customer_id)::int as n from orders`);
  return n;
}

/**
 * The worklist's random holdout, the same draw in SQL everywhere: a customer's place in it is fixed
 * by their id (Knuth's multiplicative hash), so the holdout stays the same people from run to run.
 */
export const inWorklistHoldout = (customerId: ReturnType<typeof sql>, share: number) =>
  sql`((${customerId} * 2654435761) % 1000) < ${Math.round(share * 1000)}`;

export interface TrialRow {
  customer_id: number;
  source: string;
  treated: boolean;
  at: number;
}

/**
 * Every randomised assignment up to `until`: campaign members (the control arm held out), journey
 * passes (control held out; skipped passes never entered) and customers entering at risk or lapsed
 * since the worklist's holdout began (held out by its draw). Intention to treat: an assignment counts
 * whether or not the mail went out or an agent reached the customer.
 */
export async function readTrials(db: Db, o: { until: Date; holdoutShare: number }): Promise<TrialRow[]> {
  const until = sql`${o.until.toISOString()}::timestamptz`;
  return queryRows<TrialRow>(
    db,
    sql`
    select m.customer_id::float8 as customer_id, 'campaign:' || m.campaign_id as source, m.arm <> 'control' as treated, ${epochDays('m.assigned_at')}::float8 as at
    from campaign_members m where m.assigned_at <= ${until}
    union all
    select j.customer_id::float8, 'journey:' || j.journey_id, j.arm <> 'control', ${epochDays('j.entered_at')}::float8
    from journey_enrolments j where j.status <> 'skipped' and j.entered_at <= ${until}
    union all
    select l.customer_id::float8, 'worklist', not ${inWorklistHoldout(sql`l.customer_id`, o.holdoutShare)}, ${epochDays('l.at')}::float8
    from lifecycle_changes l
    where l.to_stage in ('at_risk', 'lapsed') and coalesce(l.from_stage, '') not in ('at_risk', 'lapsed') and l.at <= ${until}
      and l.at >= coalesce((select min(created_at) from retention_reports), 'infinity')`,
  );
}

/** Each customer's latest answer to an exit survey (a survey whose key holds "exit") up to `asOf`. */
export async function readExitAnswers(db: Db, asOf: Date): Promise<Map<number, { answer: string; at: number }>> {
  const rows = await queryRows<{ customer_id: number; answer: string; at: number }>(
    db,
    sql`
    select distinct on (s.customer_id) s.customer_id::float8 as customer_id, coalesce(s.answer, s.score::text) as answer, ${epochDays('s.at')}::float8 as at
    from survey_responses s where s.survey ilike '%exit%' and s.at <= ${asOf.toISOString()}::timestamptz and coalesce(s.answer, s.score::text) is not null
    order by s.customer_id, s.at desc, s.id desc`,
  );
  return new Map(rows.map((r) => [Number(r.customer_id), { answer: r.answer, at: Number(r.at) }]));
}

/** The scored customers the worklist may show (at risk or lapsed, not suppressed) with what the uplift needs. */
export async function worklistCandidates(db: Db, runId: number) {
  return queryRows<{
    customer_id: number;
    p_alive: number;
    p_buy_90: number | null;
    value_at_stake: number;
    expected_order_value: number;
  }>(
    db,
    sql`
    select s.customer_id::float8 as customer_id, s.p_alive, s.p_buy_90, coalesce(s.value_at_stake, 0)::float8 as value_at_stake,
      coalesce(s.expected_order_value, 0)::float8 as expected_order_value
    from scores s where s.run_id = ${runId} and s.stage in ('at_risk', 'lapsed')`,
  );
}

/** Writes the worklist's uplift, ranking value and holdout draw onto this run's scores of the given customers. */
export async function writeUplift(
  db: Db,
  runId: number,
  holdoutShare: number,
  rows: { customerId: number; uplift: number; source: string; incrementalValue: number }[],
): Promise<void> {
  for (let from = 0; from < rows.length; from += 20_000) {
    const part = rows.slice(from, from + 20_000);
    await db.execute(sql`
      update scores s set uplift = u.uplift, uplift_source = u.source, incremental_value = u.value,
        worklist_holdout = ${inWorklistHoldout(sql`s.customer_id`, holdoutShare)}
      from unnest(${array(part.map((r) => r.customerId))}::bigint[], ${array(part.map((r) => r.uplift))}::float8[],
        ${array(part.map((r) => r.source))}::text[], ${array(part.map((r) => r.incrementalValue))}::float8[]) as u(customer_id, uplift, source, value)
      where s.run_id = ${runId} and s.customer_id = u.customer_id`);
  }
}

/** Writes each customer's drivers of leaving onto this run's scores, and puts the strongest first among the reasons. */
export async function writeDrivers(
  db: Db,
  runId: number,
  rows: { customerId: number; drivers: Record<string, unknown>[]; reason: string }[],
): Promise<void> {
  for (let from = 0; from < rows.length; from += 20_000) {
    const part = rows.slice(from, from + 20_000);
    await db.execute(sql`
      update scores s set drivers = u.drivers, reasons = array_prepend(u.reason, s.reasons)
      from unnest(${array(part.map((r) => r.customerId))}::bigint[], ${array(part.map((r) => JSON.stringify(r.drivers)))}::jsonb[],
        ${array(part.map((r) => r.reason))}::text[]) as u(customer_id, drivers, reason)
      where s.run_id = ${runId} and s.customer_id = u.customer_id`);
  }
}

export async function writeRetentionReport(
  db: Db,
  runId: number,
  report: { outcomes: object; drivers: object; uplift: object },
  at: Date,
): Promise<void> {
  await db.execute(sql`
    insert into retention_reports (run_id, outcomes, drivers, uplift, created_at)
    values (${runId}, ${JSON.stringify(report.outcomes)}::jsonb, ${JSON.stringify(report.drivers)}::jsonb, ${JSON.stringify(report.uplift)}::jsonb, ${at.toISOString()}::timestamptz)
    on conflict (run_id) do update set outcomes = excluded.outcomes, drivers = excluded.drivers, uplift = excluded.uplift`);
}

/** The customers behind each exposed cell of this run's outcome tables; those of earlier runs go (the drill-down reads the latest). */
export async function writeOutcomeCases(
  db: Db,
  runId: number,
  cases: {
    customerId: number;
    experienceId: number;
    cell: string;
    at: number;
    boughtAgain: boolean;
    valueBand: string;
    value: number;
  }[],
): Promise<void> {
  await db.execute(sql`delete from outcome_cases where run_id <> ${runId}`);
  for (let from = 0; from < cases.length; from += 20_000) {
    const part = cases.slice(from, from + 20_000);
    await db.execute(sql`
      insert into outcome_cases (customer_id, run_id, experience_id, cell, at, bought_again, value_band, value)
      select u.customer_id, ${runId}, u.experience_id, u.cell, to_timestamp(u.at * 86400), u.bought, u.band, round(u.value::numeric, 2)
      from unnest(${array(part.map((c) => c.customerId))}::bigint[], ${array(part.map((c) => c.experienceId))}::bigint[],
        ${array(part.map((c) => c.cell))}::text[], ${array(part.map((c) => c.at))}::float8[], ${array(part.map((c) => c.boughtAgain))}::boolean[],
        ${array(part.map((c) => c.valueBand))}::text[], ${array(part.map((c) => c.value))}::float8[])
        as u(customer_id, experience_id, cell, at, bought, band, value)
      on conflict do nothing`);
  }
}

/** The latest done run that has a retention report, and the report. */
export async function latestRetentionReport(db: Db, runId?: number) {
  const [row] = await queryRows<{
    run_id: number;
    as_of: string;
    outcomes: Record<string, unknown>;
    drivers: Record<string, unknown>;
    uplift: Record<string, unknown>;
    created_at: string;
  }>(
    db,
    sql`
    select r.run_id, a.as_of::text as as_of, r.outcomes, r.drivers, r.uplift, r.created_at
    from retention_reports r join analysis_runs a on a.id = r.run_id and a.status = 'done'
    where ${runId === undefined ? sql`a.current` : sql`r.run_id = ${runId}`}
    order by r.run_id desc limit 1`,
  );
  return row;
}

/** The customers behind one cell of a run's outcome tables ('*', and 'all' for occurrence and follow-up, match any value in that place). */
export async function outcomeCasesOf(
  db: Db,
  runId: number,
  cell: string,
  page: { limit: number; offset: number; members?: SQL },
) {
  const pattern = cell
    .split('|')
    .map((part, i) => (part === '*' || (i >= 4 && part === 'all') ? '%' : part.replace(/[\\%_]/g, (c) => `\\${c}`)))
    .join('|');
  return queryRows<{
    customer_id: number;
    external_id: string | null;
    name: string | null;
    stage: string;
    cell: string;
    at: string;
    bought_again: boolean;
    value_band: string;
    value: string;
  }>(
    db,
    sql`
    select k.customer_id, c.external_id, c.name, c.stage, k.cell, k.at, k.bought_again, k.value_band, k.value::text
    from outcome_cases k join customers c on c.id = k.customer_id
    where k.run_id = ${runId} and k.cell like ${pattern} and ${page.members === undefined ? sql`true` : sql`k.customer_id in (select m.id from (${page.members}) m)`}
    order by k.at desc, k.customer_id limit ${page.limit} offset ${page.offset}`,
  );
}

/** What a post-mortem shows of one customer, as rows; null when there is no such customer. */
export async function postMortemFacts(db: Db, customerId: number) {
  const [row] = await queryRows<{
    name: string | null;
    stage: string;
    last_order_at: string | null;
    exit_answer: { answer: string; at: string } | null;
    experiences: Record<string, unknown>[] | null;
    unresolved: Record<string, unknown>[] | null;
    contacts: Record<string, unknown>[] | null;
  }>(
    db,
    sql`
    select c.name, c.stage, c.last_order_at,
      (select jsonb_build_object('answer', coalesce(r.answer, r.score::text), 'at', r.at) from survey_responses r
        where r.customer_id = c.id and r.survey ilike '%exit%' and coalesce(r.answer, r.score::text) is not null order by r.at desc limit 1) as exit_answer,
      (select jsonb_agg(e order by e.at desc) from (select kind, at, detail, occurrence, valence, followed_up_at as "followedUpAt"
        from experiences where customer_id = c.id order by at desc limit 12) e) as experiences,
      (select jsonb_agg(u order by u.at desc) from (
        select 'ticket' as what, t.external_id || coalesce(' (' || t.category || ')', '') || ': ' || coalesce(t.subject, 'no subject') || ', ' || t.status as detail, t.opened_at as at
        from tickets t where t.customer_id = c.id and t.status not in ('resolved', 'closed')
        union all
        select 'experience', e.detail || ' — nobody followed up', e.at from experiences e
        where e.customer_id = c.id and e.valence = 'problem' and e.followed_up_at is null
        order by 3 desc limit 12) u) as unresolved,
      (select jsonb_agg(k order by k.at desc) from (
        select 'touchpoint' as what, t.channel || ': ' || replace(t.kind, '_', ' ') || coalesce(' (' || t.campaign || ')', '') as detail, t.at
        from touchpoints t where t.customer_id = c.id and t.direction = 'out'
        union all
        select 'worklist', d.agent || ' ' || d.decision || ' ' || replace(d.action, '_', ' ') || coalesce(' (' || d.gift_value::text || ')', '') || coalesce(': ' || d.reason, ''), d.decided_at
        from worklist_decisions d where d.customer_id = c.id
        union all
        select 'task', k.title || coalesce(': ' || k.outcome, ''), coalesce(k.done_at, k.created_at) from tasks k where k.customer_id = c.id
        union all
        select 'journey', j.name || case when e.arm = 'control' then ' (held out)' else '' end || ', ' || e.status, e.entered_at
        from journey_enrolments e join journeys j on j.id = e.journey_id where e.customer_id = c.id and e.status <> 'skipped'
        union all
        select 'note', coalesce(n.author || ': ', '') || left(n.body, 200), n.at from notes n where n.customer_id = c.id
        order by 3 desc limit 20) k) as contacts
    from customers c where c.id = ${customerId}`,
  );
  return row;
}
