// The support views' contract: missed recoveries, their outcomes, and problems by week. The routes
// describe their responses with these schemas and the UI imports the inferred types.
import { z } from '@hono/zod-openapi';

export const missedRecoveriesSchema = z.object({
  customers: z.array(
    z.object({
      customerId: z.number(),
      name: z.string().nullable(),
      email: z.string().nullable(),
      stage: z.string(),
      source: z.string(),
      kind: z.string(),
      what: z.string(),
      orderId: z.string().nullable(),
      at: z.string(),
      waitingDays: z.number(),
      valueAtStake: z.string().nullable(),
    }),
  ),
});
export type MissedRecovery = z.infer<typeof missedRecoveriesSchema>['customers'][number];

export const recoveryOutcomesSchema = z.object({
  days: z.number(),
  window: z.number(),
  outcomes: z.array(
    z.object({
      followedUp: z.boolean(),
      experiences: z.number(),
      bought: z.number(),
      boughtShare: z.number(),
      medianHoursToFollowUp: z.number().nullable(),
    }),
  ),
});
export type RecoveryOutcome = z.infer<typeof recoveryOutcomesSchema>['outcomes'][number];

export const glitchesSchema = z.object({
  weeks: z.array(z.string()),
  series: z.array(
    z.object({
      source: z.string(),
      category: z.string(),
      counts: z.array(z.number()),
      total: z.number(),
    }),
  ),
  channels: z.array(z.object({ channel: z.string(), counts: z.array(z.number()) })),
  spikes: z.array(
    z.object({
      week: z.string(),
      source: z.string(),
      category: z.string(),
      count: z.number(),
      expected: z.number(),
    }),
  ),
});
export type Glitches = z.infer<typeof glitchesSchema>;
