// Is marketing working overall: the whole programme (every campaign and journey) against the
// universal control group, month by month and over the span, on buying, revenue per customer and
// retention, with the control group's health and the programme's volume. The API's schema and the
// pure arithmetic over the tallies lift.repository.ts counts (no I/O here).
import { z } from '@hono/zod-openapi';
import { comparisonSchema } from './campaign.ts';
import { compareMeans, compareProportions, holdoutWarning, type Comparison } from './measurement.ts';

/** What the repository counts for one period and one group (control or marketed to). */
export interface GroupTally {
  period: string;
  control: boolean;
  /** Customers who existed at the start of the period. */
  customers: number;
  /** Of them, who ordered in the period. */
  buyers: number;
  /** Their order totals in the period: exact, and as a float with the sum of squares per customer. */
  revenueText: string;
  revenue: number;
  squares: number;
  /** Of them, who had ordered before the period, and of those who ordered in it. */
  repeatCustomers: number;
  retained: number;
}

/** A period: a calendar month ('YYYY-MM') in the business time zone, or the whole span ('span'). */
export interface PeriodBounds {
  period: string;
  from: Date;
  to: Date;
}

export interface ProgrammeInput {
  share: number;
  timeZone: string;
  months: number;
  now: Date;
  periods: PeriodBounds[];
  tallies: GroupTally[];
  /** Marketing messages by month and where they came from. */
  volume: { month: string; source: VolumeSource; messages: number }[];
  control: { size: number; customers: number; byProgramme: { programme: string; n: number }[]; touched: number };
}

export const volumeSources = ['campaigns', 'journeys', 'elsewhere'] as const;
export type VolumeSource = (typeof volumeSources)[number];

const groupSchema = z.object({
  /** Customers who existed at the start of the period (created or first ordered before it). */
  customers: z.number(),
  buyers: z.number(),
  purchaseRate: z.number().nullable(),
  revenue: z.string().openapi({ description: 'Their order totals in the period, a decimal string' }),
  revenuePerCustomer: z.number().nullable(),
  /** Those who had ordered before the period; retention is the share of them who ordered in it. */
  repeatCustomers: z.number(),
  retained: z.number(),
  retention: z.number().nullable(),
});
const measureSchema = z.object({
  /** Marketed to against the control group; null when one of the two is empty. */
  comparison: comparisonSchema.nullable(),
  /** Why the comparison cannot be trusted to have seen an effect; null when it can. */
  warning: z.string().nullable(),
});
const periodSchema = z.object({
  period: z.string().openapi({ description: "A month as YYYY-MM in the business time zone, or 'span'" }),
  from: z.string(),
  to: z.string(),
  /** False for the month under way (counted up to now). */
  complete: z.boolean(),
  control: groupSchema,
  marketed: groupSchema,
  purchase: measureSchema,
  revenuePerCustomer: measureSchema,
  retention: measureSchema,
});
export const programmeLiftSchema = z
  .object({
    /** Share of customers in the universal control group (KEPT_UNIVERSAL_CONTROL). */
    share: z.number(),
    timeZone: z.string(),
    months: z.number(),
    /** The whole span in one sentence: the headline. */
    headline: z.string(),
    span: periodSchema,
    monthly: z.array(periodSchema),
    control: z.object({
      /** Customers in the universal control group now, of all customers. */
      size: z.number(),
      customers: z.number(),
      /** Control members any marketing programme reached in the span: 0 when the group is clean. */
      touched: z.number(),
      byProgramme: z.array(z.object({ programme: z.string(), n: z.number() })),
      health: z.string(),
    }),
    /** Marketing messages that went out each month: campaigns, journeys, and campaigns recorded from elsewhere. */
    volume: z.array(
      z.object({
        month: z.string(),
        messages: z.number(),
        campaigns: z.number(),
        journeys: z.number(),
        elsewhere: z.number(),
      }),
    ),
  })
  .openapi('ProgrammeLift');
