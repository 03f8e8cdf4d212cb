// A customer as they stood on a given day, read from their history: what the uplift model learns
// from (the state when an assignment was drawn) and scores with (the state at as-of), and what
// happened next. Also the causes of leaving in words, from an exit answer or from the drivers.
// Pure functions over CustomerHistory (history.ts).
import { z } from '@hono/zod-openapi';
import { experienceCountSchema, experienceKindSchema } from '../experiences/index.ts';
import type { Columns } from './learn.ts';
import type { CustomerHistory } from './history.ts';

export interface CustomerState {
  orders: number;
  spend: number;
  recencyDays: number;
  tenureDays: number;
  /** Days between orders on average; NaN with one order. */
  averageGap: number;
  /** Problems in the window, those nobody followed up, gestures (gifts, offers) received. */
  problems: number;
  unfollowed: number;
  gestures: number;
  stage: 'prospect' | 'trial' | 'customer';
}

/** The customer at day `t`: orders strictly before it, experiences in the `windowDays` before it. */
export function stateAt(h: CustomerHistory, t: number, windowDays = 90, followUpDays = 2): CustomerState {
  let orders = 0;
  let spend = 0;
  let first = Number.NaN;
  let last = Number.NaN;
  for (const o of h.orders) {
    if (o.at >= t) break;
    if (orders === 0) first = o.at;
    last = o.at;
    orders++;
    spend += o.total;
  }
  let problems = 0;
  let unfollowed = 0;
  let gestures = 0;
  for (const e of h.experiences) {
    if (e.at >= t) break;
    if (e.at <= t - windowDays) continue;
    if (e.valence === 'gesture') gestures++;
    else {
      problems++;
      if (e.followedUpAt === null || e.followedUpAt - e.at > followUpDays) unfollowed++;
    }
  }
  return {
    orders,
    spend,
    recencyDays: orders ? t - last : Number.NaN,
    tenureDays: orders ? t - first : Number.NaN,
    averageGap: orders > 1 ? (last - first) / (orders - 1) : Number.NaN,
    problems,
    unfollowed,
    gestures,
    stage: orders === 0 ? 'prospect' : orders === 1 ? 'trial' : 'customer',
  };
}

/** Whether the customer ordered in (t, t + days], and what they spent there. */
export function outcomeAfter(h: CustomerHistory, t: number, days: number): { bought: 0 | 1; value: number } {
  let bought: 0 | 1 = 0;
  let value = 0;
  for (const o of h.orders)
    if (o.at > t && o.at <= t + days) {
      bought = 1;
      value += o.total;
    }
  return { bought, value };
}

/** The features the uplift model reads, one row per (customer, day): the state then, channel and main category. */
export function stateColumns(rows: { h: CustomerHistory | undefined; t: number }[]): Columns {
  const n = rows.length;
  const numeric: Record<string, Float64Array> = {};
  for (const name of [
    'orders',
    'spend',
    'recency_days',
    'tenure_days',
    'average_gap',
    'overdue',
    'problems',
    'unfollowed',
    'gestures',
  ])
    numeric[name] = new Float64Array(n).fill(Number.NaN);
  const categories = {
    stage: new Map<string, number>(),
    channel: new Map<string, number>(),
    category: new Map<string, number>(),
  };
  const codes = {
    stage: new Int32Array(n).fill(-1),
    channel: new Int32Array(n).fill(-1),
    category: new Int32Array(n).fill(-1),
  };
  const code = (map: Map<string, number>, value: string) => {
    let c = map.get(value);
    if (c === undefined) map.set(value, (c = map.size));
    return c;
  };
  rows.forEach(({ h, t }, i) => {
    if (!h) return;
    const s = stateAt(h, t);
    numeric.orders[i] = s.orders;
    numeric.spend[i] = s.spend;
    numeric.recency_days[i] = s.recencyDays;
    numeric.tenure_days[i] = s.tenureDays;
    numeric.average_gap[i] = s.averageGap;
    // How late against their own habit: silence over the usual gap (NaN for one-time buyers).
    numeric.overdue[i] = s.recencyDays / s.averageGap;
    numeric.problems[i] = s.problems;
    numeric.unfollowed[i] = s.unfollowed;
    numeric.gestures[i] = s.gestures;
    codes.stage[i] = code(categories.stage, s.stage);
    if (h.channel) codes.channel[i] = code(categories.channel, h.channel);
    if (h.category) codes.category[i] = code(categories.category, h.category);
  });
  const names = (map: Map<string, number>) => [...map.keys()];
  const categorical: Columns['categorical'] = {
    stage: { codes: codes.stage, names: names(categories.stage) },
    channel: { codes: codes.channel, names: names(categories.channel) },
    category: { codes: codes.category, names: names(categories.category) },
  };
  // Custom attributes as they stand now: numbers as numbers, the rest as categories (up to 50 values).
  const keys = new Set<string>();
  for (const { h } of rows) for (const key of Object.keys(h?.attributes ?? {})) keys.add(key);
  for (const key of [...keys].sort()) {
    const values = rows.map(({ h }) => h?.attributes?.[key] ?? null);
    if (values.every((v) => v === null || typeof v === 'number'))
      numeric[`attribute_${key}`] = Float64Array.from(values, (v) => (v === null ? Number.NaN : (v as number)));
    else {
      const map = new Map<string, number>();
      const column = Int32Array.from(values, (v) => (v === null ? -1 : code(map, String(v))));
      if (map.size <= 50) categorical[`attribute_${key}`] = { codes: column, names: names(map) };
    }
  }
  return { numeric, categorical };
}

