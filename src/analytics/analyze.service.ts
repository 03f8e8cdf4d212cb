// kept analyze: fit the repeat-buying models on the purchase history up to the as-of date and score
// every customer; a run as of the latest data also moves lifecycle stages and raises alerts.
import { queryRows, refreshStatistics, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { dayIn } from '../shared/time.ts';
import {
  applyStages, customerIdRange, emptyAggregates, insertScores, latestPurchaseDay, previousCurrentRun, raiseAlerts, stagesByMonth, summaries,
  type HistoryAggregates, type ScoreRow, type SummaryRow,
} from './analytics.repository.ts';
import {
  bgnbdConditionalExpected, bgnbdExpectedIfAlive, bgnbdPAlive, bgnbdUnconditionalExpected, fitBgNbd, fitGammaGamma, fitParetoNbd, gammaGammaExpectedSpend,
  paretoConditionalExpected, paretoExpectedIfAlive, paretoPAlive, paretoUnconditionalExpected, rescaleFit, type BgNbd, type FitOutcome, type GammaGamma, type HistoryGroup, type ParetoNbd,
} from './models.ts';
import { fitSatisfactionModel, satisfactionAt, satisfiedByMonth, type SatisfactionFit } from '../satisfaction/satisfaction.service.ts';
import { kaplanMeier } from './survival.ts';

export const modelVersion = 'kept-btyd-1';
const rangeSize = 50_000;
const writeBatch = 5_000;
const day = 86_400_000;

export interface AnalyzeOptions { asOf?: string; model?: 'bgnbd' | 'pareto'; onProgress?: ProgressReporter }
export interface AnalyzeOutcome {
  runId: number; asOf: string; customers: number; repeatCustomers: number; current: boolean; stageChanges: number; alerts: number; warnings: string[];
  /** Seconds per phase: reading, fitting, scoring (with writing), stages and alerts, charts. */
  phases: Record<string, number>;
}

const describe = <P extends object>(fit: FitOutcome<P>) => ({ ...fit.params, logLikelihood: fit.logLikelihood, converged: fit.converged, startsAgreeing: fit.startsAgreeing, starts: fit.starts, regularised: fit.regularised, sampled: fit.sampled ?? false, ...(fit.sampleCustomers ? { sampleCustomers: fit.sampleCustomers } : {}) });

function group(rows: SummaryRow[], unit: number): HistoryGroup[] {
  const groups = new Map<string, HistoryGroup>();
  for (const r of rows) {
    const key = `${r.x}|${r.tx}|${r.age}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { x: r.x, tx: r.tx / unit, T: r.age / unit, count: 1 });
  }
  return [...groups.values()];
}

/** 1..5 by rank (5 = best), ties sharing a score. */
function quintiles(values: Float64Array, higherIsBetter: boolean): Uint8Array {
  const order = Array.from(values.keys()).sort((i, j) => (higherIsBetter ? values[i] - values[j] : values[j] - values[i]));
  const scores = new Uint8Array(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]] === values[order[start]]) end++;
    const score = 1 + Math.min(4, Math.floor((start / order.length) * 5));
    for (let k = start; k <= end; k++) scores[order[k]] = score;
    start = end + 1;
  }
  return scores;
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));
const addDays = (isoDay: string, days: number) => new Date(Date.parse(`${isoDay}T00:00:00Z`) + Math.round(days) * day).toISOString().slice(0, 10);

export async function analyze(deps: Deps, options: AnalyzeOptions = {}): Promise<AnalyzeOutcome> {
  const { config } = deps;
  const thresholds = config.analytics;
  const activity = options.model ?? thresholds.activityModel;
  const latest = await latestPurchaseDay(deps.db, config.timeZone);
  const today = dayIn(config.timeZone, deps.clock.now());
  const asOf = options.asOf ?? today;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf))) throw new AppError('bad_request', `--as-of must be a date like 2026-11-22, got ${asOf}`);
  // A run as of the latest data describes now: it moves stages and raises alerts. An earlier as-of is a backtest.
  const current = latest === null || asOf >= latest;
  const previousRun = current ? await previousCurrentRun(deps.db) : null;
  const [{ id: runId }] = await queryRows<{ id: number }>(deps.db, sql`
    insert into analysis_runs (as_of, model_version, activity_model, status, current) values (${asOf}::date, ${modelVersion}, ${activity}, 'running', ${current}) returning id`);
  try {
    const outcome = await run(deps, { runId, asOf, latest, activity, current, previousRun, onProgress: options.onProgress });
    return outcome;
  } catch (error) {
    await deps.db.execute(sql`update analysis_runs set status = 'failed', error = ${(error as Error).message}, finished_at = now() where id = ${runId}`);
    throw error;
  }
}

async function run(deps: Deps, ctx: { runId: number; asOf: string; latest: string | null; activity: 'bgnbd' | 'pareto'; current: boolean; previousRun: number | null; onProgress?: ProgressReporter }): Promise<AnalyzeOutcome> {
  const { config } = deps;
  const thresholds = config.analytics;
  const seconds: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string) => { const now = performance.now(); seconds[name] = Number(((now - mark) / 1000).toFixed(2)); mark = now; };
  await refreshStatistics(deps.db);
  const range = await customerIdRange(deps.db);
  // Steps: reading the summaries counts half, scoring and writing the other half.
  const rows: SummaryRow[] = [];
  const aggregates = emptyAggregates();
  if (range) {
    // Two ranges at a time: on PostgreSQL each runs on its own connection (and core).
    const starts = Array.from({ length: Math.ceil((range.max - range.min + 1) / rangeSize) }, (_, i) => range.min + i * rangeSize);
    const parts: SummaryRow[][] = [];
    let next = 0;
    let done = 0;
    const reader = async () => {
      while (next < starts.length) {
        const i = next++;
        parts[i] = await summaries(deps.db, { asOf: ctx.asOf, timeZone: config.timeZone, fromId: starts[i], toId: starts[i] + rangeSize - 1, previousRun: ctx.previousRun }, aggregates);
        done += rangeSize;
        ctx.onProgress?.(Math.min(done, range.max - range.min + 1), 2 * (range.max - range.min + 1), 'reading purchase histories');
      }
    };
    await Promise.all([reader(), reader()]);
    for (const part of parts.splice(0)) for (const r of part) rows.push(r);
  }
  const warnings: string[] = [];
  const repeaters = rows.filter((r) => r.x > 0).length;
  const finish = async (models: Record<string, unknown>, report: Record<string, unknown>, stageChanges = 0, alerts = 0) => {
    await deps.db.execute(sql`
      update analysis_runs set status = 'done', finished_at = now(), customers = ${rows.length}, repeat_customers = ${repeaters},
        models = ${JSON.stringify(models)}::text::jsonb, report = ${JSON.stringify(report)}::text::jsonb, warnings = ${sql.param(warnings)}::text[]
      where id = ${ctx.runId}`);
    return { runId: ctx.runId, asOf: ctx.asOf, customers: rows.length, repeatCustomers: repeaters, current: ctx.current, stageChanges, alerts, warnings, phases: seconds };
  };
  if (repeaters === 0) {
    warnings.push(rows.length === 0 ? 'No purchases on or before the as-of date: nothing to fit or score' : 'No customer has bought twice yet: the models need repeat purchases');
    return finish({}, {});
  }

  phase('read');
  // Fit in days (what scoring uses); weeks (the unit of the published references) follow exactly.
  // The model not used for scoring is fitted on a sample of customers, for comparison.
  const groupsDays = group(rows, 1);
  const days = {
    bgnbd: fitBgNbd(groupsDays, { polish: ctx.activity === 'bgnbd' }),
    paretoNbd: fitParetoNbd(groupsDays, ctx.activity === 'pareto' ? {} : { polish: false, sampleAbove: 5000, budgetMs: 20_000 }),
  };
  const repeatPurchases = rows.reduce((sum, r) => sum + r.x, 0);
  const weeks = { bgnbd: rescaleFit(days.bgnbd, 7, repeatPurchases), paretoNbd: rescaleFit(days.paretoNbd, 7, repeatPurchases) };
  ctx.onProgress?.(rows.length, 2 * rows.length, 'fitted');
  phase('fit');
  const spendHistories = rows.filter((r) => r.x > 0 && r.repeat_spend > 0).map((r) => ({ x: r.x, zbar: r.repeat_spend }));
  const gammaGamma = spendHistories.length ? fitGammaGamma(spendHistories) : undefined;
  for (const fit of [days.bgnbd, days.paretoNbd, gammaGamma]) if (fit) warnings.push(...fit.warnings);
  if (repeaters > spendHistories.length) {
    warnings.push(`${repeaters - spendHistories.length} repeat buyers spent nothing on their repeat purchases; their order value uses the population mean`);
  }
  // The satisfaction index: weights fitted to who bought again after their experiences.
  const satisfaction = await fitSatisfactionModel(deps.db, ctx.asOf);
  if (satisfaction.warning) warnings.push(satisfaction.warning);
  const satisfactionOf = satisfaction.fit ? await satisfactionAt(deps.db, satisfaction.fit, ctx.asOf) : new Map<number, number>();
  const models = {
    day: { bgnbd: describe(days.bgnbd), paretoNbd: describe(days.paretoNbd) },
    week: { bgnbd: describe(weeks.bgnbd), paretoNbd: describe(weeks.paretoNbd) },
    gammaGamma: gammaGamma ? { ...describe(gammaGamma) } : null,
    satisfaction: satisfaction.fit,
  };

  // Scoring, in days. Customers with the same (x, tx, age) share every model output but money.
  const bg = days.bgnbd.params;
  const pn = days.paretoNbd.params;
  const pAliveOf = (x: number, tx: number, T: number) => (ctx.activity === 'pareto' ? paretoPAlive(pn, x, tx, T) : bgnbdPAlive(bg, x, tx, T));
  const ifAliveOf = (t: number, x: number, T: number) => (ctx.activity === 'pareto' ? paretoExpectedIfAlive(pn, t, x, T) : bgnbdExpectedIfAlive(bg, t, x, T));
  // Value over the next 365 days, discounted: expected purchases in four periods (the first month,
  // the next two, the next quarter, the second half-year), each discounted at its middle.
  const yearlyDiscount = 1 + thresholds.discountRate;
  const periods = [[0, 30], [30, 90], [90, 182], [182, 365]].map(([from, to]) => ({ to, discount: yearlyDiscount ** -((from + to) / 2 / 365) }));
  // Expected purchases by the end of each period if still active depend on (x, age) only; times
  // P(alive) they are the expectations. Customers with the same (x, tx, age) share every output but money.
  const ifAlive = new Map<number, Float64Array>();
  const shared = new Map<number, { pAlive: number; e30: number; e90: number; e365: number; discounted: number; ifAlive365: number; rate: number }>();
  const outputsOf = (r: SummaryRow) => {
    // The keys pack (x, age) and (x, tx, age) into one number each.
    const key = (r.x * 100_000 + r.tx) * 100_000 + r.age;
    let o = shared.get(key);
    if (!o) {
      const aliveKey = r.x * 100_000 + r.age;
      let cumulative = ifAlive.get(aliveKey);
      if (!cumulative) ifAlive.set(aliveKey, cumulative = Float64Array.from(periods, (period) => ifAliveOf(period.to, r.x, r.age)));
      const pAlive = pAliveOf(r.x, r.tx, r.age);
      let discounted = 0;
      periods.forEach((period, k) => { discounted += (cumulative[k] - (k > 0 ? cumulative[k - 1] : 0)) * period.discount; });
      // Posterior mean purchase rate of an active customer (per day).
      const rate = ctx.activity === 'pareto' ? (pn.r + r.x) / (pn.alpha + r.age) : (bg.r + r.x) / (bg.alpha + r.age);
      o = { pAlive, e30: cumulative[0] * pAlive, e90: cumulative[1] * pAlive, e365: cumulative[3] * pAlive, discounted: discounted * pAlive, ifAlive365: cumulative[3], rate };
      shared.set(key, o);
    }
    return o;
  };
  const gg: GammaGamma | undefined = gammaGamma && gammaGamma.params.q > 1 ? gammaGamma.params : undefined;
  const populationSpend = spendHistories.length ? spendHistories.reduce((s, h) => s + h.zbar, 0) / spendHistories.length : rows.reduce((s, r) => s + r.historic, 0) / rows.length;
  const orderValueOf = (r: SummaryRow) => (gg ? gammaGammaExpectedSpend(gg, r.x > 0 && r.repeat_spend > 0 ? r.x : 0, r.repeat_spend) : r.x > 0 ? r.repeat_spend : populationSpend);

  const n = rows.length;
  const recency = Float64Array.from(rows, (r) => r.age - r.tx);
  const frequency = Float64Array.from(rows, (r) => r.x + 1);
  const monetary = Float64Array.from(rows, (r) => r.historic);
  const [R, F, M] = [quintiles(recency, false), quintiles(frequency, true), quintiles(monetary, true)];
  const predicted = Float64Array.from(rows, (r) => outputsOf(r).discounted * orderValueOf(r));
  const nonFinite = predicted.filter((v) => !Number.isFinite(v)).length;
  if (nonFinite > 0) {
    warnings.push(`${nonFinite} customers got no finite predicted value (an extreme history for these parameters); they count as 0`);
    predicted.forEach((v, i) => { if (!Number.isFinite(v)) predicted[i] = 0; });
  }
  // best: the top share by predicted value among true customers who are still likely active.
  const activeValues = rows.map((r, i) => ({ r, v: predicted[i] })).filter(({ r }) => r.x > 0 && outputsOf(r).pAlive >= thresholds.atRiskBelow).map(({ v }) => v).sort((a, b) => b - a);
  const bestCut = activeValues.length ? activeValues[Math.max(0, Math.ceil(activeValues.length * thresholds.bestTopShare) - 1)] : Infinity;

  let batch: ScoreRow[] = [];
  let writing: Promise<void> = Promise.resolve();
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const o = outputsOf(r);
    const orderValue = orderValueOf(r);
    const averageDaysBetween = r.x > 0 ? r.tx / r.x : null;
    const idle = r.age - r.tx;
    const stage = predictedStage(r, o.pAlive, predicted[i], bestCut, thresholds);
    const reasons: string[] = [];
    if (averageDaysBetween !== null) reasons.push(`usually orders every ${Math.round(averageDaysBetween)} days`);
    else reasons.push('one purchase so far');
    reasons.push(`${idle} days without an order`);
    const p = round(o.pAlive);
    if (r.prev_p_alive !== null && round(r.prev_p_alive) !== p) reasons.push(`probability still active ${p < r.prev_p_alive ? 'fell' : 'rose'} from ${round(r.prev_p_alive).toFixed(2)} to ${p.toFixed(2)}`);
    else reasons.push(`probability still active ${p.toFixed(2)}`);
    if (stage === 'best') reasons.push(`expected to spend ${Math.round(predicted[i])} in the next 365 days (top ${Math.round(thresholds.bestTopShare * 100)} %)`);
    batch.push({
      customerId: r.customer_id, frequency: r.x, recencyDays: r.tx, ageDays: r.age, pAlive: o.pAlive,
      pAliveChange: r.prev_p_alive === null ? null : o.pAlive - r.prev_p_alive, churn: 1 - o.pAlive,
      expected30: o.e30, expected90: o.e90, expected365: o.e365,
      // An active customer's purchases are a Poisson process: the next one is 1/rate away, whatever the wait so far.
      nextOrderDate: o.pAlive >= thresholds.lapsedBelow && o.rate > 0 ? addDays(ctx.asOf, Math.max(1, 1 / o.rate)) : null,
      expectedOrderValue: orderValue, predictedValue365: predicted[i], historicValue: r.historic, averageDaysBetween,
      r: R[i], f: F[i], m: M[i], valueAtStake: o.ifAlive365 * orderValue, stage, reasons, satisfaction: satisfactionOf.get(r.customer_id) ?? null,
    });
    if (batch.length >= writeBatch || i === n - 1) {
      // The database writes one batch while the next is scored.
      await writing;
      const written = i + 1;
      writing = insertScores(deps.db, { id: ctx.runId, asOf: ctx.asOf, modelVersion }, batch).then(() => ctx.onProgress?.(n + written, 2 * n, 'scoring'));
      writing.catch(() => undefined); // awaited below; this only keeps a failure from counting as unhandled meanwhile
      batch = [];
    }
  }
  await writing;

  phase('score');
  let stageChanges = 0;
  let alerts = 0;
  if (ctx.current) {
    const at = deps.clock.now();
    stageChanges = await applyStages(deps.db, ctx.runId, at);
    alerts = await raiseAlerts(deps.db, ctx.runId, at, thresholds.atRiskBelow);
  }
  phase('stages');
  const report = await buildReport(deps, ctx, rows, aggregates, { bgWeeks: weeks.bgnbd.params, pnWeeks: weeks.paretoNbd.params, predicted, satisfaction: satisfaction.fit });
  phase('charts');
  return finish(models, report, stageChanges, alerts);
}

function predictedStage(r: SummaryRow, pAlive: number, value: number, bestCut: number, t: Deps['config']['analytics']): string {
  if (r.stage === 'suppressed' || r.x === 0) return r.stage;
  if (pAlive < t.lapsedBelow) return 'lapsed';
  if (pAlive < t.atRiskBelow) return 'at_risk';
  if (value >= bestCut) return 'best';
  return r.stage === 'won_back' ? 'won_back' : 'customer';
}

/** The charts of the analytics page, computed once per run. */
async function buildReport(deps: Deps, ctx: { asOf: string; latest: string | null }, rows: SummaryRow[], aggregates: HistoryAggregates,
  fit: { bgWeeks: BgNbd; pnWeeks: ParetoNbd; predicted: Float64Array; satisfaction: SatisfactionFit | null }) {
  const tz = deps.config.timeZone;
  const start = rows.reduce((min, r) => (r.first_day < min ? r.first_day : min), rows[0].first_day);
  const weekOf = (isoDay: string) => Math.floor((Date.parse(isoDay) - Date.parse(start)) / (7 * day));
  // Tracking: actual cumulative repeat purchases by week against the models' expectation for the
  // same customers, each from their first purchase day.
  const byWeek = new Map<number, number>();
  for (const [isoDay, purchases] of aggregates.repeatDays) byWeek.set(weekOf(isoDay), (byWeek.get(weekOf(isoDay)) ?? 0) + purchases);
  const lastWeek = Math.max(weekOf(ctx.asOf), ...byWeek.keys());
  const births = new Map<number, number>();
  for (const r of rows) { const b = (Date.parse(r.first_day) - Date.parse(start)) / (7 * day); births.set(b, (births.get(b) ?? 0) + 1); }
  const tracking: { week: number; actual: number; bgnbd: number; paretoNbd: number }[] = [];
  let cumulative = 0;
  for (let w = 0; w <= lastWeek; w++) {
    cumulative += byWeek.get(w) ?? 0;
    let bg = 0;
    let pn = 0;
    for (const [birth, count] of births) {
      const t = w + 1 - birth;
      if (t > 0) { bg += count * bgnbdUnconditionalExpected(fit.bgWeeks, t); pn += count * paretoUnconditionalExpected(fit.pnWeeks, t); }
    }
    tracking.push({ week: w + 1, actual: cumulative, bgnbd: round(bg, 1), paretoNbd: round(pn, 1) });
  }
  // Conditional expectations by calibration frequency against what happened after as-of.
  const holdoutDays = ctx.latest && ctx.latest > ctx.asOf ? (Date.parse(ctx.latest) - Date.parse(ctx.asOf)) / day : 0;
  const bins = holdoutDays > 0 ? Array.from({ length: 8 }, (_, bin) => {
    const members = rows.filter((r) => (bin === 7 ? r.x >= 7 : r.x === bin));
    const mean = (f: (r: SummaryRow) => number) => (members.length ? members.reduce((s, r) => s + f(r), 0) / members.length : 0);
    return {
      frequency: bin === 7 ? '7+' : String(bin), customers: members.length, actual: round(mean((r) => r.holdout), 4),
      bgnbd: round(mean((r) => bgnbdConditionalExpected(fit.bgWeeks, holdoutDays / 7, r.x, r.tx / 7, r.age / 7)), 4),
      paretoNbd: round(mean((r) => paretoConditionalExpected(fit.pnWeeks, holdoutDays / 7, r.x, r.tx / 7, r.age / 7)), 4),
    };
  }) : [];
  // Predicted value distribution.
  const values = [...fit.predicted].sort((a, b) => a - b);
  const top = values[Math.floor(values.length * 0.99)] || values.at(-1) || 0;
  const width = top > 0 ? niceStep(top / 20) : 1;
  const histogram = Array.from({ length: Math.ceil(top / width) + 1 }, (_, i) => ({ from: i * width, to: (i + 1) * width, customers: 0 }));
  for (const v of values) histogram[Math.min(histogram.length - 1, Math.floor(v / width))].customers++;
  // Trial to true customer: time to the second purchase day, censored at as-of (Kaplan-Meier).
  const conversion = (key: (r: SummaryRow) => string) => {
    const groups = new Map<string, { time: number; event: boolean }[]>();
    for (const r of rows) {
      const k = key(r);
      const list = groups.get(k) ?? [];
      list.push(r.second_after === null ? { time: r.age, event: false } : { time: r.second_after, event: true });
      groups.set(k, list);
    }
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, items]) => ({
      name, customers: items.length, converted: items.filter((i) => i.event).length,
      curve: kaplanMeier(items, [0, 7, 14, 30, 60, 90, 120, 180, 270, 365]).map((p) => ({ day: p.time, converted: round(1 - p.survival, 4) })),
    }));
  };
  const cohorts = [...aggregates.cohortActive].map(([key, active]) => {
    const [cohort, offset] = key.split('|');
    return { cohort, size: aggregates.cohortActive.get(`${cohort}|0`)!, offset: Number(offset), active };
  }).sort((a, b) => a.cohort.localeCompare(b.cohort) || a.offset - b.offset);
  return {
    start, asOfWeek: weekOf(ctx.asOf) + 1, tracking, frequencyBins: bins, valueHistogram: histogram,
    conversionByMonth: conversion((r) => r.first_day.slice(0, 7)).slice(-12),
    conversionByChannel: conversion((r) => r.channel ?? 'unknown'),
    cohorts, stagesByMonth: await stagesByMonth(deps.db, tz),
    trueCustomerShare: round(rows.filter((r) => r.x > 0).length / rows.length, 4),
    satisfiedByMonth: fit.satisfaction ? await satisfiedByMonth(deps.db, fit.satisfaction, ctx.asOf) : [],
  };
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}