export type ProgrammeLift = z.infer<typeof programmeLiftSchema>;
export type ProgrammePeriod = ProgrammeLift['span'];

const round = (c: Comparison): Comparison =>
  Object.fromEntries(
    Object.entries(c).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(6)) : v]),
  ) as Comparison;
const shareOf = (x: number, n: number) => (n > 0 ? x / n : null);
const percentWords = (share: number) => `${Number((share * 100).toFixed(1))} %`;
const signed = (v: number, digits = 1) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(digits)}`;
const money = (v: number) => v.toFixed(2);

// measurement.ts words its warnings for a campaign's holdout; here the holdout is the control group.
const controlWords = (text: string | null) =>
  text && text.replace(/\bholdout\b/g, 'control group').replace(/\btreated\b/g, 'marketed to');

/** The revenue warning in money, not points: too few customers, or a difference smaller than the group would see. */
function moneyWarning(c: Comparison, groups: { treated: number; control: number }): string | null {
  if (Math.min(groups.treated, groups.control) < 30) return controlWords(holdoutWarning(c, groups, 'revenue'));
  if (c.p < 0.05 || Math.abs(c.difference) >= c.detectable) return null;
  return `The control group of ${groups.control.toLocaleString('en')} is too small to detect a difference of the size seen in revenue per customer (${signed(c.difference, 2)}); it would detect ${money(c.detectable)} or more.`;
}

const emptyTally = (period: string, control: boolean): GroupTally => ({
  period,
  control,
  customers: 0,
  buyers: 0,
  revenueText: '0',
  revenue: 0,
  squares: 0,
  repeatCustomers: 0,
  retained: 0,
});

function group(t: GroupTally) {
  return {
    customers: t.customers,
    buyers: t.buyers,
    purchaseRate: shareOf(t.buyers, t.customers),
    revenue: t.revenueText,
    revenuePerCustomer: t.customers > 0 ? Number((t.revenue / t.customers).toFixed(4)) : null,
    repeatCustomers: t.repeatCustomers,
    retained: t.retained,
    retention: shareOf(t.retained, t.repeatCustomers),
  };
}

const noControl = 'There is no universal control group (KEPT_UNIVERSAL_CONTROL is 0): nothing to compare with.';
/** Why a period has nothing to compare: one of the groups is empty. */
const empty = (groups: { treated: number; control: number }, who: string) =>
  `Nobody ${groups.control === 0 ? 'in the control group' : 'we market to'} ${who}: nothing to compare with.`;

/** One period: each group's figures and the marketed-to group against the control group on the three measures. */
export function comparePeriod(
  bounds: PeriodBounds,
  tallies: GroupTally[],
  options: { share: number; now: Date },
): ProgrammePeriod {
  const find = (control: boolean) =>
    tallies.find((t) => t.period === bounds.period && t.control === control) ?? emptyTally(bounds.period, control);
  const control = find(true);
  const marketed = find(false);
  const proportion = (x: (t: GroupTally) => number, n: (t: GroupTally) => number, what: string, who: string) => {
    if (options.share === 0) return { comparison: null, warning: noControl };
    const groups = { treated: n(marketed), control: n(control) };
    if (groups.treated === 0 || groups.control === 0) return { comparison: null, warning: empty(groups, who) };
    const c = compareProportions({ n: groups.treated, x: x(marketed) }, { n: groups.control, x: x(control) });
    return { comparison: round(c), warning: controlWords(holdoutWarning(c, groups, what)) };
  };
  const revenue = () => {
    if (options.share === 0) return { comparison: null, warning: noControl };
    const groups = { treated: marketed.customers, control: control.customers };
    if (groups.treated === 0 || groups.control === 0)
      return { comparison: null, warning: empty(groups, 'was a customer at its start') };
    const c = compareMeans(
      { n: marketed.customers, sum: marketed.revenue, squares: marketed.squares },
      { n: control.customers, sum: control.revenue, squares: control.squares },
    );
    return { comparison: round(c), warning: moneyWarning(c, groups) };
  };
  return {
    period: bounds.period,
    from: bounds.from.toISOString(),
    to: bounds.to.toISOString(),
    complete: bounds.to.getTime() < options.now.getTime(),
    control: group(control),
    marketed: group(marketed),
    purchase: proportion(
      (t) => t.buyers,
      (t) => t.customers,
      'buying',
      'was a customer at its start',
    ),
    revenuePerCustomer: revenue(),
    retention: proportion(
      (t) => t.retained,
      (t) => t.repeatCustomers,
      'retention',
      'had ordered before it',
    ),
  };
}

/**
 * The headline over the whole span, in words: how much more often the customers we market to bought
 * than the control group, with the 95 % interval of that relative lift; or why it cannot tell yet.
 */
export function headline(span: ProgrammePeriod, share: number): string {
  if (share === 0)
    return 'Cannot tell: there is no universal control group (KEPT_UNIVERSAL_CONTROL is 0), so nobody is kept from marketing to compare with.';
  const { comparison: c } = span.purchase;
  const size = span.control.customers.toLocaleString('en');
  if (!c || Math.min(span.control.customers, span.marketed.customers) < 30)
    return `Cannot tell yet: the control group has ${size} customer${span.control.customers === 1 ? '' : 's'} who were with us at the start; at least 30 are needed.`;
  if (span.purchase.warning)
    return `Cannot tell yet: the control group of ${size} is too small to see less than ${(c.detectable * 100).toFixed(1)} points (the customers we market to bought ${percentWords(c.treated)}, the control group ${percentWords(c.control)}).`;
  const interval =
    c.relative !== null && c.relativeLow !== null && c.relativeHigh !== null
      ? { value: c.relative, low: c.relativeLow, high: c.relativeHigh, unit: '%' }
      : { value: c.difference, low: c.low, high: c.high, unit: 'points' };
  const more = interval.value >= 0;
  const chance = c.p >= 0.05 ? `; this could still be chance (p = ${c.p.toFixed(2)})` : '';
  return `Customers we market to bought ${Math.abs(interval.value * 100).toFixed(1)} ${interval.unit} ${more ? 'more' : 'less'} often than the ${percentWords(share)} we never market to [${signed(interval.low * 100)}, ${signed(interval.high * 100)}]${chance}.`;
}

/** The control group's health in words: untouched, or who reached it. */
export function healthWords(control: ProgrammeInput['control'], share: number, since: string): string {
  if (share === 0) return 'There is no universal control group: KEPT_UNIVERSAL_CONTROL is 0.';
  if (control.touched === 0) return `Untouched by every programme since ${since}.`;
  return `Contaminated: ${control.touched.toLocaleString('en')} of its members got marketing since ${since} (${control.byProgramme
    .map((p) => `${p.programme}: ${p.n.toLocaleString('en')}`)
    .join(
      ', ',
    )}). A programme did not leave the control group out (a campaign recorded from elsewhere, for one), so the lift reads lower than it is while this lasts.`;
}

/** The whole report from the repository's tallies. */
export function programmeLift(input: ProgrammeInput): ProgrammeLift {
  const months = input.periods.filter((p) => p.period !== 'span');
  const spanBounds = input.periods.find((p) => p.period === 'span')!;
  const options = { share: input.share, now: input.now };
  const span = comparePeriod(spanBounds, input.tallies, options);
  return {
    share: input.share,
    timeZone: input.timeZone,
    months: input.months,
    headline: headline(span, input.share),
    span,
    monthly: months.map((m) => comparePeriod(m, input.tallies, options)),
    control: { ...input.control, health: healthWords(input.control, input.share, months[0]?.period ?? span.period) },
    volume: months.map((m) => {
      const of = (source: VolumeSource) =>
        input.volume.filter((v) => v.month === m.period && v.source === source).reduce((s, v) => s + v.messages, 0);
      const [campaigns, journeys, elsewhere] = volumeSources.map(of);
      return { month: m.period, messages: campaigns + journeys + elsewhere, campaigns, journeys, elsewhere };
    }),
  };
}
