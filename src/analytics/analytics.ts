// The analytics API's contract: what GET /analytics, the at-risk list, the alerts and a customer's
// scores answer, and the backtest every run stores. The routes declare these; the UI imports their
// types.
import { z } from '@hono/zod-openapi';
import { subscriptionPeriods } from '../subscriptions/subscription.ts';

const money = z.string().nullable();

/** A figure with its 95 % bootstrap interval. */
export const intervalSchema = z.object({ value: z.number(), low: z.number(), high: z.number() });
export type Interval = z.infer<typeof intervalSchema>;

export const candidateModels = ['bgnbd', 'mbgnbd', 'pareto', 'supervised'] as const;

export const candidateResultSchema = z.object({
  model: z.enum(candidateModels),
  name: z.string(),
  /** "Buys at least once in the window", ranked by the chance the model gave. */
  rocAuc: intervalSchema,
  prAuc: intervalSchema,
  brier: intervalSchema,
  predictedPurchases: z.number(),
  /** Predicted total over actual, minus 1 (-0.25: 25 % under). */
  totalError: z.number(),
  /** The same with the seasonal adjustment the scores get (when last years' window differed by 10 % or more). */
  seasonallyAdjusted: z.object({ predictedPurchases: z.number(), totalError: z.number() }).optional(),
  /** Why the candidate may not score (a boundary fit), if so. */
  excluded: z.string().optional(),
});
export type CandidateResult = z.infer<typeof candidateResultSchema>;

/** Equal-count bins by forecast: the mean forecast beside the observed rate. */
const calibrationBinSchema = z.object({
  from: z.number(),
  to: z.number(),
  customers: z.number(),
  predicted: z.number(),
  observed: z.number(),
});

export const backtestSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    days: z.number(),
    customers: z.number(),
    buyers: z.number(),
    actualPurchases: z.number(),
    candidates: z.array(candidateResultSchema),
    /** Recency alone (fewest days since the last purchase first), the yardstick every model must beat. */
    recencyAuc: z.number(),
    /** Last years' purchase rate in the held-out calendar window against their average, when known. */
    season: z.object({ factor: z.number(), years: z.array(z.number()) }).nullable(),
    chosen: z.enum(candidateModels),
    why: z.string(),
    calibration: z.array(calibrationBinSchema),
    gains: z.array(z.object({ share: z.number(), captured: z.number() })),
    frequencyBins: z.array(
      z.object({ frequency: z.string(), customers: z.number(), actual: z.number(), predicted: z.number() }),
    ),
  })
  .openapi('Backtest');
export type Backtest = z.infer<typeof backtestSchema>;

const curve = z.object({
  name: z.string(),
  customers: z.number(),
  converted: z.number(),
  curve: z.array(z.object({ day: z.number(), converted: z.number() })),
});

/** The charts a run computes (empty before the models could be fitted). */
export const analysisReportSchema = z.object({
  start: z.string(),
  asOfWeek: z.number(),
  tracking: z.array(z.object({ week: z.number(), actual: z.number(), bgnbd: z.number(), paretoNbd: z.number() })),
  frequencyBins: z.array(
    z.object({
      frequency: z.string(),
      customers: z.number(),
      actual: z.number(),
      bgnbd: z.number(),
      paretoNbd: z.number(),
    }),
  ),
  valueHistogram: z.array(z.object({ from: z.number(), to: z.number(), customers: z.number() })),
  conversionByMonth: z.array(curve),
  conversionByChannel: z.array(curve),
  cohorts: z.array(z.object({ cohort: z.string(), size: z.number(), offset: z.number(), active: z.number() })),
  stagesByMonth: z.array(z.object({ month: z.string(), stage: z.string(), customers: z.number() })),
  satisfiedByMonth: z.array(z.unknown()),
  trueCustomerShare: z.number(),
});
export type AnalysisReport = z.infer<typeof analysisReportSchema>;

