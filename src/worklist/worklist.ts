// What the worklist suggests for a customer, and why: pure rules over the customer's scores and
// recent experiences. The agent makes the final call.
import { z } from '@hono/zod-openapi';

export const actions = ['call', 'apology_replacement', 'gift', 'offer', 'nothing'] as const;
export type Action = (typeof actions)[number];
export const decisions = ['accepted', 'changed', 'rejected'] as const;

/** An approved rule that fits the customer (rules/): its action and its evidence in words. */
export interface AppliedRule {
  id: number;
  action: 'call' | 'apology_replacement' | 'gift' | 'offer';
  text: string;
  experience: string;
}

/** What the worklist knows about a customer when it suggests. */
export interface WorklistFacts {
  stage: string;
  pAlive: number;
  /** Chance of an order in the next 90 days anyway. */
  pBuy90: number | null;
  valueAtStake: number;
  expectedOrderValue: number;
  averageDaysBetween: number | null;
  daysSinceOrder: number;
  /** moved, undeliverable (deceased and do-not-contact never reach the worklist). */
  flags: string[];
  /** The oldest open ticket, if any. */
  openTicket: { id: string; category: string | null; openedDaysAgo: number } | null;
  /** The latest bad experience in the last 90 days that nobody followed up. */
  badExperience: { kind: string; orderId: string | null; daysAgo: number } | null;
  /** The latest low survey answer or upset note in the last 90 days. */
  unhappy: { what: string; daysAgo: number } | null;
  /** Their latest exit-survey answer, if they gave one. */
  exitAnswer: { answer: string; daysAgo: number } | null;
  /** The latest problem of any kind in the last 365 days, followed up or not (a complaint, a late delivery). */
  problem: { what: string; daysAgo: number } | null;
  /** The approved rule that fits them, if any. */
  rule: AppliedRule | null;
  /** The analysis's estimate of how much a personal action raises their chance of buying, and from what. */
  uplift: number | null;
  upliftSource: string | null;
  /** uplift x value at stake - the cost of a call, as the analysis ranked them. */
  incrementalValue: number | null;
}

export const suggestionSchema = z
  .object({
    action: z.enum(actions),
    giftValue: z.number().nullable(),
    reason: z.string(),
    ruleId: z.number().nullable().openapi({ description: 'The approved rule behind the suggestion, if one applied' }),
  })
  .openapi('Suggestion');
export type Suggestion = z.infer<typeof suggestionSchema>;

const physical = new Set(['wrong_item', 'damaged', 'missing', 'defective', 'wrong_or_damaged_item']);
const money = (v: number) => (Math.round(v * 100) / 100).toFixed(2);
const days = (n: number) => (n === 1 ? '1 day' : `${Math.round(n)} days`);
const words = (kind: string) => kind.replace(/_/g, ' ');

/** A small unexpected gift: a tenth of an order, at least 5, never over the agent's allowance. */
export const giftFor = (expectedOrderValue: number, allowance: number) =>
  Math.min(allowance, Math.max(5, Math.round(expectedOrderValue * 0.1)));

/** The uplift in words: how much it moves their chance of buying, and where the figure comes from. */
function upliftWords(f: WorklistFacts): string {
  if (f.uplift === null) return '';
  const from =
    f.upliftSource === 'model'
      ? "from the uplift model learnt on Kept's holdouts"
      : f.upliftSource === 'holdouts'
        ? "from the holdouts' pooled effect, on those still reachable who would not buy anyway"
        : 'assumed until a holdout measures it, on those still reachable who would not buy anyway';
  return `a personal action raises their chance of buying by about ${Math.round(f.uplift * 100)} points (${from})`;
}

/**
 * The suggestion for one customer: put right what went wrong first (an open ticket, a problem nobody
 * followed up, an unhappy answer, an exit answer), then what an approved rule says for someone like
 * them, then a gesture where the expected incremental value pays for it. Never a gift or an offer to
 * a moved or undeliverable address; a gesture to someone who had a problem names it.
 */
