// The jobs API's contract: what GET /api/v1/jobs/{id} answers while a background job runs.
import { z } from '@hono/zod-openapi';

export const jobStatusSchema = z
  .object({
    jobId: z.number(),
    status: z.string(),
    done: z.number(),
    total: z.number().nullable(),
    error: z.string().nullable(),
    result: z.record(z.string(), z.unknown()).nullable(),
  })
  .openapi('Job');
export type JobStatus = z.infer<typeof jobStatusSchema>;