const fitted = z.record(z.string(), z.union([z.number(), z.boolean()]));
/** A shifted-beta-geometric fit: each subscriber's chance of cancelling at a renewal is Beta(alpha, beta). */
export const sbgFitSchema = z.object({
  alpha: z.number(),
  beta: z.number(),
  logLikelihood: z.number(),
  converged: z.boolean(),
  subscribers: z.number(),
  cancellations: z.number(),
});
export type SbgFit = z.infer<typeof sbgFitSchema>;

/** Retention by start cohort for the most common billing period, projected with the sBG. */
export const retentionReportSchema = z.object({
  period: z.enum(subscriptionPeriods),
  subscribers: z.number(),
  active: z.number(),
  /** Subscribers of the other billing periods, left out of the curves. */
  otherPeriods: z.number(),
  fit: sbgFitSchema.nullable(),
  /** Share still subscribed after 0, 1, 2 ... renewals: observed (Kaplan-Meier over all cohorts) and projected. */
  observed: z.array(z.number()),
  projected: z.array(z.number()),
  /** Projected retention rate at renewals 1, 2, ...: S(t) / S(t - 1). */
  retentionRates: z.array(z.number()),
  cohorts: z.array(
    z.object({
      /** The cohort's first day (its start month, quarter or year). */
      start: z.string(),
      subscribers: z.number(),
      /** Share still subscribed after 0, 1, 2 ... renewals, as far as every member was seen. */
      observed: z.array(z.number()),
      fit: sbgFitSchema.nullable(),
      projected: z.array(z.number()),
    }),
  ),
  /** The sBG as fitted `cut` days before as-of, projecting the cancellations up to as-of against what happened. */
  backtest: z
    .object({
      cut: z.string(),
      subscribers: z.number(),
      predicted: z.number(),
      actual: z.number(),
      low: z.number(),
      high: z.number(),
    })
    .nullable(),
});
export type RetentionReport = z.infer<typeof retentionReportSchema>;

/** The churn classifier's cross-validated quality and what it learnt. */
export const churnModelReportSchema = z.object({
  subscribers: z.number(),
  cancelled: z.number(),
  folds: z.number(),
  /** Out-of-fold figures with 95 % bootstrap intervals; baseRate is the share cancelled. */
  metrics: z.object({
    rocAuc: intervalSchema,
    prAuc: intervalSchema,
    brier: intervalSchema,
    logLoss: z.number(),
    baseRate: z.number(),
  }),
  foldRocAuc: z.array(z.number()),
  calibration: z.array(calibrationBinSchema),
  effects: z.array(z.object({ feature: z.string(), spread: z.number(), lowest: z.string(), highest: z.string() })),
  /** Custom attributes left out, with why (e.g. one that records the outcome itself). */
  dropped: z.array(z.string()),
});
export type ChurnModelReport = z.infer<typeof churnModelReportSchema>;

/** A running subscriber the churn model worries about most. */
export const subscriberAtRiskSchema = z.object({
  customerId: z.number(),
  externalId: z.string().nullable(),
  name: z.string().nullable(),
  plan: z.string().nullable(),
  startedAt: z.string(),
  probability: z.number(),
  nextRenewalChurn: z.number().nullable(),
  factors: z.array(z.string()),
});

/** What a run found about subscriptions; absent when the store has none. */
export const subscriptionAnalysisSchema = z
  .object({
    retention: retentionReportSchema.nullable(),
    churnModel: churnModelReportSchema.nullable(),
    /** Why there is no churn model, if there is none. */
    churnModelSkipped: z.string().nullable(),
    /** The running subscribers with the highest chance of cancelling. */
    atRisk: z.array(subscriberAtRiskSchema),
  })
  .openapi('SubscriptionAnalysis');
export type SubscriptionAnalysis = z.infer<typeof subscriptionAnalysisSchema>;

