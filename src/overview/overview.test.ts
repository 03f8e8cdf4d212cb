// The owner's overview on planted stores: this month's stage moves counted exactly, the at-risk
// totals equal to the at-risk list, and the programme's figures those of its own report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestApp, expectJson } from '../../test/app.ts';
import { settleJobs } from '../jobs/job.service.ts';
import { overview } from './overview.service.ts';

const order = (id: string, customer: string, at: string, amount = '20') => ({
  id,
  type: 'order',
  customer: { externalId: customer },
  orderId: id,
  at,
  lines: [{ amount }],
});

test("this month's stage moves: who was where at the month's start, who came in and went out", async () => {
  const t = await createTestApp();
  try {
    await expectJson(
      t.call('POST', '/api/v1/events', {
        events: [
          order('a1', 'A', '2026-02-05T10:00:00Z'), // A: trial since February, a true customer in March
          order('a2', 'A', '2026-03-05T10:00:00Z'),
          order('b1', 'B', '2026-03-06T10:00:00Z'), // B: new in March, one order
          order('c1', 'C', '2026-02-06T10:00:00Z'), // C: trial since February, nothing in March
          order('d1', 'D', '2026-01-06T10:00:00Z'), // D: a true customer since January
          order('d2', 'D', '2026-01-20T10:00:00Z'),
        ],
      }),
    );
    const o = await overview({ ...t.deps, clock: { now: () => new Date('2026-03-15T12:00:00Z') } });
    assert.equal(o.monthStart, '2026-03-01');
    const stage = (name: string) => o.stages.find((s) => s.stage === name);
    // At 1 March: A and C in trial, D a customer. Now: B and C in trial, A and D customers.
    assert.deepEqual(stage('trial'), { stage: 'trial', now: 2, atMonthStart: 2, movedIn: 1, movedOut: 1 });
    assert.deepEqual(stage('customer'), { stage: 'customer', now: 2, atMonthStart: 1, movedIn: 1, movedOut: 0 });
    // B arrived this month and left prospect the same day.
    assert.deepEqual(stage('prospect'), { stage: 'prospect', now: 0, atMonthStart: 0, movedIn: 1, movedOut: 1 });
    assert.deepEqual(
      o.moves.map((m) => `${m.from}>${m.to}:${m.customers}`),
      ['prospect>trial:1', 'trial>customer:1'],
    );
    assert.deepEqual(o.atRisk, { customers: 0, valueAtStake: '0.00' });
    assert.equal(o.asOf, null);
    assert.deepEqual(o.tried, []);
  } finally {
    await t.close();
  }
});

test('after an analysis: the at-risk totals are the at-risk list summed; the programme is its own report', async () => {
  const t = await createTestApp();
  try {
    // 120 customers ordering every 20 days through 2025; the first 30 stopped in April, the next 20 in September (at risk by December).
    const events: unknown[] = [];
    for (let c = 1; c <= 120; c++)
      for (let k = 0; k < (c <= 30 ? 6 : c <= 50 ? 14 : 17); k++)
        events.push(
          order(
            `o${c}-${k}`,
            `C${c}`,
            new Date(Date.UTC(2025, 0, 1) + (k * 20 + (c % 7)) * 86_400_000).toISOString(),
            String(15 + (c % 11)),
          ),
        );
    for (let i = 0; i < events.length; i += 2000)
      await expectJson(t.call('POST', '/api/v1/events', { events: events.slice(i, i + 2000) }));
    await expectJson(t.call('POST', '/api/v1/analytics/runs', { asOf: '2025-12-20' }), 202);
    await settleJobs();

    const o = await expectJson(t.call('GET', '/api/v1/overview'));
    assert.equal(o.asOf, '2025-12-20');
    const list = await expectJson(t.call('GET', '/api/v1/analytics/at-risk?limit=500'));
    assert.ok(list.customers.length > 0, 'the planted leavers put some at risk');
    assert.equal(o.atRisk.customers, list.customers.length);
    const sum = list.customers.reduce((s: number, c: { valueAtStake: string }) => s + Number(c.valueAtStake), 0);
    assert.ok(Math.abs(Number(o.atRisk.valueAtStake) - sum) < 0.01, `${o.atRisk.valueAtStake} against ${sum}`);
    const total = o.stages.reduce((n: number, s: { now: number }) => n + s.now, 0);
    assert.equal(total, 120, 'every customer is in one stage');

    const lift = await expectJson(t.call('GET', '/api/v1/programme/lift?months=12'));
    assert.equal(o.programme.headline, lift.headline);
    assert.equal(o.programme.marketedCustomers, lift.span.marketed.customers);
  } finally {
    await settleJobs();
    await t.close();
  }
});
