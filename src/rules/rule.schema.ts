import { bigint, boolean, index, jsonb, numeric, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Rules distilled from the outcome tables and the holdouts ("trial user + late delivery, no
 * follow-up: 38 % buy again; followed up: 61 %"), each with its evidence as of the latest analysis
 * and the evidence of every earlier one. Proposed by an analysis; a person approves, edits or retires.
 * Only approved rules drive the worklist.
 */
export const retentionRules = pgTable(
  'retention_rules',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** What the rule is about, stable across analyses: type, experience and comparison. */
    key: text('key').notNull().unique(),
    status: text('status').notNull(),
    /** The customers it applies to: stage, value band, acquisition channel (null = any). */
    customerType: jsonb('customer_type')
      .$type<{ stage: string | null; valueBand: string | null; channel: string | null }>()
      .notNull(),
    experience: text('experience').notNull(),
    action: text('action').notNull(),
    /** The rule in words as the analysis wrote it, and as a person edited it. */
    text: text('text').notNull(),
    editedText: text('edited_text'),
    evidence: jsonb('evidence').$type<Record<string, unknown>>().notNull(),
    history: jsonb('history').$type<Record<string, unknown>[]>().notNull(),
    createdAt: instant('created_at').notNull(),
    updatedAt: instant('updated_at').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: instant('decided_at'),
    decisionReason: text('decision_reason'),
  },
  (t) => [index('retention_rules_status_idx').on(t.status)],
);

/** The customers behind each exposed cell of an analysis's outcome tables, for the drill-down. */
export const outcomeCases = pgTable(
  'outcome_cases',
  {
    customerId: bigint('customer_id', { mode: 'number' }).notNull(),
    runId: bigint('run_id', { mode: 'number' }).notNull(),
    experienceId: bigint('experience_id', { mode: 'number' }).notNull(),
    /** The cell's key: type, experience, first or repeated, followed up or not. */
    cell: text('cell').notNull(),
    at: instant('at').notNull(),
    boughtAgain: boolean('bought_again').notNull(),
    valueBand: text('value_band').notNull(),
    value: numeric('value', { precision: 14, scale: 2 }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.customerId, t.runId, t.experienceId] }),
    index('outcome_cases_cell_idx').on(t.runId, t.cell),
  ],
);

/**
 * What an analysis found about why customers leave and whom an action moves: the outcome tables,
 * the hazard model, the monthly causes of leaving and the uplift estimates. Kept apart from
 * analysis_runs because the tables run to thousands of cells.
 */
export const retentionReports = pgTable('retention_reports', {
  runId: bigint('run_id', { mode: 'number' }).primaryKey(),
  outcomes: jsonb('outcomes').$type<Record<string, unknown>>().notNull(),
  drivers: jsonb('drivers').$type<Record<string, unknown>>().notNull(),
  uplift: jsonb('uplift').$type<Record<string, unknown>>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
});
