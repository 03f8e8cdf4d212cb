// Contractual retention: how cohorts of subscribers keep renewing (the shifted-beta-geometric model,
// sbg.ts) and which subscribers cancel (the binned logistic regression of learn.ts with cancellation
// as the label, checked by stratified cross-validation). Nothing here reads the database.
//
// The classifier's row is a subscriber's latest subscription, described as it stood when it ended
// (the cancellation day) or, for a subscription still running, at as-of: nothing after its end is
// read, so the follow-up of a cancellation (a win-back mail, a ticket about the refund) cannot give
// the answer away. The label is "cancelled by as-of". A running subscriber's probability is the
// model's answer for the subscriber as they stand today: how much they look like those who cancelled.
import type { SignalKind } from './analytics.repository.ts';
import type { SubscriptionPeriod } from '../subscriptions/index.ts';
import type { ChurnModelReport, RetentionReport, SbgFit } from './analytics.ts';
import { bootstrapIntervals, brierScore, calibration, logLoss, prAuc, rocAuc } from './evaluate.ts';
import { type Columns, contributions, featureEffects, fitBinnedLogistic, predictBinned } from './learn.ts';
import { type SurvivalGroup, fitSbg, sbgChurnWithin, sbgNextChurn, sbgSurvivalCurve } from './sbg.ts';

/** A dated signal as analytics.repository.ts reads them (kinds by their code in `signalKinds`). */
export interface DatedSignal {
  day: number;
  kind: number;
  value: number;
}

/** A subscriber's latest subscription and what else the store knows of them (days since 1970-01-01). */
export interface Subscriber {
  customerId: number;
  externalId: string | null;
  name: string | null;
  acquisitionChannel: string | null;
  attributes: Record<string, unknown>;
  subscriptionId: string;
  plan: string | null;
  price: number | null;
  period: SubscriptionPeriod;
  startDay: number;
  /** Null while it runs (or when it was cancelled after as-of). */
  cancelDay: number | null;
  /** Subscriptions of the customer that started before this one. */
  previous: number;
  /** Purchase days with their spend, in day order. */
  purchases: { day: number; spend: number }[];
  signals: DatedSignal[];
}

/** Signal codes by kind: the index in analytics.repository.ts `signalKinds`. */
export type SignalCodes = Record<SignalKind, number>;

const dayMs = 86_400_000;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;
const monthIndex = (day: number) => {
  const d = new Date(day * dayMs);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};

/** Renewals that fell due from `start` up to and including `end`: whole periods between the two days (calendar months for month, quarter and year). */
export function renewalsBetween(start: number, end: number, period: SubscriptionPeriod): number {
  if (end <= start) return 0;
  if (period === 'week') return Math.floor((end - start) / 7);
  const a = new Date(start * dayMs);
  const b = new Date(end * dayMs);
  let months = monthIndex(end) - monthIndex(start);
  if (b.getUTCDate() < a.getUTCDate()) months--;
  return Math.floor(months / (period === 'month' ? 1 : period === 'quarter' ? 3 : 12));
}

const cancelledBy = (s: Subscriber, day: number) => s.cancelDay !== null && s.cancelDay <= day;

/**
 * What was seen of a subscriber at `day`: cancelled at renewal t (t = renewals that fell due before
 * the cancellation + 1), or still subscribed after n renewals.
 */
export function survivalOf(s: Subscriber, day: number): SurvivalGroup {
  return cancelledBy(s, day)
    ? { t: renewalsBetween(s.startDay, s.cancelDay!, s.period) + 1, cancelled: true, count: 1 }
    : { t: renewalsBetween(s.startDay, day, s.period), cancelled: false, count: 1 };
}

function grouped(groups: SurvivalGroup[]): SurvivalGroup[] {
  const by = new Map<string, SurvivalGroup>();
  for (const g of groups) {
    const key = `${g.cancelled ? 'c' : 'a'}${g.t}`;
    const seen = by.get(key);
    if (seen) seen.count += g.count;
    else by.set(key, { ...g });
  }
  return [...by.values()].sort((a, b) => a.t - b.t || Number(a.cancelled) - Number(b.cancelled));
}

const isoDay = (day: number) => new Date(day * dayMs).toISOString().slice(0, 10);

function cohortStart(day: number, period: SubscriptionPeriod): string {
  const d = new Date(day * dayMs);
  const month =
    period === 'year' ? 0 : period === 'quarter' ? d.getUTCMonth() - (d.getUTCMonth() % 3) : d.getUTCMonth();
  return `${d.getUTCFullYear()}-${String(month + 1).padStart(2, '0')}-01`;
}

