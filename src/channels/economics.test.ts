// Channel economics on a store with a planted truth: customers acquired through social come back
// 45 % of the time, through display 20 %, through web 32 %; twelve through direct mail are too
// few. Problems without a channel are placed by their order's channel, costs give a known margin
// and cost per retained customer, and the recommendation follows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { channelsText } from './economics.command.ts';
import { channelEconomicsReport } from './economics.service.ts';
import { monthsSince, type Economics } from './economics.ts';

let t: TestApp;
const now = new Date('2026-06-01T12:00:00Z');
const day = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const firstOrderDay = Date.UTC(2025, 0, 10, 10);

/**
 * Per acquisition channel: 200 (12 for direct mail) first orders between 10 January and 19 April
 * 2025, a second order 40 days later for `second` of them, an order in February 2026 for `recent`
 * of them. Social customers got an email 5 days before their first order (so it followed the
 * email); display customers a catalogue 60 days before (too early to count).
 */
function store(): unknown[] {
  const events: unknown[] = [];
  const groups = [
    { prefix: 'S', channel: 'social', size: 200, second: 90, recent: 80, first: 'mobile' },
    { prefix: 'D', channel: 'display', size: 200, second: 40, recent: 30, first: 'web' },
    { prefix: 'W', channel: 'web', size: 200, second: 64, recent: 50, first: 'web' },
    { prefix: 'M', channel: 'direct_mail', size: 12, second: 6, recent: 0, first: 'phone' },
  ];
  const order = (id: string, customer: string, at: number, channel: string, amount: string) => ({
    id: `order-${id}`,
    type: 'order',
    customer: { externalId: customer },
    orderId: id,
    at: iso(at),
    channel,
    currency: 'EUR',
    lines: [{ product: 'Towel', amount }],
  });
  for (const g of groups) {
    for (let i = 1; i <= g.size; i++) {
      const who = `${g.prefix}${i}`;
      const first = firstOrderDay + (i % 100) * day;
      events.push({
        id: `u-${who}`,
        type: 'customer.upsert',
        customer: { externalId: who },
        acquisitionChannel: g.channel,
      });
      events.push(order(`${who}-1`, who, first, g.first, '50.00'));
      if (i <= g.second) events.push(order(`${who}-2`, who, first + 40 * day, 'store', '30.00'));
      if (i <= g.recent) events.push(order(`${who}-3`, who, Date.UTC(2026, 1, 1) + (i % 20) * day, 'web', '40.00'));
      if (g.prefix === 'S' || g.prefix === 'D')
        events.push({
          id: `t-${who}`,
          type: 'touchpoint',
          customer: { externalId: who },
          at: iso(first - (g.prefix === 'S' ? 5 : 60) * day),
          channel: g.prefix === 'S' ? 'email' : 'direct_mail',
          direction: 'out',
          kind: g.prefix === 'S' ? 'email_sent' : 'catalog_sent',
        });
    }
  }
  // Social customers seen too recently to count, and social prospects who never bought.
  for (let i = 1; i <= 20; i++) {
    events.push({
      id: `u-R${i}`,
      type: 'customer.upsert',
      customer: { externalId: `R${i}` },
      acquisitionChannel: 'social',
    });
    events.push(order(`R${i}-1`, `R${i}`, Date.UTC(2026, 3, 1), 'mobile', '50.00'));
  }
  for (let i = 1; i <= 5; i++)
    events.push({
      id: `u-P${i}`,
      type: 'customer.upsert',
      customer: { externalId: `P${i}` },
      acquisitionChannel: 'social',
    });
  // Returns of 10.00 on the first orders of S1..S20.
  for (let i = 1; i <= 20; i++)
    events.push({
      id: `ret-S${i}`,
      type: 'return',
      customer: { externalId: `S${i}` },
      returnId: `R-S${i}`,
      orderId: `S${i}-1`,
      at: iso(firstOrderDay + (i % 100) * day + 3 * day),
      amount: '10.00',
      reasonCode: 'damaged',
    });
  // Problems: 30 incidents naming no channel on display customers' store orders (placed in store by
  // their order), 10 phone-free tickets opened in store by web customers, 12 incidents on the web for
  // social customers, and one incident with neither channel nor order (placed by nothing).
  for (let i = 1; i <= 30; i++)
    events.push({
      id: `inc-D${i}`,
      type: 'incident',
      customer: { externalId: `D${i}` },
      at: iso(firstOrderDay + (i % 100) * day + 42 * day),
      kind: 'damaged',
      orderId: `D${i}-2`,
    });
  for (let i = 1; i <= 10; i++)
    events.push({
      id: `tic-W${i}`,
      type: 'ticket.opened',
      customer: { externalId: `W${i}` },
      ticketId: `T-W${i}`,
      at: iso(firstOrderDay + (i % 100) * day + 2 * day),
      channel: 'store',
      category: 'question',
    });
  for (let i = 1; i <= 12; i++)
    events.push({
      id: `inc-S${i}`,
      type: 'incident',
      customer: { externalId: `S${i}` },
      at: iso(firstOrderDay + (i % 100) * day + day),
      kind: 'portal_abandoned',
      channel: 'web',
    });
  events.push({
    id: 'inc-M1',
    type: 'incident',
    customer: { externalId: 'M1' },
    at: iso(firstOrderDay + 5 * day),
    kind: 'payment_failed',
  });
  // NPS: social 12 promoters (10), 4 passives (8), 4 detractors (4); display 2 (10), 3 (7), 5 (3).
  const nps = [
    ...Array.from({ length: 20 }, (_, i) => ({ who: `S${i + 1}`, score: i < 12 ? 10 : i < 16 ? 8 : 4 })),
    ...Array.from({ length: 10 }, (_, i) => ({ who: `D${i + 1}`, score: i < 2 ? 10 : i < 5 ? 7 : 3 })),
  ];
  for (const a of nps)
    events.push({
      id: `nps-${a.who}`,
      type: 'survey.response',
      customer: { externalId: a.who },
      at: '2025-07-01T10:00:00Z',
      survey: 'nps',
      question: 'How likely are you to recommend us?',
      score: a.score,
    });
  return events;
}

