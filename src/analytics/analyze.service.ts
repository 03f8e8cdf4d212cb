// kept analyze: fit the repeat-buying models on the purchase history up to the as-of date and score
// every customer; a run as of the latest data also moves lifecycle stages and raises alerts. Also
// when analyses start: on demand (one at a time, as a job) and every night.
import { stopwatch } from '../shared/stopwatch.ts';
import { analyseSubscriptions } from './subscriptions.service.ts';
import { analyseRetention } from './retention.service.ts';
import type { Deps } from '../deps.ts';
import { everyNight, startJob } from '../jobs/job.service.ts';
import { AppError, rootMessage } from '../shared/errors.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { dayIn } from '../shared/time.ts';
import {
  activeAnalysisJob,
  codeOf,
  completeRun,
  createRun,
  failRun,
  firstCurrentRunDay,
  insertScores,
  latestPurchaseDay,
  previousCurrentRun,
  readHistories,
  refreshStatistics,
  stagesByMonth,
  type Histories,
  type HistoryAggregates,
  type ScoreColumns,
} from './analytics.repository.ts';
import {
  bgnbdConditionalExpected,
  bgnbdExpectedIfAlive,
  bgnbdPAlive,
  bgnbdUnconditionalExpected,
  mbgnbdPAlive,
  fitBgNbd,
  fitParetoNbd,
  gammaGammaExpectedSpend,
  paretoConditionalExpected,
  paretoExpectedIfAlive,
  paretoPAlive,
  paretoUnconditionalExpected,
  rescaleFit,
  type BgNbd,
  type FitOutcome,
  type GammaGamma,
  type MbgNbd,
  type ParetoNbd,
  type SpendHistory,
} from './models.ts';
import {
  fitSatisfactionModel,
  satisfactionAt,
  satisfiedByMonth,
  type SatisfactionFit,
} from '../satisfaction/satisfaction.service.ts';
import { fitThread } from './fit.worker.ts';
import { kaplanMeier } from './survival.ts';
import {
  backtest,
  backtestSnapshot,
  candidateNames,
  firstPurchaseDay,
  fitTextbookOn,
  seasonalThreshold,
  seasonality,
  scorerOf,
  trainSupervised,
  type Candidate,
  type Fitted,
  type Scorer,
} from './candidates.ts';
import { featuresAt, groupsOf, type Snapshot } from './features.ts';
import type { Backtest } from './analytics.ts';
import { contributions, featureEffects } from './learn.ts';
import { mergeStageHistory, rebuildStages } from './stage-history.ts';
import type { ActivityModel } from '../config.ts';

// Plain reads the analytics API answers with.
export {
  activityAlerts,
  atRiskCustomers,
  customerScores,
  customersByStage,
  latestRun,
} from './analytics.repository.ts';

export const modelVersion = 'kept-2';
const writeBatch = 20_000;
const day = 86_400_000;
/** The stages an analysis moves customers between (a one-time buyer, in trial, too). */
const movable = new Set(['trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back']);

export interface AnalyzeOptions {
  asOf?: string;
  /** A candidate pinned for scoring; 'auto' (the default) lets the backtest choose. */
  model?: ActivityModel;
  onProgress?: ProgressReporter;
}
export interface AnalyzeOutcome {
  runId: number;
  asOf: string;
  customers: number;
  repeatCustomers: number;
  current: boolean;
  stageChanges: number;
  alerts: number;
  warnings: string[];
  /** The candidate that scored, and why. */
  model: Candidate;
  why: string;
  /** Seconds per phase: reading, fitting, scoring (with writing), stages and alerts (with the charts computed meanwhile), the charts' queries. */
  phases: Record<string, number>;
}

/** Starts an analysis job unless one is already queued or running; answers the job either way. */
export async function startAnalysis(
  deps: Deps,
  payload: { asOf?: string; model?: string },
): Promise<{ jobId: number; started: boolean }> {
  const running = await activeAnalysisJob(deps.db);
  if (running !== null) return { jobId: running, started: false };
  return { jobId: await startJob(deps, 'analyze', payload), started: true };
}

/** Runs the analysis every night at 02:00 in the business time zone, while the server runs. */
export const scheduleNightlyAnalysis = (deps: Deps) =>
  everyNight(deps, 2, 'nightly analysis', () => startAnalysis(deps, {}));

const describe = <P extends object>(fit: FitOutcome<P>) => ({
  ...fit.params,
  logLikelihood: fit.logLikelihood,
  converged: fit.converged,
  startsAgreeing: fit.startsAgreeing,
  starts: fit.starts,
  regularised: fit.regularised,
  sampled: fit.sampled ?? false,
  ...(fit.sampleCustomers ? { sampleCustomers: fit.sampleCustomers } : {}),
});

