import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import {
  blueprintBody,
  builtInDesign,
  dueWords,
  gapRule,
  stageReport,
  stagesWithoutJourney,
  timingBins,
  type BlueprintReport,
  type StageCount,
} from './blueprint.ts';

// A shop on 2026-06-30 with planted gaps. Fifty trial users ordered from 2026-05-10 on, an hour
// apart: 40 got their confirmation 10 minutes later, 5 two hours later (late), 5 never. Of the 40,
// six ordered again on day 30 (confirmed too) and so became customers; twelve answered the order
// survey on day 3 and three on day 20; eight got a marketing nudge on day 20. Seven customers who
// bought early in 2025 last heard from us on 2026-03-01 (121 days ago); three like them heard from
// us a month ago; one like them has lapsed since 2026-06-01. Only win-back (at risk) has a journey.
let t: TestApp;
const now = '2026-06-30T12:00:00Z';
const hour = 3_600_000;
const day = 24 * hour;
const start = Date.parse('2026-05-10T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const who = (externalId: string) => ({ externalId, email: `${externalId.toLowerCase()}@example.com` });
const ids = new Map<string, number>();
const idsOf = (...names: string[]) => names.map((n) => ids.get(n)!).sort((a, b) => a - b);
const named = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

let events: Record<string, unknown>[] = [];
let serial = 0;
const add = (event: Record<string, unknown>) => events.push({ id: `e${serial++}`, ...event });
const mail = (customer: string, at: number, transactional: boolean, campaign = 'Order follow-up') =>
  add({
    type: 'touchpoint',
    customer: who(customer),
    at: iso(at),
    channel: 'email',
    direction: 'out',
    kind: 'email_sent',
    campaign,
    detail: transactional ? { transactional: true } : {},
  });
const order = (customer: string, orderId: string, at: number) =>
  add({ type: 'order', customer: who(customer), orderId, at: iso(at), lines: [{ product: 'Mug', amount: '12.00' }] });

before(async () => {
  t = await createTestApp('admin');
  (t.deps.clock as { now: () => Date }).now = () => new Date(now);
  const trial = [...named('T', 40), ...named('L', 5), ...named('N', 5)];
  trial.forEach((name, i) => {
    const at = start + i * hour;
    add({ type: 'customer.upsert', customer: who(name), name: `Trial ${name}` });
    order(name, `${name}-1`, at);
    if (name.startsWith('T')) mail(name, at + 10 * 60_000, true);
    if (name.startsWith('L')) mail(name, at + 2 * hour, true);
    if (i < 6) {
      order(name, `${name}-2`, at + 30 * day);
      mail(name, at + 30 * day + 10 * 60_000, true);
    }
    if (i >= 10 && i < 25)
      add({
        type: 'survey.response',
        customer: who(name),
        at: iso(at + (i < 22 ? 3 : 20) * day),
        survey: 'order',
        question: 'How satisfied are you?',
        score: 4,
      });
    if (i >= 25 && i < 33) mail(name, at + 20 * day, false, 'Second-purchase nudge');
  });
  for (const name of [...named('S', 7), ...named('C', 3), 'Z0']) {
    add({ type: 'customer.upsert', customer: who(name), name: `Old ${name}` });
    order(name, `${name}-1`, Date.parse('2025-01-10T10:00:00Z'));
    order(name, `${name}-2`, Date.parse('2025-02-10T10:00:00Z'));
    mail(name, Date.parse('2025-02-10T10:05:00Z'), true);
    mail(
      name,
      Date.parse(name.startsWith('C') ? '2026-05-30T09:00:00Z' : '2026-03-01T09:00:00Z'),
      false,
      'Spring news',
    );
  }
  const stored = await ingestEvents(t.deps, events, { source: 'test' });
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  events = [];
  for (const r of await queryRows<{ id: number; external_id: string }>(
    t.deps.db,
    sql`select id, external_id from customers`,
  ))
    ids.set(r.external_id, Number(r.id));
  // What an analysis writes when a customer is predicted gone.
  await t.deps.db.execute(sql`update customers set stage = 'lapsed' where external_id = 'Z0'`);
  await t.deps.db.execute(sql`insert into lifecycle_changes (customer_id, from_stage, to_stage, at, cause)
    select id, 'customer', 'lapsed', '2026-06-01T00:00:00Z', 'probability still active fell to 0.1' from customers where external_id = 'Z0'`);
  const recipe = await expectJson(t.call('POST', '/api/v1/journeys/recipes/win_back'), 201);
  await expectJson(t.call('POST', `/api/v1/journeys/${recipe.id}/activate`));
});
after(async () => {
  await t.close();
});

const report = async (query = '') => (await expectJson(t.call('GET', `/api/v1/blueprint${query}`))) as BlueprintReport;
const stageOf = (r: BlueprintReport, stage: string) => r.stages.find((s) => s.stage === stage)!;
const stepOf = (r: BlueprintReport, stage: string, key: string) => stageOf(r, stage).funnel.find((f) => f.key === key)!;
const counts = (s: { onTime: number; late: number; missed: number; leftFirst: number; notDue: number }) => [
  s.onTime,
  s.late,
  s.missed,
  s.leftFirst,
  s.notDue,
];
const drill = async (stage: string, step: string, outcome: string) =>
  (
    (await expectJson(t.call('GET', `/api/v1/blueprint/customers?stage=${stage}&step=${step}&outcome=${outcome}`))) as {
      customers: { id: number; name: string | null; leftTo: string | null }[];
    }
  ).customers;

test('the blueprint finds the planted gaps: unconfirmed orders, silent customers, stages without a journey', async () => {
  const r = await report();
  assert.equal(r.days, 365);
  assert.equal(r.silentDays, 90);
  const gap = (kind: string, stage: string | null = null) => r.gaps.find((g) => g.kind === kind && g.stage === stage)!;

  const unconfirmed = gap('unconfirmed');
  assert.equal(unconfirmed.count, 10);
  assert.equal(unconfirmed.customers, 10);
  assert.deepEqual(
    unconfirmed.sample.map((c) => c.id),
    idsOf(...named('L', 5), ...named('N', 5)),
  );
  assert.equal(unconfirmed.sample.find((c) => c.id === ids.get('N0'))!.detail, 'order N0-1 of 2026-05-11');
  assert.equal(unconfirmed.rule, null);

  const silent = gap('silent');
  assert.equal(silent.count, 7);
  assert.deepEqual(
    silent.sample.map((c) => c.id),
    idsOf(...named('S', 7)),
  );
  assert.deepEqual(silent.sample[0], { id: ids.get('S0'), name: 'Old S0', detail: 'last contact 2026-03-01' });
  // The gap's rule selects the same customers now, so they can become a segment.
  const preview = await expectJson(t.call('POST', '/api/v1/segments/preview', { rule: silent.rule }));
  assert.equal(preview.customers, 7);
  const narrower = await report('?silentDays=150');
  assert.equal(narrower.gaps.find((g) => g.kind === 'silent')!.count, 0);

  // Win-back starts on at_risk; every other stage has no journey. The lapsed one has one customer.
  assert.deepEqual(
    r.gaps.filter((g) => g.kind === 'no_journey').map((g) => [g.stage, g.count]),
    [
      ['trial', 44],
      ['customer', 16],
      ['best', 0],
      ['lapsed', 1],
      ['won_back', 0],
    ],
  );
  assert.deepEqual(
    gap('no_journey', 'lapsed').sample.map((c) => c.id),
    [ids.get('Z0')],
  );
  assert.deepEqual(gap('no_journey', 'lapsed').rule, {
    match: 'all',
    conditions: [{ field: 'stage', op: 'is', value: 'lapsed' }],
  });
});

test('each designed step of a stage: on time, late, missed, left first, not due; its timing and where leavers went', async () => {
  const r = await report();
  const trial = stageOf(r, 'trial');
  assert.equal(trial.design, 'built-in');
  assert.equal(trial.entered, 50);
  assert.equal(trial.stayed, 44);
  assert.deepEqual(trial.left, { customer: 6 });
  assert.deepEqual(
    trial.funnel.map((f) => [f.key, f.due, ...counts(f)]),
    [
      ['confirmation', 'within 1 hour', 40, 5, 5, 0, 0],
      ['survey', 'by day 8', 12, 3, 35, 0, 0],
      ['nudge', 'by day 45', 8, 0, 36, 6, 0],
      ['second_order', 'by day 90', 6, 0, 0, 0, 44],
    ],
  );
  const confirmation = stepOf(r, 'trial', 'confirmation');
  assert.deepEqual(confirmation.shares, { onTime: 0.8, late: 0.1, missed: 0.1 });
  assert.deepEqual(
    confirmation.timing.bins.filter((b) => b.n > 0),
    [
      { label: 'within 1 hour', n: 40 },
      { label: '1 hour to 1 day', n: 5 },
    ],
  );
  const minutes = (days: number) => Math.round(days * 24 * 60 * 1000) / 1000;
  assert.equal(minutes(confirmation.timing.days!.median), 10);
  // 45 times, 40 of 10 minutes and 5 of 120: the 90th percentile lies 0.6 of the way from one to the other.
  assert.equal(minutes(confirmation.timing.days!.p90), 76);
  assert.deepEqual(stepOf(r, 'trial', 'nudge').dropOut, { after: {}, without: { customer: 6 } });
  assert.deepEqual(stepOf(r, 'trial', 'second_order').dropOut, { after: { customer: 6 }, without: {} });
  assert.equal(stepOf(r, 'trial', 'second_order').timing.days!.median, 30);

  // The six who became customers on day 30: each heard from us (the confirmation), the survey is not due.
  const customer = stageOf(r, 'customer');
  assert.equal(customer.entered, 6);
  assert.deepEqual(
    customer.funnel.map((f) => [f.key, ...counts(f)]),
    [
      ['contact', 6, 0, 0, 0, 0],
      ['survey', 0, 0, 0, 0, 6],
    ],
  );
  assert.deepEqual(
    stageOf(r, 'lapsed').funnel.map((f) => [f.key, ...counts(f)]),
    [['survey', 0, 0, 1, 0, 0]],
  );
  assert.equal(stageOf(r, 'at_risk').entered, 0);
  assert.deepEqual(
    (await report('?stage=trial')).stages.map((s) => s.stage),
    ['trial'],
  );

  // Every number opens the customers behind it.
  assert.deepEqual(
    (await drill('trial', 'confirmation', 'missed')).map((c) => c.id),
    idsOf(...named('N', 5)),
  );
  const late = await drill('trial', 'confirmation', 'late');
  assert.deepEqual(
    late.map((c) => c.name),
    ['Trial L0', 'Trial L1', 'Trial L2', 'Trial L3', 'Trial L4'],
  );
  const left = await drill('trial', 'nudge', 'left_first');
  assert.deepEqual(
    left.map((c) => [c.id, c.leftTo]),
    idsOf(...named('T', 6)).map((id) => [id, 'customer']),
  );
  const missing = await t.call('GET', '/api/v1/blueprint/customers?stage=trial&step=thanks&outcome=missed');
  assert.equal(missing.status, 404);
  assert.match(
    (await missing.json()).error.message,
    /no step thanks; it has confirmation, survey, nudge, second_order/,
  );
});

test('a marketer changes a stage design and goes back to the built-in one; both are audited; an agent may not', async () => {
  const steps = [
    {
      key: 'confirmation',
      label: 'Order confirmation',
      kinds: ['email_sent'],
      transactional: true,
      within: 3,
      unit: 'hours',
    },
    { key: 'news', label: 'Any marketing mail', kinds: ['email_sent'], matching: 'NUDGE', within: 40 },
  ];
  const saved = await expectJson(t.call('PUT', '/api/v1/blueprint/trial', { steps }));
  assert.equal(saved.design, 'saved');
  assert.equal(saved.steps[1].unit, 'days');
  const trial = stageOf(await report(), 'trial');
  assert.equal(trial.design, 'saved');
  assert.deepEqual(
    trial.funnel.map((f) => [f.key, ...counts(f)]),
    [
      ['confirmation', 45, 0, 5, 0, 0],
      ['news', 8, 0, 36, 6, 0],
    ],
  );
  const twice = await t.call('PUT', '/api/v1/blueprint/trial', { steps: [steps[0], steps[0]] });
  assert.equal(twice.status, 400);
  assert.match(JSON.stringify(await twice.json()), /each step needs a key of its own/);
  const tooLong = await t.call('PUT', '/api/v1/blueprint/trial', {
    steps: [{ ...steps[0], within: 731, unit: 'days' }],
  });
  assert.equal(tooLong.status, 400);
  assert.equal((await t.call('PUT', '/api/v1/blueprint/prospect', { steps })).status, 400);

  const { key } = await createApiKey(t.deps, 'agent', 'agent');
  const asAgent = await t.app.request('/api/v1/blueprint/trial', {
    method: 'DELETE',
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal(asAgent.status, 403);
  const read = await t.app.request('/api/v1/blueprint', { headers: { authorization: `Bearer ${key}` } });
  assert.equal(read.status, 200);

  const reset = await expectJson(t.call('DELETE', '/api/v1/blueprint/trial'));
  assert.equal(reset.design, 'built-in');
  assert.deepEqual(reset.steps, builtInDesign.trial);
  await expectJson(t.call('DELETE', '/api/v1/blueprint/trial'));
  const audit = await queryRows<{ action: string; target: string; detail: { from: unknown; to?: unknown } }>(
    t.deps.db,
    sql`select action, target, detail from audit_log where action like 'blueprint.%' order by id`,
  );
  assert.deepEqual(
    audit.map((a) => [a.action, a.target]),
    [
      ['blueprint.changed', 'trial'],
      ['blueprint.reset', 'trial'],
    ],
  );
  assert.equal(audit[0].detail.from, 'built-in');
  assert.equal((audit[1].detail.from as { key: string }[])[1].key, 'news');
});

test('an analyst reads the blueprint by customer number only', async () => {
  const { key } = await createApiKey(t.deps, 'analyst', 'analyst');
  const get = async (path: string) => {
    const response = await t.app.request(path, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(response.status, 200);
    return response.json();
  };
  const r = (await get('/api/v1/blueprint')) as BlueprintReport;
  const silent = r.gaps.find((g) => g.kind === 'silent')!;
  assert.deepEqual(silent.sample[0], { id: ids.get('S0'), name: null, detail: 'last contact 2026-03-01' });
  const late = await get('/api/v1/blueprint/customers?stage=trial&step=confirmation&outcome=late');
  assert.deepEqual(
    late.customers.map((c: { name: string | null }) => c.name),
    [null, null, null, null, null],
  );
});

test('pure parts: due words, stages without a journey, gap rules, a funnel from counts', () => {
  assert.equal(dueWords({ within: 1, unit: 'hours' }), 'within 1 hour');
  assert.equal(dueWords({ within: 45, unit: 'days' }), 'by day 45');
  assert.deepEqual(
    stagesWithoutJourney([{ type: 'order' }, { type: 'stage', stage: 'lapsed' }, { type: 'stage', stage: 'trial' }]),
    ['customer', 'best', 'at_risk', 'won_back'],
  );
  assert.equal(gapRule('unconfirmed', { silentDays: 90 }), null);
  assert.deepEqual(gapRule('silent', { silentDays: 30 })!.conditions[2], {
    field: 'last_contact_at',
    op: 'not_in_last_days',
    value: 30,
  });
  assert.equal(
    blueprintBody.safeParse({ steps: [{ key: 'Bad key', label: 'x', kinds: ['call'], within: 1 }] }).success,
    false,
  );
  const rows: StageCount[] = [
    { part: 'outcome', stage: 'lapsed', key: 'survey', what: 'on_time', n: 3, quantiles: null },
    { part: 'outcome', stage: 'lapsed', key: 'survey', what: 'missed', n: 1, quantiles: null },
    { part: 'outcome', stage: 'lapsed', key: 'survey', what: 'not_due', n: 2, quantiles: null },
    { part: 'bin', stage: 'lapsed', key: 'survey', what: '2', n: 3, quantiles: null },
    { part: 'timing', stage: 'lapsed', key: 'survey', what: null, n: 3, quantiles: [1.5, 2, 2.5, 2.9] },
    { part: 'without', stage: 'lapsed', key: 'survey', what: 'won_back', n: 1, quantiles: null },
    { part: 'left', stage: 'lapsed', key: null, what: 'won_back', n: 1, quantiles: null },
    { part: 'left', stage: 'lapsed', key: null, what: null, n: 5, quantiles: null },
    { part: 'left', stage: 'trial', key: null, what: null, n: 9, quantiles: null },
  ];
  const design = {
    stage: 'lapsed' as const,
    source: 'built-in' as const,
    steps: builtInDesign.lapsed,
    updatedBy: null,
    updatedAt: null,
  };
  const lapsed = stageReport(design, rows);
  assert.equal(lapsed.entered, 6);
  assert.equal(lapsed.stayed, 5);
  assert.deepEqual(lapsed.left, { won_back: 1 });
  const [survey] = lapsed.funnel;
  assert.deepEqual(survey.shares, { onTime: 0.75, late: 0, missed: 0.25 });
  assert.equal(survey.notDue, 2);
  assert.deepEqual(survey.timing.days, { p25: 1.5, median: 2, p75: 2.5, p90: 2.9 });
  assert.deepEqual(survey.timing.bins[2], { label: timingBins[2], n: 3 });
  assert.equal(timingBins[2], '1 day to 3 days');
  assert.deepEqual(survey.dropOut, { after: {}, without: { won_back: 1 } });
});
