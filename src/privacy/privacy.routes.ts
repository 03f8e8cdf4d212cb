import { createRoute, z } from '@hono/zod-openapi';
import { stringify } from 'csv-stringify/sync';
import { auditBy } from '../audit/index.ts';
import { admins } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { startJob } from '../jobs/job.service.ts';
import type { RetentionClass } from '../config.ts';
import { clientIp, createRouter } from '../shared/http.ts';
import { e164, formulaSafe } from '../shared/spreadsheet.ts';
import { eraseCustomer } from './erasure.ts';
import { latestSweeps, retentionClasses } from './retention.ts';
import { customerExport } from './privacy.service.ts';
import { id } from '../shared/input.ts';
import { erasedSchema, retentionSchema, sweepStartedSchema } from './privacy.ts';

const text = (value: unknown) =>
  value === null || value === undefined
    ? ''
    : value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);

export function privacyRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/export',
      middleware: admins,
      tags: ['privacy'],
      summary:
        'Everything Kept holds about one customer (an access or portability request): JSON, or CSV with one line per value',
      description:
        'Every table with a customer_id, the mail and suppressions by their email addresses, and failed events that name them. The export is recorded in the audit log.',
      request: { params: z.object({ id: id }), query: z.object({ format: z.enum(['json', 'csv']).default('json') }) },
      responses: {
        200: {
          description: 'The data',
          content: {
            'application/json': {
              schema: z.object({
                exportedAt: z.string(),
                customer: z.record(z.string(), z.unknown()),
                tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
              }),
            },
            'text/csv': { schema: z.string() },
          },
        },
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const data = await customerExport(deps.db, id);
      const { format } = c.req.valid('query');
      const rows = Object.values(data.tables).reduce((n, t) => n + t.length, 1);
      await auditBy(deps, c, 'export.customer', `customer #${id}`, { format, rows });
      c.header('Content-Disposition', `attachment; filename="kept-customer-${id}.${format}"`);
      if (format === 'json') return c.json({ exportedAt: deps.clock.now().toISOString(), ...data }, 200);
      const lines: unknown[][] = [['table', 'row', 'field', 'value']];
      for (const [table, tableRows] of [['customers', [data.customer]] as const, ...Object.entries(data.tables)]) {
        tableRows.forEach((row, i) => {
          for (const [field, value] of Object.entries(row)) {
            // A phone held in E.164 is written as held, without the formula quote (see phoneCell).
            const phone = field === 'phone' || (field === 'value' && 'kind' in row && row.kind === 'phone');
            const cell = text(value);
            lines.push([
              formulaSafe(table),
              i + 1,
              formulaSafe(field),
              phone && e164.test(cell) ? cell : formulaSafe(cell),
            ]);
          }
        });
      }
      c.header('Content-Type', 'text/csv; charset=utf-8');
      return c.body(stringify(lines), 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{id}/erase',
      middleware: admins,
      tags: ['privacy'],
      summary:
        'Erase a customer (a deletion request): every record about them goes, and they cannot come back by import, API or event',
      description:
        'One transaction. A keyed hash of each email, phone and external id they had is kept so that data about them is refused from now on; the audit log records the erasure with counts only. Cannot be undone.',
      request: {
        params: z.object({ id: id }),
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                confirm: z.literal('erase').describe('the word erase, so that no request erases by accident'),
              }),
            },
          },
        },
      },
      responses: {
        200: {
          description: 'Erased',
          content: {
            'application/json': {
              schema: erasedSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const erased = await eraseCustomer(deps, c.req.valid('param').id, {
        actor: principalName(c.get('principal')),
        ip: clientIp(c),
      });
      return c.json(erased, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/retention',
      middleware: admins,
      tags: ['privacy'],
      summary: 'How long each class of data is kept (KEPT_RETENTION), and what the latest sweeps deleted',
      responses: {
        200: {
          description: 'Classes and sweeps',
          content: {
            'application/json': {
              schema: retentionSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      return c.json(
        {
          classes: Object.entries(retentionClasses).map(([name, what]) => ({
            class: name,
            what,
            days: deps.config.retention[name as RetentionClass],
          })),
          sweeps: await latestSweeps(deps),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/retention/sweep',
      middleware: admins,
      tags: ['privacy'],
      summary:
        'Sweep now (it also runs every night at 03:00): deletes what is past its retention; follow the job at /jobs/{id}',
      responses: {
        202: { description: 'Started', content: { 'application/json': { schema: sweepStartedSchema } } },
      },
    }),
    async (c) => c.json({ jobId: await startJob(deps, 'retention', { by: principalName(c.get('principal')) }) }, 202),
  );
  return app;
}
