// Duplicates over HTTP: the review queue, running the finder, and a person's decision on a pair.
import { createRoute, z } from '@hono/zod-openapi';
import { marketing, staff } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter, json } from '../shared/http.ts';
import { id, whole } from '../shared/input.ts';
import { decidePair, findDuplicates, listPairs } from './duplicate.service.ts';
import { decisionBody, findBody, findResultSchema, pairPageSchema, pairStatuses } from './duplicate.ts';

export function duplicateRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/duplicates',
      middleware: staff,
      tags: ['duplicates'],
      summary:
        'The duplicate review queue: pairs of customers that look like one person, highest score first, with the evidence in words and both records side by side',
      request: {
        query: z.object({
          status: z.enum(pairStatuses).default('open'),
          page: whole(1, 10_000).default(1),
          pageSize: whole(1, 200).default(20),
        }),
      },
      responses: { 200: json(pairPageSchema, 'One page of pairs') },
    }),
    async (c) => c.json(await listPairs(deps, c.req.valid('query')), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/duplicates/find',
      middleware: marketing,
      tags: ['duplicates'],
      summary:
        'Run the duplicate finder over all customers: pairs at or above the minimum score join the queue; pairs decided as not the same person stay so',
      request: { body: { required: false, content: { 'application/json': { schema: findBody } } } },
      responses: { 200: json(findResultSchema, 'What the finder compared and found') },
    }),
    async (c) => {
      const body = c.req.header('content-type')?.includes('json') ? c.req.valid('json') : {};
      return c.json(await findDuplicates(deps, { minScore: body?.minScore }), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/duplicates/{first}/{second}',
      middleware: staff,
      tags: ['duplicates'],
      summary:
        'Decide on a pair: merge (into `keep`; everything of the other moves to it), distinct (not the same person: never proposed again) or later',
      description: 'Audited as duplicates.decided (and a merge as customer.merged). A pair merged already answers 409.',
      request: {
        params: z.object({ first: id, second: id }),
        body: { required: true, content: { 'application/json': { schema: decisionBody } } },
      },
      responses: {
        200: json(
          z.object({
            status: z.enum(pairStatuses),
            kept: z.number().optional(),
            removed: z.number().optional(),
          }),
          'The pair as decided',
        ),
      },
    }),
    async (c) => {
      const { first, second } = c.req.valid('param');
      return c.json(
        await decidePair(deps, { first, second }, c.req.valid('json'), {
          principal: c.get('principal'),
          ip: clientIp(c),
        }),
        200,
      );
    },
  );

  return app;
}
