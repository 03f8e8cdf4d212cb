// Journeys: what starts one (a trigger), what it does (steps: waits, conditions, mails, tasks) and
// when a customer leaves early (exits). Checked once here; the starting recipes.
import { z } from '@hono/zod-openapi';
import { ruleSchema, type Rule } from '../segments/segment.ts';
import { holdoutFiguresSchema } from '../campaigns/campaign.ts';
import { actions } from '../worklist/worklist.ts';
import { deliveryStatuses } from '../ingest/event.ts';

export const journeyStatuses = ['draft', 'active', 'paused'] as const;
export type JourneyStatus = (typeof journeyStatuses)[number];
export const treatedArm = 'journey';
export const experienceSources = ['incident', 'return', 'delivery', 'ticket', 'survey', 'note'] as const;
export const triggerStages = ['trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back'] as const;

export const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('order') }).openapi({ description: 'Every new order' }),
  z
    .object({ type: z.literal('stage'), stage: z.enum(triggerStages) })
    .openapi({ description: 'The customer moved to this lifecycle stage' }),
  z
    .object({
      type: z.literal('delivery'),
      statuses: z.array(z.enum(deliveryStatuses)).min(1).max(deliveryStatuses.length).default(['delivered']),
    })
    .openapi({ description: 'The carrier said an order was delivered (or delayed, or failed: these statuses)' }),
  z
    .object({
      type: z.literal('experience'),
      sources: z.array(z.enum(experienceSources)).min(1).max(experienceSources.length).default(['incident', 'ticket']),
      kinds: z.array(z.string().trim().min(1).max(60)).max(50).optional().openapi({
        description: 'Only these kinds (incident kinds, return reasons, ticket categories); all when absent',
      }),
    })
    .openapi({
      description:
        'A bad experience: an incident, a return, a delayed or failed delivery, a ticket that ended badly, a low survey score, an upset note',
    }),
]);
export type Trigger = z.infer<typeof triggerSchema>;

const days = z.number().min(0).max(730);
export const stepSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('wait'),
    days: days
      .default(0)
      .openapi({ description: 'Days to wait; with until, days after that date (may be negative: before it)' }),
    until: z
      .enum(['next_order'])
      .optional()
      .openapi({ description: 'Count from the expected date of the next order (latest analysis)' }),
    fallbackDays: days.default(30).openapi({ description: 'With until: days to wait when there is no expected date' }),
  }),
  z.object({
    type: z.literal('condition'),
    rule: ruleSchema.openapi({
      description: 'A segment rule the customer must match now; otherwise they leave the journey',
    }),
  }),
  z.object({
    type: z.literal('email'),
    templateId: z.number().int().positive(),
    transactional: z
      .boolean()
      .default(false)
      .openapi({ description: 'About the order itself: sent without marketing consent and outside the frequency cap' }),
    survey: z
      .string()
      .trim()
      .min(1)
      .max(60)
      .optional()
      .openapi({ description: 'Key of a survey whose personal link the template shows as {{ links.survey }}' }),
    problemLink: z.boolean().default(false).openapi({
      description: 'A "problem with your order?" link ({{ links.problem }}) that opens a ticket tied to the order',
    }),
  }),
  z
    .object({
      type: z.literal('task'),
      action: z.enum(actions).exclude(['nothing']),
      title: z.string().trim().min(1).max(200),
      dueDays: days.default(1),
    })
    .openapi({ description: 'A task for an agent on the worklist' }),
]);
export type Step = z.infer<typeof stepSchema>;

export const journeyBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().trim().max(2000).nullable().default(null),
    trigger: triggerSchema,
    entry: ruleSchema
      .nullable()
      .default(null)
      .openapi({ description: 'A segment rule the customer must match when triggered; everyone when null' }),
    steps: z.array(stepSchema).min(1).max(30),
    exitOnOrder: z
      .boolean()
      .default(false)
      .openapi({ description: 'Leave the journey as soon as the customer orders again' }),
    exit: ruleSchema
      .nullable()
      .default(null)
      .openapi({ description: 'Leave the journey when the customer matches this rule (checked before each step)' }),
    holdoutShare: z.number().min(0).max(0.9).default(0.1).openapi({
      description:
        'Share of customers kept out of the journey as its holdout; a customer is in the same arm every time',
    }),
    consentList: z.string().trim().min(1).max(100).default('marketing'),
  })
  .openapi('JourneyBody');
export type JourneyBody = z.infer<typeof journeyBody>;

// --- what the API answers