export function suggest(f: WorklistFacts, allowance: number): Suggestion {
  const habit =
    f.averageDaysBetween === null ? 'bought once' : `usually orders every ${Math.round(f.averageDaysBetween)} days`;
  const context = `${habit}; ${days(f.daysSinceOrder)} since the last order; probability still active ${f.pAlive.toFixed(2)}`;
  const plain = (action: Action, reason: string, rule: AppliedRule | null = null): Suggestion => ({
    action,
    giftValue: null,
    reason: `${reason}; ${context}`,
    ruleId: rule?.id ?? null,
  });
  const ruleFor = (kind: string | undefined) => (f.rule && kind === f.rule.experience ? f.rule : null);
  const evidence = (rule: AppliedRule | null) => (rule ? ` (approved rule: ${rule.text})` : '');
  if (f.openTicket) {
    return plain(
      'call',
      `ticket ${f.openTicket.id}${f.openTicket.category ? ` (${words(f.openTicket.category)})` : ''} open for ${days(f.openTicket.openedDaysAgo)}: call and resolve it`,
    );
  }
  if (f.badExperience) {
    const rule = ruleFor(f.badExperience.kind);
    const what = `${words(f.badExperience.kind)}${f.badExperience.orderId ? ` on order ${f.badExperience.orderId}` : ''} ${days(f.badExperience.daysAgo)} ago and no follow-up`;
    const away = f.flags.filter((flag) => flag === 'moved' || flag === 'undeliverable');
    // A replacement is posted: not to an address flagged moved or undeliverable (src/customers/flags.ts).
    if ((physical.has(f.badExperience.kind) || rule?.action === 'apology_replacement') && away.length)
      return plain(
        'call',
        `${what}: address flagged ${away.join(' and ')}; call to apologise and confirm where to send the replacement${evidence(rule)}`,
        rule,
      );
    if (physical.has(f.badExperience.kind) || rule?.action === 'apology_replacement')
      return plain('apology_replacement', `${what}: apologise and replace it${evidence(rule)}`, rule);
    return plain('call', `${what}: call to hear what went wrong and put it right${evidence(rule)}`, rule);
  }
  if (f.unhappy) return plain('call', `${f.unhappy.what} ${days(f.unhappy.daysAgo)} ago: call to hear what went wrong`);
  if (f.exitAnswer)
    return plain(
      'call',
      `told us why they stopped ${days(f.exitAnswer.daysAgo)} ago: "${f.exitAnswer.answer}": call to answer that, not with a gift`,
    );
  const unreachable = f.flags.filter((flag) => flag === 'moved' || flag === 'undeliverable');
  const gesture = (action: 'gift' | 'offer', rule: AppliedRule | null): Suggestion => {
    if (unreachable.length)
      return plain(
        'call',
        `address flagged ${unreachable.join(' and ')}: no ${action} by post; call or write to confirm where they live${evidence(rule)}`,
        rule,
      );
    const value = giftFor(f.expectedOrderValue, allowance);
    const what =
      action === 'gift'
        ? `a small unexpected gift of ${money(value)}`
        : `an offer on their next order (about ${money(value)})`;
    // A problem they had (and that was followed up) is named: the gesture makes up for it.
    const story = f.problem
      ? `had ${f.problem.what} ${days(f.problem.daysAgo)} ago: ${what} to make up for it`
      : `with no problem on record: ${what}`;
    return {
      action,
      giftValue: action === 'gift' ? value : null,
      reason: `worth ${money(f.valueAtStake)} over the next year if they stay, ${story}${
        f.uplift !== null
          ? `; expected to bring ${money(f.uplift * f.valueAtStake - value)} more than doing nothing; ${upliftWords(f)}`
          : ''
      }${evidence(rule)}; ${context}`,
      ruleId: rule?.id ?? null,
    };
  };
  if (f.rule && (f.rule.action === 'gift' || f.rule.action === 'offer')) return gesture(f.rule.action, f.rule);
  if (f.rule) return plain(f.rule.action, `${words(f.rule.experience)} on record${evidence(f.rule)}`, f.rule);
  // Already gone, or buying anyway: a personal action changes nothing the analysis can see.
  if (f.incrementalValue !== null && f.incrementalValue <= 0) {
    const why =
      f.pAlive < 0.1
        ? `probably already gone (probability still active ${f.pAlive.toFixed(2)})`
        : f.pBuy90 !== null && f.pBuy90 >= 0.8 * f.pAlive
          ? `likely to buy anyway (chance of an order in 90 days ${f.pBuy90.toFixed(2)})`
          : `${money(f.valueAtStake)} at stake is too little for the cost`;
    return plain('nothing', `${why}: a personal action is not expected to pay; leave it to the win-back campaign`);
  }
  const gift = giftFor(f.expectedOrderValue, allowance);
  // A gesture pays when what it is expected to bring exceeds its cost (before any uplift estimate:
  // when what is at stake is well above it); where only a call pays, a personal call.
  if (f.uplift !== null ? f.uplift * f.valueAtStake > gift : f.valueAtStake >= 10 * gift) {
    return gesture('gift', null);
  }
  if (f.incrementalValue !== null && f.incrementalValue > 0)
    return plain(
      'call',
      `worth ${money(f.valueAtStake)} over the next year if they stay: a personal call to check in, expected to bring ${money(f.incrementalValue)} more than doing nothing (a gift would cost more than it brings); ${upliftWords(f)}`,
    );
  return plain(
    'nothing',
    `${money(f.valueAtStake)} at stake is too little for a personal gesture; leave it to the win-back campaign`,
  );
}

export const gestureBody = z
  .object({
    action: z.enum(['gift', 'offer', 'apology_replacement']),
    giftValue: z
      .number()
      .min(0)
      .max(100_000)
      .openapi({ description: 'Value of the gesture; over the allowance it waits for approval' }),
    reason: z.string().trim().min(1).max(1000),
  })
  .openapi('Gesture');

