// Segments: who a campaign, a journey or a report is about, as a rule over everything Kept knows of
// a customer. The rule is JSON (the UI's builder and the API write the same shape), checked against
// the field catalogue below before it is compiled to one SQL query.
import { z } from '@hono/zod-openapi';
import { statusFlags } from '../customers/index.ts';
import { personalRuleFields } from '../auth/access.ts';
import { firstDay, isCalendarDate, lastDay } from '../shared/input.ts';

/** One test on a customer. Which keys matter depends on the field; the catalogue says. */
export interface Condition {
  field: FieldName;
  op: string;
  value?: string | number | boolean | string[];
  /** The attribute, score, survey or consent list the field is about. */
  key?: string;
  /** Only what happened in the last this-many days (order history and experiences). */
  days?: number;
  /** Narrows history: order channel, return reason, ticket category, incident kind. */
  filter?: string;
}
export interface Rule {
  match: 'all' | 'any';
  conditions: (Condition | Rule)[];
}

export type ValueType = 'text' | 'number' | 'date' | 'days' | 'none' | 'list';
export interface FieldDefinition {
  label: string;
  /** Operator -> what its value is. */
  ops: Record<string, ValueType>;
  /** The key is required (attribute, score) or optional (survey, consent list). */
  key?: 'required' | 'optional';
  /** The condition may be limited to the last N days. */
  days?: boolean;
  /** What `filter` narrows, when it may be given. */
  filter?: string;
  /** Known values for the UI to offer (stages, flags, scores). */
  values?: readonly string[];
}

const text = {
  is: 'text',
  is_not: 'text',
  contains: 'text',
  starts_with: 'text',
  is_set: 'none',
  is_not_set: 'none',
} as const;
const choice = { is: 'text', is_not: 'text', in: 'list', is_set: 'none', is_not_set: 'none' } as const;
const instant = {
  before: 'date',
  after: 'date',
  in_last_days: 'days',
  not_in_last_days: 'days',
  is_set: 'none',
  is_not_set: 'none',
} as const;
const count = { at_least: 'number', at_most: 'number', exactly: 'number' } as const;
const number = {
  gt: 'number',
  gte: 'number',
  lt: 'number',
  lte: 'number',
  is_set: 'none',
  is_not_set: 'none',
} as const;

export const stages = ['prospect', 'trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back', 'suppressed'] as const;
export const flags = statusFlags;
/** Scores of the latest analysis a segment may test, by their column. */
export const scoreColumns = {
  p_alive: 'probability still active (0-1)',
  churn_probability: 'churn probability: no order in 365 days (0-1)',
  p_buy_90: 'chance of an order in the next 90 days (0-1)',
  expected_90: 'expected purchases in 90 days',
  expected_365: 'expected purchases in 365 days',
  predicted_value_365: 'predicted value over 365 days',
  historic_value: 'historic value',
  value_at_stake: 'value at stake',
  expected_order_value: 'expected value per order',
  frequency: 'repeat purchase days',
  recency_days: 'days since last order',
  average_days_between: 'average days between orders',
  recency_score: 'R score (1-5)',
  frequency_score: 'F score (1-5)',
  monetary_score: 'M score (1-5)',
  satisfaction: 'satisfaction index (0-100)',
} as const;

/**
 * Which occurrences of an experience a condition counts (its key; all of them without one): a
 * customer's first of the kind, a repeat, or a problem nobody followed up.
 */
export const experienceKeys = ['first', 'repeated', 'unfollowed'] as const;

