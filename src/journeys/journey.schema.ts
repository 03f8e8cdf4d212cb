import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { Rule } from '../segments/segment.ts';
import type { BlueprintStep } from './blueprint.ts';
import type { Step, Trigger } from './journey.ts';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * A triggered, always-on journey. Its mails are tracked, unsubscribed and measured through a
 * campaign row of its own (`campaign_id`, status 'journey'), so links, pixels and the unsubscribe
 * page work as for any campaign.
 */
export const journeys = pgTable('journeys', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull(),
  description: text('description'),
  trigger: jsonb('trigger').$type<Trigger>().notNull(),
  entry: jsonb('entry').$type<Rule | null>(),
  steps: jsonb('steps').$type<Step[]>().notNull(),
  exitOnOrder: boolean('exit_on_order').notNull(),
  exit: jsonb('exit').$type<Rule | null>(),
  holdoutShare: doublePrecision('holdout_share').notNull(),
  consentList: text('consent_list').notNull(),
  status: text('status').notNull(),
  /** Triggers before this moment never start the journey (no mail about last year's orders). */
  activatedAt: instant('activated_at'),
  campaignId: bigint('campaign_id', { mode: 'number' }).notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: instant('created_at').notNull(),
  updatedAt: instant('updated_at').notNull(),
});

/**
 * One customer's pass through a journey: which trigger started it, the arm (a customer is in the
 * same arm of a journey every time), the step due next and when. At most one active pass per
 * customer and journey, by a partial unique index (besides passes that only confirm: `detail.only`).
 */
export const journeyEnrolments = pgTable(
  'journey_enrolments',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    journeyId: bigint('journey_id', { mode: 'number' }).notNull(),
    triggerKey: text('trigger_key').notNull(),
    /** What happened: the order, the experience, the stage change. */
    detail: jsonb('detail').$type<Record<string, string | number | null>>().notNull(),
    orderId: bigint('order_id', { mode: 'number' }),
    arm: text('arm').notNull(),
    /** active, completed, exited (left early), or skipped: never entered, recorded so the trigger is not read again. */
    status: text('status').notNull(),
    reason: text('reason'),
    enteredAt: instant('entered_at').notNull(),
    step: integer('step').notNull().default(0),
    nextAt: instant('next_at'),
    claimedBy: text('claimed_by'),
    claimedAt: instant('claimed_at'),
    finishedAt: instant('finished_at'),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    uniqueIndex('journey_enrolments_trigger_key').on(t.journeyId, t.customerId, t.triggerKey),
    // A pass that only confirms (a trigger while the customer is in the journey) does not count.
    uniqueIndex('journey_enrolments_once_key')
      .on(t.journeyId, t.customerId)
      .where(sql`status = 'active' and (detail->>'only') is null`),
    index('journey_enrolments_due_idx').on(t.nextAt).where(sql`status = 'active'`),
    index('journey_enrolments_journey_idx').on(t.journeyId, t.status),
  ],
);

/**
 * What each step did for an enrolment: a mail sent (claimed as 'sending' before SMTP, so a crash
 * never sends it twice), held out, suppressed, a task made, a wait, a condition.
 */
export const journeySteps = pgTable(
  'journey_steps',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    enrolmentId: bigint('enrolment_id', { mode: 'number' }).notNull(),
    step: integer('step').notNull(),
    journeyId: bigint('journey_id', { mode: 'number' }).notNull(),
    kind: text('kind').notNull(),
    outcome: text('outcome').notNull(),
    reason: text('reason'),
    marketing: boolean('marketing').notNull(),
    email: text('email'),
    messageId: text('message_id'),
    at: instant('at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.enrolmentId, t.step] }),
    index('journey_steps_sent_idx').on(t.customerId, t.at).where(sql`outcome = 'sent'`),
    index('journey_steps_message_idx').on(t.messageId),
  ],
);

/**
 * The designed path of a lifecycle stage (the journey blueprint): which touchpoints a customer in
 * it should get and by when (blueprintStepSchema). A stage without a row uses the built-in design (blueprint.ts).
 */
export const blueprints = pgTable('blueprints', {
  stage: text('stage').primaryKey(),
  steps: jsonb('steps').$type<BlueprintStep[]>().notNull(),
  updatedBy: text('updated_by').notNull(),
  updatedAt: instant('updated_at').notNull(),
});
