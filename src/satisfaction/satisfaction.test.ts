import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { createApp } from '../server.ts';
import { queryRows, sql } from '../db/connection.ts';
import { demoDefaults } from '../demo/demo.ts';
import { loadDemo } from '../demo/generate.ts';
import { random } from '../shared/random.ts';
import { auc, fitSatisfaction, inputs, satisfactionIndex, type Features } from './satisfaction.ts';

const none: Features = { survey: 0, ticketsResolved: 0, ticketsFailed: 0, returns: 0, incidents: 0, feeling: 0 };

test('AUC counts the pairs a score orders right, ties as half', () => {
  assert.equal(auc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(auc([1, 1], [true, false]), 0.5);
  assert.equal(auc([3, 2, 1], [true, true, false]), 1);
  assert.equal(auc([1, 2], [true, true]), 0.5, 'no negatives: no information');
});

test('the logistic fit recovers the weights the data was generated with', () => {
  const rng = random(7);
  const truth = { intercept: -0.5, weights: { ...none, survey: 1.5, ticketsFailed: -1.0, feeling: 0.8 } };
  const rows = Array.from({ length: 20_000 }, () => {
    const x: Features = {
      survey: rng() - 0.5,
      ticketsResolved: rng() < 0.1 ? 1 : 0,
      ticketsFailed: rng() < 0.1 ? 1 : 0,
      returns: rng() < 0.2 ? 1 : 0,
      incidents: rng() < 0.2 ? 1 : 0,
      feeling: rng() < 0.2 ? rng() * 2 - 1 : 0,
    };
    const z = truth.intercept + inputs.reduce((s, i) => s + truth.weights[i] * x[i], 0);
    return { x, bought: rng() < 1 / (1 + Math.exp(-z)) };
  });
  const fit = fitSatisfaction(rows);
  // Only inputs without an effect may land on the wrong side by chance and be left out.
  for (const input of fit.dropped) assert.deepEqual([input, truth.weights[input], fit.weights[input]], [input, 0, 0]);
  assert.ok(Math.abs(fit.intercept - truth.intercept) < 0.1, `intercept ${fit.intercept}`);
  for (const input of inputs)
    assert.ok(
      Math.abs(fit.weights[input] - truth.weights[input]) < 0.2,
      `${input}: ${fit.weights[input]} vs ${truth.weights[input]}`,
    );
  assert.equal(satisfactionIndex(fit, none), 50, 'nothing to go by is the middle');
  assert.ok(
    satisfactionIndex(fit, { ...none, survey: 0.5 }) > 60 && satisfactionIndex(fit, { ...none, ticketsFailed: 1 }) < 40,
  );
});

test('an input whose weight comes out against its direction is left out and the rest refitted', () => {
  const rng = random(11);
  const rows = Array.from({ length: 10_000 }, () => {
    const x: Features = { ...none, returns: rng() < 0.3 ? 1 : 0, ticketsFailed: rng() < 0.2 ? 1 : 0 };
    // Here returns go with buying more: the index must not reward a return.
    return { x, bought: rng() < 1 / (1 + Math.exp(-(0.8 * x.returns - 1.2 * x.ticketsFailed))) };
  });
  const fit = fitSatisfaction(rows);
  assert.deepEqual([fit.dropped, fit.weights.returns], [['returns'], 0]);
  assert.ok(fit.weights.ticketsFailed < -0.8, `ticketsFailed ${fit.weights.ticketsFailed}`);
});

test('on the demo store the index predicts buying again better than any single input; the analysis scores the customers who had an experience', async () => {
  const deps = await createTestDeps();
  try {
    // The store `npm start` loads (2,000 customers, seed 1), ending on a fixed day.
    await loadDemo(deps, { ...demoDefaults, end: new Date('2026-11-30T23:59:59Z') });
    await analyze(deps, { asOf: '2026-11-30' });
    const [run] = await queryRows<{
      fit: { weights: Features; validation: { customers: number; auc: Record<string, number> } };
      months: { month: string; customers: number; satisfied: number }[];
    }>(
      deps.db,
      sql`
      select models->'satisfaction' as fit, report->'satisfiedByMonth' as months from analysis_runs`,
    );
    assert.ok(run.fit.validation.customers >= 30);
    for (const value of Object.values(run.fit.validation.auc)) assert.ok(value >= 0 && value <= 1);
    const { index, ...single } = run.fit.validation.auc;
    for (const [input, value] of Object.entries(single))
      assert.ok(index > value, `index ${index} vs ${input} ${value}`);
    assert.deepEqual(Object.keys(run.fit.weights).sort(), [...inputs].sort());
    assert.equal(run.months.length, 12);
    assert.equal(run.months.at(-1)!.month, '2026-11');
    for (const m of run.months) assert.ok(m.satisfied <= m.customers);
    const last = run.months.at(-1)! as unknown as {
      customers: number;
      byChannel: Record<string, { customers: number }>;
      byStage: Record<string, { customers: number }>;
      byAgent: Record<string, { customers: number; meanIndex: number }>;
    };
    const total = (tally: Record<string, { customers: number }>) =>
      Object.values(tally).reduce((n, t) => n + t.customers, 0);
    assert.deepEqual(
      [total(last.byChannel), total(last.byStage)],
      [last.customers, last.customers],
      'every customer in one channel and one stage',
    );
    assert.ok(total(last.byAgent) > 0 && total(last.byAgent) <= last.customers, 'customers with a ticket, by agent');
    for (const agent of Object.values(last.byAgent)) assert.ok(agent.meanIndex > 0 && agent.meanIndex < 100);
    const [{ scored, experienced }] = await queryRows<{ scored: number; experienced: number }>(
      deps.db,
      sql`
      select count(satisfaction)::int as scored,
        (select count(distinct customer_id)::int from (
          select customer_id from survey_responses where at > '2026-06-03' union select customer_id from incidents where at > '2026-06-03'
          union select customer_id from returns where returned_at > '2026-06-03' union select customer_id from tickets where opened_at > '2026-06-03'
          union select customer_id from notes where at > '2026-06-03') e
          where exists (select 1 from orders o where o.customer_id = e.customer_id and o.ordered_at > '2025-11-30')) as experienced
      from scores`,
    );
    assert.ok(scored > 0 && scored <= experienced, `${scored} scored of ${experienced} with an experience`);
    const [{ low, high }] = await queryRows<{ low: number; high: number }>(
      deps.db,
      sql`select min(satisfaction) as low, max(satisfaction) as high from scores`,
    );
    assert.ok(low >= 0 && high <= 100 && low < high);

    const app = createApp(deps);
    const { key } = await createApiKey(deps, 'test', 'analyst');
    const get = async (path: string) =>
      (await app.request(path, { headers: { authorization: `Bearer ${key}` } })).json();
    const page = await get('/api/v1/satisfaction');
    assert.deepEqual(
      [page.satisfiedFrom, page.byMonth.length, Object.keys(page.inputs).length, page.model.validation.auc.index],
      [50, 12, inputs.length, run.fit.validation.auc.index],
    );
    const [{ customer_id: someone }] = await queryRows<{ customer_id: number }>(
      deps.db,
      sql`select customer_id from scores where satisfaction is not null order by customer_id limit 1`,
    );
    const { points } = await get(`/api/v1/customers/${someone}/satisfaction`);
    assert.equal(points.length, 12);
    assert.ok(points.some((p: { index: number | null }) => p.index !== null && p.index >= 0 && p.index <= 100));
  } finally {
    await deps.close();
  }
});
