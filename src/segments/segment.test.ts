import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { refreshExperiences } from '../experiences/index.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { random } from '../shared/random.ts';
import type { Condition, Rule } from './segment.ts';

let t: TestApp;
const now = '2026-06-30T12:00:00Z';
const who = (externalId: string) => ({ externalId, email: `${externalId.toLowerCase()}@example.com` });
const order = (
  customer: string,
  orderId: string,
  at: string,
  lines: { product: string; category?: string; amount: string }[],
  channel = 'web',
) => ({ id: `${customer}-${orderId}`, type: 'order', customer: who(customer), orderId, at, channel, lines });

before(async () => {
  t = await createTestApp('admin');
  (t.deps.clock as { now: () => Date }).now = () => new Date(now);
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'a',
        type: 'customer.upsert',
        customer: who('A'),
        name: 'Ana Costa',
        acquisitionChannel: 'web',
        attributes: { tier: 'gold', birth_year: 1980, vip: true, joined: '2024-03-01' },
      },
      {
        id: 'b',
        type: 'customer.upsert',
        customer: who('B'),
        name: 'Ben Okafor',
        acquisitionChannel: 'store',
        attributes: { tier: 'bronze', birth_year: 1995, vip: false, joined: '2025-09-01' },
      },
      {
        id: 'c',
        type: 'customer.upsert',
        customer: who('C'),
        name: 'Chloé Weber',
        acquisitionChannel: 'social',
        attributes: { tier: 'silver', birth_year: 2001 },
      },
      { id: 'd', type: 'customer.upsert', customer: who('D'), name: 'Dmitri Petrov', acquisitionChannel: 'web' },
      { id: 'e', type: 'customer.upsert', customer: who('E'), name: '100% Cotton Ltd', acquisitionChannel: 'email' },
      // A: three orders, towels and bedding, the last recent; B: one old store order of a knife; C: one recent mug
      order('A', 'A1', '2025-07-01T10:00:00Z', [
        { product: 'Bath towel, ocean blue', category: 'towels', amount: '24.00' },
      ]),
      order('A', 'A2', '2026-03-01T10:00:00Z', [
        { product: 'Linen duvet cover', category: 'bedding', amount: '119.00' },
      ]),
      order('A', 'A3', '2026-06-20T10:00:00Z', [
        { product: 'Hand towel, grey', category: 'towels', amount: '12.00' },
        { product: 'Olive soap', category: 'bath', amount: '7.00' },
      ]),
      order(
        'B',
        'B1',
        '2025-01-10T10:00:00Z',
        [{ product: 'Chef knife', category: 'kitchen', amount: '79.00' }],
        'store',
      ),
      order('C', 'C1', '2026-06-10T10:00:00Z', [{ product: 'Stoneware mug', category: 'kitchen', amount: '14.00' }]),
      {
        id: 'r1',
        type: 'return',
        customer: who('A'),
        returnId: 'R1',
        orderId: 'A3',
        at: '2026-06-25T10:00:00Z',
        amount: '12.00',
        reasonCode: 'wrong_item',
      },
      {
        id: 't1',
        type: 'ticket.opened',
        customer: who('C'),
        ticketId: 'T1',
        at: '2026-06-12T10:00:00Z',
        category: 'damaged',
      },
      { id: 'i1', type: 'incident', customer: who('C'), at: '2026-06-11T10:00:00Z', kind: 'damaged' },
      {
        id: 's1',
        type: 'survey.response',
        customer: who('A'),
        at: '2026-06-22T10:00:00Z',
        survey: 'nps',
        question: 'Recommend us?',
        score: 9,
      },
      {
        id: 's2',
        type: 'survey.response',
        customer: who('C'),
        at: '2026-06-15T10:00:00Z',
        survey: 'nps',
        question: 'Recommend us?',
        score: 3,
      },
      { id: 'k1', type: 'consent', customer: who('A'), at: '2025-01-01T00:00:00Z', granted: true },
      { id: 'k2', type: 'consent', customer: who('B'), at: '2025-01-01T00:00:00Z', granted: true },
      {
        id: 'k3',
        type: 'consent',
        customer: who('B'),
        at: '2026-01-01T00:00:00Z',
        granted: false,
        wording: 'Unsubscribed from the footer link',
      },
      {
        id: 'f1',
        type: 'status.change',
        customer: who('D'),
        at: '2026-01-01T00:00:00Z',
        flag: 'do_not_contact',
        active: true,
      },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
});
after(async () => {
  await t.close();
});

const preview = async (rule: Rule) => {
  const response = await t.call('POST', '/api/v1/segments/preview', { rule });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return body as {
    customers: number;
    sample: { externalId: string }[];
    byStage: Record<string, number>;
    scored: boolean;
  };
};
const matching = async (...conditions: (Condition | Rule)[]) =>
  (await preview({ match: 'all', conditions })).sample
    .map((m) => m.externalId)
    .sort()
    .join('');

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
  for (const [condition, expected] of cases)
    assert.equal(await matching(condition), expected, JSON.stringify(condition));
});

