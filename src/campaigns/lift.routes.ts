// Is marketing working overall: the whole programme against the universal control group.
import { createRoute, z } from '@hono/zod-openapi';
import { anyone } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import { whole } from '../shared/input.ts';
import { programmeLiftReport } from './lift.service.ts';
import { programmeLiftSchema } from './lift.ts';

export function liftRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/programme/lift',
      middleware: anyone,
      tags: ['campaigns'],
      summary:
        'The whole marketing programme against the universal control group: per month and over the span, buying, revenue per customer and retention of each group, the difference with its 95 % interval, p-value and relative lift, a warning when the group is too small; the control group size and who reached it; marketing messages per month',
      request: {
        query: z.object({
          months: whole(1, 36)
            .default(12)
            .openapi({ description: 'Calendar months back, the current one (to date) included' }),
        }),
      },
      responses: { 200: json(programmeLiftSchema, 'The lift as of now') },
    }),
    async (c) => c.json(await programmeLiftReport(deps, c.req.valid('query').months), 200),
  );

  return app;
}
