import { eq, type SQL } from 'drizzle-orm';
import { recentOrdersKept } from '../customers/index.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { listLimit } from '../shared/http.ts';
import { segmentMembers, segments } from './segment.schema.ts';
import { isGroup, own, scoreColumns, type Condition, type Rule } from './segment.ts';

type Fragment = ReturnType<typeof sql>;
/** What a rule is evaluated against: the time "last N days" counts back from, and the analysis run whose scores count. */
export interface RuleContext {
  now: Date;
  runId: number | null;
  attributeTypes: Map<string, string>;
}

const raw = (identifier: string) => sql.raw(identifier);
const join = (parts: Fragment[], separator: string) => sql.join(parts, sql.raw(separator));

/** The rule as one SQL condition on `c` (customers); checked by checkRule first. */
export function compileRule(rule: Rule, context: RuleContext, topLevel = true): Fragment {
  if (rule.conditions.length === 0) return rule.match === 'all' ? sql`true` : sql`false`;
  // Only conditions ANDed at the top of WHERE can become joins; under an OR they are tested per customer.
  const joinable = topLevel && (rule.match === 'all' || rule.conditions.length === 1);
  const parts = rule.conditions.map((c) =>
    isGroup(c) ? compileRule(c, context, joinable) : compileCondition(c, context, joinable),
  );
  return sql`(${join(parts, rule.match === 'all' ? ' and ' : ' or ')})`;
}

const like = (value: string) => value.replace(/[\\%_]/g, (m) => `\\${m}`);

function textTest(column: Fragment, op: string, value: Condition['value']): Fragment {
  switch (op) {
    case 'is':
      return sql`lower(${column}) = lower(${value}::text)`;
    case 'is_not':
      return sql`lower(coalesce(${column}, '')) <> lower(${value}::text)`;
    case 'contains':
      return sql`${column} ilike ${`%${like(String(value))}%`}`;
    case 'starts_with':
      return sql`${column} ilike ${`${like(String(value))}%`}`;
    case 'in':
      return sql`${column} = any(${array(value as string[])}::text[])`;
    case 'is_set':
      return sql`${column} is not null and ${column} <> ''`;
    default:
      return sql`(${column} is null or ${column} = '')`;
  }
}

const comparison: Record<string, string> = {
  gt: '>',
  gte: '>=',
  lt: '<',
  lte: '<=',
  at_least: '>=',
  at_most: '<=',
  exactly: '=',
};
/** The SQL operator of an op; checkRule admits no other, and an inherited name such as `constructor` must never reach SQL. */
function sign(op: string): Fragment {
  const operator = own(comparison, op);
  if (!operator) throw new Error(`not a comparison: ${JSON.stringify(op)}`);
  return raw(operator);
}

function instantTest(column: Fragment, op: string, value: Condition['value'], now: Date): Fragment {
  const days = Number(value);
  switch (op) {
    case 'before':
      return sql`${column} < ${value}::date`;
    case 'after':
      return sql`${column} >= (${value}::date + 1)`;
    case 'in_last_days':
      return sql`${column} > ${now.toISOString()}::timestamptz - make_interval(days => ${days}::int)`;
    case 'not_in_last_days':
      return sql`(${column} is null or ${column} <= ${now.toISOString()}::timestamptz - make_interval(days => ${days}::int))`;
    case 'is_set':
      return sql`${column} is not null`;
    default:
      return sql`${column} is null`;
  }
}

/** Customer ids of a history table's rows within the condition's window and filter (one pass over the table). */
function history(
  table: string,
  timeColumn: string,
  filterColumn: string | null,
  c: Condition,
  now: Date,
  extra: Fragment = sql``,
): Fragment {
  const window = c.days
    ? sql`and h.${raw(timeColumn)} > ${now.toISOString()}::timestamptz - make_interval(days => ${c.days}::int)`
    : sql``;
  const filter = c.filter && filterColumn ? sql`and lower(h.${raw(filterColumn)}) = lower(${c.filter})` : sql``;
  return sql`select h.customer_id from ${raw(table)} h where true ${window} ${filter} ${extra}`;
}

// Where the condition is ANDed at the top, `c.id in (...)` becomes a hash semi-join and
// `not exists (... = c.id)` an anti-join: one pass over the history table. Under an OR, PostgreSQL
// cannot join and would run an `in` list per customer (quadratic once it outgrows work_mem), so
// there the test is a correlated `exists`, an index probe per customer.
const inSet = (ids: Fragment, joinable: boolean) =>
  joinable ? sql`c.id in (${ids})` : sql`exists (select 1 from (${ids}) x where x.customer_id = c.id)`;
