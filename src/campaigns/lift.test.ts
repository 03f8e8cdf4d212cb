// The programme's total lift on generated stores with a planted truth: 20,000 customers of whom the
// universal control group (10 %) buys with probability 0.10 a month and everyone else 0.12; the
// report's counts must equal a count made here from the generated orders, its intervals must cover
// the planted effect, planted marketing to control members must be found, and months must follow the
// business time zone. Retention is checked on a small store worked out by hand.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { loadConfig } from '../config.ts';
import { refreshLifecycle } from '../customers/index.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { random } from '../shared/random.ts';
import { programmeText } from './lift.command.ts';
import { programmeLift, type ProgrammeLift, type ProgrammePeriod } from './lift.ts';
import { inUniversalControl } from './programme.ts';

const base = loadConfig({}, { NODE_ENV: 'test' });
const testApp = (timeZone: string, share: number) =>
  createTestApp('analyst', { timeZone, programme: { ...base.programme, universalControl: share } });
const setClock = (t: TestApp, at: string) => {
  (t.deps.clock as { now: () => Date }).now = () => new Date(at);
};

interface Order {
  customerId: number;
  at: Date;
  /** In cents, so the count made here is exact. */
  cents: number;
}

async function insertOrders(db: Db, orders: Order[]): Promise<void> {
  for (let i = 0; i < orders.length; i += 10_000) {
    const part = orders.slice(i, i + 10_000);
    await db.execute(sql`
      insert into orders (customer_id, external_id, ordered_at, total, source)
      select u.customer_id, 'T' || u.k, u.at, u.total, 'test'
      from unnest(${array(part.map((o) => o.customerId))}::bigint[], ${array(part.map((_, k) => i + k))}::int[],
        ${array(part.map((o) => o.at.toISOString()))}::timestamptz[], ${array(part.map((o) => (o.cents / 100).toFixed(2)))}::numeric[])
        as u(customer_id, k, at, total)`);
  }
}

/** first_order_at as the order writers keep it. */
async function refreshCustomers(t: TestApp, ids: number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 5_000)
    await t.deps.db.transaction((tx) =>
      refreshLifecycle(tx, ids.slice(i, i + 5_000), { timeZone: t.deps.config.timeZone }),
    );
}

const cents = (text: string) => Math.round(Number(text) * 100);
const covers = (c: { low: number; high: number } | null, value: number) => !!c && c.low <= value && value <= c.high;

