import { createRoute, z } from '@hono/zod-openapi';
import { anyone } from '../auth/access.ts';
import { latestRun } from '../analytics/index.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { dayIn } from '../shared/time.ts';
import { inputLabels } from './satisfaction.ts';
import { customerSatisfaction, satisfiedFrom, type SatisfactionFit } from './satisfaction.service.ts';
import { id } from '../shared/input.ts';

const tally = z.record(z.string(), z.object({ customers: z.number(), satisfied: z.number(), meanIndex: z.number() }));

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
              schema: z.object({
                model: z.record(z.string(), z.unknown()).nullable(),
                inputs: z.record(z.string(), z.string()),
                satisfiedFrom: z.number(),
                byMonth: z.array(
                  z.object({
                    month: z.string(),
                    customers: z.number(),
                    satisfied: z.number(),
                    byChannel: tally,
                    byStage: tally,
                    byAgent: tally,
                  }),
                ),
              }),
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
              schema: z.object({
                points: z.array(z.object({ month: z.string(), index: z.number().nullable() })),
              }),
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
