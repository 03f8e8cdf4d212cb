// An experiment run elsewhere, against its control arm: per treated arm and outcome (conversion,
// revenue per member, engagement) the difference with its 95 % interval, p-value, relative lift and
// the "too small" warning; per subgroup of a customer attribute the same, and Cochran's Q test of
// whether the subgroups' differences differ. Pure: the sums come from SQL.
import { z } from '@hono/zod-openapi';
import { campaignChannels, campaignKinds, controlArm } from './campaign.ts';
import { compareMeans, compareProportions, holdoutWarning } from './measurement.ts';

export const experimentOutcomes = ['conversion', 'revenue', 'engagement'] as const;
export type ExperimentOutcome = (typeof experimentOutcomes)[number];

/** One arm × subgroup's sums, as the repository aggregates them. */
export interface ArmSums {
  arm: string;
  group: string;
  n: number;
  converted: number;
  revenue: number;
  revenueSquares: number;
  engaged: number;
}

const resultSchema = z.object({
  outcome: z.enum(experimentOutcomes),
  treated: z.number(),
  control: z.number(),
  difference: z.number(),
  low: z.number(),
  high: z.number(),
  p: z.number(),
  relative: z.number().nullable(),
  relativeLow: z.number().nullable(),
  relativeHigh: z.number().nullable(),
  warning: z.string().nullable(),
});
export type OutcomeResult = z.infer<typeof resultSchema>;
const armSchema = z.object({ arm: z.string(), members: z.number(), outcomes: z.array(resultSchema) });
export const experimentReportSchema = z
  .object({
    campaign: z.object({ id: z.number(), name: z.string() }),
    days: z.number(),
    control: z.object({ arm: z.string(), members: z.number() }),
    /** Where each outcome comes from: the file's column, or what Kept saw after the send. */
    sources: z.record(z.string(), z.enum(['file', 'kept'])),
    arms: z.array(armSchema),
    by: z
      .object({
        attribute: z.string(),
        groups: z.array(z.object({ group: z.string(), members: z.number(), arms: z.array(armSchema) })),
        /** Whether an arm's difference on an outcome differs between the subgroups (Cochran's Q). */
        heterogeneity: z.array(
          z.object({
            arm: z.string(),
            outcome: z.enum(experimentOutcomes),
            q: z.number(),
            df: z.number(),
            p: z.number(),
          }),
        ),
      })
      .nullable(),
  })
  .openapi('ExperimentReport');
export type ExperimentReport = z.infer<typeof experimentReportSchema>;

// --- recorded by API: created, filled a page at a time, finished

/** At most this many members in one page of POST /campaigns/{id}/members. */
export const pageMembers = 10_000;

export const experimentBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    control: z
      .string()
      .trim()
      .min(1)
      .max(40)
      .default(controlArm)
      .openapi({ description: 'The holdout arm as the pages name it (any case); default control' }),
    kind: z.enum(campaignKinds).default('newsletter'),
    channel: z.enum(campaignChannels).default('email'),
    description: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: 'Where and how it ran; kept with the campaign' }),
  })
  .openapi('ExperimentBody');

// The values are checked after the shape, by the same code as a CSV import's cells, so that both
// doors answer a bad value in the same words.
export const memberPageBody = z
  .object({
    members: z
      .array(
        z.object({
          customer: z.object({ externalId: z.string().max(200).optional(), email: z.string().max(320).optional() }),
          arm: z.string().max(200).openapi({ description: 'The arm, or the control as named at creation' }),
          at: z.string().max(40).optional().openapi({ description: 'Send time, a date or date-time; default now' }),
          converted: z.boolean().nullable().optional(),
          revenue: z
            .union([z.number(), z.string().max(40)])
            .nullable()
            .optional()
            .openapi({ description: 'An amount like 12.50' }),
          engaged: z.boolean().nullable().optional(),
        }),
      )
      .min(1)
      .max(pageMembers),
  })
  .openapi('ExperimentMemberPage');
export type MemberPage = z.infer<typeof memberPageBody>;