describe('20,000 customers, the control group buying 0.10 a month and the rest 0.12', () => {
  const share = 0.1;
  const n = 20_000;
  // Orders from January 2025 (before the span, so February has repeat customers) to mid-January 2026.
  const monthStarts = Array.from({ length: 13 }, (_, k) => Date.UTC(2025, k, 1));
  const period = (at: Date) => at.toISOString().slice(0, 7);
  let t: TestApp;
  let ids: number[];
  let orders: Order[];
  let report: ProgrammeLift;

  before(async () => {
    t = await testApp('UTC', share);
    setClock(t, '2026-01-15T00:00:00Z');
    ids = (
      await queryRows<{ id: number }>(
        t.deps.db,
        sql`insert into customers (external_id, name, created_at)
          select 'G' || g, 'Gus ' || g, '2024-12-01T00:00:00Z' from generate_series(1, ${n}) g returning id`,
      )
    ).map((r) => Number(r.id));
    const next = random(20260115);
    const prices = [2000, 3550, 5000, 6450, 8000];
    orders = [];
    for (const id of ids) {
      const rate = inUniversalControl(id, share) ? 0.1 : 0.12;
      for (const start of monthStarts)
        if (next() < rate) {
          // Within the first 14 days, so January 2026 is whole by the 15th; a fifth order twice.
          const times = next() < 0.2 ? 2 : 1;
          for (let k = 0; k < times; k++)
            orders.push({
              customerId: id,
              at: new Date(start + Math.floor(next() * 14 * 86_400_000)),
              cents: prices[Math.floor(next() * prices.length)],
            });
        }
    }
    await insertOrders(t.deps.db, orders);
    await refreshCustomers(t, ids);
    report = await expectJson(t.call('GET', '/api/v1/programme/lift?months=12'));
  });
  after(() => t.close());

  /** The same figures counted here, from the generated orders. */
  function expected(key: string, from: number, to: number) {
    const inControl = new Set(ids.filter((id) => inUniversalControl(id, share)));
    const first = new Map<number, number>();
    for (const o of orders) first.set(o.customerId, Math.min(first.get(o.customerId) ?? Infinity, o.at.getTime()));
    const groups = [true, false].map((control) => {
      const members = ids.filter((id) => inControl.has(id) === control);
      const inPeriod = orders.filter(
        (o) => inControl.has(o.customerId) === control && o.at.getTime() >= from && o.at.getTime() < to,
      );
      const buyers = new Set(inPeriod.map((o) => o.customerId));
      const repeat = members.filter((id) => (first.get(id) ?? Infinity) < from);
      return {
        customers: members.length,
        buyers: buyers.size,
        cents: inPeriod.reduce((s, o) => s + o.cents, 0),
        repeatCustomers: repeat.length,
        retained: repeat.filter((id) => buyers.has(id)).length,
      };
    });
    return { key, control: groups[0], marketed: groups[1] };
  }
  const counted = (p: ProgrammePeriod) =>
    Object.fromEntries(
      (['control', 'marketed'] as const).map((g) => [
        g,
        {
          customers: p[g].customers,
          buyers: p[g].buyers,
          cents: cents(p[g].revenue),
          repeatCustomers: p[g].repeatCustomers,
          retained: p[g].retained,
        },
      ]),
    );

  test('each month and the span count exactly what was generated', () => {
    assert.deepEqual(
      report.monthly.map((m) => m.period),
      [
        '2025-02',
        '2025-03',
        '2025-04',
        '2025-05',
        '2025-06',
        '2025-07',
        '2025-08',
        '2025-09',
        '2025-10',
        '2025-11',
        '2025-12',
        '2026-01',
      ],
    );
    for (const m of report.monthly) {
      const [y, mo] = m.period.split('-').map(Number);
      const want = expected(m.period, Date.UTC(y, mo - 1, 1), Math.min(Date.UTC(y, mo, 1), Date.parse('2026-01-15')));
      assert.deepEqual({ key: m.period, ...counted(m) }, want);
      assert.equal(m.marketed.purchaseRate, want.marketed.buyers / want.marketed.customers);
      assert.equal(m.control.purchaseRate, want.control.buyers / want.control.customers);
      assert.equal(m.control.retention, want.control.retained / want.control.repeatCustomers);
      assert.equal(m.complete, m.period !== '2026-01', 'only the month under way is incomplete');
    }
    const span = expected('span', Date.UTC(2025, 1, 1), Date.parse('2026-01-15'));
    assert.deepEqual({ key: 'span', ...counted(report.span) }, span);
    assert.equal(report.control.size, ids.filter((id) => inUniversalControl(id, share)).length);
    assert.equal(report.control.customers, n);
    assert.ok(
      Math.abs(report.control.size / n - share) < 0.01,
      `about 10 % in the control group: ${report.control.size}`,
    );
  });

  test('the intervals cover the planted effect: +2 points of buying and +1.20 of revenue a month', () => {
    const purchase = report.monthly.filter((m) => covers(m.purchase.comparison, 0.02)).length;
    assert.ok(purchase >= 10, `${purchase} of 12 monthly intervals cover +2 points`);
    const mean = report.monthly.reduce((s, m) => s + m.purchase.comparison!.difference, 0) / 12;
    assert.ok(Math.abs(mean - 0.02) < 0.005, `mean monthly difference ${mean}`);
    // 0.12 and 0.10 a month, 1.2 orders of 50.00 on average a buyer.
    const revenue = report.monthly.filter((m) => covers(m.revenuePerCustomer.comparison, 1.2)).length;
    assert.ok(revenue >= 10, `${revenue} of 12 monthly revenue intervals cover +1.20`);
    // Over twelve months: 1 − 0.88^12 against 1 − 0.90^12.
    const truth = 0.9 ** 12 - 0.88 ** 12;
    assert.ok(covers(report.span.purchase.comparison, truth), JSON.stringify(report.span.purchase));
    assert.ok(report.span.purchase.comparison!.p < 0.001);
    assert.equal(report.span.purchase.warning, null);
    const c = report.span.purchase.comparison!;
    const pct = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v * 100).toFixed(1)}`;
    assert.equal(
      report.headline,
      `Customers we market to bought ${(c.relative! * 100).toFixed(1)} % more often than the 10 % we never market to [${pct(c.relativeLow!)}, ${pct(c.relativeHigh!)}].`,
    );
    assert.ok(c.relativeLow! < truth / (1 - 0.9 ** 12) && truth / (1 - 0.9 ** 12) < c.relativeHigh!);
  });

  test('a small month says it cannot tell, in words', () => {
    // With about 2,000 in the control group a month's +2 points is near what it can see: where a
    // month's difference is neither significant nor as large as it would detect, the warning says so.
    for (const m of report.monthly) {
      const c = m.purchase.comparison!;
      if (c.p >= 0.05 && Math.abs(c.difference) < c.detectable)
        assert.ok(
          m.purchase.warning?.startsWith(
            `The control group of ${m.control.customers.toLocaleString('en')} is too small to detect an effect of the size seen on buying`,
          ),
          m.purchase.warning ?? 'no warning',
        );
      else assert.equal(m.purchase.warning, null);
    }
  });

  test('the control group is untouched, until marketing reaches some of its members', async () => {
    assert.deepEqual([report.control.touched, report.control.byProgramme], [0, []]);
    assert.equal(report.control.health, 'Untouched by every programme since 2025-02.');
    assert.ok(report.volume.every((v) => v.messages === 0));

    const control = ids.filter((id) => inUniversalControl(id, share));
    const marketed = ids.filter((id) => !inUniversalControl(id, share));
    const db = t.deps.db;
    const campaign = async (name: string, status: string) =>
      Number(
        (
          await queryRows<{ id: number }>(
            db,
            sql`insert into campaigns (name, kind, channel, arms, holdout_share, consent_list, time_zone, status, created_by, created_at)
            values (${name}, 'newsletter', 'email', '[]'::jsonb, 0.1, 'marketing', 'UTC', ${status}, 'test', '2025-01-01T00:00:00Z') returning id`,
          )
        )[0].id,
      );
    const member = (campaignId: number, customerId: number, status: string, at: string) =>
      db.execute(sql`insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at)
        values (${campaignId}, ${customerId}, ${status === 'holdout' ? 'control' : 'A'}, ${status}, ${at}::timestamptz, ${status === 'holdout' ? null : at}::timestamptz)`);
    // Planted: a campaign mailing one control member (and a marketed customer, and one control member
    // before the span); a campaign's holdout row; a journey's marketing mail to a control member (its
    // transactional mail to another does not count, nor its campaign row's ledger); an outbound
    // touchpoint of a campaign recorded from elsewhere, and a service call that is no campaign.
    const spring = await campaign('Spring sale', 'done');
    await member(spring, control[0], 'sent', '2025-04-03T10:00:00Z');
    await member(spring, marketed[0], 'sent', '2025-04-03T10:00:00Z');
    await member(spring, marketed[1], 'listed', '2025-04-04T10:00:00Z');
    await member(spring, control[1], 'holdout', '2025-04-03T10:00:00Z');
    const old = await campaign('Last winter', 'done');
    await member(old, control[2], 'sent', '2025-01-20T10:00:00Z');
    const journeyRow = await campaign('Win-back', 'journey');
    const [{ id: journeyId }] = await queryRows<{ id: number }>(
      db,
      sql`insert into journeys (name, trigger, steps, exit_on_order, holdout_share, consent_list, status, campaign_id, created_by, created_at, updated_at)
        values ('Win-back', '{"type":"stage","stage":"at_risk"}'::jsonb, '[]'::jsonb, true, 0.1, 'marketing', 'active', ${journeyRow}, 'test', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z') returning id`,
    );
    await member(journeyRow, control[3], 'sent', '2025-05-01T10:00:00Z');
    const step = (customerId: number, marketing: boolean, enrolment: number) =>
      db.execute(sql`insert into journey_steps (customer_id, enrolment_id, step, journey_id, kind, outcome, marketing, at)
        values (${customerId}, ${enrolment}, 0, ${journeyId}, 'email', 'sent', ${marketing}, '2025-06-10T10:00:00Z')`);
    await step(control[4], true, 1);
    await step(control[5], false, 2);
    await step(marketed[2], true, 3);
    const touchpoint = (customerId: number, campaignName: string | null, key: string) =>
      db.execute(sql`insert into touchpoints (customer_id, external_id, at, channel, direction, kind, campaign)
        values (${customerId}, ${key}, '2025-12-24T23:30:00Z', 'direct_mail', 'out', 'catalog_sent', ${campaignName})`);
    await touchpoint(control[6], 'Christmas catalogue', 'mailing-house-1');
    await touchpoint(control[7], null, 'call-1');

    const now: ProgrammeLift = await expectJson(t.call('GET', '/api/v1/programme/lift?months=12'));
    assert.equal(now.control.touched, 3);
    assert.deepEqual(now.control.byProgramme, [
      { programme: 'campaign "Christmas catalogue"', n: 1 },
      { programme: 'campaign "Spring sale"', n: 1 },
      { programme: 'journey "Win-back"', n: 1 },
    ]);
    assert.match(
      now.control.health,
      /^Contaminated: 3 of its members got marketing since 2025-02 \(campaign "Christmas catalogue": 1, campaign "Spring sale": 1, journey "Win-back": 1\)/,
    );
    const volume = Object.fromEntries(now.volume.filter((v) => v.messages > 0).map((v) => [v.month, v]));
    assert.deepEqual(volume, {
      '2025-04': { month: '2025-04', messages: 3, campaigns: 3, journeys: 0, elsewhere: 0 },
      '2025-06': { month: '2025-06', messages: 2, campaigns: 0, journeys: 2, elsewhere: 0 },
      '2025-12': { month: '2025-12', messages: 1, campaigns: 0, journeys: 0, elsewhere: 1 },
    });
    assert.equal(now.volume.length, 12);

    const text = programmeText(now);
    assert.match(
      text,
      /^The whole programme against the universal control group \(10\.0 % of customers; months in UTC\)\n/,
    );
    assert.ok(text.includes(now.headline));
    assert.match(
      text,
      /\n {2}2025-04: 3 messages; bought \d+\.\d % \/ \d+\.\d %, [+-]\d+\.\d \[[+-]\d+\.\d, [+-]\d+\.\d\] points/,
    );
    assert.match(text, /\n {2}2026-01 \(to date\): 0 messages/);
  });
});

