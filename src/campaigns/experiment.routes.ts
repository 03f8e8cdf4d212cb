import { createRoute, z } from '@hono/zod-openapi';
import { anyone } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { id, whole } from '../shared/input.ts';
import { createRouter, json } from '../shared/http.ts';
import { experimentReport } from './experiment.service.ts';
import { experimentReportSchema } from './experiment.ts';

export function experimentRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/campaigns/{id}/experiment',
      middleware: anyone,
      tags: ['campaigns'],
      summary:
        'Each arm against the control on conversion, revenue per member and engagement, with 95 % intervals; by=ATTRIBUTE adds each subgroup and a test of whether they differ',
      request: {
        params: z.object({ id }),
        query: z.object({
          days: whole(1, 365).default(30),
          by: z.string().trim().min(1).max(100).optional(),
        }),
      },
      responses: { 200: json(experimentReportSchema, 'The report') },
    }),
    async (c) => {
      const query = c.req.valid('query');
      return c.json(await experimentReport(deps, c.req.valid('param').id, query), 200);
    },
  );
  return app;
}
