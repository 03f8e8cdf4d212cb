// The candidate models and the backtest that chooses among them. Every analysis holds out the last
// H days of the store's own history, fits each candidate on what came before, and measures how
// well each one foretold the held-out days; the best by a fixed rule scores the customers.
import { brierScore, bootstrapIntervals, calibration, gains, rankedFigures, rocAuc } from './evaluate.ts';
import { concatColumns, featuresAt, groupsOf, snapshotAt, spreadSample, type Snapshot } from './features.ts';
import { fitBinnedLogistic, predictBinned, type BinnedLogistic, type Columns } from './learn.ts';
import type { Histories } from './analytics.repository.ts';
import { candidateModels, type Backtest, type CandidateResult } from './analytics.ts';
import {
  bgnbdBuyIfAlive,
  bgnbdExpectedIfAlive,
  bgnbdPAlive,
  mbgnbdBuyIfAlive,
  mbgnbdExpectedIfAlive,
  mbgnbdPAlive,
  paretoBuyIfAlive,
  paretoExpectedIfAlive,
  paretoPAlive,
  type HistoryGroup,
} from './models.ts';
import { fitSample, fitTextbook, type TextbookFits } from './textbook.ts';
import type { FitThread, TextbookOutcome } from './fit.worker.ts';

export { fitTextbook } from './textbook.ts';

/** The candidates, in the order a tie is broken (the simpler first). */
export const candidates = candidateModels;
export type Candidate = (typeof candidates)[number];
export const candidateNames: Record<Candidate, string> = {
  bgnbd: 'BG/NBD',
  mbgnbd: 'MBG/NBD',
  pareto: 'Pareto/NBD',
  supervised: 'the model learnt from this store',
};

/**
 * A fitted candidate, able to score a customer: P(alive), and if alive, the chance of buying and
 * the expected purchases within t days. Expectations and chances are P(alive) times the "if alive"
 * parts. The supervised model learns P(buy within H days) directly; its P(alive) is that chance
 * over the chance an active customer with this history buys within H days (by BG/NBD's purchase
 * rates), so that every horizon follows from it consistently.
 */
export interface Scorer {
  model: Candidate;
  /** Customer k of the snapshot it was made for. */
  pAlive(k: number, x: number, tx: number, T: number): number;
  buyIfAlive(t: number, x: number, T: number): number;
  expectedIfAlive(t: number, x: number, T: number): number;
  /** The posterior purchase rate per day of an active customer. */
  rate(x: number, T: number): number;
}

export interface Fitted extends TextbookFits {
  supervised?: { model: BinnedLogistic; cuts: string[]; rows: number };
}

/** Rows of training per cut at most; cuts 30 days apart, this many. */
const trainingRows = 60_000;
const trainingCuts = 4;
const cutStep = 30;
/** The supervised model needs this many buyers and non-buyers over its training cuts. */
const minimumClass = 50;
const isoDay = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);

/** Above this many history groups the textbook fits run on the fitting thread (below, they take less than it takes to start). */
export const fitAsideAbove = fitSample;

/** The textbook fits on `groups`: on large data by the fitting thread, after what it was asked before; else here, now. */
export function fitTextbookOn(thread: FitThread, groups: HistoryGroup[]): Promise<TextbookOutcome> {
  if (groups.length > fitAsideAbove) return thread.textbook(groups);
  const warnings: string[] = [];
  return Promise.resolve({ fits: fitTextbook(groups, warnings), warnings });
}

/**
 * Trains the supervised model on cuts before `before` (each with its label window ending by
 * `before`): rows are customers at each cut, labelled by whether they bought within `horizon` days
 * after it. Undefined when the history is too short or too one-sided to learn from.
 */