export const journeySchema = z
  .object({
    id: z.number(),
    name: z.string(),
    description: z.string().nullable(),
    trigger: triggerSchema,
    entry: ruleSchema.nullable(),
    steps: z.array(stepSchema),
    exitOnOrder: z.boolean(),
    exit: ruleSchema.nullable(),
    holdoutShare: z.number(),
    consentList: z.string(),
    status: z.enum(journeyStatuses),
    activatedAt: z.string().nullable(),
    campaignId: z.number(),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Journey');
export type Journey = z.infer<typeof journeySchema>;

export const recipeSummarySchema = z.object({ key: z.string(), name: z.string(), description: z.string().nullable() });
export type RecipeSummary = z.infer<typeof recipeSummarySchema>;
export const journeyListSchema = z.object({
  journeys: z.array(journeySchema.extend({ counts: z.record(z.string(), z.number()) })),
  recipes: z.array(recipeSummarySchema),
});
export type JourneyList = z.infer<typeof journeyListSchema>;

export const enrolmentStatuses = ['active', 'completed', 'exited', 'skipped'] as const;
/** One pass through a journey as GET /journeys/{id} lists it (its fields keep their column names). */
export const passSchema = z.object({
  customer_id: z.number(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  arm: z.string(),
  status: z.enum(enrolmentStatuses),
  reason: z.string().nullable(),
  step: z.number(),
  entered_at: z.string(),
  next_at: z.string().nullable(),
  what: z.string().nullable(),
});
export type Pass = z.infer<typeof passSchema>;
export const journeyDetailSchema = z.object({
  journey: journeySchema,
  steps: z.array(z.object({ step: z.number(), outcome: z.string(), n: z.number() })),
  recent: z.array(passSchema),
});
export type JourneyDetail = z.infer<typeof journeyDetailSchema>;

export const journeyRoundSchema = z.object({
  entered: z.number(),
  skipped: z.number(),
  steps: z.number(),
  sent: z.number(),
});
export type JourneyRound = z.infer<typeof journeyRoundSchema>;

export const journeyReportSchema = holdoutFiguresSchema
  .extend({
    journey: journeySchema,
    waitedForProblems: z.object({ passes: z.number(), now: z.number(), days: z.number() }).openapi({
      description:
        'Passes whose marketing step waited while the customer had an open problem (KEPT_WAIT_FOR_PROBLEMS): how many, how many wait now, and the days waited in all',
    }),
  })
  .openapi('JourneyReport');
export type JourneyReport = z.infer<typeof journeyReportSchema>;

const rule = (conditions: Rule['conditions']): Rule => ({ match: 'all', conditions });

/** The journeys a shop starts with; templates are named, and made when a recipe is used. */
export const recipes: {
  key: string;
  journey: Omit<JourneyBody, 'steps'> & {
    steps: (
      | Step
      | { type: 'email'; template: string; transactional?: boolean; survey?: string; problemLink?: boolean }
    )[];
  };
}[] = [
  {
    key: 'order_follow_up',
    journey: {
      name: 'Order follow-up',
      description:
        'Confirms each order with a "problem with your order?" link that opens a ticket tied to it; a week later, one question: how satisfied are you?',
      trigger: { type: 'order' },
      entry: null,
      exitOnOrder: false,
      exit: null,
      holdoutShare: 0.1,
      consentList: 'marketing',
      steps: [
        { type: 'email', template: 'Order confirmation', transactional: true, problemLink: true },
        { type: 'wait', days: 7, fallbackDays: 30 },
        { type: 'email', template: 'How was your order?', transactional: true, survey: 'order', problemLink: true },
      ],
    },
  },
  {
    key: 'service_recovery',
    journey: {
      name: 'Service recovery',
      description:
        'After a wrong item, damage, a late or failed delivery or a ticket that ended badly: a task for an agent to put it right, and an apology with a small offer.',
      trigger: { type: 'experience', sources: ['incident', 'delivery', 'ticket'] },
      entry: null,
      exitOnOrder: false,
      exit: null,
      holdoutShare: 0.1,
      consentList: 'marketing',
      steps: [
        { type: 'task', action: 'apology_replacement', title: 'Put it right and apologise', dueDays: 1 },
        { type: 'email', template: 'We are sorry', transactional: true },
      ],
    },
  },
  {
    key: 'delivery_check',
    journey: {
      name: 'Has it arrived?',
      description:
        'A day after the carrier says an order was delivered: has it arrived, and is anything wrong? One click opens a ticket tied to the order.',
      trigger: { type: 'delivery', statuses: ['delivered'] },
      entry: null,
      exitOnOrder: false,
      exit: null,
      holdoutShare: 0.1,
      consentList: 'marketing',
      steps: [
        { type: 'wait', days: 1, fallbackDays: 30 },
        { type: 'email', template: 'Has it arrived?', transactional: true, problemLink: true },
      ],
    },
  },
  {
    key: 'second_purchase',
    journey: {
      name: 'Second-purchase nudge',
      description:
        'A trial user who has not come back a week after their expected next order gets a nudge; a true customer starts at the second purchase.',
      trigger: { type: 'stage', stage: 'trial' },
      entry: null,
      exitOnOrder: true,
      exit: null,
      holdoutShare: 0.1,
      consentList: 'marketing',
      steps: [
        { type: 'wait', until: 'next_order', days: 7, fallbackDays: 45 },
        { type: 'condition', rule: rule([{ field: 'stage', op: 'is', value: 'trial' }]) },
        { type: 'email', template: 'Come back for more' },
      ],
    },
  },
  {
    key: 'win_back',
    journey: {
      name: 'Win-back',
      description:
        'When a customer becomes at risk: a note that we miss them, and two weeks later one last chance, unless they order in between.',
      trigger: { type: 'stage', stage: 'at_risk' },
      entry: null,
      exitOnOrder: true,
      exit: null,
      holdoutShare: 0.1,
      consentList: 'marketing',
      steps: [
        { type: 'email', template: 'We miss you' },
        { type: 'wait', days: 14, fallbackDays: 30 },
        { type: 'email', template: 'One last chance' },
      ],
    },
  },
  {
    key: 'exit_survey',
    journey: {
      name: 'Exit survey',
      description: 'When a customer lapses: one question, why they stopped buying.',
      trigger: { type: 'stage', stage: 'lapsed' },
      entry: null,
      exitOnOrder: true,
      exit: null,
      holdoutShare: 0.1,
      consentList: 'marketing',
      steps: [{ type: 'email', template: 'Why did you stop?', survey: 'exit' }],
    },
  },
];

/** The starting templates of the recipes: plain, personal, and easy to change. */
export const recipeTemplates: Record<string, { subject: string; body: string }> = {
  'Order confirmation': {
    subject: 'Your order {{ order.id }} is confirmed',
    body: `<p>Hi {{ customer.first_name }},</p><p>Thank you for your order {{ order.id }} of {{ order.date }}:</p>
<ul>{% for line in order.lines %}<li>{{ line.quantity }} × {{ line.product }}</li>{% endfor %}</ul><p>Total: {{ order.total }}</p>
<p>Something not right? <a href="{{ links.problem }}">Tell us about a problem with your order</a> and we will put it right.</p>`,
  },
  'How was your order?': {
    subject: 'How was your order {{ order.id }}?',
    body: `<p>Hi {{ customer.first_name }},</p><p>How satisfied are you with your order {{ order.id }}? One click:</p>
<p>{% for score in (1..5) %}<a href="{{ links.survey }}?satisfied={{ score }}">{{ score }}</a> {% endfor %}(5 = very satisfied)</p>
<p>Something wrong with it? <a href="{{ links.problem }}">Tell us</a>.</p>`,
  },
  'Has it arrived?': {
    subject: 'Has your order {{ order.id }} arrived?',
    body: `<p>Hi {{ customer.first_name }},</p><p>The carrier says your order {{ order.id }} was delivered. Has it arrived, and is everything as it should be?</p>
<ul>{% for line in order.lines %}<li>{{ line.quantity }} × {{ line.product }}</li>{% endfor %}</ul>
<p>Missing, damaged or not what you ordered? <a href="{{ links.problem }}">Tell us</a> and we will put it right.</p>`,
  },
  'We are sorry': {
    subject: 'We are sorry, {{ customer.first_name }}',
    body: `<p>Hi {{ customer.first_name }},</p><p>We let you down{% if trigger.what != blank %} ({{ trigger.what }}){% endif %}, and we are sorry.
Someone from our team will be in touch to put it right. As a thank-you for your patience, your next order ships free.</p>`,
  },
  'Come back for more': {
    subject: '{{ customer.first_name }}, something for your next order',
    body: `<p>Hi {{ customer.first_name }},</p><p>Thank you again for your first order.{% if customer.interests.size > 0 %} We have new {{ customer.interests.first }} you may like.{% endif %}</p>
<p><a href="https://example.com/shop">Have a look</a></p>`,
  },
  'We miss you': {
    subject: 'We miss you, {{ customer.first_name }}',
    body: `<p>Hi {{ customer.first_name }},</p><p>It has been a while since {{ customer.last_order_date }}. Here is what is new{% if customer.interests.size > 0 %} in {{ customer.interests | join: ", " }}{% endif %}.</p>
<p><a href="https://example.com/shop">See what is new</a></p>`,
  },
  'One last chance': {
    subject: 'One last chance, {{ customer.first_name }}',
    body: `<p>Hi {{ customer.first_name }},</p><p>This is our last note for now: 10 % off your next order, this week only.</p><p><a href="https://example.com/shop">Use it now</a></p>`,
  },
  'Why did you stop?': {
    subject: 'One question, {{ customer.first_name }}',
    body: `<p>Hi {{ customer.first_name }},</p><p>We noticed you have not ordered for a while. What made you stop? One question, ten seconds:</p>
<p><a href="{{ links.survey }}">Tell us why</a></p>`,
  },
};
