// The customers API's contract: what the list, the filters, one record and the timeline answer. The routes
// describe their responses with these schemas and the UI imports the inferred types.
import { z } from '@hono/zod-openapi';

export const customerSorts = ['name', 'created', 'last_order', 'purchase_days'] as const;
export type CustomerSort = (typeof customerSorts)[number];

export const timelineKinds = [
  'order',
  'return',
  'delivery',
  'subscription',
  'touchpoint',
  'ticket',
  'ticket_update',
  'incident',
  'survey',
  'note',
  'status',
  'stage',
  'alert',
  'address',
  'decision',
  'consent',
  'experience',
  'edit',
] as const;
export type TimelineKind = (typeof timelineKinds)[number];

export const customerListItemSchema = z
  .object({
    id: z.number(),
    externalId: z.string().nullable(),
    name: z.string().nullable(),
    email: z.string().nullable(),
    stage: z.string(),
    acquisitionChannel: z.string().nullable(),
    flags: z.array(z.string()),
    createdAt: z.string(),
    lastOrderAt: z.string().nullable(),
    purchaseDays: z.number(),
  })
  .openapi('CustomerListItem');
export type CustomerListItem = z.infer<typeof customerListItemSchema>;

export const customerPageSchema = z.object({
  customers: z.array(customerListItemSchema),
  total: z.number(),
  totalCapped: z.boolean(),
  page: z.number(),
  pageSize: z.number(),
});
export type CustomerPage = z.infer<typeof customerPageSchema>;

export const customerFacetsSchema = z.object({
  stages: z.array(z.object({ stage: z.string(), customers: z.number() })),
  channels: z.array(z.string()),
  flags: z.array(z.string()),
});
export type CustomerFacets = z.infer<typeof customerFacetsSchema>;

export const customerRecordSchema = z
  .object({
    id: z.number(),
    externalId: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    name: z.string().nullable(),
    acquisitionChannel: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    stage: z.string(),
    stageChangedAt: z.string().nullable(),
    firstOrderAt: z.string().nullable(),
    lastOrderAt: z.string().nullable(),
    purchaseDays: z.number(),
    flags: z.array(z.string()),
    attributes: z.array(
      z.object({ key: z.string(), value: z.union([z.string(), z.number(), z.boolean()]), type: z.string() }),
    ),
    identities: z.array(z.object({ kind: z.string(), value: z.string(), source: z.string(), createdAt: z.string() })),
    addresses: z.array(
      z.object({
        kind: z.string(),
        line1: z.string().nullable(),
        line2: z.string().nullable(),
        city: z.string().nullable(),
        region: z.string().nullable(),
        postalCode: z.string().nullable(),
        country: z.string().nullable(),
        validFrom: z.string(),
        validTo: z.string().nullable(),
        source: z.string(),
        current: z.boolean(),
      }),
    ),
    statusHistory: z.array(
      z.object({
        flag: z.string(),
        active: z.boolean(),
        at: z.string(),
        source: z.string(),
        note: z.string().nullable(),
      }),
    ),
    stageHistory: z.array(z.object({ from: z.string().nullable(), to: z.string(), at: z.string(), cause: z.string() })),
    totals: z.object({
      orders: z.number(),
      revenue: z.string(),
      returns: z.number(),
      returned: z.string(),
      tickets: z.number(),
      openTickets: z.number(),
      lastContactAt: z.string().nullable(),
    }),
    /** What the entry checks found doubtful (a likely typo domain, an impossible phone ...), with the likely right value. */
    warnings: z.array(
      z.object({ field: z.string(), code: z.string(), message: z.string(), suggestion: z.string().nullable() }),
    ),
  })
  .openapi('CustomerRecord');
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

export const timelineEntrySchema = z
  .object({
    kind: z.enum(timelineKinds),
    id: z.number(),
    at: z.string(),
    channel: z.string().nullable(),
    title: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .openapi('TimelineEntry');
export type TimelineEntry = z.infer<typeof timelineEntrySchema>;

export const timelinePageSchema = z.object({
  entries: z.array(timelineEntrySchema),
  nextCursor: z.string().nullable(),
});
export type TimelinePage = z.infer<typeof timelinePageSchema>;

export const mergeResultSchema = z.object({
  into: z.number(),
  from: z.number(),
  moved: z.record(z.string(), z.number()),
});
export type MergeResult = z.infer<typeof mergeResultSchema>;
