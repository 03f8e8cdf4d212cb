// Contractual retention in an analysis run, and the cross-validation a person runs on their own
// folds: the subscribers read once, the sBG by cohort, the churn classifier with its check.
import type { Db } from '../db/connection.ts';
import { AppError } from '../shared/errors.ts';
import { readSubscribers, signalKinds, writeChurnScores } from './analytics.repository.ts';

// The read the customer's scores answer with.
export { customerChurnScore } from './analytics.repository.ts';
import type { SubscriptionAnalysis } from './analytics.ts';
import { churnModel, retention, type SignalCodes, type Subscriber } from './churn.ts';

const codes = Object.fromEntries(signalKinds.map((kind, code) => [kind, code])) as SignalCodes;
const dayNumber = (iso: string) => Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
const isoDay = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 10);

/** How many running subscribers a run lists as most at risk. */
const atRiskListed = 100;

/** The subscription block of a run (and its churn scores, written); null when the store has no subscription started by as-of. */
export async function analyseSubscriptions(
  db: Db,
  o: { runId: number; asOf: string; timeZone: string; holdoutDays: number; warnings: string[] },
): Promise<SubscriptionAnalysis | null> {
  const subscribers = await readSubscribers(db, o);
  if (subscribers.length === 0) return null;
  const asOf = dayNumber(o.asOf);
  const kept = retention(subscribers, asOf, { holdoutDays: o.holdoutDays });
  const bt = kept?.backtest;
  if (bt && (bt.actual < bt.low || bt.actual > bt.high))
    o.warnings.push(
      `Subscriptions: the retention model fitted as of ${bt.cut} expected ${Math.round(bt.predicted)} cancellations by ${o.asOf} ` +
        `where ${bt.actual} happened: its projections may be off by as much`,
    );
  const model = churnModel(subscribers, asOf, codes, { retention: kept });
  if ('reason' in model) {
    return { retention: kept, churnModel: null, churnModelSkipped: model.reason, atRisk: [] };
  }
  await writeChurnScores(db, o.runId, model.scores);
  const byId = new Map(subscribers.map((s) => [s.customerId, s]));
  const atRisk = [...model.scores]
    .sort((a, b) => b.probability - a.probability || a.customerId - b.customerId)
    .slice(0, atRiskListed)
    .map((score) => {
      const s = byId.get(score.customerId)!;
      return {
        customerId: s.customerId,
        externalId: s.externalId,
        name: s.name,
        plan: s.plan,
        startedAt: isoDay(s.startDay),
        probability: score.probability,
        nextRenewalChurn: score.nextRenewalChurn,
        factors: score.factors,
      };
    });
  const auc = model.report.metrics.rocAuc;
  if (auc.low < 0.6)
    o.warnings.push(
      `Subscriptions: the churn model told cancelled from running subscribers with a cross-validated ROC AUC of ${auc.value.toFixed(3)} ` +
        `(95 % interval ${auc.low.toFixed(3)}-${auc.high.toFixed(3)}): treat its chances with care`,
    );
  return { retention: kept, churnModel: model.report, churnModelSkipped: null, atRisk };
}

/** One subscriber's out-of-fold chance of having cancelled, on the folds a person gave. */
export interface FoldPrediction {
  externalId: string;
  fold: number;
  churnProbability: number;
}

/**
 * Cross-validates the churn classifier on the folds a person gives (customer external id -> fold),
 * so Kept and their own model are compared on the same split. Subscribers the folds do not name are
 * left out of training and testing; names that match no subscriber are an error, listed.
 */
export async function crossValidateChurn(
  db: Db,
  o: { asOf: string; timeZone: string; folds: Map<string, number> },
): Promise<{ predictions: FoldPrediction[]; subscribers: number; unknown: string[] }> {
  const all = await readSubscribers(db, o);
  const subscribers: Subscriber[] = all.filter((s) => s.externalId !== null && o.folds.has(s.externalId));
  const known = new Set(subscribers.map((s) => s.externalId));
  const unknown = [...o.folds.keys()].filter((id) => !known.has(id));
  if (subscribers.length === 0)
    throw new AppError(
      'bad_request',
      `none of the ${o.folds.size} customers in the folds file has a subscription started by ${o.asOf}`,
    );
  const folds = Int32Array.from(subscribers, (s) => o.folds.get(s.externalId!)!);
  const model = churnModel(subscribers, dayNumber(o.asOf), codes, { folds });
  if ('reason' in model) throw new AppError('bad_request', model.reason);
  return {
    predictions: subscribers.map((s, row) => ({
      externalId: s.externalId!,
      fold: folds[row],
      churnProbability: model.outOfFold[row],
    })),
    subscribers: all.length,
    unknown,
  };
}
