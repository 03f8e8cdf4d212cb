import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import { createSurvey, inviteToSurvey, listFeedback, surveyStats } from './survey.service.ts';
import { id, whole } from '../shared/input.ts';

const question = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9_]{0,39}$/, 'lower-case letters, digits and _'),
    kind: z.enum(['nps', 'csat', 'ces', 'choice', 'text']),
    text: z.string().trim().min(1).max(300),
    required: z.boolean().optional(),
    options: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,39}$/))
      .min(2)
      .max(12)
      .optional(),
  })
  .openapi('SurveyQuestion');
const survey = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'lower-case letters, digits and -'),
    title: z.string().trim().min(1).max(200),
    purpose: z
      .enum(['survey', 'problem'])
      .default('survey')
      .openapi({ description: 'problem: answering opens a ticket tied to the order of the link' }),
    intro: z.string().trim().max(1000).nullable().default(null),
    questions: z.array(question).min(1).max(20),
  })
  .openapi('Survey');

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
              schema: z.object({
                surveys: z.array(
                  survey.extend({
                    id: z.number(),
                    invited: z.number(),
                    answered: z.number(),
                    responses: z.number(),
                    nps: z.number().nullable(),
                    average: z.number().nullable(),
                  }),
                ),
              }),
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
      request: { body: { content: { 'application/json': { schema: survey } }, required: true } },
      responses: {
        201: {
          description: 'Created',
          content: { 'application/json': { schema: z.object({ id: z.number(), key: z.string() }) } },
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
              schema: z.object({
                invitations: z.array(
                  z.object({
                    customerId: z.number(),
                    invitationId: z.number(),
                    token: z.string(),
                    url: z.string(),
                    expiresAt: z.string(),
                  }),
                ),
              }),
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(
        { invitations: await inviteToSurvey(deps, c.req.valid('param').key, c.req.valid('json').invitations) },
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
              schema: z.object({
                feedback: z.array(
                  z.object({
                    id: z.number(),
                    at: z.string(),
                    page: z.string().nullable(),
                    score: z.number().nullable(),
                    comment: z.string().nullable(),
                  }),
                ),
              }),
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
