// kept analyze through the product: CDNOW imported, analysed as of 1997-09-30, reported; stages,
// reasons and alerts on a store whose customers go quiet; an empty database.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { loadConfig, type Config } from '../config.ts';
import type { AppError } from '../shared/errors.ts';
import { runImport } from '../imports/import.service.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { latestScores, modelReport } from './report.service.ts';
import { analyze } from './analyze.service.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

async function withDeps(
  run: (deps: Deps, clock: { now: Date }) => Promise<void>,
  analytics: Partial<Config['analytics']> = {},
) {
  const clock = { now: new Date('2026-01-01T12:00:00Z') };
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-analyze-'));
  const base = loadConfig({}, { ...process.env, NODE_ENV: 'test' });
  const deps = await createTestDeps({ dataDir: work, analytics: { ...base.analytics, ...analytics } });
  const timed = { ...deps, clock: { now: () => clock.now } };
  try {
    await run(timed, clock);
  } finally {
    await deps.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

test('CDNOW imported and analysed as of 1997-09-30 gives the published parameters, in weeks and in days', async () => {
  await withDeps(async (deps) => {
    await runImport(deps, {
      kind: 'orders',
      file: 'test/fixtures/cdnow/cdnowElog.csv',
      map: { customer: 'masterid', at: 'date', amount: 'sales' },
      dateFormat: 'yyyyMMdd',
      encoding: 'utf-8',
    });
    // BG/NBD pinned: this is its published reproduction (the backtest still runs and reports).
    const outcome = await analyze(deps, { asOf: '1997-09-30', model: 'bgnbd' });
    assert.deepEqual(
      [outcome.customers, outcome.repeatCustomers, outcome.current, outcome.model],
      [2357, 946, false, 'bgnbd'],
    );
    const week = await modelReport(deps.db, 'week');
    close(week.bgnbd!.r, 0.2426, 0.005, 'r');
    close(week.bgnbd!.alpha, 4.4137, 0.02, 'alpha');
    close(week.bgnbd!.a, 0.793, 0.01, 'a');
    close(week.bgnbd!.b, 2.4262, 0.03, 'b');
    close(week.bgnbd!.logLikelihood, -9582.429, 0.01, 'LL');
    close(week.paretoNbd!.r, 0.553, 0.01, 'Pareto r');
    close(week.paretoNbd!.logLikelihood, -9594.976, 0.01, 'Pareto LL');
    // MBG/NBD as BTYDplus fits it (clv.md §3).
    close(week.mbgnbd!.r, 0.525, 0.01, 'MBG r');
    close(week.mbgnbd!.alpha, 6.183, 0.05, 'MBG alpha');
    close(week.mbgnbd!.a, 0.891, 0.01, 'MBG a');
    close(week.mbgnbd!.b, 1.614, 0.03, 'MBG b');
    // The backtest held out 1997-07-03 to 1997-09-30 and judged every candidate on it.
    const backtest = week.backtest as {
      from: string;
      to: string;
      candidates: { model: string; rocAuc: { value: number; low: number; high: number } }[];
    };
    assert.deepEqual([backtest.from, backtest.to], ['1997-07-03', '1997-09-30']);
    assert.deepEqual(
      backtest.candidates.map((c) => c.model),
      ['bgnbd', 'mbgnbd', 'pareto', 'supervised'],
    );
    for (const c of backtest.candidates) {
      assert.ok(c.rocAuc.low <= c.rocAuc.value && c.rocAuc.value <= c.rocAuc.high, JSON.stringify(c));
      assert.ok(c.rocAuc.value > 0.6, `${c.model} ranks the held-out buyers: ${c.rocAuc.value}`);
    }
    close(week.gammaGamma!.p, 6.25, 0.02, 'p');
    close(week.gammaGamma!.q, 3.74, 0.02, 'q');
    close(week.gammaGamma!.gamma, 15.44, 0.05, 'gamma');
    // Days: the same model, alpha seven times larger.
    const day = await modelReport(deps.db, 'day');
    close(day.bgnbd!.alpha / 7, week.bgnbd!.alpha, 0.02, 'alpha in days / 7');
    close(day.bgnbd!.r, week.bgnbd!.r, 0.005, 'r in days');

    const scores = [];
    for await (const row of latestScores(deps.db)) scores.push(row);
    assert.equal(scores.length, 2357);
    // Customer 1 of the published summaries is masterid 4: x = 2, t_x = 30.43 weeks, T = 38.86.
    const one = scores.find((s) => s.external_id === '4')!;
    close(one.p_alive as number, 0.7266, 0.0005, 'customer 1 P(alive)');
    assert.equal(one.model, 'bgnbd');
    const [p30, p90, p365] = [one.p_buy_30, one.p_buy_90, one.p_buy_365] as number[];
    assert.ok(p30 < p90 && p90 < p365 && p365 < (one.p_alive as number), `${p30} ${p90} ${p365}`);
    close(one.churn_probability as number, 1 - p365, 1e-9, 'churn: no order in the next 365 days');
    close(one.expected_365 as number, 1.56, 0.02, 'customer 1 expected purchases in 365 days');
    assert.equal(one.expected_order_value, '24.65');
    assert.equal(one.purchase_days, 3);
    assert.match(
      one.reasons as string,
      /usually orders every 107 days; 59 days without an order; probability still active 0\.73/,
    );
    const [run] = await queryRows<{
      report: {
        frequencyBins: { frequency: string; customers: number; actual: number; bgnbd: number }[];
        tracking: { week: number; actual: number }[];
      };
    }>(deps.db, sql`select report from analysis_runs`);
    const bins = run.report.frequencyBins;
    assert.deepEqual(
      bins.map((b) => b.customers),
      [1411, 439, 214, 100, 62, 38, 29, 64],
    );
    close(bins[0].actual, 0.2367116, 1e-4, 'bin 0 actual');
    close(bins[0].bgnbd, 0.2250893, 2e-3, 'bin 0 predicted');
    close(bins[7].bgnbd, 6.157036, 0.02, 'bin 7+ predicted');
    assert.deepEqual(
      run.report.tracking.filter((t) => [20, 25, 39, 78].includes(t.week)).map((t) => t.actual),
      [1359, 1672, 2457, 4339],
    );
  });
});

test('a current run moves customers who went quiet to at_risk or lapsed with reasons, alerts on the drop, and keeps score history', async () => {
  await withDeps(async (deps, clock) => {
    // 150 steady customers ordering every 20 days for a year; 30 of them stop in the middle.
    const events: unknown[] = [];
    for (let c = 1; c <= 150; c++) {
      const stops = c <= 30 ? 8 : 19;
      for (let k = 0; k < stops; k++) {
        const at = new Date(Date.UTC(2025, 0, 1) + (k * 20 + (c % 5)) * 86_400_000).toISOString();
        events.push({
          id: `o${c}-${k}`,
          type: 'order',
          customer: { externalId: `C${c}` },
          orderId: `O${c}-${k}`,
          at,
          lines: [{ amount: String(20 + (c % 7)) }],
        });
      }
    }
    for (let i = 0; i < events.length; i += 2000)
      assert.equal((await ingestEvents(deps, events.slice(i, i + 2000), { source: 'test' })).rejected, 0);
    clock.now = new Date('2026-01-10T12:00:00Z');
    const first = await analyze(deps);
    assert.equal(first.current, true);
    assert.ok(first.stageChanges > 0);
    // All 150 first bought in January 2025; the 30 who stop have their last order in May.
    const [{ report }] = await queryRows<{
      report: { cohorts: { cohort: string; size: number; offset: number; active: number }[] };
    }>(deps.db, sql`select report from analysis_runs where id = ${first.runId}`);
    assert.deepEqual(
      report.cohorts.filter((c) => [0, 4, 5, 11].includes(c.offset)).map((c) => [c.cohort, c.size, c.offset, c.active]),
      [
        ['2025-01', 150, 0, 150],
        ['2025-01', 150, 4, 150],
        ['2025-01', 150, 5, 120],
        ['2025-01', 150, 11, 120],
      ],
    );
    const stageOf = async (id: string) =>
      (await queryRows<{ stage: string }>(deps.db, sql`select stage from customers where external_id = ${id}`))[0]
        .stage;
    assert.ok(
      ['at_risk', 'lapsed'].includes(await stageOf('C1')),
      `C1 went quiet after 8 orders: ${await stageOf('C1')}`,
    );
    assert.ok(['customer', 'best'].includes(await stageOf('C100')), `C100 kept buying: ${await stageOf('C100')}`);
    const [{ best }] = await queryRows<{ best: number }>(
      deps.db,
      sql`select count(*)::int as best from customers where stage = 'best'`,
    );
    assert.ok(best >= 1 && best <= 15, `best: ${best}`);
    const [change] = await queryRows<{ cause: string }>(
      deps.db,
      sql`
      select l.cause from lifecycle_changes l join customers c on c.id = l.customer_id where c.external_id = 'C1' and l.to_stage in ('at_risk', 'lapsed')`,
    );
    assert.match(
      change.cause,
      /usually orders every 20 days; \d+ days without an order; probability still active 0\.\d\d/,
    );

    // Two months later without orders, steady customers' chances fall: alerts name the drop.
    clock.now = new Date('2026-03-15T12:00:00Z');
    await deps.db.execute(
      sql`insert into webhooks (url, events, secret, created_by) values ('https://hooks.example.com/kept', '{alert.raised}', 'whsec_test', 'test')`,
    );
    // A run that fails after writing its scores (here: at the very end) withdraws its scores and alerts, and no webhook hears of them.
    await deps.db.execute(
      sql.raw(
        `create function fail_done() returns trigger language plpgsql as $$ begin raise exception 'the disk is full'; end $$`,
      ),
    );
    await deps.db.execute(
      sql.raw(
        `create trigger fail_done before update on analysis_runs for each row when (new.status = 'done') execute function fail_done()`,
      ),
    );
    await assert.rejects(analyze(deps), (error: Error) =>
      /the disk is full/.test(`${error.message} ${(error.cause as Error | undefined)?.message}`),
    );
    const [failed] = await queryRows<{
      status: string;
      error: string;
      scores: number;
      alerts: number;
      deliveries: number;
    }>(
      deps.db,
      sql`
      select status, error, (select count(*)::int from scores where run_id = r.id) as scores, (select count(*)::int from activity_alerts) as alerts,
        (select count(*)::int from webhook_deliveries) as deliveries
      from analysis_runs r order by id desc limit 1`,
    );
    assert.deepEqual(failed, { status: 'failed', error: 'the disk is full', scores: 0, alerts: 0, deliveries: 0 });
    await deps.db.execute(sql.raw('drop trigger fail_done on analysis_runs'));
    const second = await analyze(deps);
    assert.ok(second.alerts > 0, 'some customers crossed the threshold');
    const alerts = await queryRows<{
      reason: string;
      from_p_alive: number;
      to_p_alive: number;
      value_at_stake: string;
    }>(deps.db, sql`select reason, from_p_alive, to_p_alive, value_at_stake from activity_alerts`);
    for (const a of alerts) {
      assert.ok(a.from_p_alive >= 0.5 && a.to_p_alive < 0.5);
      assert.match(a.reason, /probability still active fell from [01]\.\d\d to 0\.\d\d/);
      assert.ok(Number(a.value_at_stake) > 0);
    }
    // Each alert goes out to a webhook that subscribed to them, naming the customer and the drop.
    const outbox = await queryRows<{ type: string; payload: { externalId: string; reason: string; toPAlive: number } }>(
      deps.db,
      sql`select type, payload from webhook_deliveries`,
    );
    assert.equal(outbox.length, second.alerts);
    assert.ok(
      outbox.every(
        (d) =>
          d.type === 'alert.raised' &&
          /^C\d+$/.test(d.payload.externalId) &&
          /fell from/.test(d.payload.reason) &&
          d.payload.toPAlive < 0.5,
      ),
    );
    const [{ runs }] = await queryRows<{ runs: number }>(
      deps.db,
      sql`select count(distinct run_id)::int as runs from scores where customer_id = (select id from customers where external_id = 'C100')`,
    );
    assert.equal(runs, 2, 'the history of scores is kept');
  });
});

test('an empty database, and customers without any repeat purchase, are answered with a warning, not a crash', async () => {
  await withDeps(async (deps) => {
    const empty = await analyze(deps, { asOf: '2026-01-01' });
    assert.deepEqual(
      [empty.customers, empty.warnings],
      [0, ['No purchases on or before the as-of date: nothing to fit or score']],
    );
    await ingestEvents(
      deps,
      [
        {
          id: 'a',
          type: 'order',
          customer: { externalId: 'A' },
          orderId: 'A1',
          at: '2025-12-31T10:00:00Z',
          lines: [{ amount: '10' }],
        },
        {
          id: 'b',
          type: 'order',
          customer: { externalId: 'B' },
          orderId: 'B1',
          at: '2026-01-01T10:00:00Z',
          lines: [{ amount: '10' }],
        },
      ],
      { source: 'test' },
    );
    const single = await analyze(deps, { asOf: '2026-01-01' });
    assert.deepEqual([single.customers, single.repeatCustomers], [2, 0]);
    assert.match(single.warnings[0], /No customer has bought twice yet/);
    const report = await modelReport(deps.db, 'week');
    assert.deepEqual([report.bgnbd, report.paretoNbd, report.gammaGamma], [null, null, null]);
  });
});

test('conventions: a zero-value order is no purchase, refunds are netted, a past run judges stages as of its date, the future is refused', async () => {
  await withDeps(async (deps) => {
    const order = (customer: string, n: number, at: string, amount: string) => ({
      id: `o-${customer}-${n}`,
      type: 'order',
      customer: { externalId: customer },
      orderId: `${customer}-${n}`,
      at: `${at}T10:00:00Z`,
      lines: [{ amount }],
    });
    const events: Record<string, unknown>[] = [];
    // 40 regulars ordering every 30 days through 2025.
    for (let c = 0; c < 40; c++)
      for (let k = 0; k < 12; k++)
        events.push(
          order(
            `F${c}`,
            k,
            new Date(Date.UTC(2025, 0, 3 + (c % 5)) + k * 30 * 86_400_000).toISOString().slice(0, 10),
            '25',
          ),
        );
    events.push(order('Z', 0, '2025-01-10', '30'), order('Z', 1, '2025-06-01', '0'));
    events.push(order('R', 0, '2025-01-05', '500'), order('R', 1, '2025-02-05', '20'));
    events.push({
      id: 'ret',
      type: 'return',
      customer: { externalId: 'R' },
      returnId: 'R-ret',
      orderId: 'R-0',
      at: '2025-01-20T10:00:00Z',
      amount: '500',
    });
    events.push(order('S', 0, '2025-01-10', '40'), order('S', 1, '2025-08-01', '40'));
    assert.equal((await ingestEvents(deps, events, { source: 'test' })).rejected, 0);

    await assert.rejects(
      analyze(deps, { asOf: '2026-01-02' }),
      (error: AppError) => error.code === 'bad_request' && /after today/.test(error.message),
    );

    const past = await analyze(deps, { asOf: '2025-03-01' });
    assert.equal(past.current, false);
    const pastRows = new Map<string, Record<string, unknown>>();
    for await (const row of latestScores(deps.db)) pastRows.set(row.external_id as string, row);
    // S bought once by then: judged a one-time buyer then, whatever it is today.
    assert.ok(
      ['trial', 'at_risk', 'lapsed'].includes(pastRows.get('S')!.stage as string),
      `S as of 2025-03-01: ${pastRows.get('S')!.stage}`,
    );
    const [{ stage: today }] = await queryRows<{ stage: string }>(
      deps.db,
      sql`select stage from customers where external_id = 'S'`,
    );
    assert.equal(today, 'customer');

    await analyze(deps, { asOf: '2025-12-31' });
    const rows = new Map<string, Record<string, unknown>>();
    for await (const row of latestScores(deps.db)) rows.set(row.external_id as string, row);
    const z = rows.get('Z')!;
    assert.equal(z.purchase_days, 1, 'the free order is not a purchase');
    assert.match(
      z.reasons as string,
      /^one order, 355 days ago; 80 % of customers who order again do so within 3\d days/,
    );
    const r = rows.get('R')!;
    assert.equal(r.historic_value, '20.00', 'the refunded 500 is netted');
    assert.ok((r.monetary_score as number) < 5);
  });
});