export function trainSupervised(
  h: Histories,
  before: number,
  horizon: number,
  warnings: string[],
): Fitted['supervised'] {
  const parts = [];
  const labels: Uint8Array[] = [];
  const cuts: string[] = [];
  const firstDay = firstPurchaseDay(h);
  for (let k = 0; k < trainingCuts; k++) {
    const cut = before - horizon - k * cutStep;
    // A cut needs some history before it: at least a label window's worth.
    if (cut - firstDay < horizon) break;
    const all = snapshotAt(h, cut, horizon);
    if (all.index.length < 2 * minimumClass) break;
    const pick = spreadSample(all.index.length, trainingRows);
    const s = subset(all, pick);
    parts.push(featuresAt(h, s));
    labels.push(Uint8Array.from(s.future, (f) => (f > 0 ? 1 : 0)));
    cuts.push(isoDay(cut));
  }
  if (parts.length === 0) {
    warnings.push(
      `The model learnt from this store needs at least ${2 * horizon} days of purchase history before ${isoDay(before)}; not a candidate`,
    );
    return undefined;
  }
  const label = new Uint8Array(labels.reduce((n, l) => n + l.length, 0));
  let at = 0;
  for (const l of labels) {
    label.set(l, at);
    at += l.length;
  }
  const positives = label.reduce((n, v) => n + v, 0);
  if (positives < minimumClass || label.length - positives < minimumClass) {
    warnings.push(
      `The model learnt from this store saw ${positives} buyers and ${label.length - positives} non-buyers over its training cuts (at least ${minimumClass} of each needed); not a candidate`,
    );
    return undefined;
  }
  const model = fitBinnedLogistic(concatColumns(parts), label);
  return { model, cuts, rows: label.length };
}

/** The customers `pick` (indices into the snapshot) of a snapshot. */
export function subset(s: Snapshot, pick: Int32Array): Snapshot {
  const take = <A extends Int32Array>(a: A) => Int32Array.from(pick, (k) => a[k]);
  return { cut: s.cut, index: take(s.index), x: take(s.x), tx: take(s.tx), T: take(s.T), future: take(s.future) };
}

/** The scorer of one fitted candidate for the customers of a snapshot (the supervised one predicts for exactly those). */
export function scorerOf(
  model: Candidate,
  fitted: Fitted,
  h: Histories,
  s: Snapshot,
  horizon: number,
  features?: Columns,
): Scorer {
  const bg = fitted.bgnbd.params;
  const bgScorer: Scorer = {
    model: 'bgnbd',
    pAlive: (_, x, tx, T) => bgnbdPAlive(bg, x, tx, T),
    buyIfAlive: (t, x, T) => bgnbdBuyIfAlive(bg, t, x, T),
    expectedIfAlive: (t, x, T) => bgnbdExpectedIfAlive(bg, t, x, T),
    rate: (x, T) => (bg.r + x) / (bg.alpha + T),
  };
  if (model === 'bgnbd') return bgScorer;
  if (model === 'mbgnbd') {
    const p = fitted.mbgnbd!.params;
    return {
      model,
      pAlive: (_, x, tx, T) => mbgnbdPAlive(p, x, tx, T),
      buyIfAlive: (t, x, T) => mbgnbdBuyIfAlive(p, t, x, T),
      expectedIfAlive: (t, x, T) => mbgnbdExpectedIfAlive(p, t, x, T),
      rate: (x, T) => (p.r + x) / (p.alpha + T),
    };
  }
  if (model === 'pareto') {
    const p = fitted.pareto!.params;
    return {
      model,
      pAlive: (_, x, tx, T) => paretoPAlive(p, x, tx, T),
      buyIfAlive: (t, x, T) => paretoBuyIfAlive(p, t, x, T),
      expectedIfAlive: (t, x, T) => paretoExpectedIfAlive(p, t, x, T),
      rate: (x, T) => (p.r + x) / (p.alpha + T),
    };
  }
  const pBuy = predictBinned(fitted.supervised!.model, features ?? featuresAt(h, s));
  return {
    ...bgScorer,
    model,
    pAlive: (k, x, _tx, T) => {
      const ifAlive = bgnbdBuyIfAlive(bg, horizon, x, T);
      return ifAlive > 0 ? Math.min(1, pBuy[k] / ifAlive) : 0;
    },
  };
}

