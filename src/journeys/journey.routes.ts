import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing, namesFor } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import {
  findJourney,
  journeyFromRecipe,
  journeyReport,
  listJourneys,
  recentEnrolments,
  runJourneys,
  saveJourney,
  setJourneyStatus,
  stepCounts,
} from './journey.service.ts';
import {
  journeyBody,
  journeyDetailSchema,
  journeyListSchema,
  journeyReportSchema,
  journeyRoundSchema,
  journeySchema,
  recipes,
  type Journey,
} from './journey.ts';
import type { Principal } from '../auth/auth.ts';
import { ruleFor } from '../segments/segment.service.ts';
import { personalConditions } from '../segments/segment.ts';
import { id, whole } from '../shared/input.ts';

const idParam = z.object({ id: id });
const rulesOf = (j: Journey) => [j.entry, j.exit, ...j.steps.map((s) => (s.type === 'condition' ? s.rule : null))];
/** An analyst gets no count of passes, nor the passes, of a journey whose rules filter on a personal field (docs/security.md). */
const countsWithheld = (principal: Principal, j: Journey) =>
  principal.role === 'analyst' && rulesOf(j).some((r) => r !== null && personalConditions(r).length > 0);
/** The journey as the principal may read it: for an analyst, its rules without the values of conditions on personal fields. */
const journeyFor = <T extends Journey>(principal: Principal, j: T) => ({
  ...j,
  entry: j.entry && ruleFor(principal, j.entry),
  exit: j.exit && ruleFor(principal, j.exit),
  steps: j.steps.map((s) => (s.type === 'condition' ? { ...s, rule: ruleFor(principal, s.rule) } : s)),
});

export function journeyRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys',
      middleware: anyone,
      tags: ['journeys'],
      summary:
        'Journeys with their passes (active, completed, exited, skipped, in the holdout), and the recipes to start from',
      responses: {
        200: json(journeyListSchema, 'By id'),
      },
    }),
    async (c) => {
      const principal = c.get('principal');
      const journeys = (await listJourneys(deps)).map((j) => ({
        ...journeyFor(principal, j),
        counts: countsWithheld(principal, j) ? {} : j.counts,
      }));
      return c.json(
        {
          journeys,
          recipes: recipes.map((r) => ({ key: r.key, name: r.journey.name, description: r.journey.description })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys',
      middleware: marketing,
      tags: ['journeys'],
      summary: 'Create a journey (a draft): trigger, entry rule, steps, exits, holdout',
      request: { body: { required: true, content: { 'application/json': { schema: journeyBody } } } },
      responses: { 201: json(journeySchema, 'Created') },
    }),
    async (c) => c.json(await saveJourney(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/recipes/{key}',
      middleware: marketing,
      tags: ['journeys'],
      summary: 'Create a draft journey from a recipe, with its starting templates',
      request: { params: z.object({ key: z.string().max(60) }) },
      responses: { 201: json(journeySchema, 'Created') },
    }),
    async (c) => c.json(await journeyFromRecipe(deps, c.get('principal'), c.req.valid('param').key), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/{id}',
      middleware: anyone,
      tags: ['journeys'],
      summary: 'A journey, what each step did, and the latest passes (without names and emails for an analyst)',
      request: { params: idParam },
      responses: {
        200: json(journeyDetailSchema, 'The journey'),
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const principal = c.get('principal');
      const journey = await findJourney(deps, id);
      if (countsWithheld(principal, journey))
        return c.json({ journey: journeyFor(principal, journey), steps: [], recent: [] }, 200);
      return c.json(
        {
          journey: journeyFor(principal, journey),
          steps: await stepCounts(deps.db, id),
          recent: namesFor(principal, await recentEnrolments(deps.db, id, 50)),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/journeys/{id}',
      middleware: marketing,
      tags: ['journeys'],
      summary: 'Change a journey; passes under way continue with the new steps from where they are',
      request: { params: idParam, body: { required: true, content: { 'application/json': { schema: journeyBody } } } },
      responses: { 200: json(journeySchema, 'Saved') },
    }),
    async (c) => c.json(await saveJourney(deps, c.get('principal'), c.req.valid('json'), c.req.valid('param').id), 200),
  );

  for (const [action, to] of [
    ['activate', 'active'],
    ['pause', 'paused'],
  ] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/journeys/{id}/${action}`,
        middleware: marketing,
        tags: ['journeys'],
        summary:
          to === 'active'
            ? 'Activate: triggers from now on start passes'
            : 'Pause: no new passes, and passes wait where they are',
        request: { params: idParam },
        responses: { 200: json(journeySchema, 'The journey now') },
      }),
      async (c) => c.json(await setJourneyStatus(deps, c.req.valid('param').id, to), 200),
    );
  }

  app.openapi(
    createRoute({
      method: 'post',
      path: '/journeys/run',
      middleware: marketing,
      tags: ['journeys'],
      summary: 'Run a round now (the server runs one every 30 seconds): new triggers, due steps',
      responses: {
        200: json(journeyRoundSchema, 'What the round did'),
      },
    }),
    async (c) => c.json(await runJourneys(deps), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/journeys/{id}/report',
      middleware: anyone,
      tags: ['journeys'],
      summary:
        'The journey against its holdout, each pass from when it entered: buying, revenue, still active, unsubscribes; lift with 95 % intervals; cumulative lift by day',
      request: { params: idParam, query: z.object({ days: whole(1, 365).default(30) }) },
      responses: { 200: json(journeyReportSchema, 'The report') },
    }),
    async (c) => {
      const report = await journeyReport(deps, c.req.valid('param').id, c.req.valid('query').days);
      return c.json({ ...report, journey: journeyFor(c.get('principal'), report.journey) }, 200);
    },
  );

  return app;
}