/** Kaplan-Meier survival over renewals 0..max from survival groups (cancelled at t, still subscribed after t). */
function kaplanMeier(groups: SurvivalGroup[]): number[] {
  const max = groups.reduce((m, g) => Math.max(m, g.t), 0);
  const curve = [1];
  for (let t = 1; t <= max; t++) {
    let atRisk = 0;
    let cancelled = 0;
    for (const g of groups) {
      if (g.t >= t) atRisk += g.count;
      if (g.cancelled && g.t === t) cancelled += g.count;
    }
    if (atRisk === 0) break;
    curve.push(curve[t - 1] * (1 - cancelled / atRisk));
  }
  return curve;
}

/** Retention by start cohort with the sBG projection, for the most common billing period. */
export function retention(
  subscribers: Subscriber[],
  asOf: number,
  options: { holdoutDays?: number; minCohort?: number; maxCohorts?: number } = {},
): RetentionReport | null {
  const started = subscribers.filter((s) => s.startDay <= asOf);
  if (started.length === 0) return null;
  const counts = new Map<SubscriptionPeriod, number>();
  for (const s of started) counts.set(s.period, (counts.get(s.period) ?? 0) + 1);
  const period = [...counts].sort((a, b) => b[1] - a[1])[0][0];
  const subs = started.filter((s) => s.period === period);
  const groups = grouped(subs.map((s) => survivalOf(s, asOf)));
  const fit = fitSbg(groups);
  const observed = kaplanMeier(groups);
  const projectTo = Math.max(12, 2 * (observed.length - 1));
  const projected = fit ? sbgSurvivalCurve(fit.alpha, fit.beta, projectTo) : [];
  const minCohort = options.minCohort ?? 30;
  const byStart = new Map<string, Subscriber[]>();
  for (const s of subs) {
    const key = cohortStart(s.startDay, period);
    const members = byStart.get(key);
    if (members) members.push(s);
    else byStart.set(key, [s]);
  }
  const cohorts = [...byStart]
    .filter(([, members]) => members.length >= minCohort)
    .sort((a, b) => (a[0] < b[0] ? 1 : -1))
    .slice(0, options.maxCohorts ?? 12)
    .reverse()
    .map(([start, members]): RetentionReport['cohorts'][number] => {
      // Renewal t is seen for every member once the latest starter has reached it.
      const seen = members.reduce((m, s) => Math.min(m, renewalsBetween(s.startDay, asOf, period)), Infinity);
      const memberGroups = grouped(members.map((m) => survivalOf(m, asOf)));
      // Still subscribed after renewal t: all but those cancelled at renewal t or before.
      const alive = (t: number) =>
        1 - memberGroups.reduce((n, g) => n + (g.cancelled && g.t <= t ? g.count : 0), 0) / members.length;
      const cohortFit = fitSbg(memberGroups);
      return {
        start,
        subscribers: members.length,
        observed: Array.from({ length: seen + 1 }, (_, t) => alive(t)),
        fit: cohortFit,
        projected: cohortFit ? sbgSurvivalCurve(cohortFit.alpha, cohortFit.beta, projectTo) : [],
      };
    });
  return {
    period,
    subscribers: subs.length,
    active: subs.filter((s) => !cancelledBy(s, asOf)).length,
    otherPeriods: started.length - subs.length,
    fit,
    observed,
    projected,
    retentionRates: projected.slice(1).map((s, t) => s / projected[t]),
    cohorts,
    backtest: retentionBacktest(subs, asOf, options.holdoutDays ?? 90),
  };
}

/** The sBG fitted on what was known `holdoutDays` before as-of, projecting who of those subscribed then cancels by as-of. */
function retentionBacktest(subs: Subscriber[], asOf: number, holdoutDays: number): RetentionReport['backtest'] {
  const cut = asOf - holdoutDays;
  const before = subs.filter((s) => s.startDay <= cut);
  const fit = fitSbg(grouped(before.map((s) => survivalOf(s, cut))));
  if (!fit) return null;
  let predicted = 0;
  let variance = 0;
  let actual = 0;
  let subscribers = 0;
  for (const s of before) {
    if (cancelledBy(s, cut)) continue;
    subscribers++;
    const n = renewalsBetween(s.startDay, cut, s.period);
    const k = renewalsBetween(s.startDay, asOf, s.period) - n;
    if (k <= 0) continue;
    const p = sbgChurnWithin(fit.alpha, fit.beta, n, k);
    predicted += p;
    variance += p * (1 - p);
    const seen = survivalOf(s, asOf);
    if (seen.cancelled && seen.t <= n + k) actual++;
  }
  const sd = Math.sqrt(variance);
  return { cut: isoDay(cut), subscribers, predicted, actual, low: predicted - 1.96 * sd, high: predicted + 1.96 * sd };
}