/** Causes of leaving an exit answer can name, with the words that say so. */
const exitCauses: [cause: string, pattern: RegExp][] = [
  ['service: nobody answered or helped', /answer|respon|reply|email|nobody|support|help|service|ignored|waiting/i],
  ['refund or return trouble', /refund|return|portal/i],
  ['delivery: late or lost', /deliver|late|ship|lost|arriv/i],
  ['product: wrong, damaged or poor quality', /wrong|damag|broke|quality|defect|faulty/i],
  ['price: too expensive', /price|expens|cost|cheaper|afford/i],
  ['no longer needed', /need|moved|no longer|don't use|do not use/i],
];

/** The cause an exit answer names, in words; "other: ..." with the answer itself when none is recognised. */
export function exitCause(answer: string): string {
  for (const [cause, pattern] of exitCauses) if (pattern.test(answer)) return cause;
  return 'other (see the answer)';
}

/** The cause label of an experience kind, as the monthly report groups them. */
export const experienceCause = (kind: string) => `${kind.replaceAll('_', ' ')} (no follow-up)`;
export const driftedAway = 'no recorded problem: drifted away';

/** Month key YYYY-MM of a day number. */
export const monthOf = (day: number) => new Date(day * 86_400_000).toISOString().slice(0, 7);

// --- what the API answers

const share = z.object({ n: z.number(), rate: z.number(), low: z.number(), high: z.number() });
const bands = z
  .record(z.string(), z.object({ count: z.number(), share: z.number() }))
  .openapi({ description: 'What happened in the next 180 days: none (lapsed), low, mid, high value' });
const difference = z.object({ difference: z.number(), low: z.number(), high: z.number() });

export const outcomeCellSchema = z
  .object({
    key: z.string().openapi({ description: 'stage|valueBand|channel|kind|occurrence|followedUp; * = any' }),
    stage: z.string(),
    valueBand: z.string(),
    channel: z.string(),
    kind: z.string(),
    valence: z.enum(['problem', 'gesture']),
    occurrence: z.enum(['first', 'repeated', 'all']),
    followedUp: z.enum(['yes', 'no', 'all']),
    n: z.number(),
    boughtAgain: z.number(),
    rate: z.number().openapi({ description: 'Share who bought again within the window' }),
    low: z.number(),
    high: z.number(),
    meanValue: z.number(),
    bands,
    baseline: share.extend({ bands }).nullable().openapi({ description: 'The same type without the experience' }),
    difference: difference.openapi({ description: 'rate - baseline rate, with a 95 % Newcombe interval' }),
    followUpEffect: difference
      .extend({ yes: share, no: share })
      .nullable()
      .optional()
      .openapi({ description: 'Followed up against not, within the type' }),
    small: z.boolean().openapi({ description: 'Fewer than the minimum cell size: read with care (never hidden)' }),
  })
  .openapi('OutcomeCell');

export const outcomesReportSchema = z
  .object({
    runId: z.number(),
    asOf: z.string(),
    options: z.record(z.string(), z.number()),
    valueCuts: z.object({ prior: z.tuple([z.number(), z.number()]), future: z.tuple([z.number(), z.number()]) }),
    kinds: z.array(z.string()),
    anchors: z.object({ exposed: z.number(), control: z.number() }),
    sampleEvery: z
      .number()
      .openapi({ description: '1, or k when the tables read every k-th customer of a very large base' }),
    segment: z
      .object({ id: z.number(), name: z.string() })
      .optional()
      .openapi({ description: 'When asked for one: the saved segment whose members the tables are about' }),
    cells: z.array(outcomeCellSchema),
  })
  .openapi('OutcomeTables');

export const outcomeCustomersSchema = z.object({
  runId: z.number().nullable(),
  customers: z.array(
    z.object({
      customerId: z.number(),
      externalId: z.string().nullable(),
      name: z.string().nullable(),
      stage: z.string(),
      cell: z.string(),
      at: z.string(),
      boughtAgain: z.boolean(),
      valueBand: z.string(),
      value: z.string(),
    }),
  ),
});

const driverSchema = z.object({
  name: z.string(),
  label: z.string(),
  hazardRatio: z.number(),
  low: z.number(),
  high: z.number(),
  at: z.number().nullable().optional(),
});

export const driversReportSchema = z
  .object({
    runId: z.number(),
    asOf: z.string(),
    definition: z.record(z.string(), z.number()),
    model: z
      .object({
        covariates: z.array(
          z.object({
            name: z.string(),
            coefficient: z.number(),
            se: z.number(),
            hazardRatio: z.number(),
            low: z.number(),
            high: z.number(),
            p: z.number(),
          }),
        ),
        rows: z.number(),
        events: z.number(),
      })
      .passthrough()
      .nullable(),
    whyLeft: z.array(z.object({ month: z.string(), lapsed: z.number(), causes: z.record(z.string(), z.number()) })),
    exitReasons: z.array(
      z.object({
        cause: z.string(),
        customers: z.number(),
        answers: z.array(z.object({ answer: z.string(), customers: z.number() })),
      }),
    ),
    withDrivers: z.number(),
  })
  .openapi('DriversOfLeaving');

export const upliftReportSchema = z
  .object({
    runId: z.number(),
    asOf: z.string(),
    days: z.number(),
    source: z.enum(['model', 'holdouts', 'assumed']),
    effect: z.number(),
    trials: z.number(),
    bySource: z.array(z.object({ source: z.string(), treated: z.number(), control: z.number() })),
    byType: z.record(z.string(), z.unknown()).nullable(),
    model: z.record(z.string(), z.unknown()).nullable(),
    reason: z.string().nullable(),
    policy: z.record(z.string(), z.unknown()).nullable(),
    scored: z.number(),
    costs: z.record(z.string(), z.number()),
    holdoutShare: z.number(),
  })
  .openapi('Uplift');

export const experienceCatalogueSchema = z.object({
  kinds: z.array(experienceKindSchema.extend({ counts: experienceCountSchema.nullable() })),
});

export const postMortemSchema = z
  .object({
    customerId: z.number(),
    name: z.string().nullable(),
    stage: z.string(),
    lastOrderAt: z.string().nullable(),
    silentDays: z.number().nullable(),
    lapsed: z.boolean(),
    lapseDays: z.number(),
    cause: z.object({ cause: z.string(), from: z.enum(['exit answer', 'drivers', 'nothing on record']) }),
    exitAnswer: z.object({ answer: z.string(), at: z.string() }).nullable(),
    experiences: z.array(z.record(z.string(), z.unknown())),
    unresolved: z.array(z.record(z.string(), z.unknown())),
    contacts: z.array(z.record(z.string(), z.unknown())),
    drivers: z.array(driverSchema),
    modelRunId: z.number().nullable(),
  })
  .openapi('PostMortem');