export const fields = {
  name: { label: 'Name', ops: text },
  email: { label: 'Email', ops: text },
  phone: { label: 'Phone', ops: text },
  external_id: { label: 'External id', ops: text },
  acquisition_channel: { label: 'Acquisition channel', ops: choice },
  stage: { label: 'Lifecycle stage', ops: { is: 'text', is_not: 'text', in: 'list' }, values: stages },
  flag: { label: 'Status flag', ops: { has: 'text', has_not: 'text' }, values: flags },
  created_at: { label: 'Became a customer record', ops: instant },
  first_order_at: { label: 'First order', ops: instant },
  last_order_at: { label: 'Last order', ops: instant },
  last_contact_at: { label: 'Last contact from us (any channel)', ops: instant },
  attribute: {
    label: 'Custom attribute',
    key: 'required',
    ops: {
      ...number,
      is: 'text',
      is_not: 'text',
      contains: 'text',
      before: 'date',
      after: 'date',
      is_true: 'none',
      is_false: 'none',
    },
  },
  score: { label: 'Score (latest analysis)', key: 'required', ops: number, values: Object.keys(scoreColumns) },
  orders: { label: 'Orders', ops: count, days: true, filter: 'order channel' },
  spend: { label: 'Spend', ops: { at_least: 'number', at_most: 'number' }, days: true },
  category_bought: { label: 'Bought from category', ops: { is: 'text', is_not: 'text' }, days: true },
  product_bought: { label: 'Bought product', ops: { is: 'text', is_not: 'text', contains: 'text' }, days: true },
  returns: { label: 'Returns', ops: count, days: true, filter: 'reason code' },
  tickets: { label: 'Tickets', ops: count, days: true, filter: 'category' },
  incidents: { label: 'Incidents', ops: count, days: true, filter: 'kind' },
  touchpoints: { label: 'Touchpoints (contacts either way)', ops: count, days: true, filter: 'kind or channel' },
  opens: { label: 'Emails opened', ops: count, days: true },
  clicks: { label: 'Emails clicked', ops: count, days: true },
  experiences: {
    label: 'Experiences (latest analysis)',
    key: 'optional',
    ops: count,
    days: true,
    filter: 'experience kind',
    values: experienceKeys,
  },
  survey_score: {
    label: 'Survey answer score',
    key: 'optional',
    ops: { at_least: 'number', at_most: 'number' },
    days: true,
  },
  survey_answer: {
    label: 'Survey answer in words (e.g. an exit survey)',
    key: 'optional',
    ops: { contains: 'text', is: 'text' },
    days: true,
  },
  consent: { label: 'Consent', key: 'optional', ops: { granted: 'none', not_granted: 'none', withdrawn: 'none' } },
} as const satisfies Record<string, FieldDefinition>;
export type FieldName = keyof typeof fields;
export const fieldNames = Object.keys(fields) as [FieldName, ...FieldName[]];

/**
 * The entry of a catalogue a user-given name picks, only if the catalogue has it itself: an
 * inherited name (`constructor`, `toString`, `__proto__`) must never pass as a score, operator or field.
 */
export const own = <T>(catalogue: Readonly<Record<string, T>>, name: string): T | undefined =>
  Object.hasOwn(catalogue, name) ? catalogue[name] : undefined;

/** Counts (orders, returns, tickets, incidents, experiences, touchpoints, opens, clicks) a rule compares with: whole numbers a bigint holds exactly. */
export const maxCount = 1_000_000_000;
/** Any other number a rule compares with, either way: scores, amounts, attributes, survey scores. */
export const maxNumber = 1e15;
/** A time window in days, as `days` takes it: up to a hundred years. */
export const maxDays = 36_500;
const countFields: ReadonlySet<string> = new Set([
  'orders',
  'returns',
  'tickets',
  'incidents',
  'experiences',
  'touchpoints',
  'opens',
  'clicks',
]);

export const conditionSchema = z
  .object({
    field: z.enum(fieldNames),
    op: z.string().min(1).max(40),
    value: z
      .union([z.string().max(500), z.number().finite(), z.boolean(), z.array(z.string().max(500)).max(200)])
      .optional(),
    key: z.string().trim().min(1).max(100).optional(),
    days: z.number().int().min(1).max(maxDays).optional(),
    filter: z.string().trim().min(1).max(100).optional(),
  })
  .openapi('SegmentCondition');

/** Groups nest up to this deep; more is a rule nobody can read. */
export const maxDepth = 4;
export const maxConditions = 100;

export const ruleSchema: z.ZodType<Rule> = z
  .lazy(() =>
    z.object({
      match: z.enum(['all', 'any']),
      conditions: z.array(z.union([conditionSchema, ruleSchema])).max(maxConditions),
    }),
  )
  .openapi('SegmentRule', { description: 'All (AND) or any (OR) of the conditions; a condition may be a group' });

