import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing } from '../auth/access.ts';
import { auditBy } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { id, whole } from '../shared/input.ts';
import { createRouter, json } from '../shared/http.ts';
import { addExperimentMembers, createExperiment, experimentReport, finishExperiment } from './experiment.service.ts';
import {
  experimentBody,
  experimentFinishedSchema,
  experimentReportSchema,
  experimentUploadSchema,
  memberPageBody,
  memberPageResultSchema,
  pageMembers,
} from './experiment.ts';

const body = <T extends z.ZodType>(schema: T) => ({
  body: { content: { 'application/json': { schema } }, required: true },
});

export function experimentRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/campaigns/{id}/experiment',
      middleware: anyone,
      tags: ['campaigns'],
      summary:
        'Each arm against the control on conversion, revenue per member and engagement, with 95 % intervals; by=ATTRIBUTE adds each subgroup and a test of whether they differ',
      request: {
        params: z.object({ id }),
        query: z.object({
          days: whole(1, 365).default(30),
          by: z.string().trim().min(1).max(100).optional(),
        }),
      },
      responses: { 200: json(experimentReportSchema, 'The report') },
    }),
    async (c) => {
      const query = c.req.valid('query');
      return c.json(await experimentReport(deps, c.req.valid('param').id, query), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns/experiments',
      middleware: marketing,
      tags: ['campaigns'],
      summary:
        'Start recording an experiment run elsewhere: its members come in pages (POST /campaigns/{id}/members), then POST /campaigns/{id}/members/done makes it reportable',
      request: body(experimentBody),
      responses: { 201: json(experimentUploadSchema, 'Created, uploading') },
    }),
    async (c) => {
      const created = await createExperiment(deps, c.get('principal'), c.req.valid('json'));
      await auditBy(deps, c, 'campaign.experiment_created', `campaign #${created.id} ${created.name}`, {
        control: created.control,
      });
      return c.json(created, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns/{id}/members',
      middleware: marketing,
      tags: ['campaigns'],
      summary: `A page of an uploading experiment's members (at most ${pageMembers.toLocaleString('en')}), all or nothing; a member sent again exactly as before changes nothing, with other values it is refused; 409 once finished`,
      request: { params: z.object({ id }), ...body(memberPageBody) },
      responses: { 200: json(memberPageResultSchema, 'Stored') },
    }),
    async (c) => c.json(await addExperimentMembers(deps, c.req.valid('param').id, c.req.valid('json')), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/campaigns/{id}/members/done',
      middleware: marketing,
      tags: ['campaigns'],
      summary:
        'Finish an uploading experiment: it needs members in the control arm and in another; then it is reported and takes no more pages',
      request: { params: z.object({ id }) },
      responses: { 200: json(experimentFinishedSchema, 'Finished') },
    }),
    async (c) => {
      const finished = await finishExperiment(deps, c.req.valid('param').id);
      await auditBy(deps, c, 'campaign.experiment_finished', `campaign #${finished.id} ${finished.name}`, {
        members: finished.members,
        arms: finished.arms,
      });
      return c.json(finished, 200);
    },
  );
  return app;
}
