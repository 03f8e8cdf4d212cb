import { createRoute, z } from '@hono/zod-openapi';
import { staff } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter } from '../shared/http.ts';
import { id, whole } from '../shared/input.ts';
import { listMerges, undoDays, undoMerge } from './merge.ts';

const mergeSchema = z
  .object({
    id: z.number(),
    into: z.number(),
    from: z.number(),
    at: z.string(),
    actor: z.string(),
    intoName: z.string().nullable(),
    fromName: z.string().nullable(),
    undoneAt: z.string().nullable(),
    undoable: z.boolean(),
  })
  .openapi('Merge');

export function mergeRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/merges',
      middleware: staff,
      tags: ['customers'],
      summary: `The merges of the last days (at most 200), newest first, and whether each can still be undone (within ${undoDays} days)`,
      request: { query: z.object({ days: whole(1, 365).default(undoDays) }) },
      responses: {
        200: {
          description: 'Recent merges',
          content: { 'application/json': { schema: z.object({ merges: z.array(mergeSchema) }) } },
        },
      },
    }),
    async (c) => c.json({ merges: await listMerges(deps, c.req.valid('query').days) }, 200),
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/merges/{id}/undo',
      middleware: staff,
      tags: ['customers'],
      summary: `Undo a merge within ${undoDays} days: the duplicate comes back as it was and every row goes back to its owner`,
      description:
        'One transaction. Rows that arrived for the customer kept after the merge stay with it. 409 when the merge was undone already, is older than ' +
        `${undoDays} days, or an identity of the duplicate now belongs to another customer. Audited as customer.unmerged.`,
      request: { params: z.object({ id }) },
      responses: {
        200: {
          description: 'Undone',
          content: {
            'application/json': {
              schema: z.object({
                mergeId: z.number(),
                into: z.number(),
                from: z.number(),
                restored: z.record(z.string(), z.number()),
              }),
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(
        await undoMerge(deps, c.req.valid('param').id, { actor: principalName(c.get('principal')), ip: clientIp(c) }),
        200,
      ),
  );
  return app;
}
