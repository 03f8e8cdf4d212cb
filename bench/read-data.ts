// The read benchmark's store (bench/read.ts), built set-based in PostgreSQL: customers with their identities,
// about 13 orders each (skewed), order lines, returns, tickets with their updates, touchpoints and survey
// answers. Every value is a hash of its row number (PostgreSQL's hashint8extended), never random(), so
// two builds of the same size are the same store. Row ids are given, not drawn from the identity
// sequences, so each chunk's rows can be found and related without a read back: an order is
// customer × 1000 + its number, a ticket is its customer's id, an update or touchpoint customer × 10 + n.
import { recentOrdersKept } from '../src/customers/index.ts';
import type { Stage } from '../src/customers/lifecycle.ts';
import { openDatabase, queryRows, sql, type Db } from '../src/db/connection.ts';

/** First and last names drawn with a skew (the first ones are the common ones), so name words repeat as in life. */
// biome-ignore format: a word list reads best wrapped
export const firstNames = [
  'Oliver', 'Amelia', 'James', 'Olivia', 'Jack', 'Emily', 'Harry', 'Isla', 'George', 'Ava', 'Noah', 'Mia',
  'Charlie', 'Sophie', 'Thomas', 'Grace', 'William', 'Lily', 'Henry', 'Chloe', 'Leo', 'Ella', 'Oscar', 'Freya',
  'Arthur', 'Jessica', 'Alfie', 'Ruby', 'Joshua', 'Evie', 'Daniel', 'Hannah', 'Samuel', 'Lucy', 'Joseph', 'Sarah',
  'David', 'Laura', 'Michael', 'Emma', 'Adam', 'Rachel', 'Peter', 'Anna', 'Matthew', 'Claire', 'Robert', 'Helen',
  'Paul', 'Karen', 'Mark', 'Julie', 'Andrew', 'Susan', 'Richard', 'Maria', 'Ahmed', 'Fatima', 'Wei', 'Priya',
];
// biome-ignore format: a word list reads best wrapped
export const lastNames = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson',
  'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Patel', 'Khan', 'Lewis',
  'James', 'Phillips', 'Mason', 'Mitchell', 'Rose', 'Davis', 'Rodriguez', 'Cox', 'Alexander', 'Garden', 'Campbell',
  'Johnston', 'Moore', 'Smyth', 'Kelly', 'Murphy', 'Hughes', 'Edwards', 'Turner', 'Hill', 'Cooper', 'Ward', 'Morris',
  'King', 'Harris', 'Baker', 'Lee', 'Martin', 'Allen', 'Young', 'Scott', 'Price', 'Bennett', 'Gray', 'Murray',
  'Fisher', 'Shaw', 'Holmes', 'Rogers', 'Stevens', 'Reid', 'Palmer', 'Lloyd', 'Marshall', 'Hunt', 'Chapman', 'Nguyen',
];
const acquisitionChannels = ['web', 'search', 'social', 'email', 'referral', 'store', 'marketplace'];
const orderChannels = ['web', 'web', 'mobile', 'store', 'phone'];
const categories = ['towels', 'bedding', 'bath', 'kitchen', 'lighting', 'rugs', 'decor', 'storage'];
const products = 500;
/** Stages of customers with two purchase days or more, with cumulative shares; suppressed ones carry do_not_contact. */
const repeatStages: [Stage, number][] = [
  ['customer', 0.4],
  ['best', 0.5],
  ['at_risk', 0.7],
  ['lapsed', 0.88],
  ['won_back', 0.96],
  ['suppressed', 1],
];
/** Customers are created over the two years before this; their orders fall between creation and it. */
const end = `timestamptz '2026-12-01 00:00:00+00'`;
const chunk = 100_000;

// Deterministic draws from a row number `n` (an SQL expression) and a salt naming the use.
const share = (n: string, salt: number) =>
  `((hashint8extended((${n})::bigint, ${salt}) & 2147483647)::float8 / 2147483648)`;