test('contacts: the last one from us, touchpoints by kind or channel, opens and clicks, in a window, also under OR', async () => {
  // A: June news sent 06-20, opened and clicked 06-21. B: a call from us 2026-01-15. C: spring news
  // sent 05-20, opened 05-21, summer news opened 06-10 (sent elsewhere). D and E: nothing.
  const touch = (
    id: string,
    customer: string,
    at: string,
    kind: string,
    direction: 'in' | 'out',
    channel = 'email',
  ) => ({
    id,
    type: 'touchpoint',
    customer: who(customer),
    at,
    channel,
    direction,
    kind,
    campaign: 'news',
  });
  const stored = await ingestEvents(
    t.deps,
    [
      touch('tp1', 'A', '2026-06-20T09:00:00Z', 'email_sent', 'out'),
      touch('tp2', 'A', '2026-06-21T09:00:00Z', 'email_opened', 'in'),
      touch('tp3', 'A', '2026-06-21T09:01:00Z', 'email_clicked', 'in'),
      touch('tp4', 'B', '2026-01-15T09:00:00Z', 'call', 'out', 'phone'),
      touch('tp5', 'C', '2026-05-20T09:00:00Z', 'email_sent', 'out'),
      touch('tp6', 'C', '2026-05-21T09:00:00Z', 'email_opened', 'in'),
      touch('tp7', 'C', '2026-06-10T09:00:00Z', 'email_opened', 'in'),
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  const cases: [Condition | Rule, string][] = [
    [{ field: 'last_contact_at', op: 'in_last_days', value: 30 }, 'A'],
    [{ field: 'last_contact_at', op: 'in_last_days', value: 60 }, 'AC'],
    [{ field: 'last_contact_at', op: 'not_in_last_days', value: 30 }, 'BCDE'],
    [{ field: 'last_contact_at', op: 'before', value: '2026-02-01' }, 'B'],
    [{ field: 'last_contact_at', op: 'before', value: '2026-05-21' }, 'BC'],
    [{ field: 'last_contact_at', op: 'after', value: '2026-06-01' }, 'A'],
    [{ field: 'last_contact_at', op: 'is_set' }, 'ABC'],
    [{ field: 'last_contact_at', op: 'is_not_set' }, 'DE'],
    [{ field: 'touchpoints', op: 'at_least', value: 1 }, 'ABC'],
    [{ field: 'touchpoints', op: 'at_least', value: 3 }, 'AC'],
    [{ field: 'touchpoints', op: 'exactly', value: 1 }, 'B'],
    [{ field: 'touchpoints', op: 'at_most', value: 0 }, 'DE'],
    [{ field: 'touchpoints', op: 'at_least', value: 1, filter: 'Phone' }, 'B'],
    [{ field: 'touchpoints', op: 'at_least', value: 1, filter: 'email_opened' }, 'AC'],
    [{ field: 'touchpoints', op: 'at_least', value: 1, days: 15 }, 'A'],
    [{ field: 'opens', op: 'at_least', value: 1 }, 'AC'],
    [{ field: 'opens', op: 'at_least', value: 2 }, 'C'],
    [{ field: 'opens', op: 'exactly', value: 0 }, 'BDE'],
    [{ field: 'opens', op: 'at_least', value: 1, days: 15 }, 'A'],
    [{ field: 'clicks', op: 'at_least', value: 1 }, 'A'],
    [{ field: 'clicks', op: 'exactly', value: 0 }, 'BCDE'],
    [
      {
        match: 'any',
        conditions: [
          { field: 'last_contact_at', op: 'before', value: '2026-02-01' },
          { field: 'flag', op: 'has', value: 'do_not_contact' },
        ],
      },
      'BD',
    ],
    [
      {
        match: 'any',
        conditions: [
          { field: 'clicks', op: 'at_least', value: 1 },
          { field: 'opens', op: 'at_least', value: 2, days: 60 },
          { field: 'last_contact_at', op: 'is_not_set' },
        ],
      },
      'ACDE',
    ],
  ];
  for (const [condition, expected] of cases)
    assert.equal(await matching(condition), expected, JSON.stringify(condition));
  const refused = await t.call('POST', '/api/v1/segments/preview', {
    rule: {
      match: 'all',
      conditions: [
        { field: 'opens', op: 'at_least', value: 1, filter: 'news' },
        { field: 'clicks', op: 'at_least', value: 0.5 },
      ],
    },
  });
  assert.equal(refused.status, 400);
  assert.deepEqual(
    (await refused.json()).error.details.issues.map((i: { path: string }) => i.path),
    ['rule.conditions.0.filter', 'rule.conditions.1.value'],
  );
  const catalogue = await (await t.call('GET', '/api/v1/segments/fields')).json();
  assert.deepEqual(catalogue.fields.touchpoints, {
    label: 'Touchpoints (contacts either way)',
    ops: { at_least: 'number', at_most: 'number', exactly: 'number' },
    days: true,
    filter: 'kind or channel',
  });
});

test('experiences count the catalogue of the latest analysis: by kind, first, repeated or unfollowed, in a window, also under OR', async () => {
  // A: a wrong item returned (06-25). C: a damaged item (06-11), a ticket still open unanswered
  // (opened 06-12, slow from 06-13, unresolved from 06-19), an NPS of 3 (06-15). Nobody followed up.
  await refreshExperiences(t.deps.db, new Date(now), t.deps.config);
  const cases: [Condition | Rule, string][] = [
    [{ field: 'experiences', op: 'at_least', value: 1, filter: 'wrong_or_damaged_item' }, 'AC'],
    [{ field: 'experiences', op: 'at_least', value: 1, filter: 'wrong_or_damaged_item', days: 10 }, 'A'],
    [{ field: 'experiences', op: 'at_least', value: 5 }, 'C'],
    [{ field: 'experiences', op: 'at_least', value: 5, key: 'first' }, 'C'],
    [{ field: 'experiences', op: 'at_least', value: 1, key: 'repeated' }, ''],
    [{ field: 'experiences', op: 'exactly', value: 0 }, 'BDE'],
    [{ field: 'experiences', op: 'exactly', value: 1, key: 'unfollowed', filter: 'Ticket_Unresolved' }, 'C'],
    [{ field: 'experiences', op: 'at_most', value: 0, filter: 'slow_first_response', days: 18 }, 'ABDE'],
    [
      {
        match: 'any',
        conditions: [
          { field: 'experiences', op: 'at_least', value: 1, filter: 'low_survey_score' },
          { field: 'flag', op: 'has', value: 'do_not_contact' },
        ],
      },
      'CD',
    ],
  ];
  for (const [condition, expected] of cases)
    assert.equal(await matching(condition), expected, JSON.stringify(condition));
  const catalogue = await (await t.call('GET', '/api/v1/segments/fields')).json();
  assert.deepEqual(catalogue.experiences, [
    'low_survey_score',
    'slow_first_response',
    'ticket_opened',
    'ticket_unresolved',
    'wrong_or_damaged_item',
  ]);
  assert.deepEqual(catalogue.fields.experiences.values, ['first', 'repeated', 'unfollowed']);
  const refused = await t.call('POST', '/api/v1/segments/preview', {
    rule: { match: 'all', conditions: [{ field: 'experiences', op: 'at_least', value: 1.5, key: 'latest' }] },
  });
  assert.equal(refused.status, 400);
  assert.deepEqual(
    (await refused.json()).error.details.issues.map((i: { path: string }) => i.path),
    ['rule.conditions.0.key'],
  );
});

test('groups combine with AND and OR, nested', async () => {
  const rule: Rule = {
    match: 'any',
    conditions: [
      {
        match: 'all',
        conditions: [
          { field: 'category_bought', op: 'is', value: 'kitchen' },
          { field: 'last_order_at', op: 'in_last_days', value: 90 },
        ],
      },
      { field: 'flag', op: 'has', value: 'do_not_contact' },
    ],
  };
  const result = await preview(rule);
  assert.deepEqual([result.customers, result.sample.map((m) => m.externalId).sort()], [2, ['C', 'D']]);
  assert.deepEqual(result.byStage, { suppressed: 1, trial: 1 });
  assert.equal((await preview({ match: 'all', conditions: [] })).customers, 5, 'an empty rule is everyone');
  assert.equal((await preview({ match: 'any', conditions: [] })).customers, 0);
});

test('a wrong rule is refused with the path of the condition, what was found and what was expected', async () => {
  const response = await t.call('POST', '/api/v1/segments/preview', {
    rule: {
      match: 'all',
      conditions: [
        { field: 'orders', op: 'at_least', value: 'two' },
        {
          match: 'any',
          conditions: [
            { field: 'stage', op: 'is', value: 'gone' },
            { field: 'attribute', key: 'tier', op: 'gt', value: 3 },
          ],
        },
        { field: 'score', key: 'shoe_size', op: 'gt', value: 1 },
        { field: 'name', op: 'resembles', value: 'x' },
      ],
    },
  });
  assert.equal(response.status, 400);
  const { error } = await response.json();
  assert.deepEqual(error.details.issues, [
    { path: 'rule.conditions.0.value', message: 'expected a number, found "two"' },
    {
      path: 'rule.conditions.1.conditions.0.value',
      message: 'expected one of prospect, trial, customer, best, at_risk, lapsed, won_back, suppressed, found "gone"',
    },
    {
      path: 'rule.conditions.1.conditions.1.op',
      message: 'tier is a text attribute: it takes is, is_not, contains, is_set, is_not_set',
    },
    {
      path: 'rule.conditions.2.key',
      message:
        'unknown score "shoe_size"; scores: p_alive, churn_probability, p_buy_90, expected_90, expected_365, predicted_value_365, historic_value, value_at_stake, expected_order_value, frequency, recency_days, average_days_between, recency_score, frequency_score, monetary_score, satisfaction',
    },
    {
      path: 'rule.conditions.3.op',
      message: 'name takes is, is_not, contains, starts_with, is_set, is_not_set; found "resembles"',
    },
  ]);
  const unknownField = await t.call('POST', '/api/v1/segments', {
    name: 'x',
    rule: { match: 'all', conditions: [{ field: 'shoe', op: 'is', value: 'x' }] },
  });
  assert.equal(unknownField.status, 400);
  assert.match(JSON.stringify(await unknownField.json()), /rule\.conditions\.0/);
  assert.equal((await (await t.call('GET', '/api/v1/segments')).json()).segments.length, 0, 'nothing saved');
});

test('a snapshot keeps who matched when it was taken; a dynamic segment follows the data; scores need an analysis', async () => {
  const rule: Rule = { match: 'all', conditions: [{ field: 'orders', op: 'at_least', value: 1, days: 30 }] };
  const dynamic = await (await t.call('POST', '/api/v1/segments', { name: 'Bought this month', rule })).json();
  const snapshot = await (
    await t.call('POST', '/api/v1/segments', { name: 'Bought this month (June list)', kind: 'snapshot', rule })
  ).json();
  assert.deepEqual([dynamic.kind, dynamic.members, snapshot.kind, snapshot.members], ['dynamic', null, 'snapshot', 2]);
  await ingestEvents(
    t.deps,
    [order('D', 'D1', '2026-06-29T10:00:00Z', [{ product: 'Candle, fig', category: 'candles', amount: '28.00' }])],
    { source: 'test' },
  );
  const count = async (id: number) => (await (await t.call('GET', `/api/v1/segments/${id}`)).json()).summary.customers;
  assert.deepEqual([await count(dynamic.id), await count(snapshot.id)], [3, 2]);
  const members = await (await t.call('GET', `/api/v1/segments/${snapshot.id}/customers`)).json();
  assert.deepEqual(
    members.customers.map((m: { externalId: string }) => m.externalId),
    ['A', 'C'],
  );
  const refreshed = await (await t.call('POST', `/api/v1/segments/${snapshot.id}/refresh`)).json();
  assert.equal(refreshed.members, 3);
  assert.equal((await t.call('POST', `/api/v1/segments/${dynamic.id}/refresh`)).status, 409);

  const scored = await preview({ match: 'all', conditions: [{ field: 'score', key: 'p_alive', op: 'gt', value: 0 }] });
  assert.deepEqual([scored.scored, scored.customers], [false, 0], 'before the first analysis no one has scores');

  const { key } = await createApiKey(t.deps, 'agent', 'agent');
  const asAgent = await t.app.request('/api/v1/segments', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x', rule }),
  });
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
      events.push(
        order(id, `${id}-${k}`, at, [{ product: 'Tea towel', amount: (5 + Math.floor(rng() * 60)).toFixed(2) }]),
      );
    }
    if (i % 3 !== 2)
      events.push({
        id: `hk${i}`,
        type: 'consent',
        customer: who(id),
        at: '2026-02-01T00:00:00Z',
        granted: i % 3 === 0,
      });
  }
  const late = Array.from({ length: 20 }, (_, i) => ({
    id: `hl${i}`,
    type: 'consent',
    customer: who(`H${i}`),
    at: '2025-02-01T00:00:00Z',
    granted: i % 3 !== 0,
  }));
  const half = Math.floor(events.length / 2);
  for (const batch of [events.slice(0, half), events.slice(half), late]) {
    const stored = await ingestEvents(t.deps, batch as never, { source: 'test' });
    assert.deepEqual(
      stored.results.filter((r) => r.status !== 'accepted'),
      [],
    );
  }

  const history = sql`c.external_id like 'H%'`;
  const count = async (rule: Rule) =>
    (await preview({ match: 'all', conditions: [{ field: 'external_id', op: 'starts_with', value: 'H' }, rule] }))
      .customers;
  const expected = async (test: ReturnType<typeof sql>) =>
    (
      await queryRows<{ n: number }>(
        t.deps.db,
        sql`select count(*)::int as n from customers c where ${history} and ${test}`,
      )
    )[0].n;
  const since = (days: number | undefined) =>
    days ? sql`and o.ordered_at > ${now}::timestamptz - make_interval(days => ${days})` : sql``;
  const sign = { at_least: sql.raw('>='), at_most: sql.raw('<='), exactly: sql.raw('=') };
  let compared = 0;
  for (const days of [undefined, 30, 90, 365]) {
    for (const op of ['at_least', 'at_most', 'exactly'] as const) {
      for (const value of [0, 1, 2, 3, 5, 9, 10, 12]) {
        const truth = await expected(
          sql`(select count(*) from orders o where o.customer_id = c.id ${since(days)}) ${sign[op]} ${value}`,
        );
        assert.equal(
          await count({ match: 'all', conditions: [{ field: 'orders', op, value, days }] }),
          truth,
          `orders ${op} ${value} in ${days ?? 'all'} days`,
        );
        compared++;
      }
    }
    for (const [op, value] of [
      ['at_least', 150],
      ['at_most', 80],
    ] as const) {
      const truth = await expected(
        sql`coalesce((select sum(o.total) from orders o where o.customer_id = c.id ${since(days)}), 0) ${sign[op]} ${value}`,
      );
      assert.equal(
        await count({ match: 'all', conditions: [{ field: 'spend', op, value, days }] }),
        truth,
        `spend ${op} ${value} in ${days ?? 'all'} days`,
      );
    }
  }
  assert.equal(compared, 96);
  // Under OR too, where history tables cannot be joined.
  const either: Rule = {
    match: 'any',
    conditions: [
      { field: 'orders', op: 'at_least', value: 2, days: 365 },
      { field: 'spend', op: 'at_least', value: 300 },
    ],
  };
  assert.equal(
    await count(either),
    await expected(sql`((select count(*) from orders o where o.customer_id = c.id and o.ordered_at > ${now}::timestamptz - interval '365 days') >= 2
    or (select sum(o.total) from orders o where o.customer_id = c.id) >= 300)`),
  );

  // Consent: the entry latest in time decides, whenever it arrived. H0, H3, ... granted in 2026 (a 2025
  // withdrawal came later); H1, H4, ... withdrew in 2026 (a 2025 grant came later); of H2, H5, ... the
  // six below H20 have only the late 2025 grant.
  const latestGranted = sql`(select k.granted from consent_ledger k where k.customer_id = c.id and k.list = 'marketing' order by k.at desc, k.id desc limit 1)`;
  const consent = async (op: string) => count({ match: 'all', conditions: [{ field: 'consent', op }] });
  assert.deepEqual(
    [await consent('granted'), await consent('withdrawn'), await consent('not_granted')],
    [
      await expected(sql`${latestGranted} is true`),
      await expected(sql`${latestGranted} is false`),
      await expected(sql`${latestGranted} is not true`),
    ],
  );
  assert.deepEqual([await consent('granted'), await consent('withdrawn'), await consent('not_granted')], [26, 20, 34]);
});

