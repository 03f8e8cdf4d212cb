import { bigint, numeric, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const surveyResponses = pgTable('survey_responses', {
  customerId: bigint('customer_id', { mode: 'number' }).notNull(),
  id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
  externalId: text('external_id').notNull(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
  survey: text('survey').notNull(),
  question: text('question').notNull(),
  /** Numeric answer (NPS 0-10, CSAT 1-5, CES 1-7); null for free text. */
  score: numeric('score', { precision: 6, scale: 2 }),
  answer: text('answer'),
  channel: text('channel'),
}, (t) => [primaryKey({ columns: [t.customerId, t.id] }), uniqueIndex('survey_responses_external_key').on(t.customerId, t.externalId)]);