/** 1..5 by rank, higher values scoring higher; ties share the score of the first of them. */
function quintiles(values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  const scores = new Uint8Array(n);
  const score = (below: number) => 1 + Math.min(4, Math.floor((below / n) * 5));
  // Whole numbers in a range not much wider than their count (purchase days, days since the last):
  // the values below each one counted by value instead of searched for.
  let min = Infinity;
  let max = -Infinity;
  let whole = true;
  for (let i = 0; i < n && whole; i++) {
    const v = values[i];
    whole = Number.isInteger(v);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (whole && n > 0 && max - min <= 4 * n) {
    const below = new Float64Array(max - min + 2);
    for (let i = 0; i < n; i++) below[values[i] - min + 1]++;
    for (let v = 1; v < below.length; v++) below[v] += below[v - 1];
    for (let i = 0; i < n; i++) scores[i] = score(below[values[i] - min]);
    return scores;
  }
  const sorted = Float64Array.from(values).sort();
  for (let i = 0; i < n; i++) {
    // The first position of this value among the sorted ones.
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (sorted[mid] < values[i]) low = mid + 1;
      else high = mid;
    }
    scores[i] = score(low);
  }
  return scores;
}

/** The indices of the customers for which `keep` holds. */
function where(n: number, keep: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep(i)) out.push(i);
  return out;
}

const round = (v: number, digits = 2) => Number(v.toFixed(digits));

export async function analyze(deps: Deps, options: AnalyzeOptions = {}): Promise<AnalyzeOutcome> {
  const { config } = deps;
  const activity = options.model ?? config.analytics.activityModel;
  const latest = await latestPurchaseDay(deps.db, config.timeZone);
  const today = dayIn(config.timeZone, deps.clock.now());
  const asOf = options.asOf ?? today;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf)))
    throw new AppError('bad_request', `--as-of must be a date like 2026-11-22, got ${asOf}`);
  // A run as of a day still to come would judge customers on days nobody has lived yet.
  if (asOf > today)
    throw new AppError('bad_request', `--as-of ${asOf} is after today (${today}): an analysis cannot look ahead`);
  // A run as of the latest data describes now: it moves stages and raises alerts. An earlier as-of is a backtest.
  const current = latest === null || asOf >= latest;
  const previousRun = current ? await previousCurrentRun(deps.db) : null;
  const runId = await createRun(deps.db, { asOf, modelVersion, activity, current });
  try {
    return await run(deps, {
      runId,
      asOf,
      latest,
      pinned: activity === 'auto' ? undefined : activity,
      horizon: config.analytics.backtestDays,
      current,
      previousRun,
      onProgress: options.onProgress,
      warnings: [],
    });
  } catch (error) {
    // A failed run withdraws the scores and alerts it wrote; the stage moves it made stay.
    await failRun(deps.db, runId, rootMessage(error));
    throw error;
  }
}

/** One run as it goes: what it was started with, and the warnings its steps add, in order. */
interface RunContext {
  runId: number;
  asOf: string;
  latest: string | null;
  /** The candidate a person pinned; otherwise the backtest chooses. */
  pinned?: Candidate;
  /** Days held out by the backtest, and the window the supervised model learns to foretell. */
  horizon: number;
  current: boolean;
  previousRun: number | null;
  onProgress?: ProgressReporter;
  warnings: string[];
}

/** The histories read and the repeat buyers among them. */
interface Read {
  h: Histories;
  aggregates: HistoryAggregates;
  repeaters: number;
  repeatPurchases: number;
}

/** The steps of a run, each timed: read, fit, score (and write), report (charts), finish. */
async function run(deps: Deps, ctx: RunContext): Promise<AnalyzeOutcome> {
  const { seconds, phase } = stopwatch();
  const read = await readPurchaseHistories(deps, ctx);
  // Subscriptions are analysed whatever the purchases say: a subscription business may have none.
  const subscriptions = await analyseSubscriptions(deps.db, {
    runId: ctx.runId,
    asOf: ctx.asOf,
    timeZone: deps.config.timeZone,
    holdoutDays: ctx.horizon,
    warnings: ctx.warnings,
  });
  const withSubscriptions = (d: { models: Record<string, unknown>; report: Record<string, unknown> }) =>
    subscriptions ? { ...d, models: { ...d.models, subscriptions } } : d;
  if (read.repeaters === 0) {
    ctx.warnings.push(
      read.h.size === 0
        ? 'No purchases on or before the as-of date: nothing to fit or score'
        : 'No customer has bought twice yet: the models need repeat purchases',
    );
    return finishRun(
      deps,
      ctx,
      read,
      withSubscriptions({ models: {}, report: {} }),
      { stageChanges: 0, alerts: 0 },
      seconds,
    );
  }
  phase('read');
  const fits = await fitModels(deps, ctx, read);
  phase('fit');
  const scores = scoreCustomers(deps.config.analytics, ctx, read, fits);
  const written = await writeScores(deps, ctx, read.h, scores, fits);
  phase('score');
  // Why customers leave and whom an action moves: reads the scores just written (the worklist's uplift).
  const retention = await analyseRetention(deps, {
    runId: ctx.runId,
    asOf: ctx.asOf,
    current: ctx.current,
    warnings: ctx.warnings,
    onProgress: ctx.onProgress,
  });
  phase('retention');
  const described = await reportRun(deps, ctx, read, fits, scores);
  phase('charts');
  const withRetention = withSubscriptions(described);
  return finishRun(
    deps,
    ctx,
    read,
    { ...withRetention, models: { ...withRetention.models, retention } },
    written,
    seconds,
  );
}

