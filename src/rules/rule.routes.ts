import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import { auditBy } from '../audit/audit.service.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { id } from '../shared/input.ts';
import { changeRule, rules } from './rule.service.ts';
import { ruleChangeBody, ruleSchema, ruleStatuses } from './rule.ts';

export function ruleRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/rules',
      middleware: anyone,
      tags: ['rules'],
      summary:
        'Rules distilled from the outcome tables: approved first, each with its evidence, its history and the outcomes of what it suggested',
      request: { query: z.object({ status: z.enum(ruleStatuses).optional() }) },
      responses: {
        200: {
          description: 'The rules',
          content: { 'application/json': { schema: z.object({ rules: z.array(ruleSchema) }) } },
        },
      },
    }),
    async (c) => c.json({ rules: await rules(deps, { status: c.req.valid('query').status }) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/rules/{ruleId}',
      middleware: marketing,
      tags: ['rules'],
      summary: 'Approve, edit or retire a rule (only approved rules drive the worklist); retiring needs a reason',
      request: {
        params: z.object({ ruleId: id }),
        body: { content: { 'application/json': { schema: ruleChangeBody } }, required: true },
      },
      responses: {
        200: { description: 'The rule as it now stands', content: { 'application/json': { schema: ruleSchema } } },
      },
    }),
    async (c) => {
      const { ruleId } = c.req.valid('param');
      const body = c.req.valid('json');
      const rule = await changeRule(deps, ruleId, body, principalName(c.get('principal')));
      await auditBy(deps, c, 'rule.changed', `rule:${ruleId}`, { ...body });
      return c.json(rule, 200);
    },
  );

  return app;
}