const notInSet = (ids: Fragment) => sql`not exists (select 1 from (${ids}) x where x.customer_id = c.id)`;

/** Customers whose number (or sum) of history rows compares to `value`. */
function aggregateTest(rows: Fragment, aggregate: Fragment, op: string, value: number, joinable: boolean): Fragment {
  // Cast, not inferred from the aggregate: a fraction or a large number stays a number to compare.
  const having = (comparison: string, v: number) =>
    sql`${rows} group by h.customer_id having ${aggregate} ${raw(comparison)} ${v}::numeric`;
  switch (op) {
    case 'at_least':
      return value <= 0 ? sql`true` : inSet(having('>=', value), joinable);
    case 'at_most':
      return value < 0 ? sql`false` : notInSet(having('>', value));
    default:
      return value === 0 ? notInSet(rows) : inSet(having('=', value), joinable);
  }
}
const countTest = (rows: Fragment, op: string, value: number, joinable: boolean) =>
  aggregateTest(rows, sql`count(*)`, op, value, joinable);

/**
 * Orders of any channel, from the customer row: all of them from `order_count`; those of the last
 * N days from `recent_orders` (the latest order times, newest first): at least k orders in the
 * window exactly when the k-th latest order is in it. Counts beyond what the row keeps go to the
 * orders table.
 */
function orderCountTest(c: Condition, now: Date, joinable: boolean): Fragment {
  const value = Number(c.value);
  if (!c.days) return sql`c.order_count ${sign(c.op)} ${value}::bigint`;
  if (!Number.isInteger(value) || value + 1 > recentOrdersKept)
    return countTest(history('orders', 'ordered_at', null, c, now), c.op, value, joinable);
  const atLeast = (k: number) =>
    k <= 0
      ? sql`true`
      : sql`coalesce(c.recent_orders[${k}::int] > ${now.toISOString()}::timestamptz - make_interval(days => ${c.days}::int), false)`;
  switch (c.op) {
    case 'at_least':
      return atLeast(value);
    case 'at_most':
      return value < 0 ? sql`false` : sql`not ${atLeast(value + 1)}`;
    default:
      return value < 0 ? sql`false` : sql`(${atLeast(value)} and not ${atLeast(value + 1)})`;
  }
}

/**
 * When we last contacted the customer: their latest outbound touchpoint (every mail a campaign or
 * journey sends, a call list reached, a contact an agent recorded, one imported) as a date test.
 * No column keeps it, so each test is one pass over touchpoints, as the history tests are.
 */
function lastContactTest(c: Condition, now: Date, joinable: boolean): Fragment {
  const contacts = (extra: Fragment) => sql`select h.customer_id from touchpoints h where h.direction = 'out' ${extra}`;
  const recent = () =>
    contacts(sql`and h.at > ${now.toISOString()}::timestamptz - make_interval(days => ${Number(c.value)}::int)`);
  switch (c.op) {
    case 'before':
      return inSet(sql`${contacts(sql``)} group by h.customer_id having max(h.at) < ${c.value}::date`, joinable);
    case 'after':
      return inSet(contacts(sql`and h.at >= (${c.value}::date + 1)`), joinable);
    case 'in_last_days':
      return inSet(recent(), joinable);
    case 'not_in_last_days':
      return notInSet(recent());
    case 'is_set':
      return inSet(contacts(sql``), joinable);
    default:
      return notInSet(contacts(sql``));
  }
}