const pick = (n: string, salt: number, m: number) =>
  `((hashint8extended((${n})::bigint, ${salt}) & 2147483647) % ${m})::int`;
const words = (list: readonly string[]) => `'{${list.join(',')}}'::text[]`;
const oneOf = (list: readonly string[], n: string, salt: number) =>
  `(${words(list)})[1 + ${pick(n, salt, list.length)}]`;
/** The first entries more often than the last: a share to the power `skew` picks the entry. */
const skewedOneOf = (list: readonly string[], n: string, salt: number, skew: number) =>
  `(${words(list)})[1 + floor(${list.length} * ${share(n, salt)} ^ ${skew})::int]`;

/** Orders of customer `n`: 5 % none, 45 % 1-3, 30 % 4-20, 15 % 21-45, 5 % 46-100 (about 13 on average). */
const orderCountOf = (n: string) => `(case when ${share(n, 10)} < 0.05 then 0
  when ${share(n, 10)} < 0.5 then 1 + ${pick(n, 11, 3)} when ${share(n, 10)} < 0.8 then 4 + ${pick(n, 11, 17)}
  when ${share(n, 10)} < 0.95 then 21 + ${pick(n, 11, 25)} else 46 + ${pick(n, 11, 55)} end)`;
// An order's lines, products and amounts; the order's total is computed from the same expressions.
const lineCountOf = (order: string) => `(1 + ${pick(order, 14, 2)})`;
const productOf = (order: string, line: string) => `(1 + ${pick(`${order} * 2 + ${line}`, 15, products)})`;
const quantityOf = (order: string, line: string) =>
  `(case when ${share(`${order} * 2 + ${line}`, 16)} < 0.8 then 1 when ${share(`${order} * 2 + ${line}`, 16)} < 0.95 then 2 else 3 end)`;
const priceOf = (product: string) => `round(4.99 + ${pick(product, 17, 9000)} / 100.0, 2)`;
const categoryOf = (product: string) => oneOf(categories, product, 18);
const amountOf = (order: string, line: string) => `(${quantityOf(order, line)} * ${priceOf(productOf(order, line))})`;
const totalOf = (order: string) =>
  `(${amountOf(order, '1')} + case when ${lineCountOf(order)} = 2 then ${amountOf(order, '2')} else 0 end)`;
const stageOf = (n: string) =>
  `(case ${repeatStages.map(([stage, upTo]) => `when ${share(n, 60)} < ${upTo} then '${stage}'`).join(' ')} end)`;
/** Six digits after +4477009 up to a million customers, more beyond: n × 7919 mod 10^d is one-to-one for n up to 10^d. */
const phoneOf = (n: string, customers: number) => {
  const digits = customers <= 1_000_000 ? 6 : String(customers).length;
  return `'+4477009' || lpad(((${n})::bigint * 7919 % ${10 ** digits})::text, ${digits}, '0')`;
};

