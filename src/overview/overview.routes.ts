import { createRoute } from '@hono/zod-openapi';
import { anyone } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import { overview } from './overview.service.ts';
import { overviewSchema } from './overview.ts';

export function overviewRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/overview',
      middleware: anyone,
      tags: ['analytics'],
      summary:
        "The owner's overview: customers by stage now and at the month's start with this month's moves, customers at risk and their value, the programme's revenue against the universal control group, the top reasons customers left, and the latest campaigns against their holdouts",
      responses: { 200: json(overviewSchema, 'The overview as of now') },
    }),
    async (c) => c.json(await overview(deps), 200),
  );
  return app;
}
