import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { random } from '../shared/random.ts';
import type { Condition, Rule } from './segment.ts';

let t: TestApp;
const now = '2026-06-30T12:00:00Z';
const who = (externalId: string) => ({ externalId, email: `${externalId.toLowerCase()}@example.com` });
const order = (customer: string, orderId: string, at: string, lines: { product: string; category?: string; amount: string }[], channel = 'web') =>
  ({ id: `${customer}-${orderId}`, type: 'order', customer: who(customer), orderId, at, channel, lines });

before(async () => {
  t = await createTestApp('admin');
  (t.deps.clock as { now: () => Date }).now = () => new Date(now);
  const stored = await ingestEvents(t.deps, [
    { id: 'a', type: 'customer.upsert', customer: who('A'), name: 'Ana Costa', acquisitionChannel: 'web', attributes: { tier: 'gold', birth_year: 1980, vip: true, joined: '2024-03-01' } },
    { id: 'b', type: 'customer.upsert', customer: who('B'), name: 'Ben Okafor', acquisitionChannel: 'store', attributes: { tier: 'bronze', birth_year: 1995, vip: false, joined: '2025-09-01' } },
    { id: 'c', type: 'customer.upsert', customer: who('C'), name: 'Chloé Weber', acquisitionChannel: 'social', attributes: { tier: 'silver', birth_year: 2001 } },
    { id: 'd', type: 'customer.upsert', customer: who('D'), name: 'Dmitri Petrov', acquisitionChannel: 'web' },
    { id: 'e', type: 'customer.upsert', customer: who('E'), name: '100% Cotton Ltd', acquisitionChannel: 'email' },
    // A: three orders, towels and bedding, the last recent; B: one old store order of a knife; C: one recent mug
    order('A', 'A1', '2025-07-01T10:00:00Z', [{ product: 'Bath towel, ocean blue', category: 'towels', amount: '24.00' }]),
    order('A', 'A2', '2026-03-01T10:00:00Z', [{ product: 'Linen duvet cover', category: 'bedding', amount: '119.00' }]),
    order('A', 'A3', '2026-06-20T10:00:00Z', [{ product: 'Hand towel, grey', category: 'towels', amount: '12.00' }, { product: 'Olive soap', category: 'bath', amount: '7.00' }]),
    order('B', 'B1', '2025-01-10T10:00:00Z', [{ product: 'Chef knife', category: 'kitchen', amount: '79.00' }], 'store'),
    order('C', 'C1', '2026-06-10T10:00:00Z', [{ product: 'Stoneware mug', category: 'kitchen', amount: '14.00' }]),
    { id: 'r1', type: 'return', customer: who('A'), returnId: 'R1', orderId: 'A3', at: '2026-06-25T10:00:00Z', amount: '12.00', reasonCode: 'wrong_item' },
    { id: 't1', type: 'ticket.opened', customer: who('C'), ticketId: 'T1', at: '2026-06-12T10:00:00Z', category: 'damaged' },
    { id: 'i1', type: 'incident', customer: who('C'), at: '2026-06-11T10:00:00Z', kind: 'damaged' },
    { id: 's1', type: 'survey.response', customer: who('A'), at: '2026-06-22T10:00:00Z', survey: 'nps', question: 'Recommend us?', score: 9 },
    { id: 's2', type: 'survey.response', customer: who('C'), at: '2026-06-15T10:00:00Z', survey: 'nps', question: 'Recommend us?', score: 3 },
    { id: 'k1', type: 'consent', customer: who('A'), at: '2025-01-01T00:00:00Z', granted: true },
    { id: 'k2', type: 'consent', customer: who('B'), at: '2025-01-01T00:00:00Z', granted: true },
    { id: 'k3', type: 'consent', customer: who('B'), at: '2026-01-01T00:00:00Z', granted: false, wording: 'Unsubscribed from the footer link' },
    { id: 'f1', type: 'status.change', customer: who('D'), at: '2026-01-01T00:00:00Z', flag: 'do_not_contact', active: true },
  ], { source: 'test' });
  assert.deepEqual(stored.results.filter((r) => r.status !== 'accepted'), []);
});
after(async () => { await t.close(); });

const preview = async (rule: Rule) => {
  const response = await t.call('POST', '/api/v1/segments/preview', { rule });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body as { customers: number; sample: { externalId: string }[]; byStage: Record<string, number>; scored: boolean };
};
const matching = async (...conditions: (Condition | Rule)[]) => (await preview({ match: 'all', conditions })).sample.map((m) => m.externalId).sort().join('');

