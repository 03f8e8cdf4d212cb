import { bigint, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** One file import: its mapping, its progress checkpoint and its closing counts. */
export const imports = pgTable('imports', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  kind: text('kind').notNull(),
  fileName: text('file_name').notNull(),
  fileSize: bigint('file_size', { mode: 'number' }).notNull(),
  fileHash: text('file_hash').notNull(),
  options: jsonb('options').$type<Record<string, unknown>>().notNull(),
  status: text('status').notNull(),
  jobId: bigint('job_id', { mode: 'number' }),
  /** Rows (1-based data rows) whose outcome is committed; a resumed import starts after it. */
  checkpointRow: bigint('checkpoint_row', { mode: 'number' }).notNull().default(0),
  counts: jsonb('counts').$type<Record<string, number>>().notNull().default({}),
  rejectedFile: text('rejected_file'),
  /** Bytes of the rejected-rows file that belong to committed chunks; a resumed import truncates to it. */
  rejectedBytes: bigint('rejected_bytes', { mode: 'number' }).notNull().default(0),
  error: text('error'),
  createdAt: instant('created_at').notNull().defaultNow(),
  finishedAt: instant('finished_at'),
});

/**
 * How many rows of each order (or other derived key) an import has seen so far, so line numbers
 * follow file order across chunks without memory that grows with the file. Cleared when done.
 */
export const importKeyCounts = pgTable(
  'import_key_counts',
  {
    importId: bigint('import_id', { mode: 'number' }).notNull(),
    key: text('key').notNull(),
    seen: bigint('seen', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.importId, t.key] })],
);
