import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { createSurvey, inviteByRequest, listFeedback, surveyStats } from './survey.service.ts';
import { id, whole } from '../shared/input.ts';
import { feedbackListSchema, invitationsSchema, surveyBody, surveyCreatedSchema, surveyListSchema } from './survey.ts';

export function surveyRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/surveys',
      middleware: anyone,
      tags: ['surveys'],
      summary: 'Surveys with invitations, answers and (for NPS) the score',
      responses: {
        200: {
          description: 'Every survey',
          content: {
            'application/json': {
              schema: surveyListSchema,
            },
          },
        },
      },
    }),
    async (c) => c.json({ surveys: await surveyStats(deps.db) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/surveys',
      middleware: marketing,
      tags: ['surveys'],
      summary: 'Define a survey: NPS, CSAT, CES, choice and free-text questions',
      request: { body: { content: { 'application/json': { schema: surveyBody } }, required: true } },
      responses: {
        201: {
          description: 'Created',
          content: { 'application/json': { schema: surveyCreatedSchema } },
        },
      },
    }),
    async (c) => {
      const created = await createSurvey(deps, c.req.valid('json'));
      return c.json({ id: created.id, key: created.key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/surveys/{key}/invitations',
      middleware: marketing,
      tags: ['surveys'],
      summary: 'Invite customers: one unguessable link each, shown once (only its hash is kept)',
      request: {
        params: z.object({ key: z.string() }),
        body: {
          content: {
            'application/json': {
              schema: z.object({
                invitations: z
                  .array(
                    z.object({
                      customerId: z.number().int().positive(),
                      orderId: z.number().int().positive().nullable().optional(),
                      channel: z.string().max(40).nullable().optional(),
                    }),
                  )
                  .min(1)
                  .max(1000),
              }),
            },
          },
          required: true,
        },
      },
      responses: {
        201: {
          description: 'The links',
          content: {
            'application/json': {
              schema: invitationsSchema,
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(
        { invitations: await inviteByRequest(deps, c.req.valid('param').key, c.req.valid('json').invitations) },
        201,
      ),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/feedback',
      middleware: anyone,
      tags: ['surveys'],
      summary: 'Anonymous website feedback, newest first',
      request: { query: z.object({ limit: whole(1, 500).default(100), before: id.optional() }) },
      responses: {
        200: {
          description: 'Feedback',
          content: {
            'application/json': {
              schema: feedbackListSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const { limit, before } = c.req.valid('query');
      const rows = await listFeedback(deps.db, { limit, before });
      return c.json({ feedback: rows.map((r) => ({ ...r, at: new Date(r.at).toISOString() })) }, 200);
    },
  );
  return app;
}
