// Channel economics: what each channel brings (customers, orders, revenue, margin), how often
// something goes wrong there, whether its customers come back and what they are predicted to be
// worth, and, per acquisition channel, whether to put more or less into it. The API's schemas and
// the pure arithmetic over the figures the repository counts (no I/O here).
import { z } from '@hono/zod-openapi';
import { newcombe, wilson } from '../analytics/outcomes.ts';
import { compareMeans } from '../campaigns/measurement.ts';
import { channels, money } from '../ingest/event.ts';
import { addDecimal, multiplyDecimal, negateDecimal } from '../shared/decimal.ts';

/** Which of a customer's channels: where they were acquired, where they ordered, where we contacted them. */
export const channelKinds = ['acquisition', 'order', 'contact'] as const;
export type ChannelKind = (typeof channelKinds)[number];
/** What a cost is counted by: each order, each outbound contact, each month, each customer acquired. */
export const costBases = ['order', 'contact', 'month', 'customer'] as const;
export const verdicts = ['emphasise', 'keep', 'de_emphasise', 'too_small'] as const;

/** The windows and the smallest group the figures and the recommendation rest on (docs/analytics.md). */
export const economicsOptions = {
  /** An order belongs to the latest outbound contact at most this many days before it. */
  contactDays: 30,
  /** A second purchase counts when it is on a later day, at most this many days after the first. */
  secondPurchaseDays: 90,
  /** Only first orders at least this many days old count, so every buyer had the whole window. */
  observedDays: 90,
  /** Retained: bought in the last this many days, among those who had bought before them. */
  retentionDays: 365,
  /** No recommendation on fewer observed first-time buyers than this (in the channel or the rest). */
  minCustomers: 30,
};
export type EconomicsOptions = typeof economicsOptions;

const amount = z.string().openapi({ description: 'Money as a decimal string, in `currency`' });
const share = z.object({
  n: z.number(),
  x: z.number(),
  rate: z.number().nullable(),
  low: z.number().nullable(),
  high: z.number().nullable(),
});

export const channelCostSchema = z.object({
  kind: z.enum(channelKinds),
  channel: z.string(),
  per: z.enum(costBases),
  amount,
  updatedBy: z.string(),
  updatedAt: z.string(),
});
export type ChannelCost = z.infer<typeof channelCostSchema>;
export const channelCostsSchema = z.object({ costs: z.array(channelCostSchema).max(27) });

/** The whole set of costs: what is not in it has no cost any more. */
export const channelCostsBody = z
  .object({
    costs: z
      .array(
        z.object({
          kind: z.enum(channelKinds),
          channel: z.enum(channels),
          per: z.enum(costBases),
          amount: money,
        }),
      )
      .max(channelKinds.length * channels.length),
  })
  .superRefine((body, context) => {
    const seen = new Set<string>();
    body.costs.forEach((cost, i) => {
      const key = `${cost.kind}|${cost.channel}`;
      if (seen.has(key))
        context.addIssue({
          code: 'custom',
          path: ['costs', i, 'channel'],
          message: `a second cost for ${cost.kind} channel ${cost.channel}: one per kind and channel`,
        });
      seen.add(key);
      if (cost.per === 'contact' && cost.kind !== 'contact')
        context.addIssue({
          code: 'custom',
          path: ['costs', i, 'per'],
          message: 'a cost per contact is for a contact channel (kind contact)',
        });
    });
  });
export type ChannelCostsBody = z.infer<typeof channelCostsBody>;

const channelRowSchema = z.object({
  /** The channel; `unknown` where none was recorded, `none` (contact) where no contact came before. */
  channel: z.string(),
  customers: z.number(),
  buyers: z.number(),
  orders: z.number(),
  revenue: amount,
  returns: z.object({ count: z.number(), amount }),
  problems: z.object({
    incidents: z.number(),
    tickets: z.number(),
    total: z.number(),
    /** Of them, placed here through their order (they named no channel themselves). */
    viaOrder: z.number(),
    perThousandOrders: z.number().nullable(),
  }),
  /** Outbound contacts in this channel. */
  contacts: z.number(),
  satisfaction: z.object({
    answers: z.number(),
    /** Mean survey score on 0-100 (each answer read on its own scale). */
    meanScore: z.number().nullable(),
    npsAnswers: z.number(),
    nps: z.number().nullable(),
    /** Customers with a satisfaction index in the latest analysis, and their mean (0-100). */
    indexed: z.number(),
    meanIndex: z.number().nullable(),
  }),
  secondPurchase: share,
  retention: share,
  predictedValue: z.object({ customers: z.number(), mean: z.number().nullable() }),
  cost: z.object({ per: z.enum(costBases), amount, units: z.number(), total: amount }).nullable(),
  margin: amount.nullable(),
  costPerRetained: amount.nullable(),
});
export type ChannelRow = z.infer<typeof channelRowSchema>;

