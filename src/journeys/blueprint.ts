// The journey blueprint: the designed path of each lifecycle stage (which contacts a customer in it
// should get, and by when) laid over the paths customers actually took. Pure: the step schema, the
// built-in design, and the arithmetic over the counts the repository returns (no I/O here).
import { z } from '@hono/zod-openapi';
import { ruleSchema, type Rule } from '../segments/segment.ts';
import { triggerStages, type Trigger } from './journey.ts';

/** The stages a blueprint designs: every stage of a customer who has bought. */
export const blueprintStages = triggerStages;
export type BlueprintStage = (typeof blueprintStages)[number];

/** What a step may be besides a touchpoint kind (email_sent, call, visit ...). */
export const specialKinds = {
  contact: 'any contact we made (an outbound touchpoint of any kind and channel)',
  order: 'an order (after the one that started the stage)',
  survey_invitation: 'a survey link sent',
  survey_response: 'a survey answer',
} as const;

const hour = 3_600;
const day = 86_400;
/** A step is due at most two years after the stage began. */
const maxSeconds = 730 * day;
const units = ['hours', 'days'] as const;
type Within = { within: number; unit: (typeof units)[number] };
export const seconds = (s: Within): number => s.within * (s.unit === 'hours' ? hour : day);

export const blueprintStepSchema = z
  .object({
    key: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _, starting with a letter')
      .openapi({ description: 'Names the step in the report and its customer lists' }),
    label: z.string().trim().min(1).max(200),
    kinds: z
      .array(z.string().trim().min(1).max(60))
      .min(1)
      .max(20)
      .openapi({
        description: `Touchpoint kinds that count as the step done (email_sent, call ...), or ${Object.keys(specialKinds).join(', ')}`,
      }),
    matching: z.string().trim().min(1).max(200).optional().openapi({
      description:
        "Only what contains this text (any case): a touchpoint's campaign, a survey's key, an order's channel",
    }),
    transactional: z.boolean().optional().openapi({
      description: 'Only transactional mail (true) or only marketing (false); any when absent. Touchpoints only',
    }),
    within: z.number().positive().openapi({ description: 'Due this long after the customer entered the stage' }),
    unit: z.enum(units).default('days'),
  })
  .refine((s) => seconds(s) <= maxSeconds, { message: 'at most 730 days', path: ['within'] })
  .openapi('BlueprintStep');
export type BlueprintStep = z.infer<typeof blueprintStepSchema>;

export const maxSteps = 12;
export const blueprintBody = z
  .object({
    steps: z
      .array(blueprintStepSchema)
      .max(maxSteps)
      .refine((steps) => new Set(steps.map((s) => s.key)).size === steps.length, 'each step needs a key of its own'),
  })
  .openapi('BlueprintBody');
export type BlueprintBody = z.infer<typeof blueprintBody>;

/** "within 1 hour", "by day 45". */
export const dueWords = (s: Within) =>
  s.unit === 'hours' ? `within ${s.within} hour${s.within === 1 ? '' : 's'}` : `by day ${s.within}`;

const step = (s: Omit<BlueprintStep, 'unit'> & { unit?: BlueprintStep['unit'] }): BlueprintStep => ({
  unit: 'days',
  ...s,
});
const contact = (within: number) =>
  step({ key: 'contact', label: 'A contact from us (any channel)', kinds: ['contact'], within });
const asked = (within: number, matching?: string) =>
  step({
    key: 'survey',
    label: 'Asked how it went (a survey)',
    kinds: ['survey_invitation', 'survey_response'],
    ...(matching ? { matching } : {}),
    within,
  });

/**
 * The design a stage has until someone saves another (PUT /blueprint/{stage}): what the recipes
 * do (order follow-up, second-purchase nudge, win-back, exit survey) and the pace that keeps a
 * relationship alive. The order follow-up asks on day 7, so its survey is due by day 8.
 */
export const builtInDesign: Record<BlueprintStage, BlueprintStep[]> = {
  trial: [
    step({
      key: 'confirmation',
      label: 'Order confirmation',
      kinds: ['email_sent'],
      transactional: true,
      within: 1,
      unit: 'hours',
    }),
    asked(8, 'order'),
    step({
      key: 'nudge',
      label: 'A nudge to buy again (a marketing mail)',
      kinds: ['email_sent'],
      transactional: false,
      within: 45,
    }),
    step({ key: 'second_order', label: 'Second order', kinds: ['order'], within: 90 }),
  ],
  customer: [contact(42), asked(30)],
  best: [contact(42), asked(90)],
  at_risk: [
    step({ key: 'win_back', label: 'A win-back mail', kinds: ['email_sent'], transactional: false, within: 3 }),
    step({ key: 'order', label: 'Ordered again', kinds: ['order'], within: 60 }),
  ],
  lapsed: [asked(7, 'exit')],
  won_back: [
    step({ key: 'welcome_back', label: 'A welcome-back mail', kinds: ['email_sent'], transactional: false, within: 3 }),
  ],
};

