import { createRoute } from '@hono/zod-openapi';
import { anyone } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import { storeSettings } from './settings.service.ts';
import { settingsSchema } from './settings.ts';

export function settingsRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/settings',
      middleware: anyone,
      tags: ['settings'],
      summary: 'What every page needs about the store: its currency',
      responses: { 200: json(settingsSchema, 'The settings') },
    }),
    async (c) => c.json(await storeSettings(deps), 200),
  );
  return app;
}
