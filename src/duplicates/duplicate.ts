import { z } from '@hono/zod-openapi';

export const pairStatuses = ['open', 'later', 'distinct', 'merged'] as const;
export type PairStatus = (typeof pairStatuses)[number];

export const decisions = ['merge', 'distinct', 'later'] as const;

export const customerSummarySchema = z
  .object({
    id: z.number(),
    externalId: z.string().nullable(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    line1: z.string().nullable(),
    postalCode: z.string().nullable(),
    city: z.string().nullable(),
    orders: z.number(),
    lastOrderAt: z.string().nullable(),
    stage: z.string(),
    flags: z.array(z.string()),
  })
  .openapi('DuplicateCustomer');
export type CustomerSummary = z.infer<typeof customerSummarySchema>;

export const pairSchema = z
  .object({
    score: z.number().describe('0 to 1: how sure the finder is that the two are one person'),
    evidence: z.array(z.string()).describe('why, in words that name no value'),
    status: z.enum(pairStatuses),
    foundAt: z.string(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
    first: customerSummarySchema,
    second: customerSummarySchema,
  })
  .openapi('DuplicatePair');
export type Pair = z.infer<typeof pairSchema>;

export const pairPageSchema = z.object({
  pairs: z.array(pairSchema),
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
});

export const findResultSchema = z
  .object({
    customers: z.number().describe('customers compared'),
    candidates: z.number().describe('pairs that shared a blocking key and were scored'),
    found: z.number().describe('pairs at or above the minimum score'),
    added: z.number().describe('pairs new to the queue'),
    updated: z.number().describe('pairs already open or put off, with their score renewed'),
    removed: z.number().describe('open pairs no longer found'),
    decided: z
      .number()
      .describe('pairs found again that a person had decided (not the same person, merged): left as decided'),
    minScore: z.number(),
    seconds: z.number(),
  })
  .openapi('DuplicateFindResult');
export type FindResult = z.infer<typeof findResultSchema>;

export const findBody = z
  .object({
    minScore: z.number().min(0).max(1).optional().describe('propose pairs at or above this score (default 0.6)'),
  })
  .strict();

export const decisionBody = z
  .object({
    decision: z.enum(decisions),
    keep: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('for merge: the customer kept (one of the two; the first when not given); the other goes'),
  })
  .strict();
export type Decision = z.infer<typeof decisionBody>;