describe('months follow the business time zone; retention on a store worked out by hand', () => {
  const share = 0.5;
  let t: TestApp;
  // Ids chosen by the hash: m* are marketed to, c* in the control group.
  const pick = (control: boolean, count: number) => {
    const out: number[] = [];
    for (let id = 1000; out.length < count; id++) if (inUniversalControl(id, share) === control) out.push(id);
    return out;
  };
  const [m1, m2, m3, m4, m5] = pick(false, 5);
  const [c1, c2, c3] = pick(true, 3);

  before(async () => {
    // Berlin is UTC+2 in summer time: 23:30 UTC on 31 March is 01:30 on 1 April there.
    t = await testApp('Europe/Berlin', share);
    setClock(t, '2026-05-20T12:00:00Z');
    const customers: [number, string, string[]][] = [
      [m1, '2026-01-05T10:00:00Z', []],
      [m2, '2026-01-05T10:00:00Z', []],
      [m3, '2026-01-05T10:00:00Z', []],
      [m4, '2026-03-31T23:30:00Z', []],
      [m5, '2026-01-05T10:00:00Z', ['erased']],
      [c1, '2026-01-05T10:00:00Z', []],
      [c2, '2026-01-05T10:00:00Z', []],
      // Created in Kept in April by an import, but a customer since February.
      [c3, '2026-04-15T10:00:00Z', []],
    ];
    for (const [id, created, flags] of customers)
      await t.deps.db.execute(sql`insert into customers (id, external_id, created_at, flags) overriding system value
        values (${id}, ${`H${id}`}, ${created}::timestamptz, ${array(flags)}::text[])`);
    const order = (customerId: number, at: string, amount: string) => ({
      customerId,
      at: new Date(at),
      cents: Math.round(Number(amount) * 100),
    });
    await insertOrders(t.deps.db, [
      order(m1, '2026-01-10T10:00:00Z', '20.00'),
      order(m1, '2026-03-31T23:30:00Z', '30.00'),
      order(m2, '2026-02-10T10:00:00Z', '20.00'),
      order(m2, '2026-03-31T21:30:00Z', '40.00'),
      order(m4, '2026-04-10T10:00:00Z', '15.00'),
      order(m5, '2026-03-10T10:00:00Z', '99.00'),
      order(c1, '2026-02-01T10:00:00Z', '10.00'),
      order(c1, '2026-03-15T10:00:00Z', '39.99'),
      order(c1, '2026-03-20T10:00:00Z', '10.01'),
      order(c2, '2026-03-05T10:00:00Z', '25.00'),
      order(c2, '2026-05-02T10:00:00Z', '5.00'),
      order(c3, '2026-02-20T10:00:00Z', '12.00'),
    ]);
    await refreshCustomers(t, [m1, m2, m3, m4, m5, c1, c2, c3]);
  });
  after(() => t.close());

  const figures = (p: ProgrammePeriod, g: 'control' | 'marketed') =>
    [p[g].customers, p[g].buyers, p[g].revenue, p[g].repeatCustomers, p[g].retained].join(' ');

  test('an order at 23:30 UTC on 31 March is April in Berlin; a customer created then counts from May', async () => {
    const report: ProgrammeLift = await expectJson(t.call('GET', '/api/v1/programme/lift?months=3'));
    assert.deepEqual(
      report.monthly.map((m) => [m.period, m.from, m.to, m.complete]),
      [
        ['2026-03', '2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z', true],
        ['2026-04', '2026-03-31T22:00:00.000Z', '2026-04-30T22:00:00.000Z', true],
        ['2026-05', '2026-04-30T22:00:00.000Z', '2026-05-20T12:00:00.000Z', false],
      ],
    );
    // customers, buyers, revenue, had ordered before, of them ordered again
    const [march, april, may] = report.monthly;
    assert.equal(figures(march, 'marketed'), '3 1 40.00 2 1', 'm2 at 23:30 Berlin on the 31st; m1 is April');
    assert.equal(figures(march, 'control'), '3 2 75.00 2 1', 'c1 twice (50.00) and c2 first; c3 came in February');
    assert.equal(figures(april, 'marketed'), '3 1 30.00 2 1', 'm1 at 01:30 on 1 April; m4 arrived in April');
    assert.equal(figures(april, 'control'), '3 0 0 3 0');
    assert.equal(figures(may, 'marketed'), '4 0 0 3 0', 'm4 from May, a repeat customer by then');
    assert.equal(figures(may, 'control'), '3 1 5.00 3 1');
    assert.equal(figures(report.span, 'marketed'), '3 2 70.00 2 2');
    assert.equal(figures(report.span, 'control'), '3 2 80.00 2 1');
    assert.equal(march.control.retention, 0.5);
    assert.equal(report.span.marketed.retention, 1);
    assert.equal(report.span.marketed.revenuePerCustomer, Number((70 / 3).toFixed(4)));
    // Three in each group: nothing to measure, and the report says so.
    assert.equal(
      report.headline,
      'Cannot tell yet: the control group has 3 customers who were with us at the start; at least 30 are needed.',
    );
    assert.match(
      report.span.retention.warning ?? '',
      /too small to measure anything: 2 in the control group, 2 marketed to/,
    );
    assert.equal(report.control.size, 3);
    assert.equal(report.control.customers, 7, 'the erased customer is not counted');
  });

  test('the months asked for are checked', async () => {
    for (const months of ['0', '37', 'x', '1.5'])
      await expectJson(t.call('GET', `/api/v1/programme/lift?months=${months}`), 400);
    const one: ProgrammeLift = await expectJson(t.call('GET', '/api/v1/programme/lift?months=1'));
    assert.deepEqual([one.monthly.map((m) => m.period), one.span.from], [['2026-05'], '2026-04-30T22:00:00.000Z']);
    const twelve: ProgrammeLift = await expectJson(t.call('GET', '/api/v1/programme/lift'));
    assert.equal(twelve.monthly.length, 12);
    assert.equal(twelve.monthly[0].marketed.customers, 0, 'June 2025: nobody yet');
  });
});

