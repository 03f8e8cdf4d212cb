// Segments: who a campaign, a journey or a report is about, as a rule over everything Kept knows of
// a customer. The rule is JSON (the UI's builder and the API write the same shape), checked against
// the field catalogue below before it is compiled to one SQL query.
import { z } from '@hono/zod-openapi';

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
export interface Rule { match: 'all' | 'any'; conditions: (Condition | Rule)[] }

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

const text = { is: 'text', is_not: 'text', contains: 'text', starts_with: 'text', is_set: 'none', is_not_set: 'none' } as const;
const choice = { is: 'text', is_not: 'text', in: 'list', is_set: 'none', is_not_set: 'none' } as const;
const instant = { before: 'date', after: 'date', in_last_days: 'days', not_in_last_days: 'days', is_set: 'none', is_not_set: 'none' } as const;
const count = { at_least: 'number', at_most: 'number', exactly: 'number' } as const;
const number = { gt: 'number', gte: 'number', lt: 'number', lte: 'number', is_set: 'none', is_not_set: 'none' } as const;

export const stages = ['prospect', 'trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back', 'suppressed'] as const;
export const flags = ['deceased', 'moved', 'undeliverable', 'do_not_contact'] as const;
/** Scores of the latest analysis a segment may test, by their column. */
export const scoreColumns = {
  p_alive: 'probability still active (0-1)', churn_probability: 'churn probability (0-1)', expected_90: 'expected purchases in 90 days',
  expected_365: 'expected purchases in 365 days', predicted_value_365: 'predicted value over 365 days', historic_value: 'historic value',
  value_at_stake: 'value at stake', expected_order_value: 'expected value per order', frequency: 'repeat purchase days', recency_days: 'days since last order',
  average_days_between: 'average days between orders', recency_score: 'R score (1-5)', frequency_score: 'F score (1-5)', monetary_score: 'M score (1-5)',
  satisfaction: 'satisfaction index (0-100)',
} as const;

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
  attribute: { label: 'Custom attribute', key: 'required', ops: { ...number, is: 'text', is_not: 'text', contains: 'text', before: 'date', after: 'date', is_true: 'none', is_false: 'none' } },
  score: { label: 'Score (latest analysis)', key: 'required', ops: number, values: Object.keys(scoreColumns) },
  orders: { label: 'Orders', ops: count, days: true, filter: 'order channel' },
  spend: { label: 'Spend', ops: { at_least: 'number', at_most: 'number' }, days: true },
  category_bought: { label: 'Bought from category', ops: { is: 'text', is_not: 'text' }, days: true },
  product_bought: { label: 'Bought product', ops: { is: 'text', is_not: 'text', contains: 'text' }, days: true },
  returns: { label: 'Returns', ops: count, days: true, filter: 'reason code' },
  tickets: { label: 'Tickets', ops: count, days: true, filter: 'category' },
  incidents: { label: 'Incidents', ops: count, days: true, filter: 'kind' },
  survey_score: { label: 'Survey answer score', key: 'optional', ops: { at_least: 'number', at_most: 'number' }, days: true },
  consent: { label: 'Consent', key: 'optional', ops: { granted: 'none', not_granted: 'none', withdrawn: 'none' } },
} as const satisfies Record<string, FieldDefinition>;
export type FieldName = keyof typeof fields;
export const fieldNames = Object.keys(fields) as [FieldName, ...FieldName[]];

export const conditionSchema = z.object({
  field: z.enum(fieldNames),
  op: z.string().min(1).max(40),
  value: z.union([z.string().max(500), z.number().finite(), z.boolean(), z.array(z.string().max(500)).max(200)]).optional(),
  key: z.string().trim().min(1).max(100).optional(),
  days: z.number().int().min(1).max(36_500).optional(),
  filter: z.string().trim().min(1).max(100).optional(),
}).openapi('SegmentCondition');

/** Groups nest up to this deep; more is a rule nobody can read. */
export const maxDepth = 4;
export const maxConditions = 100;

export const ruleSchema: z.ZodType<Rule> = z.lazy(() => z.object({
  match: z.enum(['all', 'any']),
  conditions: z.array(z.union([conditionSchema, ruleSchema])).max(maxConditions),
})).openapi('SegmentRule', { description: 'All (AND) or any (OR) of the conditions; a condition may be a group' });

