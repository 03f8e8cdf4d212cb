import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  date,
  doublePrecision,
  index,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const money = (name: string) => numeric(name, { precision: 14, scale: 2 });

/** One run of the models: as-of date, fitted parameters, fit checks, counts and warnings. */
export const analysisRuns = pgTable('analysis_runs', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  asOf: date('as_of').notNull(),
  modelVersion: text('model_version').notNull(),
  activityModel: text('activity_model').notNull(),
  status: text('status').notNull(),
  startedAt: instant('started_at').notNull().defaultNow(),
  finishedAt: instant('finished_at'),
  customers: bigint('customers', { mode: 'number' }).notNull().default(0),
  repeatCustomers: bigint('repeat_customers', { mode: 'number' }).notNull().default(0),
  /** Fitted parameters per model and time unit, with log-likelihood and convergence. */
  models: jsonb('models').$type<Record<string, unknown>>().notNull().default({}),
  /** Charts computed with the run: fit checks, stages over time, conversion, cohorts, value distribution. */
  report: jsonb('report').$type<Record<string, unknown>>().notNull().default({}),
  /** Whether the run set lifecycle stages and raised alerts (only a run as of the latest data does). */
  current: boolean('current').notNull().default(false),
  warnings: text('warnings').array().notNull().default([]),
  error: text('error'),
});

/** Scores per customer per run: the history of scores is kept. */
export const scores = pgTable(
  'scores',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    asOf: date('as_of').notNull(),
    modelVersion: text('model_version').notNull(),
    frequency: bigint('frequency', { mode: 'number' }).notNull(),
    recencyDays: bigint('recency_days', { mode: 'number' }).notNull(),
    ageDays: bigint('age_days', { mode: 'number' }).notNull(),
    pAlive: doublePrecision('p_alive').notNull(),
    pAliveChange: doublePrecision('p_alive_change'),
    churnProbability: doublePrecision('churn_probability').notNull(),
    expected30: doublePrecision('expected_30').notNull(),
    expected90: doublePrecision('expected_90').notNull(),
    expected365: doublePrecision('expected_365').notNull(),
    /** Probability of at least one purchase in the next 30, 90 and 365 days. */
    pBuy30: doublePrecision('p_buy_30'),
    pBuy90: doublePrecision('p_buy_90'),
    pBuy365: doublePrecision('p_buy_365'),
    /** The candidate that scored (bgnbd, mbgnbd, pareto, supervised). */
    model: text('model'),
    nextOrderDate: date('next_order_date'),
    expectedOrderValue: money('expected_order_value'),
    predictedValue365: money('predicted_value_365'),
    historicValue: money('historic_value').notNull(),
    averageDaysBetween: doublePrecision('average_days_between'),
    recencyScore: smallint('recency_score').notNull(),
    frequencyScore: smallint('frequency_score').notNull(),
    monetaryScore: smallint('monetary_score').notNull(),
    /** What is lost if the customer is gone: expected spend over 365 days were they surely still active. */
    valueAtStake: money('value_at_stake'),
    stage: text('stage').notNull(),
    /** The satisfaction index (0-100) as of the run; null without an experience in the window. */
    satisfaction: doublePrecision('satisfaction'),
    reasons: text('reasons').array().notNull(),
    /** Hazard-model drivers that raise this customer's risk of leaving: experience, hazard ratio, interval. */
    drivers: jsonb('drivers').$type<Record<string, unknown>[]>(),
    /** Estimated increase in the chance of buying within the outcome window if treated, and where it came from. */
    uplift: doublePrecision('uplift'),
    upliftSource: text('uplift_source'),
    /** uplift x value at stake - the cost of the action: what the worklist ranks by. */
    incrementalValue: doublePrecision('incremental_value'),
    /** Drawn into the worklist's random holdout for this analysis (at risk and lapsed only). */
    worklistHoldout: boolean('worklist_holdout'),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.customerId] }),
    index('scores_customer_idx').on(t.customerId, t.runId),
    // The at-risk list, by value at stake. Partial: indexing every score by stage and value cost a run
    // of a million customers more time than writing the scores themselves.
    index('scores_at_risk_idx').on(t.runId, t.valueAtStake.desc().nullsLast()).where(sql`${t.stage} = 'at_risk'`),
  ],
);

/** Customers whose probability of being active crossed a threshold between two runs. */
export const activityAlerts = pgTable(
  'activity_alerts',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    at: instant('at').notNull(),
    threshold: doublePrecision('threshold').notNull(),
    fromPAlive: doublePrecision('from_p_alive').notNull(),
    toPAlive: doublePrecision('to_p_alive').notNull(),
    valueAtStake: money('value_at_stake'),
    reason: text('reason').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    index('activity_alerts_id_idx').on(t.id),
    index('activity_alerts_run_idx').on(t.runId),
  ],
);

/** Per run, each running subscriber's chance of cancelling (the churn model) and why. */
export const churnScores = pgTable(
  'churn_scores',
  {
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    /** The subscription scored: the customer's latest. */
    subscriptionId: text('subscription_id').notNull(),
    probability: doublePrecision('probability').notNull(),
    /** The shifted-beta-geometric chance of cancelling at the next renewal, from tenure alone. */
    nextRenewalChurn: doublePrecision('next_renewal_churn'),
    factors: text('factors').array().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.customerId] }),
    index('churn_scores_customer_idx').on(t.customerId, t.runId),
  ],
);
