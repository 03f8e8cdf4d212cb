// What the audit API answers: one entry of the append-only log.
import { z } from '@hono/zod-openapi';

export const auditEntrySchema = z
  .object({
    id: z.number(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    target: z.string().nullable(),
    detail: z.record(z.string(), z.unknown()),
    ip: z.string().nullable(),
  })
  .openapi('AuditEntry');
export type AuditLogEntry = z.infer<typeof auditEntrySchema>;
