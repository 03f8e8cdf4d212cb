import {
  bigint,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const surveyResponses = pgTable(
  'survey_responses',
  {
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
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('survey_responses_external_key').on(t.customerId, t.externalId),
  ],
);

/** A question of a survey: NPS 0-10, CSAT 1-5, CES 1-7, one of a few options, or free text. */
export interface SurveyQuestion {
  id: string;
  kind: 'nps' | 'csat' | 'ces' | 'choice' | 'text';
  text: string;
  required?: boolean;
  options?: string[];
}

/** A survey: its questions, in order. `problem` surveys open a ticket tied to the invitation's order. */
export const surveys = pgTable(
  'surveys',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    key: text('key').notNull(),
    title: text('title').notNull(),
    purpose: text('purpose').notNull().default('survey'),
    intro: text('intro'),
    questions: jsonb('questions').$type<SurveyQuestion[]>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('surveys_key').on(t.key)],
);

/** One customer's link to one survey: only the hash of its token is stored. */
export const surveyInvitations = pgTable(
  'survey_invitations',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    surveyId: bigint('survey_id', { mode: 'number' }).notNull(),
    tokenHash: text('token_hash').notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    channel: text('channel'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] }), uniqueIndex('survey_invitations_token').on(t.tokenHash)],
);

/** Website feedback from someone who did not say who they are. */
export const anonymousFeedback = pgTable('anonymous_feedback', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  page: text('page'),
  score: smallint('score'),
  comment: text('comment'),
});