/**
 * Read: every customer's purchase history up to as-of (the first half of the progress), and how
 * many of them bought again.
 */
async function readPurchaseHistories(deps: Deps, ctx: RunContext): Promise<Read> {
  // PGlite has no autovacuum: fresh planner statistics first (on PostgreSQL autovacuum keeps them).
  if (deps.database.kind === 'pglite') await refreshStatistics(deps.db);
  // Steps: reading the histories counts half, scoring and writing the other half.
  const { histories: h, aggregates } = await readHistories(deps.db, {
    asOf: ctx.asOf,
    timeZone: deps.config.timeZone,
    previousRun: ctx.previousRun,
    zeroValueOrders: deps.config.analytics.zeroValueOrders,
    onProgress: (done, total) => ctx.onProgress?.(done, 2 * total, 'reading purchase histories'),
  });
  let repeaters = 0;
  let repeatPurchases = 0;
  for (let i = 0; i < h.size; i++)
    if (h.x[i] > 0) {
      repeaters++;
      repeatPurchases += h.x[i];
    }
  return { h, aggregates, repeaters, repeatPurchases };
}

/** The fitted models: the candidates, the one that scores, Gamma-Gamma and the satisfaction index. */
interface Fits {
  /** Mean repeat spend (or, without repeat spends, mean historic value): the order value without Gamma-Gamma. */
  populationSpend: number;
  /** The candidates fitted on all the history up to as-of (the supervised one only when it scores). */
  fitted: Fitted;
  /** How well each candidate foretold the held-out days, and the one chosen. */
  backtest?: Backtest;
  model: Candidate;
  why: string;
  /** The scorer of the chosen candidate for the customers as of as-of, and their features when it reads them. */
  scorer: Scorer;
  features?: ReturnType<typeof featuresAt>;
  gammaGamma?: FitOutcome<GammaGamma>;
  /** Factors for expected purchases in the next 30 and 90 days from the same windows of earlier years (1: none). */
  seasons: { days30: number; days90: number };
  satisfaction: SatisfactionFit | null;
  satisfactionOf: Map<number, number>;
}

/**
 * Fit: the backtest first (every candidate fitted on the history up to H days before as-of and
 * judged on those H days), then the candidates on all the history, Gamma-Gamma on the repeat spends
 * (on large data the textbook fits and Gamma-Gamma on a thread of their own meanwhile) and the
 * satisfaction index on who bought again after their experiences.
 */
async function fitModels(deps: Deps, ctx: RunContext, { h, aggregates }: Read): Promise<Fits> {
  const n = h.size;
  // Repeat buyers with repeat spends, whom Gamma-Gamma is fitted on.
  const spends = (i: number) => h.x[i] > 0 && h.repeatSpend[i] > 0;
  let repeaters = 0;
  for (let i = 0; i < n; i++) if (spends(i)) repeaters++;
  // The order value of a customer without repeat spends when there is no Gamma-Gamma.
  let populationSpend = 0;
  if (repeaters) for (let i = 0; i < n; i++) populationSpend += spends(i) ? h.repeatSpend[i] / repeaters : 0;
  else for (let i = 0; i < n; i++) populationSpend += h.historic[i] / n;
  // On large data one thread fits the textbook candidates at the backtest's cut, then on all the
  // history, while this one trains the supervised model and scores the held-out days; then it fits
  // Gamma-Gamma (on small data Gamma-Gamma alone: the others take less than a thread takes to start).
  // The groups and spends are not kept here: a million customers make as many objects.
  const thread = fitThread();
  try {
    const asOfDay = Date.parse(`${ctx.asOf}T00:00:00Z`) / day;
    const all = backtestSnapshot(h, asOfDay, ctx.horizon, ctx.warnings);
    const atCut = all && { all, textbook: fitTextbookOn(thread, groupsOf(all)) };
    const allHistory = fitTextbookOn(thread, groupsOf({ x: h.x, tx: h.tx, T: h.age }));
    const gammaGammaFit = thread.gammaGamma(
      Array.from(where(n, spends), (i): SpendHistory => ({ x: h.x[i], zbar: h.repeatSpend[i] })),
    );
    const tested =
      atCut && (await backtest(h, aggregates.repeatDays, asOfDay, ctx.horizon, ctx.warnings, atCut, ctx.pinned));
    const textbook = await allHistory;
    ctx.warnings.push(...textbook.warnings);
    const fitted: Fitted = { ...textbook.fits };
    for (const fit of [fitted.bgnbd, fitted.mbgnbd, fitted.pareto]) if (fit) ctx.warnings.push(...fit.warnings);
    let model: Candidate = tested?.backtest.chosen ?? ctx.pinned ?? 'bgnbd';
    let why =
      tested?.backtest.why ?? (ctx.pinned ? `${candidateNames[ctx.pinned]} is pinned` : 'BG/NBD scores by default');
    if (model === 'supervised') fitted.supervised = trainSupervised(h, asOfDay, ctx.horizon, ctx.warnings);
    if (
      (model === 'supervised' && !fitted.supervised) ||
      (model !== 'supervised' && model !== 'bgnbd' && !fitted[model])
    ) {
      why += `; it could not be fitted on all the history, so BG/NBD scores instead`;
      model = 'bgnbd';
    }
    if (tested) warnAboutBacktest(ctx.warnings, tested.backtest, model);
    // The next 30 and 90 days against the same calendar windows of earlier years.
    const seasons = [30, 90].map((days) => {
      const season = seasonality(aggregates.repeatDays, firstPurchaseDay(h), asOfDay, days);
      return season && Math.abs(season.factor - 1) >= seasonalThreshold ? season : undefined;
    });
    if (seasons[1] ?? seasons[0]) {
      const season = (seasons[1] ?? seasons[0])!;
      ctx.warnings.push(
        `In ${season.years.join(' and ')} the ${seasons[1] ? 90 : 30} days after ${ctx.asOf.slice(5)} saw ${season.factor.toFixed(2)} times the year's average purchase rate: expected purchases for the next 30 and 90 days are adjusted for the season`,
      );
    }
    ctx.onProgress?.(n, 2 * n, 'fitted');
    const now: Snapshot = {
      cut: asOfDay,
      index: Int32Array.from({ length: n }, (_, i) => i),
      x: h.x,
      tx: h.tx,
      T: h.age,
      future: h.holdout,
    };
    const features = model === 'supervised' ? featuresAt(h, now) : undefined;
    const scorer = scorerOf(model, fitted, h, now, ctx.horizon, features);
    const gammaGamma = (await gammaGammaFit) ?? undefined;
    if (gammaGamma) ctx.warnings.push(...gammaGamma.warnings);
    const repeatBuyers = h.x.reduce((sum, x) => sum + (x > 0 ? 1 : 0), 0);
    if (repeatBuyers > repeaters) {
      ctx.warnings.push(
        `${repeatBuyers - repeaters} repeat buyers spent nothing on their repeat purchases; their order value uses the population mean`,
      );
    }
    // The satisfaction index: weights fitted to who bought again after their experiences.
    const satisfaction = await fitSatisfactionModel(deps.db, ctx.asOf);
    if (satisfaction.warning) ctx.warnings.push(satisfaction.warning);
    const satisfactionOf = satisfaction.fit
      ? await satisfactionAt(deps.db, satisfaction.fit, ctx.asOf)
      : new Map<number, number>();
    return {
      populationSpend,
      fitted,
      backtest: tested?.backtest,
      model,
      why,
      scorer,
      features,
      gammaGamma,
      seasons: { days30: seasons[0]?.factor ?? 1, days90: seasons[1]?.factor ?? 1 },
      satisfaction: satisfaction.fit,
      satisfactionOf,
    };
  } finally {
    thread.close();
  }
}