/** A current analysis whose predicted value is 120 (social), 100 (display, direct mail) or 110 (web), ± 10. */
async function plantScores() {
  const [run] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`insert into analysis_runs (as_of, model_version, activity_model, status, current, finished_at)
      values ('2026-06-01', 'test', 'bgnbd', 'done', true, now()) returning id`,
  );
  await t.deps.db.execute(sql`
    insert into scores (customer_id, run_id, as_of, model_version, frequency, recency_days, age_days, p_alive,
      churn_probability, expected_30, expected_90, expected_365, historic_value, recency_score, frequency_score,
      monetary_score, stage, reasons, predicted_value_365, satisfaction)
    select c.id, ${run.id}, '2026-06-01', 'test', 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0, 1, 1, 1, 'trial', '{}',
      case left(c.external_id, 1) when 'S' then 120 when 'W' then 110 else 100 end
        + case when substr(c.external_id, 2)::int % 2 = 0 then 10 else -10 end,
      case left(c.external_id, 1) when 'S' then 70 when 'D' then 40 end
    from customers c where c.external_id ~ '^[SDWM][0-9]+$'`);
  return run.id;
}

let runId: number;
before(async () => {
  t = await createTestApp('admin');
  (t.deps.clock as { now: () => Date }).now = () => now;
  const events = store();
  for (let i = 0; i < events.length; i += 1000) {
    const result = await ingestEvents(t.deps, events.slice(i, i + 1000), { source: 'test' });
    assert.equal(result.rejected, 0, JSON.stringify(result.results.filter((r) => r.status === 'rejected').slice(0, 3)));
  }
  runId = await plantScores();
});
after(async () => {
  await t.close();
});

const kind = (report: Economics, name: string) => report.kinds.find((k) => k.kind === name)!;
const row = (report: Economics, kindName: string, channel: string) => {
  const found = kind(report, kindName).channels.find((c) => c.channel === channel);
  assert.ok(found, `${kindName} channel ${channel}`);
  return found;
};