export const isGroup = (c: Condition | Rule): c is Rule => 'match' in c;

export interface RuleIssue {
  path: string;
  message: string;
}

/**
 * Checks a rule against the catalogue: each operator known for its field, each value of the type
 * the operator takes, keys where needed. Attribute types come from the attribute definitions.
 */
export function checkRule(rule: Rule, attributeTypes: Map<string, string>): RuleIssue[] {
  const issues: RuleIssue[] = [];
  let conditions = 0;
  const walk = (group: Rule, path: string, depth: number) => {
    if (depth > maxDepth) issues.push({ path, message: `groups nest at most ${maxDepth} deep` });
    group.conditions.forEach((c, i) => {
      const at = `${path}conditions.${i}`;
      if (isGroup(c)) return walk(c, `${at}.`, depth + 1);
      conditions++;
      const field = own<FieldDefinition>(fields, c.field);
      if (!field)
        return issues.push({
          path: `${at}.field`,
          message: `no field ${JSON.stringify(c.field)}; fields: ${fieldNames.join(', ')}`,
        });
      const type = own(field.ops, c.op);
      if (!type)
        return issues.push({
          path: `${at}.op`,
          message: `${c.field} takes ${Object.keys(field.ops).join(', ')}; found ${JSON.stringify(c.op)}`,
        });
      if (field.key === 'required' && !c.key)
        return issues.push({
          path: `${at}.key`,
          message: `${c.field} needs a key (${c.field === 'score' ? Object.keys(scoreColumns).join(', ') : 'the attribute name'})`,
        });
      if (c.field === 'score' && !own(scoreColumns, c.key!))
        return issues.push({
          path: `${at}.key`,
          message: `unknown score ${JSON.stringify(c.key)}; scores: ${Object.keys(scoreColumns).join(', ')}`,
        });
      if (c.field === 'experiences' && c.key !== undefined && !(experienceKeys as readonly string[]).includes(c.key))
        return issues.push({
          path: `${at}.key`,
          message: `experiences counts ${experienceKeys.join(', ')} or (without a key) every occurrence; found ${JSON.stringify(c.key)}`,
        });
      const declared = c.field === 'attribute' ? attributeTypes.get(c.key!) : undefined;
      if (c.field === 'attribute') {
        if (!declared)
          return issues.push({ path: `${at}.key`, message: `no custom attribute ${JSON.stringify(c.key)}` });
        const fits = own(attributeOps, declared) ?? [];
        if (!['is_set', 'is_not_set'].includes(c.op) && !fits.includes(c.op)) {
          return issues.push({
            path: `${at}.op`,
            message: `${c.key} is a ${declared} attribute: it takes ${[...fits, 'is_set', 'is_not_set'].join(', ')}`,
          });
        }
      }
      if (c.days !== undefined && !('days' in field))
        issues.push({ path: `${at}.days`, message: `${c.field} has no time window` });
      if (c.filter !== undefined && !('filter' in field))
        issues.push({ path: `${at}.filter`, message: `${c.field} takes no filter` });
      // `is` on a number or date attribute compares as that type; a count is a whole number.
      const expected: Expected =
        (declared === 'number' || declared === 'date') && ['is', 'is_not'].includes(c.op)
          ? declared
          : type === 'number' && countFields.has(c.field)
            ? 'count'
            : type;
      const problem = valueProblem(
        expected,
        c.value,
        field.values && ['stage', 'flag'].includes(c.field) ? field.values : undefined,
      );
      if (problem) issues.push({ path: `${at}.value`, message: problem });
    });
  };
  walk(rule, '', 1);
  if (conditions > maxConditions) issues.push({ path: 'conditions', message: `at most ${maxConditions} conditions` });
  return issues;
}

/**
 * checkRule for a rule read back from the database, which nothing checked since it was saved: it may
 * predate a check, or not be a rule at all. Shape problems come first, as zod names them.
 */
export function checkStoredRule(rule: unknown, attributeTypes: Map<string, string>): RuleIssue[] {
  const parsed = ruleSchema.safeParse(rule);
  if (!parsed.success)
    return parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  return checkRule(parsed.data, attributeTypes);
}

