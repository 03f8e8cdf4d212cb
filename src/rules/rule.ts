// Rules a person approves: the outcome tables distilled into a few readable sentences, each with
// its evidence ("trial user + late delivery, no follow-up within 2 days: 38 % buy again; followed
// up: 61 %, n = 412, +23 points [15, 31]"). An analysis proposes them and refreshes the evidence of
// every rule it finds again; a person approves, edits or retires; only approved rules drive the worklist.
import { z } from '@hono/zod-openapi';
import type { OutcomeCell } from '../analytics/outcomes.ts';

export const ruleStatuses = ['proposed', 'approved', 'retired'] as const;
export type RuleStatus = (typeof ruleStatuses)[number];
/** What a rule asks for: a call, an apology with a replacement, a small gift, an offer. */
export const ruleActions = ['call', 'apology_replacement', 'gift', 'offer'] as const;
export type RuleAction = (typeof ruleActions)[number];

export interface CustomerType {
  stage: string | null;
  valueBand: string | null;
  channel: string | null;
}

export interface RuleEvidence {
  runId: number;
  asOf: string;
  /** follow_up: followed up against not; harm: with the experience against the same type without it. */
  comparison: 'follow_up' | 'harm' | 'gesture';
  n: number;
  /** Buy-again rate of the group the rule is about (not followed up, or with the experience), and of the one it is set against. */
  rate: number;
  against: number;
  againstN: number;
  difference: number;
  low: number;
  high: number;
  days: number;
}

export interface ProposedRule {
  key: string;
  customerType: CustomerType;
  experience: string;
  action: RuleAction;
  text: string;
  evidence: RuleEvidence;
}

/** Experiences that are about the goods themselves: put right with an apology and a replacement. */
const physical = new Set(['wrong_or_damaged_item', 'wrong_item', 'damaged', 'missing', 'defective']);
const typeWords = (t: CustomerType) =>
  [
    t.stage === 'trial'
      ? 'trial user'
      : t.stage === 'customer'
        ? 'repeat customer'
        : t.stage
          ? t.stage
          : 'any customer',
    t.valueBand && t.valueBand !== '*' ? `(${t.valueBand} value)` : '',
    t.channel && t.channel !== '*' ? `from ${t.channel}` : '',
  ]
    .filter(Boolean)
    .join(' ');
const pct = (p: number) => `${Math.round(p * 100)} %`;
const points = (d: number) => `${d >= 0 ? '+' : '−'}${Math.abs(Math.round(d * 100))}`;
const any = (v: string) => (v === '*' ? null : v);

/**
 * Rules worth a person's look, from the cells of one analysis's outcome tables (per stage and value
 * band, any channel, first and repeated together): where following up a problem made a difference
 * whose 95 % interval excludes none (both groups at least `minCell`), else where a problem left the
 * type clearly less likely to buy again than the same type without it, and where a gesture clearly
 * helped. At most `limit`, the strongest evidence (difference over its standard error) first.
 */