/** A season is adjusted for (and warned of) when last years' window differed from their average by this share or more. */
export const seasonalThreshold = 0.1;

/** The store's first purchase day. */
export function firstPurchaseDay(h: Histories): number {
  let first = Infinity;
  for (let i = 0; i < h.size; i++) first = Math.min(first, h.firstDay[i]);
  return first;
}

/** Customers known at the cut needed for a backtest (its intervals say how little a small one tells). */
const minimumBacktest = 30;

/** Customers evaluated at most (an evenly spread sample beyond it); the intervals resample a smaller sample. */
const evaluationRows = 200_000;
/** A candidate within this much ROC AUC of the best counts as tied with it; ties go to the simpler (earlier) one. */
const aucTie = 0.002;

/**
 * The customers known at the backtest's cut, `horizon` days before as-of, with what they did in the
 * held-out days; undefined (and a warning) when they are too few or too one-sided to judge by.
 */
export function backtestSnapshot(
  h: Histories,
  asOfDay: number,
  horizon: number,
  warnings: string[],
): Snapshot | undefined {
  const cut = asOfDay - horizon;
  const all = snapshotAt(h, cut, horizon);
  const repeaters = all.x.reduce((n, x) => n + (x > 0 ? 1 : 0), 0);
  const buyers = all.future.reduce((n, f) => n + (f > 0 ? 1 : 0), 0);
  if (all.index.length < minimumBacktest || repeaters === 0 || buyers === 0 || buyers === all.index.length) {
    warnings.push(
      `The backtest needs at least ${minimumBacktest} customers who bought before ${isoDay(cut)} (${horizon} days before the as-of date), repeat purchases among them, and both buyers and non-buyers after it; none was run`,
    );
    return undefined;
  }
  return all;
}

/**
 * Holds out the last `horizon` days before as-of: every candidate fitted on the history up to the
 * cut (the textbook ones by `textbook`, on the groups of `all`, the backtestSnapshot; on large data
 * on the fitting thread while this one trains the supervised model), scores the customers known at
 * the cut, and compares with what they did in the held-out days.
 */