/** What the backtest says the user should know: a model no better than recency, totals off by more than 10 %. */
function warnAboutBacktest(warnings: string[], b: Backtest, model: Candidate) {
  const own = b.candidates.find((c) => c.model === model);
  if (!own) return;
  // (Both near perfect, as on a store of clockwork customers, says nothing.)
  if (own.rocAuc.value <= b.recencyAuc && own.rocAuc.value < 0.99)
    warnings.push(
      `In the backtest ${own.name} ranked the held-out buyers no better than days since the last purchase alone (ROC AUC ${own.rocAuc.value.toFixed(3)} against ${b.recencyAuc.toFixed(3)}): treat its chances with care`,
    );
  const total = own.seasonallyAdjusted ?? own;
  if (Math.abs(total.totalError) > 0.1)
    warnings.push(
      `In the backtest ${own.name} expected ${Math.round(total.predictedPurchases)} purchases from ${b.from} to ${b.to}${own.seasonallyAdjusted ? ' (adjusted for the season)' : ''} where ${b.actualPurchases} happened (${Math.round(Math.abs(total.totalError) * 100)} % ${total.totalError < 0 ? 'under' : 'over'}): expected purchases may be off by as much`,
    );
}

/**
 * Score: every customer's probability of being active, chances of buying, expected purchases and
 * value, RFM scores and the stage the scores put them in (no I/O; in days).
 */