// ---------------------------------------------------------------------------------------------
// The churn classifier.

/** The numeric features read from every subscriber (custom attributes come on top). */
export const churnNumericFeatures = [
  'days_since_start',
  'price',
  'previous_subscriptions',
  'purchase_days',
  'net_spend',
  'days_since_last_purchase',
  'returns',
  'tickets',
  'tickets_last_90',
  'tickets_unresolved',
  'incidents',
  'incidents_last_90',
  'last_survey_score',
  'last_agent_feeling',
  'engagement_last_90',
] as const;

export interface ChurnDataset {
  columns: Columns;
  /** 1: cancelled by as-of. */
  label: Uint8Array;
  /** Each row's end: the cancellation day, else as-of. */
  end: Int32Array;
  /** Custom attributes left out, with why. */
  dropped: string[];
}

/** A categorical column from text values (null = missing). */
function categoricalOf(values: (string | null)[]): { codes: Int32Array; names: string[] } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const codes = Int32Array.from(values, (v) => {
    if (v === null) return -1;
    let code = index.get(v);
    if (code === undefined) {
      code = names.length;
      names.push(v);
      index.set(v, code);
    }
    return code;
  });
  return { codes, names };
}

/** Every subscriber's features as they stood at the end of their latest subscription, and the label. */
export function churnDataset(subscribers: Subscriber[], asOf: number, codes: SignalCodes): ChurnDataset {
  const n = subscribers.length;
  const numeric = Object.fromEntries(
    churnNumericFeatures.map((name) => [name, new Float64Array(n).fill(Number.NaN)]),
  ) as Record<(typeof churnNumericFeatures)[number], Float64Array>;
  const label = new Uint8Array(n);
  const end = new Int32Array(n);
  subscribers.forEach((s, k) => {
    const cancelled = cancelledBy(s, asOf);
    label[k] = cancelled ? 1 : 0;
    const e = cancelled ? s.cancelDay! : asOf;
    end[k] = e;
    // How long ago it started (as of the as-of date): the time the subscriber had to cancel in. Not
    // the tenure up to the end: with both, "tenure = days since start" would spell "still running".
    numeric.days_since_start[k] = asOf - s.startDay;
    numeric.price[k] = s.price ?? Number.NaN;
    numeric.previous_subscriptions[k] = s.previous;
    let days = 0;
    let spend = 0;
    let last = Number.NaN;
    for (const p of s.purchases) {
      if (p.day > e) break;
      days++;
      spend += p.spend;
      last = p.day;
    }
    let refunded = 0;
    let returns = 0;
    let tickets = 0;
    let recentTickets = 0;
    let open = 0;
    let incidents = 0;
    let recentIncidents = 0;
    let engagement = 0;
    for (const g of s.signals) {
      if (g.day > e) break;
      if (g.kind === codes.return) {
        returns++;
        refunded += g.value;
      } else if (g.kind === codes.ticket_opened) {
        tickets++;
        open++;
        if (g.day > e - 90) recentTickets++;
      } else if (g.kind === codes.ticket_resolved) open--;
      else if (g.kind === codes.incident) {
        incidents++;
        if (g.day > e - 90) recentIncidents++;
      } else if (g.kind === codes.survey) numeric.last_survey_score[k] = g.value;
      else if (g.kind === codes.feeling) numeric.last_agent_feeling[k] = g.value;
      else if (g.kind === codes.engagement && g.day > e - 90) engagement++;
    }
    numeric.purchase_days[k] = days;
    numeric.net_spend[k] = spend - refunded;
    numeric.days_since_last_purchase[k] = e - last;
    numeric.returns[k] = returns;
    numeric.tickets[k] = tickets;
    numeric.tickets_last_90[k] = recentTickets;
    numeric.tickets_unresolved[k] = Math.max(0, open);
    numeric.incidents[k] = incidents;
    numeric.incidents_last_90[k] = recentIncidents;
    numeric.engagement_last_90[k] = engagement;
  });
  const columns: Columns = {
    numeric: { ...numeric },
    categorical: {
      plan: categoricalOf(subscribers.map((s) => s.plan)),
      acquisition_channel: categoricalOf(subscribers.map((s) => s.acquisitionChannel)),
    },
  };
  const dropped: string[] = [];
  const keys = [...new Set(subscribers.flatMap((s) => Object.keys(s.attributes)))].sort();
  for (const key of keys) {
    const values = subscribers.map((s) => s.attributes[key] ?? null);
    const name = `attribute_${key}`;
    if (
      values.every((v) => v === null || (typeof v === 'string' && isoDate.test(v))) &&
      values.some((v) => v !== null)
    ) {
      // A date attribute (a sign-up day, a birthday) as days before the as-of date.
      columns.numeric[name] = Float64Array.from(values, (v) =>
        v === null ? Number.NaN : asOf - Math.round(Date.parse(`${v}T00:00:00Z`) / dayMs),
      );
      continue;
    }
    if (values.every((v) => v === null || typeof v === 'number')) {
      const column = Float64Array.from(values, (v) => (v === null ? Number.NaN : (v as number)));
      const known = column.filter(Number.isFinite);
      if (known.length === 0) continue;
      const auc = rocAuc(
        Float64Array.from(column, (v) => (Number.isFinite(v) ? v : 0)),
        label,
      );
      if (known.length === n && (auc > 0.999 || auc < 0.001)) {
        dropped.push(
          `${key}: separates cancelled from running subscribers perfectly, so it is probably the outcome itself`,
        );
        continue;
      }
      columns.numeric[name] = column;
    } else {
      const column = categoricalOf(values.map((v) => (v === null ? null : String(v))));
      // A text attribute whose every value is all-cancelled or all-running records the outcome.
      const seen = column.names.map(() => [0, 0]);
      column.codes.forEach((c, k) => {
        if (c >= 0) seen[c][label[k]]++;
      });
      const pure = seen.every(([running, cancelled]) => running === 0 || cancelled === 0);
      const both = seen.some(([, c]) => c > 0) && seen.some(([r]) => r > 0);
      if (pure && both) {
        dropped.push(
          `${key}: each of its values belongs only to cancelled or only to running subscribers, so it is probably the outcome itself`,
        );
        continue;
      }
      if (column.names.length > Math.max(50, n / 20)) {
        dropped.push(`${key}: ${column.names.length} different values, too many to learn from`);
        continue;
      }
      columns.categorical[name] = column;
    }
  }
  return { columns, label, end, dropped };
}

