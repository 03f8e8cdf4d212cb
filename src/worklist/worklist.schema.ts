import { bigint, boolean, index, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * What the worklist suggested for a customer and what the agent decided: the suggestion, the
 * decision with its reason, the action taken and, for a gesture over the allowance, its approval.
 */
export const worklistDecisions = pgTable(
  'worklist_decisions',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    runId: bigint('run_id', { mode: 'number' }),
    suggestedAction: text('suggested_action').notNull(),
    suggestionReason: text('suggestion_reason').notNull(),
    decision: text('decision').notNull(),
    action: text('action').notNull(),
    giftValue: numeric('gift_value', { precision: 14, scale: 2 }),
    reason: text('reason'),
    agent: text('agent').notNull(),
    decidedAt: instant('decided_at').notNull(),
    needsApproval: boolean('needs_approval').notNull().default(false),
    approvedBy: text('approved_by'),
    approvedAt: instant('approved_at'),
    valueAtStake: numeric('value_at_stake', { precision: 14, scale: 2 }),
    /** The approved rule behind the suggestion, if one applied. */
    ruleId: bigint('rule_id', { mode: 'number' }),
    /** worklist (a card), holdout_override (an agent acted on a customer drawn into the holdout) or gesture (any customer, outside the worklist). */
    source: text('source').notNull().default('worklist'),
    /** The suggestion's expected incremental value when it was decided. */
    incrementalValue: numeric('incremental_value', { precision: 14, scale: 2 }),
  },
  (t) => [primaryKey({ columns: [t.customerId, t.id] }), index('worklist_decisions_at_idx').on(t.decidedAt)],
);

/** Work for an agent that a journey (or a person) asked for: call, put something right, send a gift. */
export const tasks = pgTable(
  'tasks',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    action: text('action').notNull(),
    title: text('title').notNull(),
    reason: text('reason').notNull(),
    source: text('source').notNull(),
    journeyId: bigint('journey_id', { mode: 'number' }),
    orderId: bigint('order_id', { mode: 'number' }),
    createdAt: instant('created_at').notNull(),
    dueAt: instant('due_at').notNull(),
    status: text('status').notNull(),
    doneBy: text('done_by'),
    doneAt: instant('done_at'),
    outcome: text('outcome'),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.id] }),
    index('tasks_id_idx').on(t.id),
    index('tasks_open_idx').on(t.dueAt).where(sql`status = 'open'`),
  ],
);
