import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { settleJobs } from '../jobs/job.service.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
  // 120 customers ordering every 20 days through 2025; the first 30 stopped in April.
  const events: unknown[] = [];
  for (let c = 1; c <= 120; c++) {
    for (let k = 0; k < (c <= 30 ? 6 : 17); k++) {
      events.push({
        id: `o${c}-${k}`,
        type: 'order',
        customer: { externalId: `C${c}` },
        orderId: `O${c}-${k}`,
        at: new Date(Date.UTC(2025, 0, 1) + (k * 20 + (c % 7)) * 86_400_000).toISOString(),
        lines: [{ amount: String(15 + (c % 11)) }],
      });
    }
  }
  const response = await t.call('POST', '/api/v1/events', { events: events.slice(0, 2500) });
  assert.equal(response.status, 200);
  assert.equal((await t.call('POST', '/api/v1/events', { events: events.slice(2500) })).status, 200);
});
after(async () => {
  await settleJobs();
  await t.close();
});

const get = async (path: string) => (await t.call('GET', path)).json();

test('an analysis started from the API runs as a job; the page data, at-risk list, alerts and score history follow', async () => {
  assert.deepEqual((await get('/api/v1/analytics')).run, null);
  const started = await t.call('POST', '/api/v1/analytics/runs', { asOf: '2025-12-20' });
  assert.equal(started.status, 202);
  const { jobId } = await started.json();
  await settleJobs();
  const job = await get(`/api/v1/jobs/${jobId}`);
  assert.equal(job.status, 'done', job.error);
  assert.equal(job.result.customers, 120);

  const page = await get('/api/v1/analytics');
  // The run as the contract declares it (analytics.ts), camelCase, with the model that scored.
  assert.equal(page.run.asOf, '2025-12-20');
  assert.equal(page.run.current, true);
  assert.equal(typeof page.run.customers, 'number');
  assert.ok(['bgnbd', 'mbgnbd', 'pareto', 'supervised'].includes(page.run.activityModel));
  assert.match(page.run.finishedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.ok(page.run.report.tracking.length > 40, 'weekly tracking');
  assert.ok(page.run.report.valueHistogram.length > 0);
  assert.equal(page.run.report.conversionByChannel[0].customers, 120);
  assert.ok(page.stages.some((s: { stage: string }) => s.stage === 'at_risk' || s.stage === 'lapsed'));

  const atRisk = await get('/api/v1/analytics/at-risk?limit=500');
  const stakes = atRisk.customers.map((c: { valueAtStake: string }) => Number(c.valueAtStake));
  assert.deepEqual(
    stakes,
    [...stakes].sort((a, b) => b - a),
    'sorted by value at stake',
  );
  for (const c of atRisk.customers) assert.equal(c.stage, 'at_risk');

  const id = (await get('/api/v1/customers?q=C1')).customers.find(
    (c: { externalId: string }) => c.externalId === 'C1',
  ).id;
  const scores = await get(`/api/v1/customers/${id}/scores`);
  assert.equal(scores.scores.length, 1);
  assert.ok(scores.scores[0].pAlive < 0.5, `C1 stopped in April: ${scores.scores[0].pAlive}`);
  const timeline = await get(`/api/v1/customers/${id}/timeline?kind=stage`);
  assert.match(timeline.entries[0].detail.cause, /usually orders every 20 days/);

  // A second run later: alerts, followed with the after cursor.
  await t.call('POST', '/api/v1/analytics/runs', { asOf: '2026-03-01' });
  await settleJobs();
  const alerts = await get('/api/v1/alerts?limit=1000');
  assert.ok(alerts.alerts.length > 0, 'steady customers silent since December cross the threshold');
  const newest = alerts.alerts[0].id;
  assert.deepEqual((await get(`/api/v1/alerts?after=${newest}`)).alerts, []);
  const oldestFirst = (await get('/api/v1/alerts?after=0&limit=1000')).alerts.map((a: { id: number }) => a.id);
  assert.deepEqual(
    oldestFirst,
    alerts.alerts.map((a: { id: number }) => a.id).reverse(),
    'after a cursor: the same alerts, oldest first',
  );
  const alerted = alerts.alerts[0].customerId;
  const alertEntries = await get(`/api/v1/customers/${alerted}/timeline?kind=alert`);
  assert.match(alertEntries.entries[0].title, /Activity dropping: probability still active 0\.\d\d → 0\.\d\d/);
});