// A stored rule is walked as it is: an entry that is not an object is passed over, one whose field
// is not in the catalogue counts as personal (nothing vouches for what it holds).
const entriesOf = (group: Rule) =>
  (Array.isArray(group.conditions) ? group.conditions : []).flatMap((c, i) =>
    typeof c === 'object' && c !== null ? [{ c, i }] : [],
  );
const namesAPerson = (c: Condition) => personalRuleFields.has(c.field) || !own(fields, c.field);

/** Paths (from `at`) of the conditions on a field that names or reaches a person: name, email, phone, external id. */
export function personalConditions(rule: Rule, at = 'rule'): string[] {
  const found: string[] = [];
  const walk = (group: Rule, path: string) =>
    entriesOf(group).forEach(({ c, i }) => {
      if (isGroup(c)) walk(c, `${path}.conditions.${i}`);
      else if (namesAPerson(c)) found.push(`${path}.conditions.${i}`);
    });
  walk(rule, at);
  return found;
}

/** A condition as a reader may be shown it: what one on a personal field looks for may be withheld (null). */
export type ShownCondition = Omit<Condition, 'value' | 'key' | 'filter'> & {
  value?: Condition['value'] | null;
  key?: string | null;
  filter?: string | null;
};
export interface ShownRule {
  match: Rule['match'];
  conditions: (ShownCondition | ShownRule)[];
}

/** The rule with the value, key and filter of each condition on a personal field withheld (null): it shows that an email is tested, not which. */
export function withoutPersonalValues(rule: Rule): ShownRule {
  return {
    ...rule,
    conditions: entriesOf(rule).map(({ c }): ShownCondition | ShownRule => {
      if (isGroup(c)) return withoutPersonalValues(c);
      if (!namesAPerson(c)) return c;
      return {
        ...c,
        ...('value' in c ? { value: null } : {}),
        ...('key' in c ? { key: null } : {}),
        ...('filter' in c ? { filter: null } : {}),
      };
    }),
  };
}

const shownConditionSchema = z
  .object({
    ...conditionSchema.shape,
    value: conditionSchema.shape.value.unwrap().nullable().optional(),
    key: z.string().nullable().optional(),
    filter: z.string().nullable().optional(),
  })
  .openapi('ShownSegmentCondition', {
    description:
      'A condition as the reader may see it: for an analyst, the value and key of a condition on name, email, phone or external id are null',
  });
export const shownRuleSchema: z.ZodType<ShownRule> = z
  .lazy(() =>
    z.object({
      match: z.enum(['all', 'any']),
      conditions: z.array(z.union([shownConditionSchema, shownRuleSchema])),
    }),
  )
  .openapi('ShownSegmentRule', { description: 'A saved rule as the reader may see it' });

/** Which operators an attribute of each type takes, besides is_set and is_not_set. */
const attributeOps: Record<string, readonly string[]> = {
  number: ['gt', 'gte', 'lt', 'lte', 'is', 'is_not'],
  text: ['is', 'is_not', 'contains'],
  boolean: ['is_true', 'is_false'],
  date: ['before', 'after', 'is', 'is_not'],
};

type Expected = ValueType | 'count';
const wholeWithin = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;

// Every value is one its SQL comparison takes: a date PostgreSQL's calendar knows, a count a bigint
// holds, a number within what a numeric parameter compares exactly, a window make_interval takes.
function valueProblem(type: Expected, value: Condition['value'], allowed?: readonly string[]): string | undefined {
  const oneOf = (v: string) =>
    allowed && !allowed.includes(v) ? `expected one of ${allowed.join(', ')}, found ${JSON.stringify(v)}` : undefined;
  const found = JSON.stringify(value ?? null);
  switch (type) {
    case 'none':
      return value === undefined ? undefined : 'takes no value';
    case 'number':
    case 'count':
      if (typeof value !== 'number') return `expected a number, found ${found}`;
      if (type === 'count')
        return wholeWithin(value, 0, maxCount)
          ? undefined
          : `expected a whole number from 0 to ${maxCount}, found ${found}`;
      return Number.isFinite(value) && Math.abs(value) <= maxNumber
        ? undefined
        : `expected a number from -1e15 to 1e15, found ${found}`;
    case 'days':
      return wholeWithin(value, 1, maxDays)
        ? undefined
        : `expected a whole number of days from 1 to ${maxDays}, found ${found}`;
    case 'date':
      return typeof value === 'string' && isCalendarDate(value)
        ? undefined
        : `expected a real calendar date YYYY-MM-DD from ${firstDay} to ${lastDay}, found ${found}`;
    case 'list':
      return Array.isArray(value) && value.length > 0
        ? value.map(oneOf).find(Boolean)
        : `expected a list of values, found ${JSON.stringify(value ?? null)}`;
    case 'text':
      return typeof value === 'string' && value.length > 0
        ? oneOf(value)
        : `expected text, found ${JSON.stringify(value ?? null)}`;
  }
}

