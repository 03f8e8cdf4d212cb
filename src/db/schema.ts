// Every table of every domain, for drizzle-kit and for typed queries.
export * from '../customers/customer.schema.ts';
export * from '../orders/order.schema.ts';
export * from '../channels/touchpoint.schema.ts';
export * from '../support/ticket.schema.ts';
export * from '../surveys/survey.schema.ts';
export * from '../auth/auth.schema.ts';
export * from '../jobs/job.schema.ts';
export * from '../ingest/event.schema.ts';
export * from '../imports/import.schema.ts';
export * from '../analytics/analytics.schema.ts';
export * from '../worklist/worklist.schema.ts';
export * from '../segments/segment.schema.ts';
export * from '../campaigns/campaign.schema.ts';
export * from '../journeys/journey.schema.ts';
export * from '../audit/audit.schema.ts';
export * from '../privacy/privacy.schema.ts';
export * from '../webhooks/webhook.schema.ts';