test('each kind of condition selects exactly the customers it describes', async () => {
  const cases: [Condition, string][] = [
    [{ field: 'name', op: 'contains', value: 'PET' }, 'D'],
    [{ field: 'name', op: 'contains', value: '100%' }, 'E'],
    [{ field: 'name', op: 'starts_with', value: 'chloé' }, 'C'],
    [{ field: 'email', op: 'is', value: 'B@EXAMPLE.COM' }, 'B'],
    [{ field: 'acquisition_channel', op: 'in', value: ['web', 'email'] }, 'ADE'],
    [{ field: 'acquisition_channel', op: 'is_not', value: 'web' }, 'BCE'],
    [{ field: 'stage', op: 'is', value: 'customer' }, 'A'],
    [{ field: 'stage', op: 'in', value: ['trial', 'prospect'] }, 'BCE'],
    [{ field: 'flag', op: 'has', value: 'do_not_contact' }, 'D'],
    [{ field: 'flag', op: 'has_not', value: 'do_not_contact' }, 'ABCE'],
    [{ field: 'last_order_at', op: 'in_last_days', value: 30 }, 'AC'],
    [{ field: 'last_order_at', op: 'not_in_last_days', value: 30 }, 'BDE'],
    [{ field: 'first_order_at', op: 'before', value: '2025-07-01' }, 'B'],
    [{ field: 'first_order_at', op: 'after', value: '2025-06-30' }, 'AC'],
    [{ field: 'attribute', key: 'tier', op: 'is', value: 'Gold' }, 'A'],
    [{ field: 'attribute', key: 'birth_year', op: 'gte', value: 1995 }, 'BC'],
    [{ field: 'attribute', key: 'vip', op: 'is_true' }, 'A'],
    [{ field: 'attribute', key: 'joined', op: 'after', value: '2025-01-01' }, 'B'],
    [{ field: 'attribute', key: 'tier', op: 'is_not_set' }, 'DE'],
    [{ field: 'orders', op: 'at_least', value: 2 }, 'A'],
    [{ field: 'orders', op: 'at_least', value: 1, days: 30 }, 'AC'],
    [{ field: 'orders', op: 'exactly', value: 0 }, 'DE'],
    [{ field: 'orders', op: 'at_least', value: 1, filter: 'store' }, 'B'],
    [{ field: 'spend', op: 'at_least', value: 100 }, 'A'],
    [{ field: 'spend', op: 'at_least', value: 50, days: 365 }, 'A'],
    [{ field: 'category_bought', op: 'is', value: 'Kitchen' }, 'BC'],
    [{ field: 'category_bought', op: 'is', value: 'towels', days: 90 }, 'A'],
    [{ field: 'category_bought', op: 'is_not', value: 'kitchen' }, 'ADE'],
    [{ field: 'product_bought', op: 'contains', value: 'towel' }, 'A'],
    [{ field: 'returns', op: 'at_least', value: 1, filter: 'wrong_item' }, 'A'],
    [{ field: 'tickets', op: 'at_least', value: 1, days: 60, filter: 'damaged' }, 'C'],
    [{ field: 'incidents', op: 'at_most', value: 0 }, 'ABDE'],
    [{ field: 'survey_score', key: 'nps', op: 'at_most', value: 6 }, 'C'],
    [{ field: 'survey_score', op: 'at_least', value: 9, days: 30 }, 'A'],
    [{ field: 'consent', op: 'granted' }, 'A'],
    [{ field: 'consent', op: 'withdrawn' }, 'B'],
    [{ field: 'consent', op: 'not_granted' }, 'BCDE'],
  ];
  for (const [condition, expected] of cases) assert.equal(await matching(condition), expected, JSON.stringify(condition));
});

test('groups combine with AND and OR, nested', async () => {
  const rule: Rule = { match: 'any', conditions: [
    { match: 'all', conditions: [{ field: 'category_bought', op: 'is', value: 'kitchen' }, { field: 'last_order_at', op: 'in_last_days', value: 90 }] },
    { field: 'flag', op: 'has', value: 'do_not_contact' },
  ] };
  const result = await preview(rule);
  assert.deepEqual([result.customers, result.sample.map((m) => m.externalId).sort()], [2, ['C', 'D']]);
  assert.deepEqual(result.byStage, { suppressed: 1, trial: 1 });
  assert.equal((await preview({ match: 'all', conditions: [] })).customers, 5, 'an empty rule is everyone');
  assert.equal((await preview({ match: 'any', conditions: [] })).customers, 0);
});