export async function backtest(
  h: Histories,
  repeatDays: Map<number, number>,
  asOfDay: number,
  horizon: number,
  warnings: string[],
  atCut: { all: Snapshot; textbook: Promise<TextbookOutcome> },
  pinned?: Candidate,
): Promise<{ backtest: Backtest; fittedAtCut: Fitted }> {
  const cut = asOfDay - horizon;
  const season = seasonality(repeatDays, firstPurchaseDay(h), cut, horizon);
  const adjust = season && Math.abs(season.factor - 1) >= seasonalThreshold ? season.factor : undefined;
  const { all, textbook } = atCut;
  const supervisedWarnings: string[] = [];
  const supervised = trainSupervised(h, cut, horizon, supervisedWarnings);
  const s = subset(all, spreadSample(all.index.length, evaluationRows));
  const n = s.index.length;
  const bought = Uint8Array.from(s.future, (f) => (f > 0 ? 1 : 0));
  const actualPurchases = s.future.reduce((sum, f) => sum + f, 0);
  // The supervised model's features while the textbook fits may still run (its P(alive) needs BG/NBD's).
  const features = supervised ? featuresAt(h, s) : undefined;
  const { fits, warnings: textbookWarnings } = await textbook;
  const fitted: Fitted = { ...fits, supervised };
  const cutWarnings = [...textbookWarnings, ...supervisedWarnings];
  const results: CandidateResult[] = [];
  const forecasts = new Map<Candidate, { pBuy: Float64Array; expected: Float64Array }>();
  for (const model of candidates) {
    if (model === 'mbgnbd' && !fitted.mbgnbd) continue;
    if (model === 'pareto' && !fitted.pareto) continue;
    if (model === 'supervised' && !fitted.supervised) continue;
    const { pBuy, expected } = forecastOf(scorerOf(model, fitted, h, s, horizon, features), s, horizon);
    forecasts.set(model, { pBuy, expected });
    // ROC and PR AUC of each resample counted by the forecasts' ranks, not sorted again each time.
    const ranked = rankedFigures(pBuy, bought);
    const figures = bootstrapIntervals(n, {
      rocAuc: ranked.rocAuc,
      prAuc: ranked.prAuc,
      brier: (rows) => brierScore(pick(pBuy, rows), pick(bought, rows)),
    });
    const predictedPurchases = expected.reduce((sum, e) => sum + e, 0);
    const fit = model === 'supervised' ? undefined : fitted[model];
    results.push({
      model,
      name: candidateNames[model],
      rocAuc: figures.rocAuc,
      prAuc: figures.prAuc,
      brier: figures.brier,
      predictedPurchases: round(predictedPurchases, 1),
      totalError: actualPurchases > 0 ? round(predictedPurchases / actualPurchases - 1, 4) : 0,
      ...(adjust
        ? {
            seasonallyAdjusted: {
              predictedPurchases: round(predictedPurchases * adjust, 1),
              totalError: actualPurchases > 0 ? round((predictedPurchases * adjust) / actualPurchases - 1, 4) : 0,
            },
          }
        : {}),
      ...(fit?.dropoutDegenerate
        ? {
            excluded: `${candidateNames[model]} found no dropout in this history (its dropout parameters reached the edge): its probability of being active carries no information`,
          }
        : {}),
    });
  }
  const recencyAuc = round(
    rocAuc(
      Float64Array.from(s.x, (_, k) => -(s.T[k] - s.tx[k])),
      bought,
    ),
    4,
  );
  const { chosen, why } = choose(results, pinned);
  warnings.push(...cutWarnings.filter((w) => !warnings.includes(w)));
  const chosenForecast = forecasts.get(chosen)!;
  const bins = Array.from({ length: 8 }, () => ({ customers: 0, actual: 0, predicted: 0 }));
  for (let k = 0; k < n; k++) {
    const bin = bins[Math.min(7, s.x[k])];
    bin.customers++;
    bin.actual += s.future[k];
    bin.predicted += chosenForecast.expected[k];
  }
  return {
    fittedAtCut: fitted,
    backtest: {
      from: isoDay(cut + 1),
      to: isoDay(asOfDay),
      days: horizon,
      customers: n,
      buyers: bought.reduce((sum, b) => sum + b, 0),
      actualPurchases,
      candidates: results,
      recencyAuc,
      season: season ? { factor: round(season.factor, 3), years: season.years } : null,
      chosen,
      why,
      calibration: calibration(chosenForecast.pBuy, bought, 10).map((b) => ({
        from: round(b.from, 4),
        to: round(b.to, 4),
        customers: b.customers,
        predicted: round(b.predicted, 4),
        observed: round(b.observed, 4),
      })),
      gains: gains(chosenForecast.pBuy, bought, 20).map((g) => ({
        share: round(g.share, 4),
        captured: round(g.captured, 4),
      })),
      frequencyBins: bins.map((b, k) => ({
        frequency: k === 7 ? '7+' : String(k),
        customers: b.customers,
        actual: round(b.customers ? b.actual / b.customers : 0, 4),
        predicted: round(b.customers ? b.predicted / b.customers : 0, 4),
      })),
    },
  };
}

/**
 * Each customer's chance of buying and expected purchases in the `horizon` days after the snapshot.
 * The "if alive" parts depend on (x, T) only: computed once per distinct pair.
 */
function forecastOf(scorer: Scorer, s: Snapshot, horizon: number): { pBuy: Float64Array; expected: Float64Array } {
  const n = s.index.length;
  const pBuy = new Float64Array(n);
  const expected = new Float64Array(n);
  const ifAlive = new Map<number, number>();
  const buys: number[] = [];
  const expects: number[] = [];
  for (let k = 0; k < n; k++) {
    const x = s.x[k];
    const T = s.T[k];
    const key = x * 100_000 + T;
    let at = ifAlive.get(key);
    if (at === undefined) {
      ifAlive.set(key, (at = buys.length));
      buys.push(scorer.buyIfAlive(horizon, x, T));
      expects.push(scorer.expectedIfAlive(horizon, x, T));
    }
    const alive = scorer.pAlive(k, x, s.tx[k], T);
    pBuy[k] = alive * buys[at];
    expected[k] = alive * expects[at];
  }
  return { pBuy, expected };
}

