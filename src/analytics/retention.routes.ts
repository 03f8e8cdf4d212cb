// Why customers leave and whom an action moves: the outcome tables and the customers behind a
// cell, the drivers of leaving, the uplift estimates, the experiences catalogue, and a post-mortem.
import { createRoute, z } from '@hono/zod-openapi';
import { anyone, namesFor, staff } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { experienceCatalogue, experienceCounts, incidentKinds } from '../experiences/index.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter } from '../shared/http.ts';
import { id, whole } from '../shared/input.ts';
import { outcomeCustomers, outcomesReport, postMortem, retentionReport } from './retention.service.ts';
import {
  driversReportSchema,
  experienceCatalogueSchema,
  outcomeCustomersSchema,
  outcomesReportSchema,
  postMortemSchema,
  upliftReportSchema,
} from './retention.ts';

const noReport = () =>
  new AppError(
    'not_found',
    'No analysis has looked at experiences yet: run one (kept analyze, or Analytics → Run analysis now)',
  );

export function retentionRoutes(deps: Deps) {
  const app = createRouter();
  const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
    200: { description, content: { 'application/json': { schema } } },
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/outcomes',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        'Outcome tables: what each type of customer did after each experience (bought again, value in bands, lapsed) against the same type without it, with 95 % intervals',
      request: {
        query: z.object({
          run: id.optional().openapi({ description: 'An analysis run; the latest current one by default' }),
          kind: z.string().max(100).optional(),
          stage: z.string().max(40).optional().openapi({ description: 'prospect, trial, customer or * (any)' }),
          valueBand: z.string().max(10).optional().openapi({ description: 'none, low, mid, high or *' }),
          channel: z.string().max(40).optional().openapi({ description: 'An acquisition channel or *' }),
          occurrence: z.enum(['first', 'repeated', 'all']).optional(),
          followedUp: z.enum(['yes', 'no', 'all']).optional(),
          minN: whole(0, 1_000_000).optional().openapi({ description: 'Only cells with at least this many' }),
          segment: id.optional().openapi({
            description:
              "A saved segment: the tables for its members (computed on request from the analysis's as-of date)",
          }),
        }),
      },
      responses: json(outcomesReportSchema, 'The outcome tables'),
    }),
    async (c) => {
      const { run, segment, ...filter } = c.req.valid('query');
      const report = await outcomesReport(deps, { runId: run, segmentId: segment, ...filter });
      if (!report) throw noReport();
      return c.json(report, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/outcomes/customers',
      middleware: anyone,
      tags: ['analytics'],
      summary: 'The customers behind a cell of the outcome tables (without names for an analyst)',
      request: {
        query: z.object({
          cell: z
            .string()
            .max(300)
            .regex(/^[^|]+(\|[^|]+){5}$/, 'stage|valueBand|channel|kind|occurrence|followedUp')
            .openapi({ description: 'The cell key, e.g. trial|*|*|late_delivery|all|no' }),
          segment: id.optional().openapi({ description: "Only a saved segment's members" }),
          limit: whole(1, 500).default(100),
          offset: whole(0, 1_000_000).default(0),
        }),
      },
      responses: json(outcomeCustomersSchema, 'Newest first'),
    }),
    async (c) => {
      const { cell, segment, limit, offset } = c.req.valid('query');
      const found = await outcomeCustomers(deps, cell, { limit, offset, segmentId: segment });
      return c.json({ ...found, customers: namesFor(c.get('principal'), found.customers) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/drivers',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        'Drivers of leaving: the time-to-lapse hazard model (hazard ratios with intervals), the causes of leaving by month, and exit-survey reasons',
      responses: json(driversReportSchema, 'The drivers of leaving'),
    }),
    async (c) => {
      const report = await retentionReport(deps);
      if (!report) throw noReport();
      return c.json({ runId: report.runId, asOf: report.asOf, ...(report.drivers as object) } as never, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/uplift',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        'Uplift from every random holdout: the effect by customer type, the cross-fitted uplift model (Qini, top k %), and what ranking by incremental value saves',
      responses: json(upliftReportSchema, 'The uplift estimates'),
    }),
    async (c) => {
      const report = await retentionReport(deps);
      if (!report) throw noReport();
      return c.json({ runId: report.runId, asOf: report.asOf, ...(report.uplift as object) } as never, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/experiences',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        'The experiences catalogue: each kind, its definition with the configured thresholds, and how often it happened',
      responses: json(experienceCatalogueSchema, 'The catalogue'),
    }),
    async (c) => {
      const [counts, incidents] = await Promise.all([experienceCounts(deps.db), incidentKinds(deps.db)]);
      const byKind = new Map(counts.map((k) => [k.kind, k]));
      return c.json(
        {
          kinds: experienceCatalogue(deps.config, incidents).map((k) => ({ ...k, counts: byKind.get(k.kind) ?? null })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{customerId}/post-mortem',
      middleware: staff,
      tags: ['customers'],
      summary:
        'Why a customer left: last experiences, unresolved problems, contacts and what was tried, exit answer, the drivers that applied, the likely cause',
      request: { params: z.object({ customerId: id }) },
      responses: json(postMortemSchema, 'The post-mortem'),
    }),
    async (c) => c.json((await postMortem(deps, c.req.valid('param').customerId)) as never, 200),
  );

  return app;
}