export const isGroup = (c: Condition | Rule): c is Rule => 'match' in c;

export interface RuleIssue { path: string; message: string }

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
      const field: FieldDefinition = fields[c.field];
      const type = (field.ops as Record<string, ValueType>)[c.op];
      if (!type) return issues.push({ path: `${at}.op`, message: `${c.field} takes ${Object.keys(field.ops).join(', ')}; found ${JSON.stringify(c.op)}` });
      if (field.key === 'required' && !c.key) return issues.push({ path: `${at}.key`, message: `${c.field} needs a key (${c.field === 'score' ? Object.keys(scoreColumns).join(', ') : 'the attribute name'})` });
      if (c.field === 'score' && !(c.key! in scoreColumns)) return issues.push({ path: `${at}.key`, message: `unknown score ${JSON.stringify(c.key)}; scores: ${Object.keys(scoreColumns).join(', ')}` });
      if (c.field === 'attribute') {
        const declared = attributeTypes.get(c.key!);
        if (!declared) return issues.push({ path: `${at}.key`, message: `no custom attribute ${JSON.stringify(c.key)}` });
        const fits: Record<string, string[]> = { number: ['gt', 'gte', 'lt', 'lte', 'is', 'is_not'], text: ['is', 'is_not', 'contains'], boolean: ['is_true', 'is_false'], date: ['before', 'after', 'is', 'is_not'] };
        if (!['is_set', 'is_not_set'].includes(c.op) && !fits[declared]?.includes(c.op)) {
          return issues.push({ path: `${at}.op`, message: `${c.key} is a ${declared} attribute: it takes ${[...(fits[declared] ?? []), 'is_set', 'is_not_set'].join(', ')}` });
        }
      }
      if (c.days !== undefined && !('days' in field)) issues.push({ path: `${at}.days`, message: `${c.field} has no time window` });
      if (c.filter !== undefined && !('filter' in field)) issues.push({ path: `${at}.filter`, message: `${c.field} takes no filter` });
      const expected = c.field === 'attribute' && attributeTypes.get(c.key!) === 'number' && ['is', 'is_not'].includes(c.op) ? 'number' : type;
      const problem = valueProblem(expected, c.value, field.values && ['stage', 'flag'].includes(c.field) ? field.values : undefined);
      if (problem) issues.push({ path: `${at}.value`, message: problem });
    });
  };
  walk(rule, '', 1);
  if (conditions > maxConditions) issues.push({ path: 'conditions', message: `at most ${maxConditions} conditions` });
  return issues;
}

function valueProblem(type: ValueType, value: Condition['value'], allowed?: readonly string[]): string | undefined {
  const oneOf = (v: string) => (allowed && !allowed.includes(v) ? `expected one of ${allowed.join(', ')}, found ${JSON.stringify(v)}` : undefined);
  switch (type) {
    case 'none': return value === undefined ? undefined : 'takes no value';
    case 'number': return typeof value === 'number' ? undefined : `expected a number, found ${JSON.stringify(value ?? null)}`;
    case 'days': return typeof value === 'number' && Number.isInteger(value) && value > 0 ? undefined : `expected a whole number of days, found ${JSON.stringify(value ?? null)}`;
    case 'date': return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : `expected a date YYYY-MM-DD, found ${JSON.stringify(value ?? null)}`;
    case 'list': return Array.isArray(value) && value.length > 0 ? value.map(oneOf).find(Boolean) : `expected a list of values, found ${JSON.stringify(value ?? null)}`;
    case 'text': return typeof value === 'string' && value.length > 0 ? oneOf(value) : `expected text, found ${JSON.stringify(value ?? null)}`;
  }
}

export const segmentKinds = ['dynamic', 'snapshot'] as const;
export const segmentBody = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(2000).optional(),
  kind: z.enum(segmentKinds).default('dynamic').openapi({ description: 'dynamic: members re-evaluated whenever used; snapshot: members fixed when saved (or refreshed)' }),
  rule: ruleSchema,
}).openapi('SegmentBody');
