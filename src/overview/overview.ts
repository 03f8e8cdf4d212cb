// The owner's overview (GET /overview): the few figures that say how the business keeps its customers,
// each the summary of a page that holds the detail.
import { z } from '@hono/zod-openapi';
import { comparisonSchema } from '../campaigns/campaign.ts';

const money = z.string().openapi({ description: 'An amount in the store currency, as decimal text' });

export const overviewSchema = z
  .object({
    /** The as-of date of the latest analysis; null before the first. */
    asOf: z.string().nullable(),
    /** The first day of this month in the business time zone: "this month" counts from here. */
    monthStart: z.string(),
    /** Customers in each stage now and at the start of the month, and how many moved in and out since. */
    stages: z.array(
      z.object({
        stage: z.string(),
        now: z.number(),
        atMonthStart: z.number(),
        movedIn: z.number(),
        movedOut: z.number(),
      }),
    ),
    /** The largest moves between stages this month. */
    moves: z.array(z.object({ from: z.string().nullable(), to: z.string(), customers: z.number() })),
    /** Customers the latest analysis found at risk, and what they would buy in a year if they stayed. */
    atRisk: z.object({ customers: z.number(), valueAtStake: money }),
    /** The whole marketing programme against the universal control group, over the last `months`. */
    programme: z.object({
      months: z.number(),
      headline: z.string(),
      marketedCustomers: z.number(),
      controlCustomers: z.number(),
      /** Revenue per customer, marketed to minus the control group, with its 95 % interval. */
      revenuePerCustomer: comparisonSchema.nullable(),
      /** That difference over every customer marketed to: the revenue the programme kept, with its interval. */
      revenueKept: z.object({ value: z.number(), low: z.number(), high: z.number() }).nullable(),
      warning: z.string().nullable(),
    }),
    /** Why customers left in the last twelve months (from exit answers and the drivers of leaving). */
    reasons: z
      .object({
        lapsed: z.number(),
        top: z.array(z.object({ cause: z.string(), customers: z.number() })),
      })
      .nullable(),
    /** The latest campaigns and what each returned against its holdout (revenue per customer, 30 days). */
    tried: z.array(
      z.object({
        id: z.number(),
        name: z.string(),
        channel: z.string(),
        status: z.string(),
        startedAt: z.string().nullable(),
        members: z.number(),
        revenuePerCustomer: comparisonSchema.nullable(),
        warning: z.string().nullable(),
      }),
    ),
  })
  .openapi('Overview');
export type Overview = z.infer<typeof overviewSchema>;