test('per acquisition channel: customers, orders, revenue, returns, problems per 1,000 orders, satisfaction, second purchase, retention, predicted value', async () => {
  const report = await channelEconomicsReport(t.deps);
  assert.equal(report.currency, 'EUR');
  assert.deepEqual(report.run, { id: runId, asOf: '2026-06-01' });
  const social = row(report, 'acquisition', 'social');
  assert.equal(social.customers, 225, '200 + 20 too recent + 5 prospects');
  assert.equal(social.buyers, 220);
  assert.equal(social.orders, 390);
  assert.equal(social.revenue, '16900.00');
  assert.deepEqual(social.returns, { count: 20, amount: '200.00' });
  assert.equal(social.problems.total, 12);
  assert.equal(social.problems.perThousandOrders, 30.77);
  assert.deepEqual(
    { n: social.secondPurchase.n, x: social.secondPurchase.x, rate: social.secondPurchase.rate },
    { n: 200, x: 90, rate: 0.45 },
    'the 20 first orders of April 2026 are too recent to count',
  );
  assert.ok(social.secondPurchase.low! < 0.45 && social.secondPurchase.high! > 0.45);
  assert.ok(Math.abs(social.secondPurchase.low! - 0.3822) < 0.001, `Wilson low ${social.secondPurchase.low}`);
  assert.deepEqual({ n: social.retention.n, x: social.retention.x }, { n: 200, x: 80 });
  assert.deepEqual(social.predictedValue, { customers: 200, mean: 120 });
  assert.deepEqual(social.satisfaction, {
    answers: 20,
    meanScore: 84,
    npsAnswers: 20,
    nps: 40,
    indexed: 200,
    meanIndex: 70,
  });

  const display = row(report, 'acquisition', 'display');
  assert.equal(display.orders, 270);
  assert.equal(display.revenue, '12400.00');
  assert.equal(display.problems.total, 30);
  assert.equal(display.problems.perThousandOrders, 111.11);
  assert.deepEqual([display.secondPurchase.x, display.secondPurchase.n], [40, 200]);
  assert.deepEqual([display.retention.x, display.retention.n], [30, 200]);
  assert.equal(display.satisfaction.nps, -30);
  assert.equal(display.satisfaction.meanScore, 56);
  assert.equal(display.predictedValue.mean, 100);

  const web = row(report, 'acquisition', 'web');
  assert.equal(web.orders, 314);
  assert.equal(web.problems.tickets, 10);
  assert.equal(web.problems.perThousandOrders, 31.85);
  assert.deepEqual([web.secondPurchase.x, web.secondPurchase.n], [64, 200]);
  assert.equal(web.satisfaction.nps, null, 'no NPS answers');
  assert.equal(web.satisfaction.meanIndex, null);
  assert.equal(row(report, 'acquisition', 'direct_mail').problems.perThousandOrders, 55.56);
  assert.equal(kind(report, 'acquisition').problems.unplaced, 0, 'every problem has a customer');
});

test('by order channel, a problem without a channel takes its order channel; by contact channel, an order follows the latest contact within 30 days', async () => {
  const report = await channelEconomicsReport(t.deps);
  const store = row(report, 'order', 'store');
  assert.equal(store.orders, 200);
  assert.deepEqual(
    { incidents: store.problems.incidents, tickets: store.problems.tickets, viaOrder: store.problems.viaOrder },
    { incidents: 30, tickets: 10, viaOrder: 30 },
  );
  assert.equal(store.problems.perThousandOrders, 200, '40 problems on 200 store orders');
  const web = row(report, 'order', 'web');
  assert.equal(web.orders, 560);
  assert.equal(web.problems.perThousandOrders, 21.43, '12 on 560');
  assert.equal(row(report, 'order', 'mobile').problems.total, 0);
  assert.equal(row(report, 'order', 'mobile').customers, 220, 'buyers whose first order was on mobile');
  assert.deepEqual(kind(report, 'order').problems, { total: 53, viaOrder: 30, unplaced: 1 });

  const email = row(report, 'contact', 'email');
  assert.equal(email.customers, 200);
  assert.equal(email.contacts, 200);
  assert.equal(email.orders, 200, 'only the first orders: the email was 45 days before the second');
  assert.equal(email.revenue, '10000.00');
  assert.deepEqual(email.returns, { count: 20, amount: '200.00' });
  assert.deepEqual([email.secondPurchase.x, email.secondPurchase.n], [90, 200]);
  const catalogue = row(report, 'contact', 'direct_mail');
  assert.deepEqual(
    [catalogue.contacts, catalogue.orders, catalogue.customers],
    [200, 0, 0],
    '60 days before: too early',
  );
  assert.equal(row(report, 'contact', 'none').problems.total, 30, 'the display incidents, through their orders');
  assert.equal(kind(report, 'contact').problems.unplaced, 23, 'problems without an order');

  const cell = (from: string, to: string) => report.movement.cells.find((c) => c.from === from && c.to === to);
  assert.deepEqual(cell('social', 'store'), { from: 'social', to: 'store', orders: 90, customers: 90 });
  assert.deepEqual(cell('social', 'web'), { from: 'social', to: 'web', orders: 80, customers: 80 });
  assert.deepEqual(cell('display', 'store'), { from: 'display', to: 'store', orders: 40, customers: 40 });
  assert.equal(cell('social', 'mobile'), undefined, 'first orders are not movement');
  assert.equal(
    report.movement.cells.reduce((s, c) => s + c.orders, 0),
    90 + 80 + 40 + 30 + 64 + 50 + 6,
  );
});