/** A stage's design: saved, or the built-in one. */
export interface Design {
  stage: BlueprintStage;
  source: 'built-in' | 'saved';
  steps: BlueprintStep[];
  updatedBy: string | null;
  updatedAt: string | null;
}
export function designs(saved: { stage: string; steps: unknown; updatedBy: string; updatedAt: string }[]): Design[] {
  return blueprintStages.map((stage) => {
    const row = saved.find((r) => r.stage === stage);
    if (!row) return { stage, source: 'built-in', steps: builtInDesign[stage], updatedBy: null, updatedAt: null };
    return {
      stage,
      source: 'saved',
      steps: blueprintBody.shape.steps.parse(row.steps),
      updatedBy: row.updatedBy,
      updatedAt: row.updatedAt,
    };
  });
}

/** What happened to a customer who entered a stage, for one step. */
export const outcomes = ['on_time', 'late', 'missed', 'left_first', 'not_due'] as const;
export type Outcome = (typeof outcomes)[number];

/** Days from entering the stage to the step, as the timing histogram cuts them (edges in days). */
export const timingEdges = [1 / 24, 1, 3, 7, 14, 30, 60, 90, 180];
const edgeWords = ['1 hour', '1 day', '3 days', '7 days', '14 days', '30 days', '60 days', '90 days', '180 days'];
export const timingBins = [
  `within ${edgeWords[0]}`,
  ...edgeWords.slice(1).map((w, i) => `${edgeWords[i]} to ${w}`),
  `over ${edgeWords[edgeWords.length - 1]}`,
];

/** One aggregate row of the stage query (see blueprint.repository.ts). */
export interface StageCount {
  part: 'outcome' | 'bin' | 'timing' | 'after' | 'without' | 'left';
  stage: string;
  key: string | null;
  what: string | null;
  n: number;
  quantiles: number[] | null;
}

const share = z.number().nullable();
export const stepReportSchema = z.object({
  key: z.string(),
  label: z.string(),
  due: z.string().openapi({ description: 'When the step is due, in words: "within 1 hour", "by day 45"' }),
  onTime: z.number(),
  late: z.number(),
  missed: z.number().openapi({ description: 'Still in the stage (or left after it was due) and never got it' }),
  leftFirst: z.number().openapi({ description: 'Left the stage before it was due, without it' }),
  notDue: z.number().openapi({ description: 'Entered recently: not due yet, not done yet' }),
  shares: z
    .object({ onTime: share, late: share, missed: share })
    .openapi({ description: 'Of those for whom it was due (on time + late + missed)' }),
  timing: z.object({
    days: z
      .object({ p25: z.number(), median: z.number(), p75: z.number(), p90: z.number() })
      .nullable()
      .openapi({ description: 'Days from entering the stage to the step, among those who got it' }),
    bins: z.array(z.object({ label: z.string(), n: z.number() })).max(timingBins.length),
  }),
  dropOut: z.object({
    after: z.record(z.string(), z.number()).openapi({ description: 'Got the step, then left the stage: to which' }),
    without: z.record(z.string(), z.number()).openapi({ description: 'Left the stage without the step: to which' }),
  }),
});
export type StepReport = z.infer<typeof stepReportSchema>;

export const stageReportSchema = z.object({
  stage: z.enum(blueprintStages),
  design: z.enum(['built-in', 'saved']),
  updatedBy: z.string().nullable(),
  updatedAt: z.string().nullable(),
  steps: z.array(blueprintStepSchema).max(maxSteps),
  entered: z.number().openapi({ description: 'Customers who entered the stage in the window (their latest entry)' }),
  stayed: z.number(),
  left: z.record(z.string(), z.number()).openapi({ description: 'Of those who entered, where they went' }),
  funnel: z.array(stepReportSchema).max(maxSteps),
});
export type StageReport = z.infer<typeof stageReportSchema>;

const byWhat = (rows: StageCount[]) => Object.fromEntries(rows.map((r) => [r.what ?? 'unknown', r.n]));
const ofDue = (n: number, due: number) => (due === 0 ? null : n / due);