/** Another key's view of the API. */
const callAs = (key: string) => (method: string, path: string, body?: unknown) =>
  Promise.resolve(
    t.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
/** A current analysis with one score (A's), so score conditions reach SQL; made once. */
let scored: Promise<void> | undefined;
const withScores = () =>
  (scored ??= (async () => {
    const [run] = await queryRows<{ id: number }>(
      t.deps.db,
      sql`
    insert into analysis_runs (as_of, model_version, activity_model, status, current) values ('2026-06-30', 'test', 'bgnbd', 'done', true) returning id`,
    );
    await t.deps.db.execute(sql`
    insert into scores (customer_id, run_id, as_of, model_version, frequency, recency_days, age_days, p_alive, churn_probability, expected_30, expected_90, expected_365,
      historic_value, recency_score, frequency_score, monetary_score, stage, reasons)
    select id, ${run.id}, '2026-06-30', 'test', 2, 10, 364, 0.9, 0.1, 0.3, 0.8, 3.1, 174, 3, 4, 5, 'customer', '{}' from customers where external_id = 'A'`);
  })());
const storeRule = async (name: string, kind: 'dynamic' | 'snapshot', rule: unknown) =>
  (
    await queryRows<{ id: number }>(
      t.deps.db,
      sql`
  insert into segments (name, kind, rule, created_by, created_at, updated_at) values (${name}, ${kind}, ${JSON.stringify(rule)}::jsonb, 'before the fix', ${now}, ${now}) returning id`,
    )
  )[0].id;

test('a condition that fits the catalogue by shape but would fail in SQL is refused with its path and what it takes; edge values select what they say', async () => {
  await withScores();
  const before = (await (await t.call('GET', '/api/v1/segments')).json()).segments.length;
  const refused: [Condition, string, RegExp][] = [
    [{ field: 'score', key: 'constructor', op: 'gt', value: 1 }, 'key', /^unknown score "constructor"/],
    [{ field: 'score', key: 'toString', op: 'gt', value: 1 }, 'key', /^unknown score "toString"/],
    [{ field: 'score', key: '__proto__', op: 'gt', value: 1 }, 'key', /^unknown score "__proto__"/],
    [
      { field: 'score', key: 'p_alive', op: 'constructor', value: 1 },
      'op',
      /^score takes gt, gte, lt, lte, is_set, is_not_set; found "constructor"/,
    ],
    [{ field: 'flag', op: 'toString', value: 'moved' }, 'op', /^flag takes has, has_not/],
    [{ field: 'name', op: 'hasOwnProperty', value: 'x' }, 'op', /^name takes is/],
    [{ field: 'attribute', key: 'birth_year', op: 'valueOf', value: 1 }, 'op', /^attribute takes /],
    [
      { field: 'created_at', op: 'before', value: '2020-02-30' },
      'value',
      /^expected a real calendar date YYYY-MM-DD from 1900-01-01 to 2999-12-31, found "2020-02-30"/,
    ],
    [{ field: 'last_order_at', op: 'after', value: '0001-01-01' }, 'value', /calendar date/],
    [{ field: 'attribute', key: 'joined', op: 'after', value: '2025-02-29' }, 'value', /calendar date/],
    [{ field: 'attribute', key: 'joined', op: 'is', value: 'soon' }, 'value', /calendar date.*found "soon"/],
    [
      { field: 'last_order_at', op: 'in_last_days', value: 1e9 },
      'value',
      /^expected a whole number of days from 1 to 36500, found 1000000000/,
    ],
    [
      { field: 'orders', op: 'at_least', value: 2.5 },
      'value',
      /^expected a whole number from 0 to 1000000000, found 2.5/,
    ],
    [{ field: 'orders', op: 'exactly', value: 1e12 }, 'value', /whole number from 0 to 1000000000/],
    [{ field: 'orders', op: 'at_most', value: 1.5, days: 30 }, 'value', /whole number/],
    [{ field: 'orders', op: 'at_least', value: 0.5, filter: 'web' }, 'value', /whole number/],
    [{ field: 'returns', op: 'at_least', value: -1 }, 'value', /whole number/],
    [{ field: 'tickets', op: 'exactly', value: 0.5, filter: 'damaged' }, 'value', /whole number/],
    [{ field: 'incidents', op: 'at_most', value: 3e9 }, 'value', /whole number/],
    [{ field: 'spend', op: 'at_least', value: 1e300 }, 'value', /^expected a number from -1e15 to 1e15, found 1e\+300/],
    [{ field: 'spend', op: 'at_most', value: -1e16, days: 30 }, 'value', /from -1e15 to 1e15/],
    [{ field: 'survey_score', op: 'at_least', value: 1e20 }, 'value', /from -1e15 to 1e15/],
    [{ field: 'attribute', key: 'birth_year', op: 'gt', value: 1e16 }, 'value', /from -1e15 to 1e15/],
    [{ field: 'attribute', key: 'birth_year', op: 'is', value: -1e300 }, 'value', /from -1e15 to 1e15/],
    [{ field: 'score', key: 'recency_score', op: 'lt', value: 1e300 }, 'value', /from -1e15 to 1e15/],
  ];
  for (const [condition, at, message] of refused) {
    const response = await t.call('POST', '/api/v1/segments', {
      name: 'probe',
      rule: { match: 'all', conditions: [condition] },
    });
    const body = await response.json();
    assert.equal(response.status, 400, `${JSON.stringify(condition)}: ${JSON.stringify(body)}`);
    assert.equal(body.error.details.issues[0].path, `rule.conditions.0.${at}`, JSON.stringify(condition));
    assert.match(body.error.details.issues[0].message, message, JSON.stringify(condition));
  }
  assert.equal((await (await t.call('GET', '/api/v1/segments')).json()).segments.length, before, 'nothing saved');

  // At the edges, and where a parameter would otherwise take a smallint or bigint column's type.
  await t.deps.db.execute(
    sql`update customers set attributes = attributes || '{"joined": "2020-02-30"}'::jsonb where external_id = 'E'`,
  );
  const cases: [Condition, string][] = [
    [{ field: 'score', key: 'recency_score', op: 'gt', value: 2.5 }, 'A'],
    [{ field: 'score', key: 'monetary_score', op: 'gte', value: 4.99 }, 'A'],
    [{ field: 'score', key: 'frequency', op: 'lt', value: 1e15 }, 'A'],
    [{ field: 'score', key: 'historic_value', op: 'gt', value: -1e15 }, 'A'],
    [{ field: 'orders', op: 'at_least', value: 1_000_000_000 }, ''],
    [{ field: 'orders', op: 'at_most', value: 1_000_000_000, days: 36_500 }, 'ABCDE'],
    [{ field: 'returns', op: 'exactly', value: 0, filter: 'wrong_item' }, 'BCDE'],
    [{ field: 'spend', op: 'at_least', value: 1e15 }, ''],
    [{ field: 'spend', op: 'at_most', value: 0.5 }, 'E'],
    [{ field: 'spend', op: 'at_least', value: 13.99, days: 30 }, 'ACD'],
    [{ field: 'survey_score', op: 'at_least', value: 8.5 }, 'A'],
    [{ field: 'attribute', key: 'birth_year', op: 'lt', value: 1980.5 }, 'A'],
    [{ field: 'attribute', key: 'joined', op: 'is', value: '2024-03-01' }, 'A'],
    // A stored value that is no real day is compared as written, not cast (which would fail the query).
    [{ field: 'attribute', key: 'joined', op: 'before', value: '2025-01-01' }, 'AE'],
    [{ field: 'last_order_at', op: 'in_last_days', value: 36_500 }, 'ABCD'],
    [{ field: 'created_at', op: 'before', value: '1900-01-01' }, ''],
    [{ field: 'created_at', op: 'after', value: '2999-12-31' }, ''],
  ];
  // Among A to E (the customers of the order history test above are left out).
  for (const [condition, expected] of cases)
    assert.equal((await matching(condition)).replace(/H\d+/g, ''), expected, JSON.stringify(condition));
});

test('a segment saved before its rule was checked this strictly answers 409 naming the problem wherever it is evaluated, never 500', async () => {
  await withScores();
  const oldScore = await storeRule('Old score', 'dynamic', {
    match: 'all',
    conditions: [{ field: 'score', key: 'constructor', op: 'gt', value: 1 }],
  });
  const badDate = {
    match: 'all',
    conditions: [
      { field: 'stage', op: 'is', value: 'customer' },
      { match: 'any', conditions: [{ field: 'created_at', op: 'before', value: '2020-02-30' }] },
    ],
  };
  const oldDate = await storeRule('Old date', 'dynamic', badDate);
  const oldCount = await storeRule('Old count', 'dynamic', {
    match: 'all',
    conditions: [{ field: 'orders', op: 'at_least', value: 2.5 }],
  });
  const garbage = await storeRule('Not a rule', 'dynamic', {
    match: 'all',
    conditions: [{ field: 'constructor', op: 'is', value: 'x' }],
  });
  const oldSnapshot = await storeRule('Old snapshot', 'snapshot', badDate);

  const conflict = async (response: Response, path: string, message: RegExp) => {
    const body = await response.json();
    assert.equal(response.status, 409, JSON.stringify(body));
    assert.equal(body.error.code, 'conflict');
    assert.match(body.error.message, /no longer passes/);
    assert.equal(body.error.details.issues[0].path, path, JSON.stringify(body));
    assert.match(body.error.details.issues[0].message, message);
  };
  await conflict(
    await t.call('GET', `/api/v1/segments/${oldScore}`),
    'rule.conditions.0.key',
    /unknown score "constructor"/,
  );
  await conflict(
    await t.call('GET', `/api/v1/segments/${oldScore}/customers`),
    'rule.conditions.0.key',
    /unknown score "constructor"/,
  );
  await conflict(
    await t.call('GET', `/api/v1/segments/${oldDate}`),
    'rule.conditions.1.conditions.0.value',
    /calendar date/,
  );
  await conflict(
    await t.call('GET', `/api/v1/segments/${oldCount}/customers`),
    'rule.conditions.0.value',
    /whole number/,
  );
  await conflict(await t.call('GET', `/api/v1/segments/${garbage}`), 'rule.conditions.0', /./);
  await conflict(
    await t.call('POST', `/api/v1/segments/${oldSnapshot}/refresh`),
    'rule.conditions.1.conditions.0.value',
    /calendar date/,
  );
  // A snapshot's members were taken: reading them needs no rule.
  assert.equal((await t.call('GET', `/api/v1/segments/${oldSnapshot}`)).status, 200);
  assert.equal((await t.call('GET', '/api/v1/segments')).status, 200);
  // Changing the rule is the way out.
  const fixed = await t.call('PUT', `/api/v1/segments/${oldDate}`, {
    name: 'Old date',
    rule: { match: 'all', conditions: [{ field: 'created_at', op: 'before', value: '2020-02-29' }] },
  });
  assert.equal(fixed.status, 200);
  assert.equal((await t.call('GET', `/api/v1/segments/${oldDate}`)).status, 200);

  // A campaign on such a segment does not start, and stays a draft.
  const campaign = await (
    await t.call('POST', '/api/v1/campaigns', {
      name: 'Old list',
      kind: 'offer',
      channel: 'phone',
      segmentId: oldCount,
      arms: [{ name: 'A' }],
    })
  ).json();
  await conflict(
    await t.call('POST', `/api/v1/campaigns/${campaign.id}/start`),
    'rule.conditions.0.value',
    /whole number/,
  );
  assert.equal((await (await t.call('GET', `/api/v1/campaigns/${campaign.id}`)).json()).campaign.status, 'draft');

  // A journey whose stored rule no longer passes is not activated; one already active is passed over
  // by the rounds (its passes wait) while the others run.
  const journey = async (name: string) =>
    (
      await (
        await t.call('POST', '/api/v1/journeys', {
          name,
          trigger: { type: 'order' },
          holdoutShare: 0,
          steps: [{ type: 'wait', days: 1 }],
        })
      ).json()
    ).id as number;
  const [broken, working] = [await journey('Old journey'), await journey('Working journey')];
  await t.deps.db.execute(sql`update journeys set entry = ${JSON.stringify(badDate)}::jsonb where id = ${broken}`);
  await conflict(
    await t.call('POST', `/api/v1/journeys/${broken}/activate`),
    'entry.conditions.1.conditions.0.value',
    /calendar date/,
  );
  assert.equal((await (await t.call('GET', `/api/v1/journeys/${broken}`)).json()).journey.status, 'draft');
  assert.equal((await t.call('POST', `/api/v1/journeys/${working}/activate`)).status, 200);
  await t.deps.db.execute(
    sql`update journeys set status = 'active', activated_at = '2026-06-30T00:00:00Z' where id in (${broken}, ${working})`,
  );
  await ingestEvents(
    t.deps,
    [order('B', 'B2', '2026-06-30T11:00:00Z', [{ product: 'Bread knife', category: 'kitchen', amount: '39.00' }])],
    { source: 'test' },
  );
  const round = await t.call('POST', '/api/v1/journeys/run');
  assert.equal(round.status, 200, await round.text());
  const passes = await queryRows<{ journey_id: number; external_id: string }>(
    t.deps.db,
    sql`
    select e.journey_id, c.external_id from journey_enrolments e join customers c on c.id = e.customer_id order by 1, 2`,
  );
  assert.ok(
    passes.some((p) => p.journey_id === working && p.external_id === 'B'),
    JSON.stringify(passes),
  );
  assert.deepEqual(
    passes.filter((p) => p.journey_id === broken),
    [],
  );
});

test('an analyst reads saved segments, campaigns and journeys without what a rule looks for in a person, nor a count that would tell who is a customer', async () => {
  const planted = ['a@example.com', 'Ana Costa', '+44 20 7946 0958', 'planted-ext-42'];
  const personal: Rule = {
    match: 'all',
    conditions: [
      { field: 'email', op: 'is', value: 'a@example.com' },
      {
        match: 'any',
        conditions: [
          { field: 'name', op: 'contains', value: 'Ana Costa' },
          { field: 'phone', op: 'is_not', value: '+44 20 7946 0958' },
          { field: 'external_id', op: 'is', value: 'planted-ext-42', key: 'planted-ext-42' },
        ],
      },
      { field: 'stage', op: 'is_not', value: 'suppressed' },
    ],
  };
  const saved = async (name: string, kind: string, rule: Rule) =>
    (await (await t.call('POST', '/api/v1/segments', { name, kind, rule })).json()).id as number;
  const snapshot = await saved('One person (snapshot)', 'snapshot', personal);
  const live = await saved('One person', 'dynamic', personal);
  const gold = await saved('Gold customers', 'snapshot', {
    match: 'all',
    conditions: [{ field: 'attribute', key: 'tier', op: 'is', value: 'gold' }],
  });
  const campaign = await (
    await t.call('POST', '/api/v1/campaigns', {
      name: 'Call one person',
      kind: 'offer',
      channel: 'phone',
      holdoutShare: 0,
      segmentId: snapshot,
      arms: [{ name: 'A' }],
    })
  ).json();
  assert.equal((await (await t.call('POST', `/api/v1/campaigns/${campaign.id}/start`)).json()).members, 1);
  const journey = (
    await (
      await t.call('POST', '/api/v1/journeys', {
        name: 'One person journey',
        trigger: { type: 'order' },
        entry: personal,
        holdoutShare: 0,
        steps: [
          { type: 'condition', rule: personal },
          { type: 'wait', days: 1 },
        ],
      })
    ).json()
  ).id as number;
  assert.equal((await t.call('POST', `/api/v1/journeys/${journey}/activate`)).status, 200);
  await t.deps.db.execute(sql`update journeys set activated_at = '2026-06-30T00:00:00Z' where id = ${journey}`);
  await ingestEvents(
    t.deps,
    [order('A', 'A4', '2026-06-30T11:30:00Z', [{ product: 'Bath mat', category: 'bath', amount: '29.00' }])],
    { source: 'test' },
  );
  assert.equal((await t.call('POST', '/api/v1/journeys/run')).status, 200);

  const analyst = callAs((await createApiKey(t.deps, 'analyst', 'analyst')).key);
  const marketer = callAs((await createApiKey(t.deps, 'marketer', 'marketer')).key);
  const read = async (call: typeof analyst, path: string, status = 200) => {
    const response = await call('GET', path);
    const text = await response.text();
    assert.equal(response.status, status, `${path}: ${text}`);
    return { text, body: JSON.parse(text) };
  };
  const unseen = (text: string, where: string) => {
    for (const s of planted) assert.ok(!text.includes(s), `${where} shows ${s}: ${text}`);
  };

  // The list: each personal condition without its value (or key); no member count for those segments.
  const list = await read(analyst, '/api/v1/segments');
  unseen(list.text, 'the segment list');
  const byId = new Map(list.body.segments.map((s: { id: number }) => [s.id, s]));
  const shown = byId.get(snapshot) as { rule: Rule; members: number | null };
  assert.deepEqual(shown.rule, {
    match: 'all',
    conditions: [
      { field: 'email', op: 'is', value: null },
      {
        match: 'any',
        conditions: [
          { field: 'name', op: 'contains', value: null },
          { field: 'phone', op: 'is_not', value: null },
          { field: 'external_id', op: 'is', value: null, key: null },
        ],
      },
      { field: 'stage', op: 'is_not', value: 'suppressed' },
    ],
  });
  assert.equal(shown.members, null);
  assert.deepEqual(
    [(byId.get(gold) as { members: number }).members, (byId.get(gold) as { rule: Rule }).rule.conditions[0]],
    [1, { field: 'attribute', key: 'tier', op: 'is', value: 'gold' }],
  );

  // The segment itself: refused like the preview of its rule; a segment without personal conditions is summed up.
  for (const id of [snapshot, live]) {
    const refused = await read(analyst, `/api/v1/segments/${id}`, 403);
    unseen(refused.text, `segment ${id}`);
    assert.equal(
      refused.body.error.message,
      'An analyst may not see a segment that filters on name, email, phone or external id (rule.conditions.0, rule.conditions.1.conditions.0, rule.conditions.1.conditions.1, rule.conditions.1.conditions.2)',
    );
  }
  assert.equal((await analyst('POST', '/api/v1/segments/preview', { rule: personal })).status, 403);
  assert.equal((await read(analyst, `/api/v1/segments/${gold}`)).body.summary.customers, 1);

  // Campaigns on such a segment: no member count, no counts by status.
  const campaigns = await read(analyst, '/api/v1/campaigns');
  unseen(campaigns.text, 'the campaign list');
  const listed = campaigns.body.campaigns.find((c: { id: number }) => c.id === campaign.id);
  assert.deepEqual([listed.members, listed.counts], [null, {}]);
  const one = await read(analyst, `/api/v1/campaigns/${campaign.id}`);
  assert.deepEqual([one.body.campaign.members, one.body.counts], [null, {}]);

  // Journeys with such rules: the rules redacted, no counts of passes, no passes.
  const journeys = await read(analyst, '/api/v1/journeys');
  unseen(journeys.text, 'the journey list');
  const listedJourney = journeys.body.journeys.find((j: { id: number }) => j.id === journey);
  assert.deepEqual(
    [listedJourney.entry.conditions[0], listedJourney.steps[0].rule.conditions[0], listedJourney.counts],
    [{ field: 'email', op: 'is', value: null }, { field: 'email', op: 'is', value: null }, {}],
  );
  const journeyRead = await read(analyst, `/api/v1/journeys/${journey}`);
  unseen(journeyRead.text, 'the journey');
  assert.deepEqual(
    [journeyRead.body.journey.entry.conditions[1].conditions[2], journeyRead.body.steps, journeyRead.body.recent],
    [{ field: 'external_id', op: 'is', value: null, key: null }, [], []],
  );

  // A marketer sees all of it.
  const asMarketer =
    (await read(marketer, '/api/v1/segments')).text + (await read(marketer, `/api/v1/journeys/${journey}`)).text;
  for (const s of planted) assert.ok(asMarketer.includes(s), s);
  assert.equal(
    (await read(marketer, '/api/v1/segments')).body.segments.find((s: { id: number }) => s.id === snapshot).members,
    1,
  );
  assert.equal((await read(marketer, `/api/v1/segments/${live}`)).body.summary.customers, 1);
  const forMarketer = await read(marketer, `/api/v1/campaigns/${campaign.id}`);
  assert.deepEqual(
    [
      forMarketer.body.campaign.members,
      Object.values(forMarketer.body.counts).reduce((a: number, b) => a + (b as number), 0),
    ],
    [1, 1],
  );
  const journeyForMarketer = (await read(marketer, `/api/v1/journeys/${journey}`)).body;
  assert.ok(
    journeyForMarketer.recent.some(
      (p: { email: string; status: string }) => p.email === 'a@example.com' && p.status === 'active',
    ),
    JSON.stringify(journeyForMarketer.recent),
  );
  assert.ok(journeyForMarketer.steps.length > 0);
  assert.equal(
    (await read(marketer, '/api/v1/journeys')).body.journeys.find((j: { id: number }) => j.id === journey).counts
      .active,
    1,
  );
});
