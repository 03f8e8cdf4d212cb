import { createRoute, z } from '@hono/zod-openapi';
import { stringify } from 'csv-stringify/sync';
import { admins } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter } from '../shared/http.ts';
import { formulaSafe } from '../shared/spreadsheet.ts';
import { auditBy, listAudit } from './audit.service.ts';
import { auditEntrySchema } from './audit.ts';
import { id, whole } from '../shared/input.ts';

const filter = z.object({
  action: z
    .string()
    .max(100)
    .optional()
    .openapi({ description: 'An action or its family: `login` also matches `login.failed`' }),
  actor: z.string().max(320).optional(),
  before: id.optional().openapi({ description: 'Entries older than this id (the next page)' }),
});
/** The most an export holds; narrow by action, actor or `before` for more. */
const exportLimit = 100_000;

export function auditRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      middleware: admins,
      tags: ['audit'],
      summary: 'The audit log, newest first: sign-ins, people and keys, exports, imports, consent',
      request: { query: filter.extend({ limit: whole(1, 500).default(100) }) },
      responses: {
        200: {
          description: 'Entries',
          content: { 'application/json': { schema: z.object({ entries: z.array(auditEntrySchema) }) } },
        },
      },
    }),
    async (c) => c.json({ entries: await listAudit(deps.db, c.req.valid('query')) }, 200),
  );

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/audit.csv',
    tags: ['audit'],
    summary: `The audit log as CSV, newest first (at most ${exportLimit.toLocaleString('en')} entries; the export is itself recorded)`,
    request: { query: filter },
    responses: { 200: { description: 'CSV', content: { 'text/csv': { schema: z.string() } } } },
  });
  app.get('/audit.csv', admins, async (c) => {
    const query = filter.safeParse(c.req.query());
    if (!query.success)
      throw new AppError('validation_failed', 'The request is not valid', {
        issues: query.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    const rows = await deps.database.run('export', c.req.raw.signal, (db) =>
      listAudit(db, { ...query.data, limit: exportLimit }),
    );
    await auditBy(deps, c, 'export.audit', `${rows.length} entries`, query.data);
    c.header('Content-Type', 'text/csv; charset=utf-8');
    c.header('Content-Disposition', 'attachment; filename="kept-audit.csv"');
    return c.body(
      stringify([
        ['id', 'at', 'actor', 'action', 'target', 'detail', 'ip'],
        ...rows.map((r) => [r.id, r.at, r.actor, r.action, r.target, JSON.stringify(r.detail), r.ip].map(formulaSafe)),
      ]),
    );
  });
  return app;
}