/** The statements of one chunk of customers, lo..hi, in the order they run. */
function chunkSteps(lo: number, hi: number, customers: number): [string, string][] {
  const range = (column: string) => `${column} between ${lo} and ${hi}`;
  const during = (from: string, salt: number, key: string) => `${from} + ${share(key, salt)} * (${end} - ${from})`;
  return [
    [
      'customers',
      `insert into customers (id, external_id, email, phone, name, acquisition_channel, created_at, updated_at)
      overriding system value
      select n, 'C' || n, lower(first) || '.' || lower(last) || n || '@example.com',
        case when ${share('n', 3)} < 0.4 then ${phoneOf('n', customers)} end,
        first || ' ' || last, channel, created, created
      from (select n, ${skewedOneOf(firstNames, 'n', 1, 1.3)} as first, ${skewedOneOf(lastNames, 'n', 2, 1.3)} as last,
          ${skewedOneOf(acquisitionChannels, 'n', 5, 2)} as channel, ${end} - interval '730 days' + ${share('n', 4)} * interval '730 days' as created
        from generate_series(${lo}, ${hi}) n) s`,
    ],
    [
      'identities',
      `insert into identities (kind, value, customer_id, source, created_at)
      select i.kind, i.value, c.id, 'bench', c.created_at
      from customers c cross join lateral (values ('external', c.external_id), ('email', c.email), ('phone', c.phone)) i(kind, value)
      where ${range('c.id')} and i.value is not null`,
    ],
    [
      'orders',
      `insert into orders (customer_id, id, external_id, ordered_at, channel, currency, total, source) overriding system value
      select customer_id, key, 'O' || customer_id || '-' || j,
        created_at + case when j = 1 then ${share('key', 12)} * interval '2 hours' else ${share('key', 12)} * (${end} - created_at) end,
        ${oneOf(orderChannels, 'key', 13)}, 'GBP', ${totalOf('key')}, 'bench'
      from (select c.id as customer_id, c.created_at, j, c.id * 1000 + j as key
        from customers c cross join lateral generate_series(1, ${orderCountOf('c.id')}) j where ${range('c.id')}) o`,
    ],
    [
      'order lines',
      `insert into order_lines (customer_id, order_id, line_no, product, category, quantity, unit_price, amount)
      select customer_id, order_id, line_no, 'SKU-' || product, ${categoryOf('product')}, quantity, ${priceOf('product')},
        quantity * ${priceOf('product')}
      from (select o.customer_id, o.id as order_id, l as line_no, ${productOf('o.id', 'l')} as product, ${quantityOf('o.id', 'l')} as quantity
        from orders o cross join lateral generate_series(1, ${lineCountOf('o.id')}) l where ${range('o.customer_id')}) s`,
    ],
    [
      'returns',
      `insert into returns (customer_id, id, external_id, order_id, returned_at, product, quantity, amount, reason_code, reason, source)
      overriding system value
      select o.customer_id, o.id, 'R' || o.id, o.id, least(o.ordered_at + (3 + ${pick('o.id', 21, 25)}) * interval '1 day', ${end}),
        l.product, 1, l.unit_price, reason_code, initcap(replace(reason_code, '_', ' ')), 'bench'
      from orders o join order_lines l on l.customer_id = o.customer_id and l.order_id = o.id and l.line_no = 1
      cross join lateral (select ${oneOf(['damaged', 'wrong_size', 'not_as_described', 'changed_mind', 'arrived_late'], 'o.id', 22)} as reason_code) r
      where ${range('o.customer_id')} and ${share('o.id', 20)} < 0.05`,
    ],
    [
      'tickets',
      `insert into tickets (customer_id, id, external_id, order_id, opened_at, channel, category, priority, status, subject,
        assignee, first_response_at, resolved_at, outcome, updated_at) overriding system value
      select id, id, 'T' || id, case when ${orderCountOf('id')} > 0 then id * 1000 + 1 end, opened, channel, category, priority,
        status, initcap(replace(category, '_', ' ')) || ' problem', assignee, responded, resolved,
        case when resolved is not null then ${oneOf(['resolved', 'refunded', 'replaced', 'answered'], 'id', 35)} end,
        coalesce(resolved, responded)
      from (select id, opened, responded, channel, category, priority, assignee, status,
          case when status in ('resolved', 'closed') then responded + ${pick('id', 34, 5)} * interval '1 day' end as resolved
        from (select c.id, ${during('c.created_at', 31, 'c.id')} as opened,
            ${during('c.created_at', 31, 'c.id')} + (1 + ${pick('c.id', 32, 47)}) * interval '1 hour' as responded,
            ${oneOf(['email', 'phone', 'chat'], 'c.id', 36)} as channel,
            ${oneOf(['delivery', 'damaged_item', 'billing', 'returns', 'product_question'], 'c.id', 37)} as category,
            ${oneOf(['low', 'normal', 'normal', 'high'], 'c.id', 38)} as priority,
            ${oneOf(['ana', 'ben', 'chloe', 'dev'], 'c.id', 39)} as assignee,
            ${oneOf(['resolved', 'resolved', 'resolved', 'closed', 'open', 'pending'], 'c.id', 33)} as status
          from customers c where ${range('c.id')} and ${share('c.id', 30)} < 0.02) t) t`,
    ],
    [
      'ticket updates',
      `insert into ticket_updates (customer_id, id, ticket_id, at, status, note, direction, author) overriding system value
      select t.customer_id, t.id * 10 + u, t.id,
        case when u = 1 then t.first_response_at else coalesce(t.resolved_at, t.first_response_at + interval '1 day') end,
        case when u = 1 then 'pending' else t.status end,
        case when u = 1 then 'Thanks for telling us; we are looking into it.' when t.status = 'open' then 'Any news?' else 'Sorted, we hope.' end,
        case when u = 2 and t.status = 'open' then 'in' else 'out' end,
        case when u = 2 and t.status = 'open' then null else t.assignee end
      from tickets t cross join generate_series(1, 2) u where ${range('t.customer_id')}`,
    ],
    [
      'touchpoints',
      `insert into touchpoints (customer_id, id, external_id, at, channel, direction, kind, campaign) overriding system value
      select customer_id, key, 'P' || key, ${during('created_at', 41, 'key')}, (${words(['email', 'email', 'web', 'sms', 'phone'])})[k],
        (${words(['out', 'in', 'in', 'out', 'in'])})[k], (${words(['email_sent', 'email_opened', 'visit', 'sms_sent', 'call'])})[k],
        case when k in (1, 2, 4) then ${oneOf(['Spring sale', 'We miss you', 'New arrivals', 'Winter warmers'], 'key', 43)} end
      from (select c.id as customer_id, c.created_at, c.id * 10 + t as key, 1 + ${pick('c.id * 10 + t', 42, 5)} as k
        from customers c cross join lateral generate_series(1, ${pick('c.id', 40, 5)}) t where ${range('c.id')}) p`,
    ],
    [
      'survey responses',
      `insert into survey_responses (customer_id, id, external_id, at, survey, question, score, answer, channel) overriding system value
      select c.id, c.id, 'S' || c.id, ${during('c.created_at', 51, 'c.id')}, 'nps', 'How likely are you to recommend us to a friend?',
        10 - floor(11 * ${share('c.id', 52)} ^ 2),
        case when ${share('c.id', 53)} < 0.3 then ${oneOf(['Quick delivery', 'Lovely quality', 'Too pricey', 'Took ages to arrive'], 'c.id', 54)} end,
        'email'
      from customers c where ${range('c.id')} and ${share('c.id', 50)} < 0.1`,
    ],
    [
      // What refreshLifecycle keeps on each customer row (customer.schema.ts, lifecycle.repository.ts), from the orders.
      'purchase facts',
      `with ranked as (
        select customer_id, ordered_at, total,
          dense_rank() over (partition by customer_id order by (ordered_at at time zone 'UTC')::date) as day_rank,
          row_number() over (partition by customer_id order by ordered_at desc, id desc) as newest
        from orders where ${range('customer_id')}
      ), facts as (
        select customer_id, max(day_rank) as order_days, min(ordered_at) as first_order_at, max(ordered_at) as last_order_at,
          count(*) as order_count, sum(total) as spend,
          array_agg(ordered_at order by newest) filter (where newest <= ${recentOrdersKept}) as recent_orders,
          case when max(day_rank) = 1 then 'trial' else ${stageOf('customer_id')} end as stage
        from ranked group by customer_id
      )
      update customers c set order_days = f.order_days, first_order_at = f.first_order_at, last_order_at = f.last_order_at,
        order_count = f.order_count, spend = f.spend, recent_orders = f.recent_orders, stage = f.stage,
        stage_changed_at = f.last_order_at, updated_at = f.last_order_at,
        flags = case when f.stage = 'suppressed' then '{do_not_contact}'::text[] else c.flags end
      from facts f where c.id = f.customer_id`,
    ],
    [
      'status changes',
      `insert into status_changes (customer_id, flag, active, at, source, note)
      select id, 'do_not_contact', true, least(last_order_at + interval '1 day', ${end}), 'bench', 'Asked not to be contacted'
      from customers where ${range('id')} and stage = 'suppressed'`,
    ],
    // Fresh statistics for the next chunk's plans (this server may run without autovacuum).
    ['analyze', 'analyze customers, orders, order_lines, tickets'],
    [
      // The given ids sit past every identity sequence: move them on, so a later insert cannot collide.
      'sequences',
      `select ${[
        ['customers', hi],
        ['orders', hi * 1000 + 999],
        ['returns', hi * 1000 + 999],
        ['tickets', hi],
        ['ticket_updates', hi * 10 + 9],
        ['touchpoints', hi * 10 + 9],
        ['survey_responses', hi],
      ]
        .map(([table, last]) => `setval(pg_get_serial_sequence('${table}', 'id'), ${last})`)
        .join(', ')}`,
    ],
  ];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const run = (db: Db, statement: string) => timed(() => db.execute(sql.raw(statement)));

/**
 * Fills the database at `databaseUrl` (migrated here with Kept's own migrations; it must hold no
 * customers yet) with `customers` customers and their history, 100,000 customers a transaction, then
 * VACUUM ANALYZE. Reports each chunk's and each step's time through `onProgress`.
 */
export async function buildScaleStore(
  databaseUrl: string,
  customers: number,
  onProgress: (step: string) => void = () => undefined,
): Promise<{ customers: number; orders: number }> {
  // One connection, so the session settings below hold for every statement.
  const database = await openDatabase({ databaseUrl, poolSize: 1 });
  try {
    let elapsed = await timed(() => database.migrate());
    onProgress(`migrate: ${seconds(elapsed)}`);
    const [{ n }] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from customers`);
    if (n > 0) throw new Error(`the store at ${databaseUrl} already holds ${n} customers; build into an empty one`);
    // A lost bench store is rebuilt, so its commits need not wait for the disk; sorts and hashes get room.
    await run(database.db, `set synchronous_commit = off`);
    await run(database.db, `set work_mem = '256MB'`);
    await run(database.db, `set maintenance_work_mem = '1GB'`);
    elapsed = await run(
      database.db,
      `insert into products (sku, name, category, price, cost, currency)
      select 'SKU-' || p, initcap(category) || ' ' || p, category, ${priceOf('p')}, round(${priceOf('p')} * 0.55, 2), 'GBP'
      from (select p, ${categoryOf('p')} as category from generate_series(1, ${products}) p) s`,
    );
    onProgress(`products: ${seconds(elapsed)}`);
    const totals = new Map<string, number>();
    for (let lo = 1; lo <= customers; lo += chunk) {
      const hi = Math.min(customers, lo + chunk - 1);
      const times: string[] = [];
      const chunkTime = await timed(() =>
        database.db.transaction(async (tx) => {
          for (const [step, statement] of chunkSteps(lo, hi, customers)) {
            const ms = await run(tx, statement);
            totals.set(step, (totals.get(step) ?? 0) + ms);
            times.push(`${step} ${seconds(ms)}`);
          }
        }),
      );
      onProgress(
        `customers ${lo.toLocaleString('en')}-${hi.toLocaleString('en')} of ${customers.toLocaleString('en')}: ${seconds(chunkTime)} (${times.join(', ')})`,
      );
    }
    onProgress(`all chunks, by step: ${[...totals].map(([step, ms]) => `${step} ${seconds(ms)}`).join(', ')}`);
    elapsed = await run(database.db, 'vacuum analyze');
    onProgress(`vacuum analyze: ${seconds(elapsed)}`);
    const [counts] = await queryRows<{ customers: number; orders: number }>(
      database.db,
      sql`select count(*)::int as customers, coalesce(sum(order_count), 0)::bigint as orders from customers`,
    );
    return counts;
  } finally {
    await database.close();
  }
}