/** The fitted parameters (per time unit), the choice and the backtest. */
export const analysisModelsSchema = z.object({
  chosen: z.enum(candidateModels).optional(),
  why: z.string().optional(),
  day: z.record(z.string(), fitted.nullish()).optional(),
  week: z.record(z.string(), fitted.nullish()).optional(),
  gammaGamma: fitted.nullish(),
  supervised: z.record(z.string(), z.unknown()).nullish(),
  backtest: backtestSchema.nullish(),
  /** Contractual retention: the sBG by cohort and the churn classifier, when the store has subscriptions. */
  subscriptions: subscriptionAnalysisSchema.nullish(),
  satisfaction: z.unknown().optional(),
});
export type AnalysisModels = z.infer<typeof analysisModelsSchema>;

export const analysisRunSchema = z
  .object({
    id: z.number(),
    asOf: z.string(),
    modelVersion: z.string(),
    /** The candidate that scored. */
    activityModel: z.string(),
    status: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    customers: z.number(),
    repeatCustomers: z.number(),
    /** Whether the run set lifecycle stages and raised alerts (only a run as of the latest data does). */
    current: z.boolean(),
    warnings: z.array(z.string()),
    models: analysisModelsSchema,
    /** Empty (`{}`) when nothing could be fitted. */
    report: z.union([analysisReportSchema, z.object({})]),
  })
  .openapi('AnalysisRun');
export type AnalysisRun = z.infer<typeof analysisRunSchema>;

export const analyticsPageSchema = z.object({
  run: analysisRunSchema.nullable(),
  stages: z.array(z.object({ stage: z.string(), customers: z.number() })),
});
export type AnalyticsPage = z.infer<typeof analyticsPageSchema>;

export const atRiskCustomerSchema = z.object({
  id: z.number(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  stage: z.string(),
  pAlive: z.number(),
  pAliveChange: z.number().nullable(),
  valueAtStake: money,
  predictedValue365: money,
  nextOrderDate: z.string().nullable(),
  reasons: z.array(z.string()),
});
export type AtRiskCustomer = z.infer<typeof atRiskCustomerSchema>;

export const alertSchema = z.object({
  id: z.number(),
  customerId: z.number(),
  name: z.string().nullable(),
  at: z.string(),
  fromPAlive: z.number(),
  toPAlive: z.number(),
  valueAtStake: money,
  reason: z.string(),
});
export type Alert = z.infer<typeof alertSchema>;

/** One customer's scores in one run. */
export const customerScoreSchema = z.object({
  runId: z.number(),
  asOf: z.string(),
  current: z.boolean(),
  model: z.string().nullable(),
  stage: z.string(),
  pAlive: z.number(),
  pAliveChange: z.number().nullable(),
  churnProbability: z.number(),
  pBuy30: z.number().nullable(),
  pBuy90: z.number().nullable(),
  pBuy365: z.number().nullable(),
  expected30: z.number(),
  expected90: z.number(),
  expected365: z.number(),
  nextOrderDate: z.string().nullable(),
  expectedOrderValue: money,
  predictedValue365: money,
  valueAtStake: money,
  historicValue: z.string(),
  averageDaysBetween: z.number().nullable(),
  recencyScore: z.number(),
  frequencyScore: z.number(),
  monetaryScore: z.number(),
  reasons: z.array(z.string()),
});
export type CustomerScore = z.infer<typeof customerScoreSchema>;

/** A running subscriber's chance of cancelling in the latest analysis that scored them, and why. */
export const subscriberScoreSchema = z
  .object({
    runId: z.number(),
    asOf: z.string(),
    subscriptionId: z.string(),
    /** The churn model's probability: how much the subscriber looks like those who cancelled. */
    probability: z.number(),
    /** The shifted-beta-geometric chance of cancelling at the next renewal, from tenure alone. */
    nextRenewalChurn: z.number().nullable(),
    factors: z.array(z.string()),
  })
  .openapi('SubscriberScore');
export type SubscriberScore = z.infer<typeof subscriberScoreSchema>;