function compileCondition(c: Condition, context: RuleContext, joinable: boolean): Fragment {
  const { now } = context;
  const column = (name: string) => sql`c.${raw(name)}`;
  switch (c.field) {
    case 'name':
    case 'email':
    case 'phone':
    case 'external_id':
    case 'acquisition_channel':
    case 'stage':
      return textTest(column(c.field), c.op, c.value);
    case 'flag':
      return c.op === 'has' ? sql`${c.value}::text = any(c.flags)` : sql`not (${c.value}::text = any(c.flags))`;
    case 'created_at':
    case 'first_order_at':
    case 'last_order_at':
      return instantTest(column(c.field), c.op, c.value, now);
    case 'last_contact_at':
      return lastContactTest(c, now, joinable);
    case 'attribute': {
      const key = c.key!;
      const type = context.attributeTypes.get(key);
      const value = sql`(c.attributes->>${key})`;
      if (c.op === 'is_set') return sql`c.attributes ? ${key}`;
      if (c.op === 'is_not_set') return sql`not (c.attributes ? ${key})`;
      if (c.op === 'is_true' || c.op === 'is_false')
        return sql`c.attributes->${key} = ${c.op === 'is_true' ? 'true' : 'false'}::jsonb`;
      if (type === 'number') {
        const number = sql`(case when jsonb_typeof(c.attributes->${key}) = 'number' then ${value}::numeric end)`;
        return sql`${number} ${c.op === 'is' ? raw('=') : c.op === 'is_not' ? raw('<>') : sign(c.op)} ${c.value}::numeric`;
      }
      if (type === 'date') {
        // Compared as written, in byte order (which for YYYY-MM-DD is the order of days): a stored
        // value that is no real day (2020-02-30) would make a cast to date fail the whole query.
        const day = sql`(case when ${value} ~ '^\\d{4}-\\d{2}-\\d{2}$' then ${value} end) collate "C"`;
        const operator = own<string>({ before: '<', after: '>', is: '=', is_not: '<>' }, c.op);
        if (!operator) throw new Error(`not a date comparison: ${JSON.stringify(c.op)}`);
        return sql`${day} ${raw(operator)} ${c.value}::text`;
      }
      return textTest(value, c.op, c.value);
    }
    case 'score': {
      if (context.runId === null) return sql`false`;
      if (!own(scoreColumns, c.key!)) throw new Error(`not a score: ${JSON.stringify(c.key)}`);
      const score = sql`s.${raw(c.key!)}`;
      // numeric, not the column's type: 2.5 against a smallint score compares, it is not cut to 2 or refused.
      const test =
        c.op === 'is_set'
          ? sql`${score} is not null`
          : c.op === 'is_not_set'
            ? sql`${score} is null`
            : sql`${score} ${sign(c.op)} ${c.value}::numeric`;
      return inSet(sql`select s.customer_id from scores s where s.run_id = ${context.runId} and ${test}`, joinable);
    }
    case 'orders':
      return c.filter
        ? countTest(history('orders', 'ordered_at', 'channel', c, now), c.op, Number(c.value), joinable)
        : orderCountTest(c, now, joinable);
    case 'spend':
      return c.days
        ? aggregateTest(
            history('orders', 'ordered_at', null, c, now),
            sql`sum(h.total)`,
            c.op,
            Number(c.value),
            joinable,
          )
        : sql`c.spend ${sign(c.op)} ${Number(c.value)}::numeric`;
    case 'category_bought':
    case 'product_bought': {
      // The catalogue's category wins over the line's; a product is found by its SKU or its catalogue name.
      const test = (column: SQL) =>
        c.op === 'contains'
          ? sql`${column} ilike ${`%${like(String(c.value))}%`}`
          : sql`lower(${column}) = lower(${c.value})`;
      const match =
        c.field === 'category_bought'
          ? test(sql`coalesce(p.category, l.category)`)
          : sql`(${test(sql`l.product`)} or ${test(sql`p.name`)})`;
      const window = c.days
        ? sql`and o.ordered_at > ${now.toISOString()}::timestamptz - make_interval(days => ${c.days}::int)`
        : sql``;
      const bought = sql`select l.customer_id from order_lines l join orders o on o.customer_id = l.customer_id and o.id = l.order_id
        left join products p on p.sku = l.product where ${match} ${window}`;
      return c.op === 'is_not' ? notInSet(bought) : inSet(bought, joinable);
    }
    case 'returns':
      return countTest(history('returns', 'returned_at', 'reason_code', c, now), c.op, Number(c.value), joinable);
    case 'tickets':
      return countTest(history('tickets', 'opened_at', 'category', c, now), c.op, Number(c.value), joinable);
    case 'incidents':
      return countTest(history('incidents', 'at', 'kind', c, now), c.op, Number(c.value), joinable);
    case 'touchpoints': {
      const filter = c.filter
        ? sql`and (lower(h.kind) = lower(${c.filter}) or lower(h.channel) = lower(${c.filter}))`
        : sql``;
      return countTest(history('touchpoints', 'at', null, c, now, filter), c.op, Number(c.value), joinable);
    }
    case 'opens':
    case 'clicks': {
      const kind = c.field === 'opens' ? 'email_opened' : 'email_clicked';
      return countTest(
        history('touchpoints', 'at', null, c, now, sql`and h.kind = ${kind}`),
        c.op,
        Number(c.value),
        joinable,
      );
    }
    case 'experiences': {
      const which =
        c.key === 'first'
          ? sql`and h.occurrence = 1`
          : c.key === 'repeated'
            ? sql`and h.occurrence > 1`
            : c.key === 'unfollowed'
              ? sql`and h.valence = 'problem' and h.followed_up_at is null`
              : sql``;
      return countTest(history('experiences', 'at', 'kind', c, now, which), c.op, Number(c.value), joinable);
    }
    case 'survey_score': {
      const survey = c.key ? sql`and lower(h.survey) = lower(${c.key})` : sql``;
      return inSet(
        history('survey_responses', 'at', null, c, now, sql`and h.score ${sign(c.op)} ${c.value}::numeric ${survey}`),
        joinable,
      );
    }
    case 'survey_answer': {
      // An exit survey's "why did you stop": the answer's words, any survey unless a key names one.
      const survey = c.key ? sql`and lower(h.survey) = lower(${c.key})` : sql``;
      const match =
        c.op === 'is'
          ? sql`lower(h.answer) = lower(${String(c.value)})`
          : sql`h.answer ilike ${`%${String(c.value).replace(/[\\%_]/g, (m) => `\\${m}`)}%`}`;
      return inSet(history('survey_responses', 'at', null, c, now, sql`and ${match} ${survey}`), joinable);
    }
    case 'consent': {
      // The latest ledger entry for the list decides; the customer row keeps a copy of it.
      const latest = sql`c.consent->(${c.key ?? 'marketing'}::text)`;
      return c.op === 'granted'
        ? sql`${latest} = 'true'::jsonb`
        : c.op === 'withdrawn'
          ? sql`${latest} = 'false'::jsonb`
          : sql`${latest} is distinct from 'true'::jsonb`;
    }
  }
}

