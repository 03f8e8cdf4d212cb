// What the worklist suggests for a customer, and why: pure rules over the customer's scores and
// recent experiences. The agent makes the final call.
import { z } from '@hono/zod-openapi';

export const actions = ['call', 'apology_replacement', 'gift', 'nothing'] as const;
export type Action = (typeof actions)[number];
export const decisions = ['accepted', 'changed', 'rejected'] as const;

/** What the worklist knows about a customer when it suggests. */
export interface WorklistFacts {
  stage: string;
  pAlive: number;
  valueAtStake: number;
  expectedOrderValue: number;
  averageDaysBetween: number | null;
  daysSinceOrder: number;
  /** The oldest open ticket, if any. */
  openTicket: { id: string; category: string | null; openedDaysAgo: number } | null;
  /** The latest bad experience in the last 90 days that nobody followed up. */
  badExperience: { kind: string; orderId: string | null; daysAgo: number } | null;
  /** The latest low survey answer or upset note in the last 90 days. */
  unhappy: { what: string; daysAgo: number } | null;
}

export const suggestionSchema = z
  .object({ action: z.enum(actions), giftValue: z.number().nullable(), reason: z.string() })
  .openapi('Suggestion');
export type Suggestion = z.infer<typeof suggestionSchema>;

const physical = new Set(['wrong_item', 'damaged', 'missing', 'defective']);
const money = (v: number) => (Math.round(v * 100) / 100).toFixed(2);
const days = (n: number) => (n === 1 ? '1 day' : `${Math.round(n)} days`);

/** A small unexpected gift: a tenth of an order, at least 5, never over the agent's allowance. */
export const giftFor = (expectedOrderValue: number, allowance: number) =>
  Math.min(allowance, Math.max(5, Math.round(expectedOrderValue * 0.1)));

export function suggest(f: WorklistFacts, allowance: number): Suggestion {
  const habit =
    f.averageDaysBetween === null ? 'bought once' : `usually orders every ${Math.round(f.averageDaysBetween)} days`;
  const context = `${habit}; ${days(f.daysSinceOrder)} since the last order; probability still active ${f.pAlive.toFixed(2)}`;
  if (f.openTicket) {
    return {
      action: 'call',
      giftValue: null,
      reason: `ticket ${f.openTicket.id}${f.openTicket.category ? ` (${f.openTicket.category.replace(/_/g, ' ')})` : ''} open for ${days(f.openTicket.openedDaysAgo)}: call and resolve it; ${context}`,
    };
  }
  if (f.badExperience && physical.has(f.badExperience.kind)) {
    return {
      action: 'apology_replacement',
      giftValue: null,
      reason: `${f.badExperience.kind.replace(/_/g, ' ')}${f.badExperience.orderId ? ` on order ${f.badExperience.orderId}` : ''} ${days(f.badExperience.daysAgo)} ago and no follow-up: apologise and replace it; ${context}`,
    };
  }
  if (f.badExperience || f.unhappy) {
    const what = f.unhappy
      ? `${f.unhappy.what} ${days(f.unhappy.daysAgo)} ago`
      : `${f.badExperience!.kind.replace(/_/g, ' ')} ${days(f.badExperience!.daysAgo)} ago`;
    return { action: 'call', giftValue: null, reason: `${what}: call to hear what went wrong; ${context}` };
  }
  const gift = giftFor(f.expectedOrderValue, allowance);
  // A gesture pays when what is at stake is well above its cost.
  if (f.valueAtStake >= 10 * gift) {
    return {
      action: 'gift',
      giftValue: gift,
      reason: `worth ${money(f.valueAtStake)} over the next year if they stay and nothing went wrong: a small unexpected gift of ${money(gift)}; ${context}`,
    };
  }
  return {
    action: 'nothing',
    giftValue: null,
    reason: `${money(f.valueAtStake)} at stake is too little for a personal gesture; leave it to the win-back campaign; ${context}`,
  };
}

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
      name: z.string().nullable(),
      email: z.string().nullable(),
      stage: z.string(),
      pAlive: z.number(),
      valueAtStake: z.number(),
      priority: z.number(),
      reasons: z.array(z.string()),
      suggestion: suggestionSchema,
      openTicket: z.record(z.string(), z.unknown()).nullable(),
      badExperience: z.record(z.string(), z.unknown()).nullable(),
      unhappy: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
  giftAllowance: z.number(),
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