test('without a universal control group there is nothing to compare with, and the report says so', () => {
  const from = new Date('2026-01-01T00:00:00Z');
  const to = new Date('2026-01-20T00:00:00Z');
  const report = programmeLift({
    share: 0,
    timeZone: 'UTC',
    months: 1,
    now: to,
    periods: [
      { period: '2026-01', from, to },
      { period: 'span', from, to },
    ],
    tallies: [
      {
        period: '2026-01',
        control: false,
        customers: 100,
        buyers: 10,
        revenueText: '500.00',
        revenue: 500,
        squares: 25_000,
        repeatCustomers: 50,
        retained: 8,
      },
    ],
    volume: [{ month: '2026-01', source: 'campaigns', messages: 80 }],
    control: { size: 0, customers: 100, touched: 0, byProgramme: [] },
  });
  assert.match(report.headline, /^Cannot tell: there is no universal control group \(KEPT_UNIVERSAL_CONTROL is 0\)/);
  assert.equal(report.control.health, 'There is no universal control group: KEPT_UNIVERSAL_CONTROL is 0.');
  assert.deepEqual(
    [report.monthly[0].purchase.comparison, report.monthly[0].marketed.purchaseRate, report.span.control.customers],
    [null, 0.1, 0],
  );
  assert.deepEqual(report.volume, [{ month: '2026-01', messages: 80, campaigns: 80, journeys: 0, elsewhere: 0 }]);
});