/** The current analysis run whose scores segments test, or null before the first analysis. */
export async function scoringRun(db: Db): Promise<number | null> {
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`select id from analysis_runs where status = 'done' and current order by id desc limit 1`,
  );
  return row?.id ?? null;
}

export async function attributeTypes(db: Db): Promise<Map<string, string>> {
  const rows = await queryRows<{ key: string; type: string }>(db, sql`select key, type from attribute_definitions`);
  return new Map(rows.map((r) => [r.key, r.type]));
}

/** The stored rules of these segments. */
export async function segmentRules(db: Db, ids: number[]): Promise<{ id: number; rule: Rule }[]> {
  const rows = await queryRows<{ id: number; rule: Rule }>(
    db,
    sql`select id, rule from segments where id = any(${array(ids)}::bigint[])`,
  );
  return rows.map((r) => ({ id: Number(r.id), rule: r.rule }));
}

/** Values the rule builder offers: acquisition channels, product categories, survey names, experience kinds. */
export async function knownValues(
  db: Db,
): Promise<{ channels: string[]; categories: string[]; surveys: string[]; experiences: string[] }> {
  const [known] = await queryRows<{
    channels: string[];
    categories: string[];
    surveys: string[];
    experiences: string[];
  }>(
    db,
    sql`select
    array(select distinct acquisition_channel from customers where acquisition_channel is not null order by 1) as channels,
    array(select category from (select coalesce(p.category, l.category) as category from order_lines l left join products p on p.sku = l.product
      union select category from products) c where category is not null order by 1 limit 500) as categories,
    array(select distinct survey from survey_responses order by 1 limit 200) as surveys,
    array(select distinct kind from experiences order by 1 limit 200) as experiences`,
  );
  return known;
}

/** Who a segment is (`id`, `stage`): its members by rule (dynamic) or as taken (snapshot). */
export const segmentMembersSql = (segment: { id: number; kind: string; rule: Rule }, context: RuleContext): Fragment =>
  segment.kind === 'snapshot'
    ? sql`select m.customer_id as id, c.stage from segment_members m join customers c on c.id = m.customer_id where m.segment_id = ${segment.id}`
    : sql`select c.id, c.stage from customers c where ${compileRule(segment.rule, context)}`;

export interface SegmentSummary {
  customers: number;
  byStage: Record<string, number>;
  /** Mean of the latest analysis's scores over the members who have them. */
  meanPAlive: number | null;
  predictedValue: number;
  valueAtStake: number;
  /** Members with a satisfaction index, and how many of them are at or above 50. */
  withSatisfaction: number;
  satisfied: number;
  meanSatisfaction: number | null;
}