function scoreCustomers(
  thresholds: Deps['config']['analytics'],
  ctx: RunContext,
  { h }: Read,
  fits: Fits,
): ScoreColumns {
  const n = h.size;
  const scorer = fits.scorer;
  // Value over the next 365 days, discounted: expected purchases in four periods (the first month,
  // the next two, the next quarter, the second half-year), each discounted at its middle.
  const yearlyDiscount = 1 + thresholds.discountRate;
  const periods = [
    [0, 30],
    [30, 90],
    [90, 182],
    [182, 365],
  ].map(([from, to]) => ({ to, discount: yearlyDiscount ** -((from + to) / 2 / 365) }));
  const chances = [30, 90, 365];
  // Expected purchases by the end of each period, and the chances of buying, if still active depend
  // on (x, age) only (one computation per distinct pair); times P(alive) they are the figures.
  const ifAlive = new Map<number, Float64Array>();
  const ifAliveOf = (x: number, age: number) => {
    const key = x * 100_000 + age;
    let figures = ifAlive.get(key);
    if (!figures) {
      figures = new Float64Array(periods.length + chances.length);
      periods.forEach((period, k) => {
        figures![k] = scorer.expectedIfAlive(period.to, x, age);
      });
      chances.forEach((t, k) => {
        figures![periods.length + k] = scorer.buyIfAlive(t, x, age);
      });
      ifAlive.set(key, figures);
    }
    return figures;
  };
  const gammaGamma = fits.gammaGamma;
  const gg: GammaGamma | undefined = gammaGamma && gammaGamma.params.q > 1 ? gammaGamma.params : undefined;
  const populationSpend = fits.populationSpend;
  const asOfDay = Date.parse(`${ctx.asOf}T00:00:00Z`) / day;
  const s: ScoreColumns = {
    pAlive: new Float64Array(n),
    pAliveChange: new Float64Array(n),
    expected30: new Float64Array(n),
    expected90: new Float64Array(n),
    expected365: new Float64Array(n),
    pBuy30: new Float64Array(n),
    pBuy90: new Float64Array(n),
    pBuy365: new Float64Array(n),
    nextOrderDay: new Int32Array(n),
    expectedOrderValue: new Float64Array(n),
    predictedValue365: new Float64Array(n),
    valueAtStake: new Float64Array(n),
    r: new Uint8Array(n),
    f: new Uint8Array(n),
    m: new Uint8Array(n),
    stage: new Uint8Array(n),
    stages: [],
    satisfaction: new Float64Array(n),
  };
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const x = h.x[i];
    const age = h.age[i];
    const figures = ifAliveOf(x, age);
    const pAlive = scorer.pAlive(i, x, h.tx[i], age);
    let discounted = 0;
    periods.forEach((period, k) => {
      discounted += (figures[k] - (k > 0 ? figures[k - 1] : 0)) * period.discount;
    });
    const orderValue = gg
      ? gammaGammaExpectedSpend(gg, x > 0 && h.repeatSpend[i] > 0 ? x : 0, h.repeatSpend[i])
      : x > 0
        ? h.repeatSpend[i]
        : populationSpend;
    let predicted = discounted * pAlive * orderValue;
    if (!Number.isFinite(predicted)) {
      nonFinite++;
      predicted = 0;
    }
    // Posterior mean purchase rate of an active customer (per day); its purchases are a Poisson
    // process, so the next one is 1/rate away whatever the wait so far.
    const rate = scorer.rate(x, age);
    s.pAlive[i] = pAlive;
    s.pAliveChange[i] = pAlive - h.prevPAlive[i];
    s.expected30[i] = figures[0] * pAlive * fits.seasons.days30;
    s.expected90[i] = figures[1] * pAlive * fits.seasons.days90;
    s.expected365[i] = figures[3] * pAlive;
    s.pBuy30[i] = figures[4] * pAlive;
    s.pBuy90[i] = figures[5] * pAlive;
    s.pBuy365[i] = figures[6] * pAlive;
    s.nextOrderDay[i] = pAlive >= thresholds.lapsedBelow && rate > 0 ? asOfDay + Math.round(Math.max(1, 1 / rate)) : -1;
    s.expectedOrderValue[i] = orderValue;
    s.predictedValue365[i] = predicted;
    s.valueAtStake[i] = figures[3] * orderValue;
    s.satisfaction[i] = fits.satisfactionOf.get(h.customerId[i]) ?? Number.NaN;
  }
  if (nonFinite > 0)
    ctx.warnings.push(
      `${nonFinite} customers got no finite predicted value (an extreme history for these parameters); they count as 0`,
    );
  s.r = quintiles(Float64Array.from(h.age, (age, i) => h.tx[i] - age));
  s.f = quintiles(h.x);
  s.m = quintiles(h.historic);
  // best: the top share by predicted value among true customers who are still likely active.
  const activeValues = Float64Array.from(
    where(n, (i) => h.x[i] > 0 && s.pAlive[i] >= thresholds.atRiskBelow),
    (i) => s.predictedValue365[i],
  )
    .sort()
    .reverse();
  const bestCut = activeValues.length
    ? activeValues[Math.max(0, Math.ceil(activeValues.length * thresholds.bestTopShare) - 1)]
    : Infinity;
  const stageCodes = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    // A backtest judges customers as they were at as-of: by their purchases then, not today's stage.
    const read = h.stages[h.stage[i]];
    const base = ctx.current || read === 'suppressed' ? read : h.x[i] > 0 ? 'customer' : 'trial';
    s.stage[i] = codeOf(
      stageCodes,
      predictedStage(base, h.x[i], s.pAlive[i], s.predictedValue365[i], bestCut, thresholds),
    );
  }
  s.stages = [...stageCodes.keys()];
  return s;
}

/**
 * Score, written: the scores with their reasons in batches (the second half of the progress); a
 * current run moves stages and raises activity-drop alerts in the same statements.
 */