/** The rows `pick` of columns. */
export function rowsOf(columns: Columns, pick: Int32Array): Columns {
  return {
    numeric: Object.fromEntries(
      Object.entries(columns.numeric).map(([name, v]) => [name, Float64Array.from(pick, (k) => v[k])]),
    ),
    categorical: Object.fromEntries(
      Object.entries(columns.categorical).map(([name, c]) => [
        name,
        { codes: Int32Array.from(pick, (k) => c.codes[k]), names: c.names },
      ]),
    ),
  };
}

/** A stable pseudo-random key per customer id (so folds do not follow the order ids were given out in). */
const mix = (id: number) => {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/** Stratified folds: cancelled and running subscribers each dealt round-robin into k folds, in a stable shuffled order. */
export function stratifiedFolds(label: Uint8Array, customerIds: number[], k: number): Int32Array {
  const folds = new Int32Array(label.length);
  for (const value of [0, 1]) {
    const rows = customerIds
      .map((id, row) => ({ row, key: mix(id) }))
      .filter(({ row }) => label[row] === value)
      .sort((a, b) => a.key - b.key || a.row - b.row);
    rows.forEach(({ row }, i) => {
      folds[row] = i % k;
    });
  }
  return folds;
}

/** Out-of-fold probabilities: each fold predicted by a model trained on the others (fold < 0: left out, NaN). */
export function crossValidate(columns: Columns, label: Uint8Array, folds: Int32Array): Float64Array {
  const probability = new Float64Array(label.length).fill(Number.NaN);
  const names = [...new Set(folds)].filter((f) => f >= 0).sort((a, b) => a - b);
  for (const fold of names) {
    const train = Int32Array.from(folds.keys()).filter((k) => folds[k] >= 0 && folds[k] !== fold);
    const test = Int32Array.from(folds.keys()).filter((k) => folds[k] === fold);
    const trainLabel = Uint8Array.from(train, (k) => label[k]);
    const model = fitBinnedLogistic(rowsOf(columns, train), trainLabel);
    const p = predictBinned(model, rowsOf(columns, test));
    test.forEach((k, i) => {
      probability[k] = p[i];
    });
  }
  return probability;
}

export interface ChurnScore {
  customerId: number;
  subscriptionId: string;
  /** The model trained on everyone: for a running subscriber, the chance they are one who cancels. */
  probability: number;
  /** The sBG chance of cancelling at the next renewal, from tenure alone. */
  nextRenewalChurn: number | null;
  factors: string[];
}

export const minimumChurnClass = 20;

/**
 * Cross-validates the classifier (stratified k folds unless `folds` gives a fold per row) and
 * trains it on every subscriber to score the running ones. Null, with the reason, when there are
 * too few cancelled or running subscribers to learn from.
 */
export function churnModel(
  subscribers: Subscriber[],
  asOf: number,
  codes: SignalCodes,
  options: { k?: number; folds?: Int32Array; retention?: Pick<RetentionReport, 'fit' | 'period'> | null } = {},
): { report: ChurnModelReport; outOfFold: Float64Array; scores: ChurnScore[] } | { reason: string } {
  const data = churnDataset(subscribers, asOf, codes);
  const cancelled = data.label.reduce((n, v) => n + v, 0);
  const running = data.label.length - cancelled;
  if (cancelled < minimumChurnClass || running < minimumChurnClass)
    return {
      reason: `${cancelled} cancelled and ${running} running subscribers: the churn model needs at least ${minimumChurnClass} of each`,
    };
  const k = options.k ?? 5;
  const folds =
    options.folds ??
    stratifiedFolds(
      data.label,
      subscribers.map((s) => s.customerId),
      k,
    );
  const outOfFold = crossValidate(data.columns, data.label, folds);
  const rows = Int32Array.from(folds.keys()).filter((r) => folds[r] >= 0);
  const p = Float64Array.from(rows, (r) => outOfFold[r]);
  const y = Uint8Array.from(rows, (r) => data.label[r]);
  const pick = (sample: Int32Array) => ({
    p: Float64Array.from(sample, (i) => p[i]),
    y: Uint8Array.from(sample, (i) => y[i]),
  });
  const intervals = bootstrapIntervals(rows.length, {
    rocAuc: (sample) => {
      const s = pick(sample);
      return rocAuc(s.p, s.y);
    },
    prAuc: (sample) => {
      const s = pick(sample);
      return prAuc(s.p, s.y);
    },
    brier: (sample) => {
      const s = pick(sample);
      return brierScore(s.p, s.y);
    },
  });
  const foldNames = [...new Set(rows.map((r) => folds[r]))].sort((a, b) => a - b);
  const foldRocAuc = foldNames.map((fold) => {
    const inFold = rows.filter((r) => folds[r] === fold);
    return rocAuc(
      Float64Array.from(inFold, (r) => outOfFold[r]),
      Uint8Array.from(inFold, (r) => data.label[r]),
    );
  });
  const model = fitBinnedLogistic(data.columns, data.label);
  const current = predictBinned(model, data.columns);
  const fit = options.retention;
  const scores: ChurnScore[] = [];
  subscribers.forEach((s, row) => {
    if (data.label[row]) return;
    const factors = contributions(model, data.columns, row)
      .filter((c) => c.logOdds > 0)
      .slice(0, 3)
      .map((c) => `${c.feature.replace(/^attribute_/, '')} ${c.bin}`);
    scores.push({
      customerId: s.customerId,
      subscriptionId: s.subscriptionId,
      probability: current[row],
      nextRenewalChurn:
        fit?.fit && s.period === fit.period
          ? sbgNextChurn(fit.fit.alpha, fit.fit.beta, renewalsBetween(s.startDay, asOf, s.period))
          : null,
      factors,
    });
  });
  return {
    report: {
      subscribers: subscribers.length,
      cancelled,
      folds: foldNames.length,
      metrics: {
        rocAuc: intervals.rocAuc,
        prAuc: intervals.prAuc,
        brier: intervals.brier,
        logLoss: logLoss(p, y),
        baseRate: cancelled / subscribers.length,
      },
      foldRocAuc,
      calibration: calibration(p, y),
      effects: featureEffects(model).slice(0, 10),
      dropped: data.dropped,
    },
    outOfFold,
    scores,
  };
}
