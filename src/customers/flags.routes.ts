import { createRoute, z } from '@hono/zod-openapi';
import { staff } from '../auth/access.ts';
import { auditBy } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { id } from '../shared/input.ts';
import { statusFlags } from './flags.ts';
import { changeFlag } from './flags.service.ts';

const flagBody = z
  .object({
    flag: z.enum(statusFlags),
    active: z.boolean().openapi({ description: 'true sets the flag, false clears it' }),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .openapi({ description: 'Why: kept on the timeline and in the audit log' }),
  })
  .openapi('FlagChange');

export function flagRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{id}/flags',
      middleware: staff,
      tags: ['customers'],
      summary: 'Set or clear a status flag (moved, undeliverable, deceased, do-not-contact) with a reason',
      description:
        'Written like every status change (the timeline shows it with the reason) and honoured at once by every campaign, journey, list, worklist and gift, including work already queued. Clearing deceased needs an admin. Audited as customer.flag_set or customer.flag_cleared.',
      request: {
        params: z.object({ id }),
        body: { required: true, content: { 'application/json': { schema: flagBody } } },
      },
      responses: {
        200: {
          description: 'The flags now, and whether this changed them',
          content: {
            'application/json': { schema: z.object({ flags: z.array(z.string()), changed: z.boolean() }) },
          },
        },
      },
    }),
    async (c) => {
      const customerId = c.req.valid('param').id;
      const body = c.req.valid('json');
      const result = await changeFlag(deps, c.get('principal'), customerId, body);
      if (result.changed)
        await auditBy(deps, c, body.active ? 'customer.flag_set' : 'customer.flag_cleared', `customer #${customerId}`, {
          flag: body.flag,
          reason: body.reason,
        });
      return c.json(result, 200);
    },
  );
  return app;
}