async function writeScores(
  deps: Deps,
  ctx: RunContext,
  h: Histories,
  s: ScoreColumns,
  fits: Fits,
): Promise<{ stageChanges: number; alerts: number }> {
  const n = h.size;
  const thresholds = deps.config.analytics;
  const words = reasonWriter(h, s, fits, thresholds.bestTopShare);
  // Stage moves: true customers whose scored stage differs from the one read (suppressed customers
  // and trial users keep theirs). They move, and activity-drop alerts are raised, by the statement
  // that writes their scores.
  const at = deps.clock.now();
  const moving = new Uint8Array(n);
  for (let i = 0; ctx.current && i < n; i++) {
    const from = h.stages[h.stage[i]];
    moving[i] = Number(from !== s.stages[s.stage[i]] && movable.has(from));
  }
  // Two batches are written at a time (on PostgreSQL, on two connections and cores) while the
  // reasons of the next are put in words.
  const writing: Promise<{ moved: number; alerted: number }>[] = [];
  let written = 0;
  let stageChanges = 0;
  let alerts = 0;
  const counted = ({ moved, alerted }: { moved: number; alerted: number }) => {
    stageChanges += moved;
    alerts += alerted;
  };
  for (let from = 0; from < n; from += writeBatch) {
    const to = Math.min(n, from + writeBatch);
    const reasons: string[] = [];
    for (let i = from; i < to; i++) reasons.push(words(i).join('\n'));
    if (writing.length === 2) counted(await writing.shift()!);
    const batch = insertScores(
      deps.db,
      { id: ctx.runId, asOf: ctx.asOf, modelVersion, model: fits.model },
      h,
      s,
      from,
      to,
      reasons,
      ctx.current ? { at, moving, alertBelow: thresholds.atRiskBelow } : undefined,
    ).then((counts) => {
      ctx.onProgress?.(n + (written += to - from), 2 * n, 'scoring');
      return counts;
    });
    batch.catch(() => undefined); // awaited below; this only keeps a failure from counting as unhandled meanwhile
    writing.push(batch);
  }
  for (const batch of await Promise.all(writing)) counted(batch);
  return { stageChanges, alerts };
}

/**
 * Report: the candidates' fits (in days and in weeks), the backtest, Gamma-Gamma and the
 * satisfaction index, and the charts of the analytics page.
 */
async function reportRun(
  deps: Deps,
  ctx: RunContext,
  read: Read,
  fits: Fits,
  s: ScoreColumns,
): Promise<{ models: Record<string, unknown>; report: Record<string, unknown> }> {
  const { fitted, gammaGamma, satisfaction } = fits;
  const inWeeks = <P extends BgNbd | ParetoNbd | MbgNbd>(fit: FitOutcome<P> | undefined) =>
    fit && describe(rescaleFit(fit, 7, read.repeatPurchases));
  const inDays = <P extends object>(fit: FitOutcome<P> | undefined) => fit && describe(fit);
  const supervised = fitted.supervised;
  const models = {
    chosen: fits.model,
    why: fits.why,
    day: { bgnbd: inDays(fitted.bgnbd), mbgnbd: inDays(fitted.mbgnbd), paretoNbd: inDays(fitted.pareto) },
    week: { bgnbd: inWeeks(fitted.bgnbd), mbgnbd: inWeeks(fitted.mbgnbd), paretoNbd: inWeeks(fitted.pareto) },
    gammaGamma: gammaGamma ? { ...describe(gammaGamma) } : null,
    supervised: supervised
      ? {
          horizonDays: ctx.horizon,
          trainingCuts: supervised.cuts,
          rows: supervised.rows,
          effects: featureEffects(supervised.model),
          diagnostics: supervised.model.diagnostics,
        }
      : null,
    backtest: fits.backtest ?? null,
    satisfaction,
  };

  // The charts from the stage and satisfaction histories are read while the others are computed here.
  const fromHistory = Promise.all([
    stagesByMonth(deps.db, deps.config.timeZone),
    satisfaction ? satisfiedByMonth(deps.db, satisfaction, ctx.asOf) : [],
    firstCurrentRunDay(deps.db, deps.config.timeZone),
  ]);
  fromHistory.catch(() => undefined); // awaited below
  const charts = chartsOf(ctx, read.h, read.aggregates, read.repeaters, {
    bgWeeks: rescaleFit(fitted.bgnbd, 7, read.repeatPurchases).params,
    pnWeeks: fitted.pareto ? rescaleFit(fitted.pareto, 7, read.repeatPurchases).params : undefined,
    predicted: s.predictedValue365,
  });
  const [recorded, satisfiedMonthly, firstCurrent] = await fromHistory;
  // The months before analyses set stages are rebuilt from the orders, judged by MBG/NBD (which,
  // unlike BG/NBD, judges one-time buyers too) with this run's parameters.
  const asOfDay = Date.parse(`${ctx.asOf}T00:00:00Z`) / day;
  const until = ctx.current ? (firstCurrent ?? ctx.asOf) : ctx.asOf;
  const judge = fitted.mbgnbd
    ? (x: number, tx: number, T: number) => mbgnbdPAlive(fitted.mbgnbd!.params, x, tx, T)
    : (x: number, tx: number, T: number) => bgnbdPAlive(fitted.bgnbd.params, x, tx, T);
  const rebuilt = rebuildStages(
    read.h,
    judge,
    Math.min(asOfDay, Date.parse(`${until}T00:00:00Z`) / day),
    deps.config.analytics,
  );
  const stagesMonthly = ctx.current
    ? mergeStageHistory(rebuilt, recorded, until.slice(0, 7))
    : mergeStageHistory(
        rebuilt,
        recorded.filter((r) => r.month <= ctx.asOf.slice(0, 7)),
        '9999-12',
      );
  return { models, report: { ...charts, stagesByMonth: stagesMonthly, satisfiedByMonth: satisfiedMonthly } };
}

