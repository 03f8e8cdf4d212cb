// The journey blueprint over HTTP: the designed path of each stage against the actual paths, the
// gaps, the customers behind each number, and changing a stage's design.
import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing, namesFor } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter, json } from '../shared/http.ts';
import { whole } from '../shared/input.ts';
import { blueprintReport, customersOfStep, resetDesign, saveDesign } from './blueprint.service.ts';
import {
  blueprintBody,
  blueprintReportSchema,
  blueprintStages,
  designSchema,
  outcomes,
  stepCustomerSchema,
  type Design,
} from './blueprint.ts';

const stageParam = z.object({ stage: z.enum(blueprintStages) });
const window = whole(1, 730)
  .default(365)
  .openapi({ description: 'Customers who entered a stage in the last this-many days' });
const shown = (d: Design) => ({
  stage: d.stage,
  design: d.source,
  steps: d.steps,
  updatedBy: d.updatedBy,
  updatedAt: d.updatedAt,
});

export function blueprintRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/blueprint',
      middleware: anyone,
      tags: ['journeys'],
      summary:
        "Each stage's designed path against the paths customers took: per designed step, who got it on time, late or never, how long it took, and where those who left the stage went; the gaps (no contact for long, orders never confirmed, stages no journey starts on) with their first 50 customers (without names for an analyst)",
      request: {
        query: z.object({
          days: window,
          silentDays: whole(1, 3650)
            .default(90)
            .openapi({ description: 'A customer in an active stage is silent after this many days without contact' }),
          stage: z.enum(blueprintStages).optional().openapi({ description: 'Only this stage (the gaps stay whole)' }),
        }),
      },
      responses: { 200: json(blueprintReportSchema, 'The blueprint as of now') },
    }),
    async (c) => {
      const report = await blueprintReport(deps, c.req.valid('query'));
      const principal = c.get('principal');
      return c.json(
        { ...report, gaps: report.gaps.map((g) => ({ ...g, sample: namesFor(principal, g.sample) })) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/blueprint/customers',
      middleware: anyone,
      tags: ['journeys'],
      summary:
        "The customers behind one number of a stage's funnel: a designed step on time, late, missed, left the stage first or not due yet; by customer number (without names for an analyst)",
      request: {
        query: z.object({
          stage: z.enum(blueprintStages),
          step: z.string().max(40),
          outcome: z.enum(outcomes),
          days: window,
          limit: whole(1, 1000).default(50),
        }),
      },
      responses: { 200: json(z.object({ customers: z.array(stepCustomerSchema).max(1000) }), 'By customer number') },
    }),
    async (c) => {
      const customers = await customersOfStep(deps, c.req.valid('query'));
      return c.json({ customers: namesFor(c.get('principal'), customers) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/blueprint/{stage}',
      middleware: marketing,
      tags: ['journeys'],
      summary:
        "Save a stage's designed path (its steps, each due within hours or days of entering the stage); recorded in the audit log",
      request: {
        params: stageParam,
        body: { required: true, content: { 'application/json': { schema: blueprintBody } } },
      },
      responses: { 200: json(designSchema, 'The design now') },
    }),
    async (c) => {
      const by = { actor: principalName(c.get('principal')), ip: clientIp(c) };
      const design = await saveDesign(deps, c.req.valid('param').stage, c.req.valid('json').steps, by);
      return c.json(shown(design), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/blueprint/{stage}',
      middleware: marketing,
      tags: ['journeys'],
      summary: 'Go back to the built-in design of a stage; recorded in the audit log when there was a saved one',
      request: { params: stageParam },
      responses: { 200: json(designSchema, 'The design now') },
    }),
    async (c) => {
      const by = { actor: principalName(c.get('principal')), ip: clientIp(c) };
      return c.json(shown(await resetDesign(deps, c.req.valid('param').stage, by)), 200);
    },
  );

  return app;
}
