// What Kept tells other systems about (docs/webhooks.md).

export const webhookEvents = ['alert.raised', 'consent.changed', 'customer.erased'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];