test('a wrong rule is refused with the path of the condition, what was found and what was expected', async () => {
  const response = await t.call('POST', '/api/v1/segments/preview', { rule: { match: 'all', conditions: [
    { field: 'orders', op: 'at_least', value: 'two' },
    { match: 'any', conditions: [{ field: 'stage', op: 'is', value: 'gone' }, { field: 'attribute', key: 'tier', op: 'gt', value: 3 }] },
    { field: 'score', key: 'shoe_size', op: 'gt', value: 1 },
    { field: 'name', op: 'resembles', value: 'x' },
  ] } });
  assert.equal(response.status, 400);
  const { error } = await response.json();
  assert.deepEqual(error.details.issues, [
    { path: 'rule.conditions.0.value', message: 'expected a number, found "two"' },
    { path: 'rule.conditions.1.conditions.0.value', message: 'expected one of prospect, trial, customer, best, at_risk, lapsed, won_back, suppressed, found "gone"' },
    { path: 'rule.conditions.1.conditions.1.op', message: 'tier is a text attribute: it takes is, is_not, contains, is_set, is_not_set' },
    { path: 'rule.conditions.2.key', message: 'unknown score "shoe_size"; scores: p_alive, churn_probability, expected_90, expected_365, predicted_value_365, historic_value, value_at_stake, expected_order_value, frequency, recency_days, average_days_between, recency_score, frequency_score, monetary_score, satisfaction' },
    { path: 'rule.conditions.3.op', message: 'name takes is, is_not, contains, starts_with, is_set, is_not_set; found "resembles"' },
  ]);
  const unknownField = await t.call('POST', '/api/v1/segments', { name: 'x', rule: { match: 'all', conditions: [{ field: 'shoe', op: 'is', value: 'x' }] } });
  assert.equal(unknownField.status, 400);
  assert.match(JSON.stringify(await unknownField.json()), /rule\.conditions\.0/);
  assert.equal((await (await t.call('GET', '/api/v1/segments')).json()).segments.length, 0, 'nothing saved');
});

