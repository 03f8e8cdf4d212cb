// Data quality over HTTP: the score with the counts per problem and its history, and the customers
// behind each count. For those who fix records (staff): the list names people.
import { createRoute, z } from '@hono/zod-openapi';
import { staff } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import { whole } from '../shared/input.ts';
import { qualityCustomers, qualityReport } from './quality.service.ts';
import { problemCodes, qualityCustomersSchema, qualityReportSchema } from './quality.ts';

export function qualityRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/quality',
      middleware: staff,
      tags: ['quality'],
      summary:
        'The data-quality score (the share of customers without any problem, 0-100), customers per problem with a label and what it means, and the score per day; takes the day’s snapshot when it has none',
      responses: { 200: json(qualityReportSchema, 'The score and counts as of now, and the history') },
    }),
    async (c) => c.json(await qualityReport(deps), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/quality/customers',
      middleware: staff,
      tags: ['quality'],
      summary:
        'The customers behind one problem of the data-quality page, by customer number, each with the problem in words',
      request: {
        query: z.object({
          problem: z.enum(problemCodes).openapi({ description: 'The problem, e.g. email_typo or missing_consent' }),
          page: whole(1, 10_000).default(1),
          pageSize: whole(1, 200).default(50),
        }),
      },
      responses: { 200: json(qualityCustomersSchema, 'One page of customers') },
    }),
    async (c) => {
      const { problem, page, pageSize } = c.req.valid('query');
      return c.json(await qualityCustomers(deps, problem, { page, pageSize }), 200);
    },
  );

  return app;
}
