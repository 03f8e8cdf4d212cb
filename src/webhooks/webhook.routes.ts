import { createRoute, z } from '@hono/zod-openapi';
import { admins } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import {
  createWebhook,
  listDeliveries,
  listWebhooks,
  removeWebhook,
  replayDelivery,
  webhookEvents,
} from './webhook.service.ts';
import { id, whole } from '../shared/input.ts';
import { deliveryListSchema, webhookCreatedSchema, webhookListSchema } from './webhook.ts';

const idParam = z.object({ id: id });
export function webhookRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/webhooks',
      middleware: admins,
      tags: ['webhooks'],
      summary: 'Webhooks with their deliveries pending, delivered and dead',
      responses: { 200: json(webhookListSchema, 'By id') },
    }),
    async (c) => c.json({ webhooks: await listWebhooks(deps.db), events: [...webhookEvents] }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks',
      middleware: admins,
      tags: ['webhooks'],
      summary: 'Add a webhook: where to POST which events; the signing secret is in the answer, once',
      description:
        'An internal address (private, loopback, link-local, ...) is refused unless KEPT_WEBHOOK_ALLOW names it; a scoped key needs the read scopes of the data its events carry (403 naming those it lacks); docs/webhooks.md.',
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({
                url: z.string().max(2000),
                events: z.array(z.enum(webhookEvents)).min(1).max(webhookEvents.length),
              }),
            },
          },
        },
      },
      responses: {
        201: json(webhookCreatedSchema, 'Created'),
      },
    }),
    async (c) => c.json(await createWebhook(deps, c.req.valid('json'), c.get('principal')), 201),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/webhooks/{id}',
      middleware: admins,
      tags: ['webhooks'],
      summary: 'Remove a webhook: nothing more is sent to it',
      request: { params: idParam },
      responses: { 204: { description: 'Removed' } },
    }),
    async (c) => {
      await removeWebhook(deps, c.req.valid('param').id, c.get('principal'));
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/webhooks/{id}/deliveries',
      middleware: admins,
      tags: ['webhooks'],
      summary: 'Deliveries of a webhook, newest first, with attempts and the last answer',
      request: {
        params: idParam,
        query: z.object({
          status: z.enum(['pending', 'sending', 'delivered', 'dead']).optional(),
          limit: whole(1, 500).default(100),
        }),
      },
      responses: {
        200: json(deliveryListSchema, 'Newest first'),
      },
    }),
    async (c) => {
      const { status, limit } = c.req.valid('query');
      return c.json({ deliveries: await listDeliveries(deps.db, c.req.valid('param').id, status, limit) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks/{id}/deliveries/{deliveryId}/replay',
      middleware: admins,
      tags: ['webhooks'],
      summary: 'Send a dead (or delivered) delivery again, with the same event id and 4 more hours of retries',
      request: { params: idParam.extend({ deliveryId: id }) },
      responses: { 202: json(z.object({ queued: z.boolean() }), 'Queued') },
    }),
    async (c) => {
      const { id, deliveryId } = c.req.valid('param');
      await replayDelivery(deps, id, deliveryId, c.get('principal'));
      return c.json({ queued: true }, 202);
    },
  );
  return app;
}
