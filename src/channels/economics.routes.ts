// Channel economics over HTTP: the figures per channel with the recommendations, and the costs.
import { createRoute } from '@hono/zod-openapi';
import { anyone, marketing } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter, json } from '../shared/http.ts';
import { channelEconomicsReport, listChannelCosts, setChannelCosts } from './economics.service.ts';
import { channelCostsBody, channelCostsSchema, economicsSchema } from './economics.ts';

export function economicsRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/channels/economics',
      middleware: anyone,
      tags: ['channels'],
      summary:
        'Per acquisition, order and contact channel: customers, orders, revenue, margin, returns, problems per 1,000 orders, satisfaction, second-purchase rate, retention, predicted value, cost per retained customer; later orders by channel; a recommendation per acquisition channel with its evidence',
      responses: { 200: json(economicsSchema, 'The figures as of now') },
    }),
    async (c) => c.json(await channelEconomicsReport(deps), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/channels/costs',
      middleware: anyone,
      tags: ['channels'],
      summary: 'What each channel costs, as people set it: per order, contact, month or customer acquired',
      responses: { 200: json(channelCostsSchema, 'The costs by kind and channel') },
    }),
    async (c) => c.json({ costs: await listChannelCosts(deps.db) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/channels/costs',
      middleware: marketing,
      tags: ['channels'],
      summary:
        'Set the whole list of channel costs (one per kind and channel; what is left out has no cost any more); recorded in the audit log',
      request: { body: { content: { 'application/json': { schema: channelCostsBody } }, required: true } },
      responses: { 200: json(channelCostsSchema, 'The costs as they now stand') },
    }),
    async (c) => {
      const costs = await setChannelCosts(deps, c.req.valid('json'), {
        actor: principalName(c.get('principal')),
        ip: clientIp(c),
      });
      return c.json({ costs }, 200);
    },
  );

  return app;
}
