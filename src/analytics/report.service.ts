// What `kept report model` and `kept export scores` read of the latest analysis.
import type { Db } from '../db/connection.ts';
import { AppError } from '../shared/errors.ts';
import { latestRun, scorePage } from './analytics.repository.ts';

/** The fitted parameters of the latest run in one time unit, as `kept report model --json` prints them. */
/** The latest analysis's subscription block: retention by cohort (sBG) and the churn classifier's cross-validation. */
export async function churnModelReport(db: Db) {
  const run = await latestRun(db);
  if (!run) throw new AppError('not_found', 'No analysis has run yet: run `kept analyze` first');
  const subscriptions = run.models.subscriptions;
  if (!subscriptions)
    throw new AppError(
      'not_found',
      `Analysis #${run.id} as of ${run.asOf} found no subscriptions: import them (kept import subscriptions) or send subscription events, then run kept analyze`,
    );
  return { runId: run.id, asOf: run.asOf, ...subscriptions };
}

/** The named parameters a fit has; one it lacks (sampleCustomers of an unsampled fit) is left out, not undefined. */
export function pickParameters(source: Record<string, number> | undefined | null, keys: string[]) {
  return source
    ? Object.fromEntries(keys.filter((k) => source[k] !== undefined && source[k] !== null).map((k) => [k, source[k]]))
    : null;
}

/** One fit's parameters as `kept report model` prints them: `r=0.243 alpha=4.41 ... sampled=false`. */
export function parametersInWords(parameters: Record<string, unknown> | null): string {
  return parameters
    ? Object.entries(parameters)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(6)) : v}`)
        .join(' ')
    : 'not fitted';
}

export async function modelReport(db: Db, timeUnit: 'day' | 'week') {
  const run = await latestRun(db);
  if (!run) throw new AppError('not_found', 'No analysis has run yet: run `kept analyze` first');
  const { why, supervised, backtest } = run.models;
  // The fitted parameters, read by name (numbers; the flags beside them are picked as they are).
  const models = run.models as unknown as {
    day?: Record<string, Record<string, number>>;
    week?: Record<string, Record<string, number>>;
    gammaGamma?: Record<string, number> | null;
  };
  const unit = models[timeUnit];
  const pick = pickParameters;
  return {
    runId: run.id,
    asOf: run.asOf,
    timeUnit,
    model: run.activityModel,
    modelVersion: run.modelVersion,
    customers: run.customers,
    repeatCustomers: run.repeatCustomers,
    why: why ?? null,
    bgnbd: pick(unit?.bgnbd, ['r', 'alpha', 'a', 'b', 'logLikelihood', 'converged', 'sampled', 'sampleCustomers']),
    mbgnbd: pick(unit?.mbgnbd, ['r', 'alpha', 'a', 'b', 'logLikelihood', 'converged', 'sampled', 'sampleCustomers']),
    paretoNbd: pick(unit?.paretoNbd, [
      'r',
      'alpha',
      's',
      'beta',
      'logLikelihood',
      'converged',
      'sampled',
      'sampleCustomers',
    ]),
    gammaGamma: pick(models.gammaGamma, ['p', 'q', 'gamma', 'logLikelihood', 'converged']),
    supervised: supervised ?? null,
    /** How well each candidate foretold the last held-out days, and the one chosen (docs/analytics.md). */
    backtest: backtest ?? null,
    warnings: run.warnings,
  };
}

export const scoreColumns = [
  'customer_id',
  'external_id',
  'email',
  'as_of',
  'model',
  'stage',
  'p_alive',
  'p_alive_change',
  'churn_probability',
  'p_buy_30',
  'p_buy_90',
  'p_buy_365',
  'expected_30',
  'expected_90',
  'expected_365',
  'next_order_date',
  'expected_order_value',
  'predicted_value_365',
  'value_at_stake',
  'historic_value',
  'purchase_days',
  'average_days_between',
  'recency_score',
  'frequency_score',
  'monetary_score',
  'satisfaction',
  'reasons',
] as const;

/** Every score of the latest run, one customer at a time in pages, for export. */
export async function* latestScores(db: Db): AsyncGenerator<Record<(typeof scoreColumns)[number], unknown>> {
  const run = await latestRun(db);
  if (!run) throw new AppError('not_found', 'No analysis has run yet: run `kept analyze` first');
  for (let after = 0; ; ) {
    const rows = await scorePage<Record<(typeof scoreColumns)[number], unknown>>(db, run.id as number, after, 5000);
    if (rows.length === 0) return;
    yield* rows;
    after = rows.at(-1)!.customer_id as number;
  }
}