/** Count, stages and what the latest analysis says of the customers a query selects (`id`, `stage`). */
export async function summarize(
  db: Db,
  members: Fragment,
  runId: number | null,
  satisfiedFrom: number,
): Promise<SegmentSummary> {
  const [row] = await queryRows<{
    customers: number;
    by_stage: Record<string, number> | null;
    mean_p_alive: number | null;
    predicted: string;
    stake: string;
    with_satisfaction: number;
    satisfied: number;
    mean_satisfaction: number | null;
  }>(
    db,
    sql`
    with members as (${members}),
    staged as (select stage, count(*)::int as n from members group by 1),
    scored as (
      select avg(s.p_alive)::float8 as mean_p_alive, coalesce(sum(s.predicted_value_365), 0)::text as predicted, coalesce(sum(s.value_at_stake), 0)::text as stake,
        count(s.satisfaction)::int as with_satisfaction, count(*) filter (where s.satisfaction >= ${satisfiedFrom})::int as satisfied,
        avg(s.satisfaction)::float8 as mean_satisfaction
      from members m join scores s on s.customer_id = m.id and s.run_id = ${runId ?? -1}
    )
    select (select coalesce(sum(n), 0)::int from staged) as customers, (select jsonb_object_agg(stage, n) from staged) as by_stage, scored.* from scored`,
  );
  return {
    customers: row.customers,
    byStage: row.by_stage ?? {},
    meanPAlive: row.mean_p_alive,
    predictedValue: Number(row.predicted),
    valueAtStake: Number(row.stake),
    withSatisfaction: row.with_satisfaction,
    satisfied: row.satisfied,
    meanSatisfaction: row.mean_satisfaction === null ? null : Number(row.mean_satisfaction.toFixed(1)),
  };
}

export interface MemberRow {
  id: number;
  external_id: string | null;
  name: string | null;
  email: string | null;
  stage: string;
  last_order_at: string | null;
}

export async function memberPage(
  db: Db,
  members: Fragment,
  options: { limit: number; offset: number },
): Promise<MemberRow[]> {
  return queryRows<MemberRow>(
    db,
    sql`
    select c.id, c.external_id, c.name, c.email, c.stage, c.last_order_at from (${members}) m join customers c on c.id = m.id
    order by c.id limit ${options.limit} offset ${options.offset}`,
  );
}

/** Replaces a snapshot's members with who matches its rule now, in one statement. */
export async function takeSnapshot(db: Db, segmentId: number, rule: Rule, context: RuleContext): Promise<number> {
  await db.execute(sql`delete from segment_members where segment_id = ${segmentId}`);
  const [{ n }] = await queryRows<{ n: number }>(
    db,
    sql`
    with added as (insert into segment_members (segment_id, customer_id) select ${segmentId}, c.id from customers c where ${compileRule(rule, context)} returning 1)
    select count(*)::int as n from added`,
  );
  await db.execute(
    sql`update segments set snapshot_at = ${context.now.toISOString()}::timestamptz, members = ${n} where id = ${segmentId}`,
  );
  return n;
}

export type SegmentRow = typeof segments.$inferSelect;

export async function findSegmentRow(db: Db, id: number): Promise<SegmentRow | undefined> {
  const [row] = await db.select().from(segments).where(eq(segments.id, id));
  return row;
}

/** Saved segments by name. */
export async function listSegmentRows(db: Db): Promise<SegmentRow[]> {
  return db.select().from(segments).orderBy(sql`lower(${segments.name})`, segments.id).limit(listLimit);
}

export async function insertSegment(
  db: Db,
  segment: Omit<typeof segments.$inferInsert, 'id' | 'snapshotAt' | 'members'>,
): Promise<number> {
  const [row] = await db.insert(segments).values(segment).returning({ id: segments.id });
  return row.id;
}

/** Changes a segment's definition; false when there is no such segment. */
export async function updateSegment(
  db: Db,
  id: number,
  change: Pick<SegmentRow, 'name' | 'description' | 'kind' | 'rule' | 'updatedAt'>,
): Promise<boolean> {
  const rows = await db.update(segments).set(change).where(eq(segments.id, id)).returning({ id: segments.id });
  return rows.length > 0;
}

/** A segment that is dynamic now keeps no members taken. */
export async function clearSnapshot(db: Db, id: number): Promise<void> {
  await db.delete(segmentMembers).where(eq(segmentMembers.segmentId, id));
  await db.update(segments).set({ snapshotAt: null, members: null }).where(eq(segments.id, id));
}

export async function deleteSegmentRow(db: Db, id: number): Promise<void> {
  await db.delete(segmentMembers).where(eq(segmentMembers.segmentId, id));
  await db.delete(segments).where(eq(segments.id, id));
}
