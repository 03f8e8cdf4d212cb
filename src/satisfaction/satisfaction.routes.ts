import { createRoute, z } from '@hono/zod-openapi';
import { anyone } from '../auth/access.ts';
import { latestRun } from '../analytics/index.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { dayIn } from '../shared/time.ts';
import { inputLabels, satisfactionPointsSchema, satisfactionSchema, type SatisfactionFit } from './satisfaction.ts';
import { customerSatisfaction, satisfiedFrom } from './satisfaction.service.ts';
import { id } from '../shared/input.ts';

export function satisfactionRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/satisfaction',
      middleware: anyone,
      tags: ['satisfaction'],
      summary:
        'The satisfaction index of the latest analysis: its fitted weights, how well it predicts buying again, and customers kept satisfied by month, channel, stage and team',
      responses: {
        200: {
          description: 'Null model before an analysis could fit one',
          content: {
            'application/json': {
              schema: satisfactionSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const run = (await latestRun(deps.db)) as
        | { models?: { satisfaction?: SatisfactionFit | null }; report?: { satisfiedByMonth?: [] } }
        | undefined;
      return c.json(
        {
          model: run?.models?.satisfaction ?? null,
          inputs: inputLabels,
          satisfiedFrom,
          byMonth: run?.report?.satisfiedByMonth ?? [],
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/satisfaction',
      middleware: anyone,
      tags: ['satisfaction'],
      summary: "One customer's satisfaction index at the end of each of the last 12 months",
      request: { params: z.object({ id: id }) },
      responses: {
        200: {
          description:
            'Null where the customer had no experience since their last order (within 180 days) or no order in the year before',
          content: {
            'application/json': {
              schema: satisfactionPointsSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const run = (await latestRun(deps.db)) as { models?: { satisfaction?: SatisfactionFit | null } } | undefined;
      const model = run?.models?.satisfaction;
      return c.json(
        {
          points: model
            ? await customerSatisfaction(
                deps.db,
                model,
                c.req.valid('param').id,
                dayIn(deps.config.timeZone, deps.clock.now()),
              )
            : [],
        },
        200,
      );
    },
  );
  return app;
}