export const segmentKinds = ['dynamic', 'snapshot'] as const;
export const segmentBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().trim().max(2000).optional(),
    kind: z.enum(segmentKinds).default('dynamic').openapi({
      description: 'dynamic: members re-evaluated whenever used; snapshot: members fixed when saved (or refreshed)',
    }),
    rule: ruleSchema,
  })
  .openapi('SegmentBody');

// --- what the API answers

const valueTypes = ['text', 'number', 'date', 'days', 'none', 'list'] as const satisfies readonly ValueType[];
/** The catalogue a rule is written against (GET /segments/fields): the fields, and the values known now. */
export const catalogueSchema = z.object({
  fields: z.record(
    z.string(),
    z.object({
      label: z.string(),
      ops: z.record(z.string(), z.enum(valueTypes)),
      key: z.enum(['required', 'optional']).optional(),
      days: z.boolean().optional(),
      filter: z.string().optional(),
      values: z.array(z.string()).readonly().optional(),
    }),
  ),
  attributes: z.array(z.object({ key: z.string(), type: z.string() })),
  scores: z.record(z.string(), z.string()),
  channels: z.array(z.string()),
  categories: z.array(z.string()),
  surveys: z.array(z.string()),
  experiences: z.array(z.string()).openapi({ description: 'Experience kinds present as of the latest analysis' }),
});
export type Catalogue = z.infer<typeof catalogueSchema>;

/** A saved segment as its reader may see it (the rule with personal values withheld for an analyst). */
export const segmentSchema = z
  .object({
    id: z.number(),
    name: z.string(),
    description: z.string().nullable(),
    kind: z.enum(segmentKinds),
    rule: shownRuleSchema,
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    snapshotAt: z.string().nullable(),
    members: z.number().nullable().openapi({
      description:
        "A snapshot's members when taken; null for a dynamic segment, and for an analyst when the rule filters on a personal field",
    }),
  })
  .openapi('Segment');
export type ShownSegment = z.infer<typeof segmentSchema>;

export const segmentSummarySchema = z
  .object({
    customers: z.number(),
    byStage: z.record(z.string(), z.number()),
    meanPAlive: z.number().nullable(),
    predictedValue: z.number(),
    valueAtStake: z.number(),
    withSatisfaction: z.number(),
    satisfied: z.number(),
    meanSatisfaction: z.number().nullable(),
    scored: z.boolean().openapi({
      description: 'false before the first analysis: score conditions match nobody and the means are null',
    }),
  })
  .openapi('SegmentSummary');
export type SegmentSummary = z.infer<typeof segmentSummarySchema>;

export const segmentMemberSchema = z.object({
  id: z.number(),
  externalId: z.string().nullable(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  stage: z.string(),
  lastOrderAt: z.string().nullable(),
});
export type SegmentMember = z.infer<typeof segmentMemberSchema>;

/** Who a rule matches now, with a sample of them. */
export const segmentPreviewSchema = segmentSummarySchema.extend({ sample: z.array(segmentMemberSchema) });
export type SegmentPreview = z.infer<typeof segmentPreviewSchema>;
export const segmentDetailSchema = z.object({ segment: segmentSchema, summary: segmentSummarySchema });
export type SegmentDetail = z.infer<typeof segmentDetailSchema>;
