// What Kept tells other systems about (docs/webhooks.md), and what the webhooks API answers.
import { z } from '@hono/zod-openapi';

export const webhookEvents = ['alert.raised', 'consent.changed', 'customer.erased'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

export const webhookSchema = z
  .object({
    id: z.number(),
    url: z.string(),
    events: z.array(z.string()),
    secretHint: z.string(),
    active: z.boolean(),
    createdBy: z.string(),
    createdAt: z.string(),
    counts: z.object({ pending: z.number(), delivered: z.number(), dead: z.number() }),
  })
  .openapi('Webhook');
export type Webhook = z.infer<typeof webhookSchema>;
export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema), events: z.array(z.string()) });
export type WebhookList = z.infer<typeof webhookListSchema>;
/** A new webhook with its signing secret, shown this once. */
export const webhookCreatedSchema = z.object({
  id: z.number(),
  url: z.string(),
  events: z.array(z.string()),
  secret: z.string(),
});
export type WebhookCreated = z.infer<typeof webhookCreatedSchema>;

export const deliveryListSchema = z.object({
  deliveries: z.array(
    z.object({
      id: z.number(),
      eventId: z.string(),
      type: z.string(),
      status: z.string(),
      attempts: z.number(),
      lastStatus: z.number().nullable(),
      lastError: z.string().nullable(),
      createdAt: z.string(),
      nextAttemptAt: z.string(),
      deliveredAt: z.string().nullable(),
    }),
  ),
});
export type Delivery = z.infer<typeof deliveryListSchema>['deliveries'][number];