test('a snapshot keeps who matched when it was taken; a dynamic segment follows the data; scores need an analysis', async () => {
  const rule: Rule = { match: 'all', conditions: [{ field: 'orders', op: 'at_least', value: 1, days: 30 }] };
  const dynamic = await (await t.call('POST', '/api/v1/segments', { name: 'Bought this month', rule })).json();
  const snapshot = await (await t.call('POST', '/api/v1/segments', { name: 'Bought this month (June list)', kind: 'snapshot', rule })).json();
  assert.deepEqual([dynamic.kind, dynamic.members, snapshot.kind, snapshot.members], ['dynamic', null, 'snapshot', 2]);
  await ingestEvents(t.deps, [order('D', 'D1', '2026-06-29T10:00:00Z', [{ product: 'Candle, fig', category: 'candles', amount: '28.00' }])], { source: 'test' });
  const count = async (id: number) => (await (await t.call('GET', `/api/v1/segments/${id}`)).json()).summary.customers;
  assert.deepEqual([await count(dynamic.id), await count(snapshot.id)], [3, 2]);
  const members = await (await t.call('GET', `/api/v1/segments/${snapshot.id}/customers`)).json();
  assert.deepEqual(members.customers.map((m: { externalId: string }) => m.externalId), ['A', 'C']);
  const refreshed = await (await t.call('POST', `/api/v1/segments/${snapshot.id}/refresh`)).json();
  assert.equal(refreshed.members, 3);
  assert.equal((await t.call('POST', `/api/v1/segments/${dynamic.id}/refresh`)).status, 409);

  const scored = await preview({ match: 'all', conditions: [{ field: 'score', key: 'p_alive', op: 'gt', value: 0 }] });
  assert.deepEqual([scored.scored, scored.customers], [false, 0], 'before the first analysis no one has scores');

  const { key } = await createApiKey(t.deps, 'agent', 'agent');
  const asAgent = await t.app.request('/api/v1/segments', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', rule }) });
  assert.equal(asAgent.status, 403);
  assert.equal((await t.call('DELETE', `/api/v1/segments/${dynamic.id}`)).status, 204);
  assert.equal((await t.call('GET', `/api/v1/segments/${dynamic.id}`)).status, 404);
});

test('order counts, spend and consent kept on the customer row select what the order history and the consent ledger say', async () => {
  // 60 customers with 0 to 14 orders over two years (more than the row keeps, so the fallback runs
  // too), sent in two batches, the second with older consent entries arriving after newer ones.
  const rng = random(7);
  const events: object[] = [];
  for (let i = 0; i < 60; i++) {
    const id = `H${i}`;
    events.push({ id: `hu${i}`, type: 'customer.upsert', customer: who(id), name: `History ${i}` });
    const orders = Math.floor(rng() * 15);
    for (let k = 0; k < orders; k++) {
      const at = new Date(Date.parse(now) - Math.floor(rng() * 730 * 86_400_000)).toISOString();
      events.push(order(id, `${id}-${k}`, at, [{ product: 'Tea towel', amount: (5 + Math.floor(rng() * 60)).toFixed(2) }]));
    }
    if (i % 3 !== 2) events.push({ id: `hk${i}`, type: 'consent', customer: who(id), at: '2026-02-01T00:00:00Z', granted: i % 3 === 0 });
  }
  const late = Array.from({ length: 20 }, (_, i) => ({ id: `hl${i}`, type: 'consent', customer: who(`H${i}`), at: '2025-02-01T00:00:00Z', granted: i % 3 !== 0 }));
  const half = Math.floor(events.length / 2);
  for (const batch of [events.slice(0, half), events.slice(half), late]) {
    const stored = await ingestEvents(t.deps, batch as never, { source: 'test' });
    assert.deepEqual(stored.results.filter((r) => r.status !== 'accepted'), []);
  }

  const history = sql`c.external_id like 'H%'`;
  const count = async (rule: Rule) => (await preview({ match: 'all', conditions: [{ field: 'external_id', op: 'starts_with', value: 'H' }, rule] })).customers;
  const expected = async (test: ReturnType<typeof sql>) =>
    (await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from customers c where ${history} and ${test}`))[0].n;
  const since = (days: number | undefined) => (days ? sql`and o.ordered_at > ${now}::timestamptz - make_interval(days => ${days})` : sql``);
  const sign = { at_least: sql.raw('>='), at_most: sql.raw('<='), exactly: sql.raw('=') };
  let compared = 0;
  for (const days of [undefined, 30, 90, 365]) {
    for (const op of ['at_least', 'at_most', 'exactly'] as const) {
      for (const value of [0, 1, 2, 3, 5, 9, 10, 12]) {
        const truth = await expected(sql`(select count(*) from orders o where o.customer_id = c.id ${since(days)}) ${sign[op]} ${value}`);
        assert.equal(await count({ match: 'all', conditions: [{ field: 'orders', op, value, days }] }), truth, `orders ${op} ${value} in ${days ?? 'all'} days`);
        compared++;
      }
    }
    for (const [op, value] of [['at_least', 150], ['at_most', 80]] as const) {
      const truth = await expected(sql`coalesce((select sum(o.total) from orders o where o.customer_id = c.id ${since(days)}), 0) ${sign[op]} ${value}`);
      assert.equal(await count({ match: 'all', conditions: [{ field: 'spend', op, value, days }] }), truth, `spend ${op} ${value} in ${days ?? 'all'} days`);
    }
  }
  assert.equal(compared, 96);
  // Under OR too, where history tables cannot be joined.
  const either: Rule = { match: 'any', conditions: [{ field: 'orders', op: 'at_least', value: 2, days: 365 }, { field: 'spend', op: 'at_least', value: 300 }] };
  assert.equal(await count(either), await expected(sql`((select count(*) from orders o where o.customer_id = c.id and o.ordered_at > ${now}::timestamptz - interval '365 days') >= 2
    or (select sum(o.total) from orders o where o.customer_id = c.id) >= 300)`));

  // Consent: the entry latest in time decides, whenever it arrived. H0, H3, ... granted in 2026 (a 2025
  // withdrawal came later); H1, H4, ... withdrew in 2026 (a 2025 grant came later); of H2, H5, ... the
  // six below H20 have only the late 2025 grant.
  const latestGranted = sql`(select k.granted from consent_ledger k where k.customer_id = c.id and k.list = 'marketing' order by k.at desc, k.id desc limit 1)`;
  const consent = async (op: string) => count({ match: 'all', conditions: [{ field: 'consent', op }] });
  assert.deepEqual([await consent('granted'), await consent('withdrawn'), await consent('not_granted')],
    [await expected(sql`${latestGranted} is true`), await expected(sql`${latestGranted} is false`), await expected(sql`${latestGranted} is not true`)]);
  assert.deepEqual([await consent('granted'), await consent('withdrawn'), await consent('not_granted')], [26, 20, 34]);
});
