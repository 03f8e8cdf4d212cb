import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing, namesFor } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import { recentEnrolments, stepCounts } from './journey.repository.ts';
import { findJourney, journeyFromRecipe, journeyReport, listJourneys, runJourneys, saveJourney, setJourneyStatus } from './journey.service.ts';
import { journeyBody, recipes } from './journey.ts';

const idParam = z.object({ id: z.coerce.number().int().positive() });
const anything = z.record(z.string(), z.unknown());
const journey = z.object({
  id: z.number(), name: z.string(), description: z.string().nullable(), trigger: anything, entry: anything.nullable(), steps: z.array(anything), exitOnOrder: z.boolean(),
  exit: anything.nullable(), holdoutShare: z.number(), consentList: z.string(), status: z.string(), activatedAt: z.string().nullable(), campaignId: z.number(),
  createdBy: z.string(), createdAt: z.string(), updatedAt: z.string(),
}).openapi('Journey');

export function journeyRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(createRoute({ method: 'get', path: '/journeys', middleware: anyone, tags: ['journeys'], summary: 'Journeys with their passes (active, completed, exited, skipped, in the holdout), and the recipes to start from',
    responses: { 200: json(z.object({ journeys: z.array(journey.extend({ counts: z.record(z.string(), z.number()) })), recipes: z.array(z.object({ key: z.string(), name: z.string(), description: z.string().nullable() })) }), 'By id') } }),
  async (c) => c.json({ journeys: await listJourneys(deps), recipes: recipes.map((r) => ({ key: r.key, name: r.journey.name, description: r.journey.description })) }, 200));

  app.openapi(createRoute({ method: 'post', path: '/journeys', middleware: marketing, tags: ['journeys'], summary: 'Create a journey (a draft): trigger, entry rule, steps, exits, holdout',
    request: { body: { required: true, content: { 'application/json': { schema: journeyBody } } } }, responses: { 201: json(journey, 'Created') } }),
  async (c) => c.json(await saveJourney(deps, c.get('principal'), c.req.valid('json')), 201));

  app.openapi(createRoute({ method: 'post', path: '/journeys/recipes/{key}', middleware: marketing, tags: ['journeys'], summary: 'Create a draft journey from a recipe, with its starting templates',
    request: { params: z.object({ key: z.string().max(60) }) }, responses: { 201: json(journey, 'Created') } }),
  async (c) => c.json(await journeyFromRecipe(deps, c.get('principal'), c.req.valid('param').key), 201));

  app.openapi(createRoute({ method: 'get', path: '/journeys/{id}', middleware: anyone, tags: ['journeys'], summary: 'A journey, what each step did, and the latest passes (without names and emails for an analyst)',
    request: { params: idParam }, responses: { 200: json(z.object({ journey, steps: z.array(z.object({ step: z.number(), outcome: z.string(), n: z.number() })), recent: z.array(anything) }), 'The journey') } }),
  async (c) => {
    const { id } = c.req.valid('param');
    return c.json({ journey: await findJourney(deps, id), steps: await stepCounts(deps.db, id), recent: namesFor(c.get('principal'), await recentEnrolments(deps.db, id, 50)) }, 200);
  });

  app.openapi(createRoute({ method: 'put', path: '/journeys/{id}', middleware: marketing, tags: ['journeys'], summary: 'Change a journey; passes under way continue with the new steps from where they are',
    request: { params: idParam, body: { required: true, content: { 'application/json': { schema: journeyBody } } } }, responses: { 200: json(journey, 'Saved') } }),
  async (c) => c.json(await saveJourney(deps, c.get('principal'), c.req.valid('json'), c.req.valid('param').id), 200));

  for (const [action, to] of [['activate', 'active'], ['pause', 'paused']] as const) {
    app.openapi(createRoute({ method: 'post', path: `/journeys/{id}/${action}`, middleware: marketing, tags: ['journeys'],
      summary: to === 'active' ? 'Activate: triggers from now on start passes' : 'Pause: no new passes, and passes wait where they are',
      request: { params: idParam }, responses: { 200: json(journey, 'The journey now') } }),
    async (c) => c.json(await setJourneyStatus(deps, c.req.valid('param').id, to), 200));
  }

  app.openapi(createRoute({ method: 'post', path: '/journeys/run', middleware: marketing, tags: ['journeys'], summary: 'Run a round now (the server runs one every 30 seconds): new triggers, due steps',
    responses: { 200: json(z.object({ entered: z.number(), skipped: z.number(), steps: z.number(), sent: z.number() }), 'What the round did') } }),
  async (c) => c.json(await runJourneys(deps), 200));

  app.openapi(createRoute({ method: 'get', path: '/journeys/{id}/report', middleware: anyone, tags: ['journeys'],
    summary: 'The journey against its holdout, each pass from when it entered: buying, revenue, still active, unsubscribes; lift with 95 % intervals; cumulative lift by day',
    request: { params: idParam, query: z.object({ days: z.coerce.number().int().min(1).max(365).default(30) }) }, responses: { 200: json(anything, 'The report') } }),
  async (c) => c.json(await journeyReport(deps, c.req.valid('param').id, c.req.valid('query').days), 200));

  return app;
}