export function distilRules(
  cells: OutcomeCell[],
  o: { runId: number; asOf: string; days: number; followUpDays: number; minCell: number; limit: number },
): ProposedRule[] {
  const out: (ProposedRule & { strength: number })[] = [];
  for (const c of cells) {
    if (c.occurrence !== 'all' || c.followedUp !== 'all' || c.channel !== '*' || c.stage === '*') continue;
    const type: CustomerType = { stage: any(c.stage), valueBand: any(c.valueBand), channel: null };
    const label = c.kind.replaceAll('_', ' ');
    const base = { customerType: type, experience: c.kind };
    const strength = (d: { difference: number; low: number; high: number }) =>
      Math.abs(d.difference) / Math.max(1e-9, (d.high - d.low) / 3.92);
    const f = c.followUpEffect;
    if (f && f.yes.n >= o.minCell && f.no.n >= o.minCell && f.low > 0) {
      const evidence: RuleEvidence = {
        runId: o.runId,
        asOf: o.asOf,
        comparison: 'follow_up',
        n: f.no.n,
        rate: f.no.rate,
        against: f.yes.rate,
        againstN: f.yes.n,
        difference: f.difference,
        low: f.low,
        high: f.high,
        days: o.days,
      };
      out.push({
        ...base,
        key: `follow_up:${c.stage}|${c.valueBand}|${c.kind}`,
        action: physical.has(c.kind) ? 'apology_replacement' : 'call',
        text: `${typeWords(type)} + ${label}, no follow-up within ${o.followUpDays} days: ${pct(f.no.rate)} buy again within ${o.days} days; followed up: ${pct(f.yes.rate)}, n = ${f.yes.n + f.no.n}, ${points(f.difference)} points [${points(f.low)}, ${points(f.high)}]`,
        evidence,
        strength: strength(f),
      });
      continue;
    }
    const d = c.difference;
    if (!c.baseline || c.n < o.minCell || c.baseline.n < o.minCell) continue;
    const harmful = c.valence === 'problem' && d.high < 0;
    const helpful = c.valence === 'gesture' && d.low > 0;
    if (!harmful && !helpful) continue;
    const evidence: RuleEvidence = {
      runId: o.runId,
      asOf: o.asOf,
      comparison: harmful ? 'harm' : 'gesture',
      n: c.n,
      rate: c.rate,
      against: c.baseline.rate,
      againstN: c.baseline.n,
      difference: d.difference,
      low: d.low,
      high: d.high,
      days: o.days,
    };
    out.push({
      ...base,
      key: `${harmful ? 'harm' : 'gesture'}:${c.stage}|${c.valueBand}|${c.kind}`,
      action: harmful
        ? physical.has(c.kind)
          ? 'apology_replacement'
          : 'call'
        : c.kind === 'offer_received'
          ? 'offer'
          : 'gift',
      text: harmful
        ? `${typeWords(type)} + ${label}: ${pct(c.rate)} buy again within ${o.days} days against ${pct(c.baseline.rate)} of the same type without it, n = ${c.n}, ${points(d.difference)} points [${points(d.low)}, ${points(d.high)}]: reach out soon after it`
        : `${typeWords(type)} + ${label}: ${pct(c.rate)} buy again within ${o.days} days against ${pct(c.baseline.rate)} without, n = ${c.n}, ${points(d.difference)} points [${points(d.low)}, ${points(d.high)}] (observed, not randomised)`,
      evidence,
      strength: strength(d),
    });
  }
  return out
    .sort((a, b) => b.strength - a.strength)
    .slice(0, o.limit)
    .map(({ strength: _, ...rule }) => rule);
}

/** Whether a rule's customer type covers a customer of this stage (trial or customer) and value band. */
export const ruleFits = (t: CustomerType, stage: string, valueBand: string, channel: string | null) =>
  (t.stage === null || t.stage === stage) &&
  (t.valueBand === null || t.valueBand === valueBand) &&
  (t.channel === null || t.channel === channel);

// --- what the API answers and takes

const evidenceSchema = z.object({
  runId: z.number(),
  asOf: z.string(),
  comparison: z.enum(['follow_up', 'harm', 'gesture']),
  n: z.number(),
  rate: z.number(),
  against: z.number(),
  againstN: z.number(),
  difference: z.number(),
  low: z.number(),
  high: z.number(),
  days: z.number(),
});

export const ruleSchema = z
  .object({
    id: z.number(),
    key: z.string(),
    status: z.enum(ruleStatuses),
    customerType: z.object({
      stage: z.string().nullable(),
      valueBand: z.string().nullable(),
      channel: z.string().nullable(),
    }),
    experience: z.string(),
    action: z.enum(ruleActions),
    text: z
      .string()
      .openapi({ description: 'The rule in words: as a person edited it, else as the analysis wrote it' }),
    proposedText: z.string(),
    evidence: evidenceSchema.openapi({ description: 'As of the latest analysis that found it' }),
    history: z
      .array(evidenceSchema)
      .openapi({ description: 'The evidence of every analysis that found it, oldest first' }),
    outcomes: z.object({ decisions: z.number(), bought: z.number(), boughtShare: z.number().nullable() }).openapi({
      description:
        'Worklist decisions this rule suggested, decided at least the outcome window ago, and how many bought after',
    }),
    stale: z.boolean().openapi({ description: 'The latest analysis no longer found this evidence' }),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    decisionReason: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi('RetentionRule');
export type RetentionRule = z.infer<typeof ruleSchema>;

export const ruleChangeBody = z
  .object({
    status: z.enum(ruleStatuses).optional(),
    text: z.string().trim().min(1).max(1000).optional().openapi({ description: 'The rule in your words' }),
    action: z.enum(ruleActions).optional(),
    reason: z.string().trim().max(1000).optional().openapi({ description: 'Why: required to retire a rule' }),
  })
  .openapi('RetentionRuleChange');
