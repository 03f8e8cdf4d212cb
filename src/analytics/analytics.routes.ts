import { createRoute, z } from '@hono/zod-openapi';
import { analysis, anyone, namesFor } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { findJob } from '../jobs/job.service.ts';
import { jobStatusSchema } from '../jobs/job.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter } from '../shared/http.ts';
import {
  activityAlerts,
  atRiskCustomers,
  customerScores,
  customersByStage,
  latestRun,
  startAnalysis,
} from './analyze.service.ts';
import { calendarDate, id, whole } from '../shared/input.ts';
import { activityModels } from '../config.ts';
import {
  alertSchema,
  analyticsPageSchema,
  atRiskCustomerSchema,
  customerScoreSchema,
  subscriberScoreSchema,
} from './analytics.ts';
import { customerChurnScore } from './subscriptions.service.ts';

const job = jobStatusSchema;

export function analyticsRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics',
      middleware: anyone,
      tags: ['analytics'],
      summary: 'The latest analysis: parameters, warnings, charts, and customers by stage now',
      responses: {
        200: {
          description: 'Latest run, or run: null before the first',
          content: {
            'application/json': {
              schema: analyticsPageSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const [run, stages] = await Promise.all([latestRun(deps.db), customersByStage(deps.db)]);
      return c.json({ run: run ?? null, stages }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/analytics/runs',
      middleware: analysis,
      tags: ['analytics'],
      summary: 'Run the analysis now as a background job (one at a time)',
      request: {
        body: {
          content: {
            'application/json': {
              schema: z.object({
                asOf: calendarDate
                  .optional()
                  .openapi({ description: 'Last day of history the models see; default today' }),
                model: z.enum(activityModels).optional(),
              }),
            },
          },
          required: false,
        },
      },
      responses: {
        202: {
          description: 'The job (an already running one if there is)',
          content: { 'application/json': { schema: z.object({ jobId: z.number(), started: z.boolean() }) } },
        },
      },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      return c.json(await startAnalysis(deps, body ?? {}), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/jobs/{id}',
      middleware: anyone,
      tags: ['jobs'],
      summary: 'A background job: status, progress, result',
      request: { params: z.object({ id: id }) },
      responses: { 200: { description: 'The job', content: { 'application/json': { schema: job } } } },
    }),
    async (c) => {
      const row = await findJob(deps, c.req.valid('param').id);
      if (!row) throw new AppError('not_found', 'No such job');
      return c.json(
        { jobId: row.id, status: row.status, done: row.done, total: row.total, error: row.error, result: row.result },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/at-risk',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        'Customers at risk in the latest current analysis, by value at stake (without names and emails for an analyst)',
      request: { query: z.object({ limit: whole(1, 500).default(50), offset: whole(0, 100_000).default(0) }) },
      responses: {
        200: {
          description: 'Highest value at stake first',
          content: {
            'application/json': {
              schema: z.object({ customers: z.array(atRiskCustomerSchema) }),
            },
          },
        },
      },
    }),
    async (c) => {
      const { limit, offset } = c.req.valid('query');
      const rows = await atRiskCustomers(deps.db, { limit, offset });
      return c.json({ customers: namesFor(c.get('principal'), rows) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/alerts',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        'Activity-drop alerts: customers whose probability of being active crossed the threshold (without names for an analyst)',
      description:
        'Newest first. To follow alerts as they come (segments, journeys, a worklist, your own system), pass `after` with the highest id you have seen: the answer then lists newer alerts, oldest first.',
      request: {
        query: z.object({ after: whole(0, Number.MAX_SAFE_INTEGER).optional(), limit: whole(1, 1000).default(100) }),
      },
      responses: {
        200: {
          description: 'Alerts',
          content: {
            'application/json': {
              schema: z.object({ alerts: z.array(alertSchema) }),
            },
          },
        },
      },
    }),
    async (c) => {
      const { after, limit } = c.req.valid('query');
      const rows = await activityAlerts(deps.db, { after, limit });
      return c.json(
        {
          alerts: namesFor(
            c.get('principal'),
            rows.map((r) => ({
              id: r.id,
              customerId: r.customer_id,
              name: r.name,
              at: new Date(r.at).toISOString(),
              fromPAlive: r.from_p_alive,
              toPAlive: r.to_p_alive,
              valueAtStake: r.value_at_stake,
              reason: r.reason,
            })),
          ),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/scores',
      middleware: anyone,
      tags: ['analytics'],
      summary: "One customer's scores, newest analysis first (the history is kept)",
      request: { params: z.object({ id: id }) },
      responses: {
        200: {
          description: 'Scores per run',
          content: {
            'application/json': {
              schema: z.object({
                scores: z.array(customerScoreSchema),
                subscription: subscriberScoreSchema.nullable(),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const customerId = c.req.valid('param').id;
      const [rows, subscription] = await Promise.all([
        customerScores(deps.db, customerId),
        customerChurnScore(deps.db, customerId),
      ]);
      return c.json({ scores: rows, subscription }, 200);
    },
  );
  return app;
}
