// What the privacy API answers: an erasure, and the retention of each class of data with the latest sweeps.
import { z } from '@hono/zod-openapi';

export const erasedSchema = z.object({
  customerId: z.number(),
  rows: z.number(),
  tables: z.record(z.string(), z.number()),
});
export type Erased = z.infer<typeof erasedSchema>;

export const retentionSchema = z.object({
  classes: z.array(z.object({ class: z.string(), what: z.string(), days: z.number().nullable() })),
  sweeps: z.array(z.object({ at: z.string(), actor: z.string(), deleted: z.record(z.string(), z.number()) })),
});
export type Retention = z.infer<typeof retentionSchema>;

/** A sweep started as a background job; follow it at /jobs/{id}. */
export const sweepStartedSchema = z.object({ jobId: z.number() });
export type SweepStarted = z.infer<typeof sweepStartedSchema>;