const recommendationSchema = z.object({
  channel: z.string(),
  verdict: z.enum(verdicts),
  evidence: z.string(),
  n: z.number(),
  secondPurchase: z
    .object({ rate: z.number(), rest: z.number(), difference: z.number(), low: z.number(), high: z.number() })
    .nullable(),
  predictedValue: z
    .object({
      mean: z.number(),
      rest: z.number(),
      relative: z.number().nullable(),
      low: z.number().nullable(),
      high: z.number().nullable(),
    })
    .nullable(),
  costPerRetained: z.object({ channel: z.number().nullable(), rest: z.number().nullable() }).nullable(),
});
export type Recommendation = z.infer<typeof recommendationSchema>;

export const economicsSchema = z.object({
  asOf: z.string(),
  /** The currency of the orders; null when none is recorded. With several, all are added as they are (see warnings). */
  currency: z.string().nullable(),
  currencies: z.array(z.string()).max(200),
  /** Months from the first order to now: what a cost per month is multiplied by. */
  months: z.number(),
  run: z.object({ id: z.number(), asOf: z.string() }).nullable(),
  options: z.object({
    contactDays: z.number(),
    secondPurchaseDays: z.number(),
    observedDays: z.number(),
    retentionDays: z.number(),
    minCustomers: z.number(),
  }),
  kinds: z
    .array(
      z.object({
        kind: z.enum(channelKinds),
        channels: z.array(channelRowSchema).max(20),
        problems: z.object({ total: z.number(), viaOrder: z.number(), unplaced: z.number() }),
        returnsUnplaced: z.number(),
      }),
    )
    .max(3),
  /** Later orders (every order after a customer's first) by acquisition channel and the order's channel. */
  movement: z.object({
    from: z.array(z.string()).max(20),
    to: z.array(z.string()).max(20),
    cells: z.array(z.object({ from: z.string(), to: z.string(), orders: z.number(), customers: z.number() })).max(400),
  }),
  recommendations: z.array(recommendationSchema).max(20),
  warnings: z.array(z.string()).max(10),
});
export type Economics = z.infer<typeof economicsSchema>;

/** What the repository counts per kind and channel of orders: a null channel holds what could not be placed. */
export interface OrderTally {
  kind: ChannelKind;
  channel: string | null;
  orders: number;
  revenue: string;
  returns: number;
  returned: string;
  incidents: number;
  tickets: number;
  viaOrder: number;
}
/** What the repository counts per kind and channel of customers (each customer in one channel of each kind). */
export interface CustomerTally {
  kind: ChannelKind;
  channel: string;
  customers: number;
  buyers: number;
  observed: number;
  repeated: number;
  eligible: number;
  retained: number;
  scored: number;
  valueSum: number;
  valueSquares: number;
  indexed: number;
  indexSum: number;
  answers: number;
  answerSum: number;
  npsAnswers: number;
  promoters: number;
  detractors: number;
}
export interface EconomicsInput {
  now: Date;
  firstOrderAt: Date | null;
  currencies: { currency: string | null; orders: number }[];
  run: { id: number; asOf: string } | null;
  orders: OrderTally[];
  customers: CustomerTally[];
  contacts: { channel: string; contacts: number }[];
  movement: { from: string; to: string; orders: number; customers: number }[];
  costs: ChannelCost[];
}

const day = 86_400_000;
const round = (v: number, places: number) => Number(v.toFixed(places));
const orNull = (v: number) => (Number.isFinite(v) ? v : null);
const shareOf = (x: number, n: number) => {
  const w = wilson(x, n);
  return { n, x, rate: orNull(w.rate), low: orNull(w.low), high: orNull(w.high) };
};
const money2 = (v: string) => addDecimal(v, '0');
const minus = (a: string, b: string) => addDecimal(a, negateDecimal(b));

