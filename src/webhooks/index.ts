// Webhooks as other domains use them: an event queued in the outbox in the transaction that made it.
export { queueWebhookEvent, queueWebhookEvents } from './webhook.repository.ts';