const pick = <A extends Float64Array | Uint8Array>(values: A, rows: Int32Array): A => {
  const out = new (values.constructor as { new (n: number): A })(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]];
  return out;
};
const round = (v: number, digits = 4) => Number(v.toFixed(digits));

/**
 * The rule: among candidates not excluded, the highest backtest ROC AUC for "buys at least once in
 * the window"; a simpler candidate within 0.002 of it wins the tie (the same data gives the same
 * choice, and a negligible gain does not switch models). A pinned candidate is used whatever its
 * figures, and the note says how it compared.
 */
export function choose(results: CandidateResult[], pinned?: Candidate): { chosen: Candidate; why: string } {
  const describe = (r: CandidateResult) => `${r.name} (ROC AUC ${r.rocAuc.value.toFixed(3)})`;
  const usable = results.filter((r) => !r.excluded && Number.isFinite(r.rocAuc.value));
  const best = usable.reduce<CandidateResult | undefined>(
    (b, r) => (!b || r.rocAuc.value > b.rocAuc.value ? r : b),
    undefined,
  );
  if (pinned) {
    const own = results.find((r) => r.model === pinned);
    return {
      chosen: pinned,
      why: `${candidateNames[pinned]} is pinned${own ? `; its backtest: ${describe(own)}` : ''}${best && best.model !== pinned ? `; the best was ${describe(best)}` : ''}`,
    };
  }
  if (!best) return { chosen: 'bgnbd', why: 'No candidate could be judged by the backtest; BG/NBD scores by default' };
  const chosen = usable.find((r) => r.rocAuc.value >= best.rocAuc.value - aucTie)!;
  const others = usable.filter((r) => r !== chosen).map(describe);
  return {
    chosen: chosen.model,
    why:
      `${describe(chosen)} ranked the held-out buyers best` +
      (chosen !== best ? ` (within ${aucTie} of ${describe(best)}, and simpler)` : '') +
      (others.length ? `; the others: ${others.join(', ')}` : '') +
      results
        .filter((r) => r.excluded)
        .map((r) => `; ${r.excluded}`)
        .join(''),
  };
}

/** Last years' purchase rate in the same calendar window against their yearly average. */
export interface Season {
  /** Mean of the years' ratios; 1 is no seasonal effect. */
  factor: number;
  years: number[];
}

/**
 * How much busier (or quieter) the `days` days after `fromDay` were in earlier years than those years
 * on average: repeat purchases per day in the same calendar window against the 365 days centred on
 * it (so a growing store's trend cancels), over up to three earlier years whose centred year lies
 * wholly in the data before `fromDay`. Undefined without a full such year.
 */
export function seasonality(
  repeatDays: Map<number, number>,
  firstDay: number,
  fromDay: number,
  days: number,
): Season | undefined {
  const ratios: number[] = [];
  const years: number[] = [];
  for (let y = 1; y <= 3; y++) {
    const start = fromDay + 1 - 365 * y;
    const yearStart = start + Math.floor(days / 2) - 182;
    const yearEnd = yearStart + 364;
    if (yearStart < firstDay || yearEnd > fromDay) continue;
    let inWindow = 0;
    let inYear = 0;
    for (let d = yearStart; d <= yearEnd; d++) {
      const n = repeatDays.get(d) ?? 0;
      inYear += n;
      if (d >= start && d < start + days) inWindow += n;
    }
    if (inYear < 100) continue;
    ratios.push(inWindow / days / (inYear / 365));
    years.push(new Date(start * 86_400_000).getUTCFullYear());
  }
  if (!ratios.length) return undefined;
  return { factor: ratios.reduce((a, b) => a + b, 0) / ratios.length, years };
}