export const decisionBody = z
  .object({
    decision: z.enum(decisions),
    action: z
      .enum(actions)
      .optional()
      .openapi({ description: 'The action taken instead, when the decision is changed' }),
    giftValue: z.number().min(0).max(100_000).optional().openapi({
      description:
        'Value of the gift, when the decision is changed to one (or to another value); otherwise the suggested gift',
    }),
    reason: z
      .string()
      .trim()
      .max(1000)
      .optional()
      .openapi({ description: 'Why: required when the suggestion is changed or rejected' }),
  })
  .openapi('WorklistDecision');

export const contactBody = z
  .object({
    channel: z.enum(['phone', 'email', 'chat', 'store', 'social', 'direct_mail']),
    direction: z.enum(['in', 'out']).default('out'),
    summary: z.string().trim().min(1).max(4000),
    feeling: z
      .number()
      .int()
      .min(-2)
      .max(2)
      .openapi({ description: 'How the customer felt: -2 very upset .. 2 delighted' }),
  })
  .openapi('Contact');

// --- what the API answers

export const worklistSchema = z.object({
  items: z.array(
    z.object({
      customerId: z.number(),
      externalId: z.string().nullable(),
      name: z.string().nullable(),
      email: z.string().nullable(),
      city: z
        .string()
        .nullable()
        .openapi({ description: 'From the current address: tells apart two customers of one name' }),
      stage: z.string(),
      flags: z.array(z.string()),
      pAlive: z.number(),
      pBuy90: z.number().nullable(),
      valueAtStake: z.number(),
      uplift: z.number().nullable(),
      upliftSource: z.string().nullable(),
      incrementalValue: z.number().nullable().openapi({
        description: 'uplift x value at stake - the cost of the suggested action: what the list is ranked by',
      }),
      priority: z
        .number()
        .openapi({ description: 'The old ranking, value at stake x (1 - probability active), for comparison' }),
      holdout: z
        .boolean()
        .openapi({ description: "Drawn into the worklist's random holdout: no suggestion unless an agent overrides" }),
      reasons: z.array(z.string()),
      drivers: z.array(z.record(z.string(), z.unknown())),
      suggestion: suggestionSchema,
      openTicket: z.record(z.string(), z.unknown()).nullable(),
      badExperience: z.record(z.string(), z.unknown()).nullable(),
      unhappy: z.record(z.string(), z.unknown()).nullable(),
      exitAnswer: z.record(z.string(), z.unknown()).nullable(),
      problem: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  giftAllowance: z.number(),
  ranking: z.object({
    by: z.enum(['incremental_value', 'value_at_risk']).openapi({
      description: 'incremental_value once an analysis has estimated uplift; value_at_risk before',
    }),
    upliftSource: z.string().nullable(),
    holdoutShare: z.number(),
    heldOut: z
      .number()
      .openapi({ description: 'Customers of this analysis held out at random (not listed unless holdout=include)' }),
    leftOff: z.number().openapi({
      description:
        'Customers not listed (unless show=all): acting is not expected to pay (already gone, buying anyway, too little at stake) and nothing needs putting right',
    }),
    saving: z.record(z.string(), z.unknown()).nullable().openapi({
      description:
        "What ranking by incremental value would have saved against treating everyone at risk, on the holdouts' held-out folds, with its interval",
    }),
  }),
});
export type Worklist = z.infer<typeof worklistSchema>;
export type WorklistItem = Worklist['items'][number];

/** A decision on a suggestion as recorded. */
export const decisionSchema = z.object({
  id: z.number(),
  customerId: z.number(),
  decision: z.string(),
  action: z.string(),
  giftValue: z.number().nullable(),
  needsApproval: z.boolean(),
  suggestion: suggestionSchema,
});
export type Decision = z.infer<typeof decisionSchema>;

export const decisionOutcomesSchema = z.object({
  days: z.number(),
  outcomes: z.array(
    z.object({
      decision: z.string(),
      decisions: z.number(),
      bought: z.number(),
      boughtShare: z.number(),
      revenue: z.string(),
    }),
  ),
});
export type DecisionOutcome = z.infer<typeof decisionOutcomesSchema>['outcomes'][number];

export const taskSchema = z
  .object({
    id: z.number(),
    customerId: z.number(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    stage: z.string(),
    action: z.string(),
    title: z.string(),
    reason: z.string(),
    source: z.string(),
    journeyId: z.number().nullable(),
    orderId: z.string().nullable(),
    createdAt: z.string(),
    dueAt: z.string(),
    status: z.string(),
    doneBy: z.string().nullable(),
    doneAt: z.string().nullable(),
    outcome: z.string().nullable(),
  })
  .openapi('Task');
export type Task = z.infer<typeof taskSchema>;