/** Finish: the run recorded as done with what it found (and its alerts told to the webhooks); its outcome. */
async function finishRun(
  deps: Deps,
  ctx: RunContext,
  read: Read,
  described: { models: Record<string, unknown>; report: Record<string, unknown> },
  written: { stageChanges: number; alerts: number },
  phases: Record<string, number>,
): Promise<AnalyzeOutcome> {
  const [customers, repeatCustomers] = [read.h.size, read.repeaters];
  await completeRun(deps.db, ctx.runId, {
    activityModel: (described.models.chosen as string | undefined) ?? ctx.pinned ?? 'bgnbd',
    customers,
    repeatCustomers,
    ...described,
    warnings: ctx.warnings,
    alerts: written.alerts,
  });
  return {
    runId: ctx.runId,
    asOf: ctx.asOf,
    customers,
    repeatCustomers,
    current: ctx.current,
    ...written,
    warnings: ctx.warnings,
    model: ((described.models.chosen as Candidate | undefined) ?? ctx.pinned ?? 'bgnbd') as Candidate,
    why: (described.models.why as string | undefined) ?? '',
    phases,
  };
}

/**
 * Each customer's reasons in words: how they buy, how long they have been silent (for a one-time
 * buyer, against how soon those who did order again usually did), the chances, and for the model
 * learnt from the store the factors that moved this customer's chance most.
 */
function reasonWriter(h: Histories, s: ScoreColumns, fits: Fits, bestTopShare: number): (i: number) => string[] {
  // How soon second orders come: the day by which 80 % of the customers who ordered again had.
  const seconds = Int32Array.from(
    where(h.size, (i) => h.secondAfter[i] >= 0),
    (i) => h.secondAfter[i],
  ).sort();
  const usualSecond = seconds.length >= 20 ? seconds[Math.floor(seconds.length * 0.8)] : undefined;
  const model = fits.fitted.supervised?.model;
  const features = fits.features;
  return (i) => {
    const x = h.x[i];
    const silent = h.age[i] - h.tx[i];
    const reasons =
      x > 0
        ? [`usually orders every ${Math.round(h.tx[i] / x)} days`, `${silent} days without an order`]
        : [
            `one order, ${silent} days ago` +
              (usualSecond !== undefined ? `; 80 % of customers who order again do so within ${usualSecond} days` : ''),
          ];
    const p = round(s.pAlive[i]);
    const previous = h.prevPAlive[i];
    if (!Number.isNaN(previous) && round(previous) !== p)
      reasons.push(
        `probability still active ${p < previous ? 'fell' : 'rose'} from ${round(previous).toFixed(2)} to ${p.toFixed(2)}`,
      );
    else reasons.push(`probability still active ${p.toFixed(2)}`);
    reasons.push(`chance of an order in the next 90 days ${s.pBuy90[i].toFixed(2)}`);
    if (model && features)
      for (const c of contributions(model, features, i).slice(0, 2))
        reasons.push(`${c.feature.replaceAll('_', ' ')} ${c.bin} ${c.logOdds > 0 ? 'raises' : 'lowers'} the chance`);
    if (s.stages[s.stage[i]] === 'best')
      reasons.push(
        `expected to spend ${Math.round(s.predictedValue365[i])} in the next 365 days (top ${Math.round(bestTopShare * 100)} %)`,
      );
    return reasons;
  };
}

/** The stage the scores put a customer in; prospects and suppressed customers keep theirs, a one-time buyer is a trial user until silent too long. */
function predictedStage(
  stage: string,
  x: number,
  pAlive: number,
  value: number,
  bestCut: number,
  t: Deps['config']['analytics'],
): string {
  if (stage === 'suppressed' || stage === 'prospect') return stage;
  if (pAlive < t.lapsedBelow) return 'lapsed';
  if (pAlive < t.atRiskBelow) return 'at_risk';
  if (x === 0) return 'trial';
  if (value >= bestCut) return 'best';
  return stage === 'won_back' ? 'won_back' : 'customer';
}

