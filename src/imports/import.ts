import { channels } from '../ingest/event.ts';
import { AppError } from '../shared/errors.ts';
import type { Delimiter, Encoding } from './csv-source.ts';
import { z } from '@hono/zod-openapi';
import { importKinds, targets, type ImportKind } from './import-options.ts';

export { importKinds, targets, type ImportKind } from './import-options.ts';

export interface ImportOptions {
  kind: ImportKind;
  file: string;
  /** target -> source column, from --map target=Column,... */
  map: Record<string, string>;
  dateFormat?: string;
  delimiter?: Delimiter;
  encoding: Encoding;
  /** Where rejected rows go; defaults to <data>/imports/<id>-rejected.csv. */
  rejectedFile?: string;
}

export const importCountsSchema = z.object({
  read: z.number(),
  imported: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  rejected: z.number(),
});
export type ImportCounts = z.infer<typeof importCountsSchema>;

/** An upload and its import as the API shows it (GET /imports). */
export const importJobSchema = z
  .object({
    jobId: z.number(),
    status: z.enum(['queued', 'running', 'done', 'failed']),
    fileName: z.string(),
    kind: z.enum(importKinds),
    done: z.number(),
    total: z.number().nullable(),
    error: z.string().nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
    importId: z.number().nullable(),
    counts: importCountsSchema.nullable(),
  })
  .openapi('ImportJob');
export type ImportJob = z.infer<typeof importJobSchema>;

/** Parses `target=Column,target=Column`. */
export function parseMap(text: string | undefined): Record<string, string> {
  if (!text) return {};
  const map: Record<string, string> = {};
  for (const pair of text.split(',')) {
    const [target, ...column] = pair.split('=');
    if (!target?.trim() || column.length === 0 || !column.join('=').trim()) {
      throw new AppError('bad_request', `--map takes target=Column pairs separated by commas; "${pair}" is not one`);
    }
    map[target.trim()] = column.join('=').trim();
  }
  return map;
}

const comparable = (name: string) => name.toLowerCase().replace(/[\s_-]/g, '');

/**
 * Which column feeds each target: --map first, then a column named like the target. Fails before
 * any data is read when a mapped column is missing or a required target has no column.
 */
export function resolveColumns(
  kind: ImportKind,
  header: string[],
  map: Record<string, string>,
  /** Who reads the message: the CLI names --map, an upload (the web page, the API) its column mapping. */
  via: 'cli' | 'upload' = 'cli',
): Map<string, number> {
  const spec = targets[kind];
  const mapping = via === 'cli' ? '--map' : 'the column mapping';
  const columns = new Map<string, number>();
  for (const [target, column] of Object.entries(map)) {
    if (!spec.all.includes(target))
      throw new AppError(
        'bad_request',
        `${mapping} names "${target}", which is not a target for ${kind}; targets: ${spec.all.join(', ')}`,
      );
    const index =
      header.indexOf(column) >= 0
        ? header.indexOf(column)
        : header.findIndex((h) => comparable(h) === comparable(column));
    if (index < 0)
      throw new AppError(
        'bad_request',
        `${via === 'cli' ? '--map ' : 'Column mapping '}${target}=${column}: the file has no column "${column}"; its header is: ${header.join(', ')}`,
      );
    columns.set(target, index);
  }
  for (const target of spec.all) {
    if (columns.has(target)) continue;
    for (const name of [target, ...(spec.aliases?.[target] ?? [])]) {
      const index = header.findIndex((h) => comparable(h) === comparable(name));
      if (index >= 0 && ![...columns.values()].includes(index)) {
        columns.set(target, index);
        break;
      }
    }
  }
  const missing = spec.required.filter((group) => !group.some((target) => columns.has(target)));
  if (missing.length > 0) {
    throw new AppError(
      'bad_request',
      `a ${kind} file needs a column for ${missing.map((g) => g.join(' or ')).join('; ')}. ` +
        `Its header is: ${header.join(', ')}. ` +
        (via === 'cli'
          ? `Name the columns with --map, e.g. --map ${missing[0][0]}=YourColumn`
          : `Choose which column holds what: upload it again with Column mapping filled in, e.g. ${missing[0][0]}=YourColumn`),
    );
  }
  return columns;
}

export const isChannel = (value: string): value is (typeof channels)[number] =>
  (channels as readonly string[]).includes(value);

/** What an upload's import job carries, from the upload to the job handler (jobs/handlers.ts). */
export interface ImportJobPayload {
  [key: string]: unknown;
  kind: ImportKind;
  file: string;
  fileName: string;
  map: Record<string, string>;
  dateFormat?: string;
  delimiter?: Delimiter;
  encoding: Encoding;
  /** Who uploaded it, for the audit log. */
  by?: string;
}
