// docs/demo-data.md tells the demo store's figures for 2,000 customers, seed 1, ending 2026-12-04.
// This test loads that very store, runs the first analysis and reads each figure out of the
// document, so the page and the code cannot drift apart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { latestRun } from '../analytics/analytics.repository.ts';
import type { AnalysisModels } from '../analytics/analytics.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { experimentReport } from '../campaigns/experiment.service.ts';
import { programmeLiftReport } from '../campaigns/lift.service.ts';
import { loadConfig } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { demoDefaults } from './demo.ts';
import { loadDemo } from './generate.ts';
import { pastCampaigns } from './marketing.ts';

const doc = readFileSync(new URL('../../docs/demo-data.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
const end = new Date('2026-12-04T23:59:59Z');
const options = { customers: 2000, seed: demoDefaults.seed, end };
let deps: Deps;
let loaded: { customers: number; events: number; campaigns: number };

/** The figures a sentence of the document gives, found by a pattern with one group per figure. */
function figures(pattern: RegExp): number[] {
  const found = doc.match(pattern);
  assert.ok(found, `docs/demo-data.md no longer says ${pattern}`);
  return found.slice(1).map((f) => Number(f.replaceAll(',', '').replace('−', '-')));
}
const points = (v: number) => Math.round(v * 1000) / 10;

before(async () => {
  const base = loadConfig({}, { NODE_ENV: 'test' });
  // The share `npm start` uses by default (KEPT_UNIVERSAL_CONTROL).
  deps = await createTestDeps({ programme: { ...base.programme, universalControl: 0.05 } });
  (deps.clock as { now: () => Date }).now = () => new Date('2026-12-05T08:00:00Z');
  loaded = await loadDemo(deps, options);
});
after(() => deps?.close());

test('the size: events and order confirmations, to the hundred', async () => {
  const [customers, events, confirmations] = figures(
    /([\d,]+) customers are about ([\d,]+) events \(([\d,]+) of them order confirmations\)/,
  );
  assert.equal(customers, options.customers);
  assert.equal(Math.round(loaded.events / 100) * 100, events);
  const [{ n }] = await queryRows<{ n: number }>(
    deps.db,
    sql`select count(*)::int as n from touchpoints where campaign = 'Order follow-up'`,
  );
  assert.equal(Math.round(n / 100) * 100, confirmations);
});

test('the past campaigns: mailed, held out and the difference with its interval, as the table gives them', async () => {
  for (const campaign of pastCampaigns(end)) {
    const report = await experimentReport(deps, campaign.name, { days: 30 });
    const conversion = report.arms[0].outcomes.find((o) => o.outcome === 'conversion')!;
    const escaped = campaign.name.replace(/[()]/g, '\\$&');
    const [mailed, held, difference, low, high] = figures(
      new RegExp(
        `\\| ${escaped} \\| (\\d+) \\| (\\d+) \\| ([−+]?[\\d.]+) points \\(([−+]?[\\d.]+) to ([−+]?[\\d.]+)\\) \\|`,
      ),
    );
    assert.deepEqual(
      [report.arms[0].members, report.control.members],
      [mailed, held],
      `${campaign.name}: mailed and held out`,
    );
    assert.deepEqual(
      [points(conversion.difference), points(conversion.low), points(conversion.high)],
      [difference, low, high],
      `${campaign.name}: the difference in points`,
    );
  }
});

test('the universal control group a year on: who bought, against those marketed to', async () => {
  const [members, controlShare, marketedShare, marketed, difference, low, high] = figures(
    /(\d+) of its members were customers a year ago and (\d+) % of them bought since, against ([\d.]+) % of the ([\d,]+) marketed to \(([−+][\d.]+) points, 95 % interval ([−+]?[\d.]+) to ([−+][\d.]+)\)/,
  );
  const lift = await programmeLiftReport(deps, 12);
  const { control, marketed: them } = lift.span;
  const comparison = lift.span.retention.comparison;
  assert.ok(comparison, lift.headline);
  assert.deepEqual(
    [control.repeatCustomers, Math.round((100 * control.retained) / control.repeatCustomers)],
    [members, controlShare],
  );
  assert.deepEqual([them.repeatCustomers, points(them.retained / them.repeatCustomers)], [marketed, marketedShare]);
  assert.deepEqual(
    [points(comparison.difference), points(comparison.low), points(comparison.high)],
    [difference, low, high],
  );
});

test('the first analysis: subscribers and their model, the uplift model’s assignments', async () => {
  await analyze(deps);
  const run = await latestRun(deps.db);
  const models = run?.models as AnalysisModels;
  const retention = models.subscriptions?.retention;
  assert.ok(retention?.fit && retention.backtest, 'the subscriptions were analysed');
  const [subscribers, cancelled, alpha, beta, predicted, actual, auc] = figures(
    /: (\d+) subscribers, (\d+) of them cancelled; the analysis fits α ([\d.]+), β ([\d.]+), its backtest expected (\d+) cancellations in the last 90 days where (\d+) happened, and the churn model \(cross-validated ROC AUC about ([\d.]+)\)/,
  );
  assert.deepEqual([retention.subscribers, retention.subscribers - retention.active], [subscribers, cancelled]);
  assert.deepEqual([Number(retention.fit.alpha.toFixed(2)), Number(retention.fit.beta.toFixed(1))], [alpha, beta]);
  assert.deepEqual([Math.round(retention.backtest.predicted), retention.backtest.actual], [predicted, actual]);
  const churn = models.subscriptions?.churnModel;
  assert.ok(churn);
  assert.equal(Number(churn.metrics.rocAuc.value.toFixed(2)), auc);
  const [trials] = figures(/these randomised assignments \(([\d,]+) on that store\)/);
  const retentionModels = (models as { retention?: { uplift?: { trials: number } } }).retention;
  assert.equal(retentionModels?.uplift?.trials, trials);
});