/** The charts of the analytics page from the histories and the fits, computed once per run. */
function chartsOf(
  ctx: { asOf: string; latest: string | null },
  h: Histories,
  aggregates: HistoryAggregates,
  repeaters: number,
  fit: { bgWeeks: BgNbd; pnWeeks?: ParetoNbd; predicted: Float64Array },
) {
  const n = h.size;
  const startDay = h.firstDay.reduce((min, d) => Math.min(min, d), Infinity);
  const isoDay = (d: number) => new Date(d * day).toISOString().slice(0, 10);
  const asOfDay = Date.parse(`${ctx.asOf}T00:00:00Z`) / day;
  const weekOf = (d: number) => Math.floor((d - startDay) / 7);
  // Tracking: actual cumulative repeat purchases by week against the models' expectation for the
  // same customers, each from their first purchase day.
  const byWeek = new Map<number, number>();
  for (const [d, purchases] of aggregates.repeatDays) byWeek.set(weekOf(d), (byWeek.get(weekOf(d)) ?? 0) + purchases);
  const lastWeek = Math.max(weekOf(asOfDay), ...byWeek.keys());
  const births = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const b = (h.firstDay[i] - startDay) / 7;
    births.set(b, (births.get(b) ?? 0) + 1);
  }
  const tracking: { week: number; actual: number; bgnbd: number; paretoNbd: number }[] = [];
  let cumulative = 0;
  for (let w = 0; w <= lastWeek; w++) {
    cumulative += byWeek.get(w) ?? 0;
    let bg = 0;
    let pn = 0;
    for (const [birth, count] of births) {
      const t = w + 1 - birth;
      if (t > 0) {
        bg += count * bgnbdUnconditionalExpected(fit.bgWeeks, t);
        if (fit.pnWeeks) pn += count * paretoUnconditionalExpected(fit.pnWeeks, t);
      }
    }
    tracking.push({ week: w + 1, actual: cumulative, bgnbd: round(bg, 1), paretoNbd: round(pn, 1) });
  }
  // Conditional expectations by calibration frequency against what happened after as-of.
  const holdoutDays = ctx.latest && ctx.latest > ctx.asOf ? (Date.parse(ctx.latest) - Date.parse(ctx.asOf)) / day : 0;
  let bins: { frequency: string; customers: number; actual: number; bgnbd: number; paretoNbd: number }[] = [];
  if (holdoutDays > 0) {
    const sums = Array.from({ length: 8 }, () => ({ customers: 0, actual: 0, bgnbd: 0, paretoNbd: 0 }));
    for (let i = 0; i < n; i++) {
      const [x, tx, T] = [h.x[i], h.tx[i] / 7, h.age[i] / 7];
      const bin = sums[Math.min(7, x)];
      bin.customers++;
      bin.actual += h.holdout[i];
      bin.bgnbd += bgnbdConditionalExpected(fit.bgWeeks, holdoutDays / 7, x, tx, T);
      if (fit.pnWeeks) bin.paretoNbd += paretoConditionalExpected(fit.pnWeeks, holdoutDays / 7, x, tx, T);
    }
    const mean = (sum: number, count: number) => (count ? sum / count : 0);
    bins = sums.map((b, k) => ({
      frequency: k === 7 ? '7+' : String(k),
      customers: b.customers,
      actual: round(mean(b.actual, b.customers), 4),
      bgnbd: round(mean(b.bgnbd, b.customers), 4),
      paretoNbd: round(mean(b.paretoNbd, b.customers), 4),
    }));
  }
  // Predicted value distribution.
  const values = Float64Array.from(fit.predicted).sort();
  const top = values[Math.floor(values.length * 0.99)] || values.at(-1) || 0;
  const width = top > 0 ? niceStep(top / 20) : 1;
  const histogram = Array.from({ length: Math.ceil(top / width) + 1 }, (_, i) => ({
    from: i * width,
    to: (i + 1) * width,
    customers: 0,
  }));
  for (const v of values) histogram[Math.min(histogram.length - 1, Math.floor(v / width))].customers++;
  // Trial to true customer: time to the second purchase day, censored at as-of (Kaplan-Meier).
  const conversion = (keys: string[], keyOf: Uint16Array | Int32Array, names: string[]) =>
    keys.map((name) => {
      const members = where(n, (i) => names[keyOf[i]] === name);
      const time = Int32Array.from(members, (i) => (h.secondAfter[i] < 0 ? h.age[i] : h.secondAfter[i]));
      const event = Uint8Array.from(members, (i) => (h.secondAfter[i] < 0 ? 0 : 1));
      return {
        name,
        customers: members.length,
        converted: event.reduce((sum, e) => sum + e, 0),
        curve: kaplanMeier({ time, event }, [0, 7, 14, 30, 60, 90, 120, 180, 270, 365]).map((p) => ({
          day: p.time,
          converted: round(1 - p.survival, 4),
        })),
      };
    });
  // First-purchase months, by index into their names.
  const monthNames: string[] = [];
  const monthIndex = new Map<string, number>();
  const firstMonth = Int32Array.from(h.firstDay, (d) => {
    const name = isoDay(d).slice(0, 7);
    let k = monthIndex.get(name);
    if (k === undefined) {
      monthIndex.set(name, (k = monthNames.length));
      monthNames.push(name);
    }
    return k;
  });
  const channelsUsed = [...new Set(h.channel)].map((c) => h.channels[c]);
  const cohorts = [...aggregates.cohortActive]
    .map(([key, active]) => {
      const [cohort, offset] = key.split('|');
      return { cohort, size: aggregates.cohortActive.get(`${cohort}|0`)!, offset: Number(offset), active };
    })
    .sort((a, b) => a.cohort.localeCompare(b.cohort) || a.offset - b.offset);
  return {
    start: isoDay(startDay),
    asOfWeek: weekOf(asOfDay) + 1,
    tracking,
    frequencyBins: bins,
    valueHistogram: histogram,
    conversionByMonth: conversion([...monthNames].sort().slice(-12), firstMonth, monthNames),
    conversionByChannel: conversion(
      channelsUsed.sort((a, b) => a.localeCompare(b)),
      h.channel,
      h.channels,
    ),
    cohorts,
    trueCustomerShare: round(repeaters / n, 4),
  };
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
}