/** Months between the first order and now (a month is 365.25 / 12 days), to two decimals. */
export const monthsSince = (first: Date | null, now: Date) =>
  first ? round(Math.max(0, now.getTime() - first.getTime()) / day / (365.25 / 12), 2) : 0;

function channelRow(
  kind: ChannelKind,
  channel: string,
  input: EconomicsInput,
  months: number,
): ChannelRow & { costTotal: number | null } {
  const o = input.orders.find((t) => t.kind === kind && t.channel === channel);
  const c = input.customers.find((t) => t.kind === kind && t.channel === channel);
  const contacts = kind === 'contact' ? (input.contacts.find((t) => t.channel === channel)?.contacts ?? 0) : 0;
  const orders = o?.orders ?? 0;
  const revenue = money2(o?.revenue ?? '0');
  const returned = money2(o?.returned ?? '0');
  const problems = (o?.incidents ?? 0) + (o?.tickets ?? 0);
  const customers = c?.customers ?? 0;
  const cost = input.costs.find((k) => k.kind === kind && k.channel === channel);
  const units = cost ? { order: orders, contact: contacts, month: months, customer: customers }[cost.per] : 0;
  const total = cost ? multiplyDecimal(cost.amount, String(units)) : null;
  const retained = c?.retained ?? 0;
  return {
    channel,
    customers,
    buyers: c?.buyers ?? 0,
    orders,
    revenue,
    returns: { count: o?.returns ?? 0, amount: returned },
    problems: {
      incidents: o?.incidents ?? 0,
      tickets: o?.tickets ?? 0,
      total: problems,
      viaOrder: o?.viaOrder ?? 0,
      perThousandOrders: orders > 0 ? round((problems / orders) * 1000, 2) : null,
    },
    contacts,
    satisfaction: {
      answers: c?.answers ?? 0,
      meanScore: c?.answers ? round((c.answerSum / c.answers) * 100, 1) : null,
      npsAnswers: c?.npsAnswers ?? 0,
      nps: c?.npsAnswers ? Math.round((100 * (c.promoters - c.detractors)) / c.npsAnswers) : null,
      indexed: c?.indexed ?? 0,
      meanIndex: c?.indexed ? round(c.indexSum / c.indexed, 1) : null,
    },
    secondPurchase: shareOf(c?.repeated ?? 0, c?.observed ?? 0),
    retention: shareOf(retained, c?.eligible ?? 0),
    predictedValue: { customers: c?.scored ?? 0, mean: c?.scored ? round(c.valueSum / c.scored, 2) : null },
    cost: cost && total ? { per: cost.per, amount: money2(cost.amount), units, total } : null,
    margin: total ? minus(minus(revenue, returned), total) : null,
    costPerRetained: total && retained > 0 ? (Number(total) / retained).toFixed(2) : null,
    costTotal: total ? Number(total) : null,
  };
}

/** Channels first by customers then orders, most first; unknown and none last. */
const channelOrder = (a: ChannelRow, b: ChannelRow) =>
  Number(['unknown', 'none'].includes(a.channel)) - Number(['unknown', 'none'].includes(b.channel)) ||
  b.customers - a.customers ||
  b.orders - a.orders ||
  a.channel.localeCompare(b.channel);