/** A stage's funnel from the aggregate rows of the stage query. */
export function stageReport(design: Design, rows: StageCount[]): StageReport {
  const mine = rows.filter((r) => r.stage === design.stage);
  const left = mine.filter((r) => r.part === 'left');
  const stayed = left.find((r) => r.what === null)?.n ?? 0;
  const funnel = design.steps.map((s): StepReport => {
    const of = (part: StageCount['part']) => mine.filter((r) => r.part === part && r.key === s.key);
    const count = (outcome: Outcome) => of('outcome').find((r) => r.what === outcome)?.n ?? 0;
    const [onTime, late, missed] = [count('on_time'), count('late'), count('missed')];
    const due = onTime + late + missed;
    const q = of('timing')[0]?.quantiles;
    const bins = of('bin');
    return {
      key: s.key,
      label: s.label,
      due: dueWords(s),
      onTime,
      late,
      missed,
      leftFirst: count('left_first'),
      notDue: count('not_due'),
      shares: { onTime: ofDue(onTime, due), late: ofDue(late, due), missed: ofDue(missed, due) },
      timing: {
        days: q ? { p25: q[0], median: q[1], p75: q[2], p90: q[3] } : null,
        // width_bucket numbers the bins from 0 (below the first edge) to the number of edges.
        bins: timingBins.map((label, i) => ({ label, n: bins.find((b) => Number(b.what) === i)?.n ?? 0 })),
      },
      dropOut: { after: byWhat(of('after')), without: byWhat(of('without')) },
    };
  });
  return {
    stage: design.stage,
    design: design.source,
    updatedBy: design.updatedBy,
    updatedAt: design.updatedAt,
    steps: design.steps,
    entered: left.reduce((sum, r) => sum + r.n, 0),
    stayed,
    left: byWhat(left.filter((r) => r.what !== null)),
    funnel,
  };
}

/** Stages no active journey starts on (a journey on every order covers no stage in particular). */
export const stagesWithoutJourney = (triggers: Trigger[]): BlueprintStage[] =>
  blueprintStages.filter((stage) => !triggers.some((t) => t.type === 'stage' && t.stage === stage));

/** Stages in which a customer should hear from us now and then: not lapsed (predicted gone). */
export const activeStages = ['trial', 'customer', 'best', 'at_risk', 'won_back'] as const;
/** An order is confirmed when a transactional mail went out within this many hours of it. */
export const confirmationHours = 1;

export const gapKinds = ['silent', 'unconfirmed', 'no_journey'] as const;
export type GapKind = (typeof gapKinds)[number];

/** The segment rule that selects a gap's customers now, where one can; null where none can (an order's confirmation). */
export function gapRule(kind: GapKind, options: { stage?: string; silentDays: number }): Rule | null {
  if (kind === 'no_journey') return { match: 'all', conditions: [{ field: 'stage', op: 'is', value: options.stage }] };
  if (kind === 'unconfirmed') return null;
  return {
    match: 'all',
    conditions: [
      { field: 'stage', op: 'in', value: [...activeStages] },
      { field: 'first_order_at', op: 'not_in_last_days', value: options.silentDays },
      { field: 'last_contact_at', op: 'not_in_last_days', value: options.silentDays },
    ],
  };
}

export const gapCustomerSchema = z.object({
  id: z.number(),
  name: z.string().nullable(),
  detail: z.string().nullable().openapi({ description: 'Why they are here: the last contact, the order' }),
});
export type GapCustomer = z.infer<typeof gapCustomerSchema>;
export const gapSampleSize = 50;

export const gapSchema = z.object({
  kind: z.enum(gapKinds),
  stage: z.enum(blueprintStages).nullable(),
  title: z.string(),
  count: z.number().openapi({ description: 'Customers; for unconfirmed orders, orders' }),
  customers: z.number().openapi({ description: 'Customers concerned' }),
  sample: z.array(gapCustomerSchema).max(gapSampleSize).openapi({ description: 'The first 50 customers by number' }),
  rule: ruleSchema.nullable().openapi({ description: 'A segment rule that selects them now, when one can' }),
});
export type Gap = z.infer<typeof gapSchema>;

export const blueprintReportSchema = z
  .object({
    days: z.number(),
    since: z.string(),
    silentDays: z.number(),
    stages: z.array(stageReportSchema).max(blueprintStages.length),
    gaps: z.array(gapSchema).max(2 + blueprintStages.length),
  })
  .openapi('Blueprint');
export type BlueprintReport = z.infer<typeof blueprintReportSchema>;

export const stepCustomerSchema = z.object({
  id: z.number(),
  name: z.string().nullable(),
  enteredAt: z.string(),
  doneAt: z.string().nullable(),
  leftTo: z.string().nullable(),
});
export type StepCustomer = z.infer<typeof stepCustomerSchema>;
export const designSchema = z
  .object({
    stage: z.enum(blueprintStages),
    design: z.enum(['built-in', 'saved']),
    steps: z.array(blueprintStepSchema).max(maxSteps),
    updatedBy: z.string().nullable(),
    updatedAt: z.string().nullable(),
  })
  .openapi('BlueprintDesign');

/** `matching` as an ILIKE pattern: its own % and _ are literal. */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