export const experimentUploadSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    /** uploading: pages are taken, reports refuse; finished: reported, pages refused. */
    state: z.enum(['uploading', 'finished']),
    control: z.string(),
    members: z.number(),
  })
  .openapi('ExperimentUpload');
export const memberPageResultSchema = experimentUploadSchema
  .extend({
    added: z.number(),
    /** Members sent again exactly as before: nothing changed for them. */
    unchanged: z.number(),
  })
  .openapi('ExperimentPageResult');
export const experimentFinishedSchema = experimentUploadSchema
  .extend({ arms: z.record(z.string(), z.number()) })
  .openapi('ExperimentFinished');

/** Shown with the campaign while pages are still coming: it is not reported yet. */
export const uploadingReason =
  'members are being uploaded through the API; reported once POST …/members/done finishes it';

const words: Record<ExperimentOutcome, string> = {
  conversion: 'conversion',
  revenue: 'revenue per member',
  engagement: 'engagement',
};

/** Each treated arm against the control, on every outcome. */
export function compareExperiment(rows: ArmSums[], controlArm: string) {
  const control = rows.find((r) => r.arm === controlArm);
  const arms = rows.filter((r) => r.arm !== controlArm);
  return arms.map((t) => ({
    arm: t.arm,
    members: t.n,
    outcomes: control && control.n > 0 && t.n > 0 ? experimentOutcomes.map((o) => compareOutcome(t, control, o)) : [],
  }));
}

function compareOutcome(t: ArmSums, c: ArmSums, outcome: ExperimentOutcome): OutcomeResult {
  const comparison =
    outcome === 'revenue'
      ? compareMeans(
          { n: t.n, sum: t.revenue, squares: t.revenueSquares },
          { n: c.n, sum: c.revenue, squares: c.revenueSquares },
        )
      : compareProportions(
          { n: t.n, x: outcome === 'conversion' ? t.converted : t.engaged },
          { n: c.n, x: outcome === 'conversion' ? c.converted : c.engaged },
        );
  const { detectable: _, ...rest } = comparison;
  return {
    outcome,
    ...rest,
    warning: holdoutWarning(comparison, { treated: t.n, control: c.n }, words[outcome]),
  };
}

/**
 * Cochran's Q: the differences d_i of k subgroups, each weighted by 1/var_i (var from its 95 %
 * interval), against their weighted mean; chi-square with k − 1 degrees of freedom when the
 * subgroups share one effect.
 */
export function cochranQ(effects: { difference: number; low: number; high: number }[]): {
  q: number;
  df: number;
  p: number;
} {
  const usable = effects
    .map((e) => ({ d: e.difference, v: ((e.high - e.low) / (2 * 1.959964)) ** 2 }))
    .filter((e) => e.v > 0 && Number.isFinite(e.v));
  const df = usable.length - 1;
  if (df < 1) return { q: 0, df: Math.max(0, df), p: 1 };
  const w = usable.map((e) => 1 / e.v);
  const mean = usable.reduce((s, e, i) => s + w[i] * e.d, 0) / w.reduce((a, b) => a + b, 0);
  const q = usable.reduce((s, e, i) => s + w[i] * (e.d - mean) ** 2, 0);
  return { q, df, p: chiSquareSurvival(q, df) };
}

/** P(X ≥ x) for X chi-square with `df` degrees of freedom: the regularised upper incomplete gamma Q(df/2, x/2). */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  return upperGamma(df / 2, x / 2);
}

function logGamma(z: number): number {
  // Lanczos (g = 7, n = 9), accurate to about 15 digits for z > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  const x = z - 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x): the series below a + 1, the continued fraction above (Numerical Recipes). */
function upperGamma(a: number, x: number): number {
  const front = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - sum * Math.exp(front));
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(front) * h);
}

/** A yes/no cell of the file: 1/0, true/false, yes/no, y/n; undefined when it is none of them. */
export function yesNo(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'y'].includes(v)) return true;
  if (['0', 'false', 'no', 'n'].includes(v)) return false;
  return undefined;
}