/** The whole report from the repository's counts, the costs people set, and the options. */
export function channelEconomics(input: EconomicsInput, options: EconomicsOptions = economicsOptions): Economics {
  const months = monthsSince(input.firstOrderAt, input.now);
  const currencies = input.currencies.filter((c) => c.currency !== null).map((c) => c.currency!);
  const kinds = channelKinds.map((kind) => {
    const names = new Set<string>();
    for (const t of [...input.orders, ...input.customers]) if (t.kind === kind && t.channel) names.add(t.channel);
    for (const cost of input.costs) if (cost.kind === kind) names.add(cost.channel);
    if (kind === 'contact') for (const t of input.contacts) names.add(t.channel);
    const rows = [...names].map((channel) => channelRow(kind, channel, input, months)).sort(channelOrder);
    const unplaced = input.orders.find((t) => t.kind === kind && t.channel === null);
    const placed = rows.reduce((sum, r) => sum + r.problems.total, 0);
    return {
      kind,
      rows,
      problems: {
        total: placed + (unplaced ? unplaced.incidents + unplaced.tickets : 0),
        viaOrder: rows.reduce((sum, r) => sum + r.problems.viaOrder, 0),
        unplaced: unplaced ? unplaced.incidents + unplaced.tickets : 0,
      },
      returnsUnplaced: unplaced?.returns ?? 0,
    };
  });
  const currency = currencies[0] ?? null;
  const warnings: string[] = [];
  if (currencies.length > 1)
    warnings.push(
      `Orders are in ${currencies.length} currencies (${currencies.join(', ')}); amounts are added as they are, without conversion`,
    );
  if (!input.run)
    warnings.push('No analysis yet: predicted values and the satisfaction index fill in after the first one');
  const acquisition = kinds[0].rows;
  const from = [...new Set(input.movement.map((m) => m.from))].sort();
  const to = [...new Set(input.movement.map((m) => m.to))].sort();
  return {
    asOf: input.now.toISOString(),
    currency,
    currencies,
    months,
    run: input.run,
    options,
    kinds: kinds.map(({ rows, ...k }) => ({ ...k, channels: rows.map(({ costTotal: _, ...row }) => row) })),
    movement: { from, to, cells: input.movement },
    recommendations: recommend(acquisition, input, options, currency),
    warnings,
  };
}

const words = (channel: string) => channel.replace(/_/g, ' ');
const percent = (v: number) => `${Math.round(v * 100)} %`;
/** A share or ratio as signed points or percent: +12, -3; one decimal under 1, so a bound near 0 keeps its side. */
const signed = (v: number) => {
  const p = Math.abs(v * 100);
  return `${v >= 0 ? '+' : '-'}${p < 1 ? p.toFixed(1) : Math.round(p)}`;
};
const verdictWords = { emphasise: 'emphasise', keep: 'keep', de_emphasise: 'de-emphasise', too_small: 'too small' };

/**
 * Per acquisition channel: emphasise, keep or de-emphasise, against all other customers. Each of
 * three signs counts when clear: the second-purchase rate and the mean predicted value, each when
 * the 95 % interval of the difference excludes 0, and the cost per retained customer, when costs
 * are set, when its interval (from the retention rate's Wilson interval) does not overlap the other
 * costed channels'. Emphasise when a sign is clearly better and none clearly worse; de-emphasise the
 * other way round; keep otherwise. Fewer than `minCustomers` observed first-time buyers: too small.
 */