test('costs: set by a marketer, audited, refused to an analyst; margin and cost per retained customer come out as planted', async () => {
  const analyst = await createApiKey(t.deps, 'analyst', 'analyst');
  const marketer = await createApiKey(t.deps, 'marketer', 'marketer');
  const as = (key: string, method: string, path: string, body?: unknown) =>
    t.app.request(path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const costs = [
    { kind: 'acquisition', channel: 'social', per: 'customer', amount: '12.00' },
    { kind: 'acquisition', channel: 'display', per: 'customer', amount: 20 },
    { kind: 'order', channel: 'store', per: 'month', amount: '50' },
    { kind: 'contact', channel: 'email', per: 'contact', amount: '0.50' },
  ];
  await expectJson(as(analyst.key, 'PUT', '/api/v1/channels/costs', { costs }), 403);
  const issues = async (body: unknown) =>
    (await expectJson(t.call('PUT', '/api/v1/channels/costs', body), 400)).error.details.issues
      .map((i: { path: string }) => i.path)
      .sort();
  assert.deepEqual(
    await issues({
      costs: [
        { kind: 'acquisition', channel: 'social', per: 'contact', amount: '1' },
        { kind: 'acquisition', channel: 'social', per: 'order', amount: '1' },
      ],
    }),
    ['costs.0.per', 'costs.1.channel'],
    'a cost per contact of an acquisition channel; a second cost for the same channel',
  );
  assert.deepEqual(await issues({ costs: [{ kind: 'order', channel: 'tv', per: 'order', amount: '-1' }] }), [
    'costs.0.amount',
    'costs.0.channel',
  ]);
  assert.equal((await expectJson(t.call('GET', '/api/v1/channels/costs'))).costs.length, 0, 'nothing saved');

  const saved = await expectJson(as(marketer.key, 'PUT', '/api/v1/channels/costs', { costs }));
  assert.equal(saved.costs.length, 4);
  assert.equal(saved.costs.find((c: { channel: string }) => c.channel === 'display').amount, '20.00');
  assert.equal(saved.costs[0].updatedBy, 'key:marketer');
  const read = await expectJson(as(analyst.key, 'GET', '/api/v1/channels/costs'));
  assert.deepEqual(read, saved);
  const [entry] = await queryRows<{ actor: string; target: string; detail: { changes: unknown[] } }>(
    t.deps.db,
    sql`select actor, target, detail from audit_log where action = 'channel_costs.changed' order by id desc limit 1`,
  );
  assert.equal(entry.actor, 'key:marketer');
  assert.equal(entry.detail.changes.length, 4);
  assert.deepEqual(entry.detail.changes[0], {
    kind: 'acquisition',
    channel: 'social',
    from: null,
    to: { per: 'customer', amount: '12.00' },
  });

  const report = await expectJson(as(analyst.key, 'GET', '/api/v1/channels/economics'));
  const social = row(report, 'acquisition', 'social');
  assert.deepEqual(social.cost, { per: 'customer', amount: '12.00', units: 225, total: '2700.00' });
  assert.equal(social.margin, '14000.00', '16900 - 200 returned - 225 x 12');
  assert.equal(social.costPerRetained, '33.75', '2700 / 80 retained');
  const display = row(report, 'acquisition', 'display');
  assert.equal(display.margin, '8400.00');
  assert.equal(display.costPerRetained, '133.33');
  const months = monthsSince(new Date(firstOrderDay), now);
  assert.equal(report.months, months);
  assert.equal(months, 16.66, '507 days and 2 hours');
  const store = row(report, 'order', 'store');
  assert.equal(store.cost?.total, (50 * months).toFixed(2));
  assert.equal(store.margin, (6000 - 50 * months).toFixed(2));
  const email = row(report, 'contact', 'email');
  assert.equal(email.margin, '9700.00', '10000 - 200 returned - 200 contacts x 0.50');
  assert.equal(email.costPerRetained, '1.25');
  assert.equal(row(report, 'acquisition', 'web').margin, null, 'no cost set: no margin');

  // Changing one cost leaves the others as they were set, and only the change is recorded.
  await expectJson(
    t.call('PUT', '/api/v1/channels/costs', {
      costs: [...costs.slice(0, 3), { kind: 'contact', channel: 'email', per: 'contact', amount: '0.60' }],
    }),
  );
  const after = await expectJson(t.call('GET', '/api/v1/channels/costs'));
  const by = Object.fromEntries(
    after.costs.map((c: { channel: string; updatedBy: string }) => [c.channel, c.updatedBy]),
  );
  assert.deepEqual(by, { social: 'key:marketer', display: 'key:marketer', store: 'key:marketer', email: 'key:test' });
  const [last] = await queryRows<{ target: string }>(
    t.deps.db,
    sql`select target from audit_log where action = 'channel_costs.changed' order by id desc limit 1`,
  );
  assert.equal(last.target, 'contact:email');
  await expectJson(t.call('PUT', '/api/v1/channels/costs', { costs }));
});

test('the recommendation: emphasise social, de-emphasise display, keep web, direct mail too small', async () => {
  const report = await channelEconomicsReport(t.deps);
  const verdict = Object.fromEntries(report.recommendations.map((r) => [r.channel, r.verdict]));
  assert.deepEqual(verdict, { social: 'emphasise', display: 'de_emphasise', web: 'keep', direct_mail: 'too_small' });
  const social = report.recommendations.find((r) => r.channel === 'social')!;
  assert.equal(social.secondPurchase!.rest, Number((110 / 412).toFixed(4)));
  assert.ok(social.secondPurchase!.low > 0, 'the interval of the difference excludes 0');
  assert.match(
    social.evidence,
    /^Customers from social come back 45 % of the time against 27 % for the others \[\+\d+, \+\d+ points\]; their predicted value is 1\d % higher \[\+\d+, \+\d+ %\]; each retained customer costs 33\.75 EUR against 133\.33 EUR for the other channels with costs \(clearly less\): emphasise$/,
  );
  const display = report.recommendations.find((r) => r.channel === 'display')!;
  assert.ok(display.secondPurchase!.high < 0);
  assert.match(display.evidence, /come back 20 % of the time against 39 % for the others \[-\d+, -\d+ points\]/);
  assert.match(display.evidence, /: de-emphasise$/);
  const web = report.recommendations.find((r) => r.channel === 'web')!;
  assert.ok(web.secondPurchase!.low < 0 && web.secondPurchase!.high > 0);
  assert.match(web.evidence, /their predicted value is much the same .*: no clear difference, keep$/);
  const small = report.recommendations.find((r) => r.channel === 'direct_mail')!;
  assert.equal(small.evidence, 'Too few customers to say (n = 12)');
  assert.equal(small.secondPurchase, null);

  const text = channelsText(report);
  assert.match(text, /By acquisition channel/);
  assert.match(text, /\n {2}social {2}225 {2}390 {2}16900\.00 EUR {2}14000\.00 EUR/);
  assert.match(
    text,
    /problems: 53, 30 placed by their order's channel \(they named none\), 1 with no channel or order/,
  );
  assert.match(text, /\n {2}direct_mail: Too few customers to say \(n = 12\)/);
});

test('an empty store answers with empty tables, no recommendation and the no-analysis warning', async () => {
  const empty = await createTestApp('analyst');
  try {
    const report = await expectJson(empty.call('GET', '/api/v1/channels/economics'));
    assert.deepEqual(
      report.kinds.map((k: Economics['kinds'][number]) => [k.kind, k.channels.length, k.problems.total]),
      [
        ['acquisition', 0, 0],
        ['order', 0, 0],
        ['contact', 0, 0],
      ],
    );
    assert.deepEqual([report.months, report.currency, report.run, report.recommendations], [0, null, null, []]);
    assert.deepEqual(report.movement, { from: [], to: [], cells: [] });
    assert.match(report.warnings[0], /^No analysis yet/);
    await expectJson(empty.call('PUT', '/api/v1/channels/costs', { costs: [] }), 403);
  } finally {
    await empty.close();
  }
});