function recommend(
  rows: (ChannelRow & { costTotal: number | null })[],
  input: EconomicsInput,
  options: EconomicsOptions,
  currency: string | null,
): Recommendation[] {
  const cash = (v: number) => `${v.toFixed(2)}${currency ? ` ${currency}` : ''}`;
  const tallies = input.customers.filter((t) => t.kind === 'acquisition');
  const result: Recommendation[] = [];
  for (const row of rows) {
    if (row.channel === 'unknown') continue;
    const own = tallies.find((t) => t.channel === row.channel);
    const rest = tallies.filter((t) => t.channel !== row.channel);
    const sum = (key: keyof CustomerTally) => rest.reduce((s, t) => s + (t[key] as number), 0);
    const n = row.secondPurchase.n;
    const restN = sum('observed');
    const empty = { secondPurchase: null, predictedValue: null, costPerRetained: null };
    if (n < options.minCustomers || restN < options.minCustomers) {
      result.push({
        channel: row.channel,
        verdict: 'too_small',
        n,
        evidence:
          n < options.minCustomers
            ? `Too few customers to say (n = ${n})`
            : `Too few customers from the other channels to compare with (n = ${restN})`,
        ...empty,
      });
      continue;
    }
    const signs: number[] = [];
    const parts: string[] = [];
    const repeat = newcombe({ x: row.secondPurchase.x, n }, { x: sum('repeated'), n: restN });
    const restRate = sum('repeated') / restN;
    signs.push(repeat.low > 0 ? 1 : repeat.high < 0 ? -1 : 0);
    parts.push(
      `Customers from ${words(row.channel)} come back ${percent(row.secondPurchase.rate ?? 0)} of the time against ${percent(restRate)} for the others [${signed(repeat.low)}, ${signed(repeat.high)} points]`,
    );
    let predictedValue: Recommendation['predictedValue'] = null;
    if (!input.run) parts.push('no analysis yet to predict their value');
    else if (!own || own.scored < options.minCustomers || sum('scored') < options.minCustomers)
      parts.push('too few of them scored to compare predicted value');
    else {
      const value = compareMeans(
        { n: own.scored, sum: own.valueSum, squares: own.valueSquares },
        { n: sum('scored'), sum: sum('valueSum'), squares: sum('valueSquares') },
      );
      predictedValue = {
        mean: round(value.treated, 2),
        rest: round(value.control, 2),
        relative: value.relative === null ? null : round(value.relative, 4),
        low: value.relativeLow === null ? null : round(value.relativeLow, 4),
        high: value.relativeHigh === null ? null : round(value.relativeHigh, 4),
      };
      const sign = value.low > 0 ? 1 : value.high < 0 ? -1 : 0;
      signs.push(sign);
      const range =
        value.relativeLow !== null && value.relativeHigh !== null
          ? ` [${signed(value.relativeLow)}, ${signed(value.relativeHigh)} %]`
          : '';
      parts.push(
        sign === 0 || value.relative === null
          ? `their predicted value is much the same (${value.relative === null ? 'the others have none' : `${signed(value.relative)} %`}${range})`
          : `their predicted value is ${Math.abs(Math.round(value.relative * 100))} % ${sign > 0 ? 'higher' : 'lower'}${range}`,
      );
    }
    let costPerRetained: Recommendation['costPerRetained'] = null;
    if (row.costTotal !== null && own) {
      if (own.eligible < options.minCustomers)
        parts.push(`too few earlier buyers (n = ${own.eligible}) to judge the cost per retained customer`);
      else {
        const costed = rows.filter((r) => r !== row && r.costTotal !== null);
        const others = tallies.filter((t) => costed.some((r) => r.channel === t.channel));
        const restCost = costed.reduce((s, r) => s + r.costTotal!, 0);
        const restEligible = others.reduce((s, t) => s + t.eligible, 0);
        const restRetained = others.reduce((s, t) => s + t.retained, 0);
        const channelCost = own.retained > 0 ? row.costTotal / own.retained : null;
        const restValue = restRetained > 0 ? restCost / restRetained : null;
        costPerRetained = {
          channel: channelCost === null ? null : round(channelCost, 2),
          rest: restValue === null ? null : round(restValue, 2),
        };
        const mine =
          channelCost === null
            ? `none of ${own.eligible} earlier buyers came back for the ${cash(row.costTotal)} spent`
            : `each retained customer costs ${cash(channelCost)}`;
        if (restEligible < options.minCustomers) parts.push(`${mine} (no other channel with a cost to compare with)`);
        else {
          // Cost over retained customers at the ends of the retention rate's interval: overlapping ranges are no sign.
          const range = (cost: number, retained: number, eligible: number) => {
            const w = wilson(retained, eligible);
            return { low: cost / (eligible * w.high), high: w.low > 0 ? cost / (eligible * w.low) : Infinity };
          };
          const a = range(row.costTotal, own.retained, own.eligible);
          const b = range(restCost, restRetained, restEligible);
          const sign = a.high < b.low ? 1 : a.low > b.high ? -1 : 0;
          signs.push(sign);
          parts.push(
            `${mine} against ${restValue === null ? 'none retained' : cash(restValue)} for the other channels with costs${sign > 0 ? ' (clearly less)' : sign < 0 ? ' (clearly more)' : ''}`,
          );
        }
      }
    }
    const better = signs.some((s) => s > 0);
    const worse = signs.some((s) => s < 0);
    const verdict = better && !worse ? 'emphasise' : worse && !better ? 'de_emphasise' : 'keep';
    const why = verdict !== 'keep' ? '' : better ? 'the signs disagree, ' : 'no clear difference, ';
    result.push({
      channel: row.channel,
      verdict,
      n,
      evidence: `${parts.join('; ')}: ${why}${verdictWords[verdict]}`,
      secondPurchase: {
        rate: round(row.secondPurchase.rate ?? 0, 4),
        rest: round(restRate, 4),
        difference: round(repeat.difference, 4),
        low: round(repeat.low, 4),
        high: round(repeat.high, 4),
      },
      predictedValue,
      costPerRetained,
    });
  }
  return result;
}
