import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing, namesFor, staff } from '../auth/access.ts';
import type { Principal } from '../auth/auth.ts';
import { AppError } from '../shared/errors.ts';
import type { Deps } from '../deps.ts';
import { createRouter, json } from '../shared/http.ts';
import {
  attributeTypes,
  deleteSegment,
  findSegment,
  knownValues,
  listSegments,
  previewRule,
  refreshSnapshot,
  saveSegment,
  segmentFor,
  segmentMembers,
  segmentSummary,
} from './segment.service.ts';
import {
  catalogueSchema,
  fields,
  personalConditions,
  ruleSchema,
  scoreColumns,
  segmentBody,
  segmentDetailSchema,
  segmentMemberSchema,
  segmentPreviewSchema,
  segmentSchema,
  type Rule,
  type SegmentMember,
} from './segment.ts';
import { id, whole } from '../shared/input.ts';

const idParam = z.object({ id: id });
const toMember = (r: {
  id: number;
  external_id: string | null;
  name: string | null;
  email: string | null;
  stage: string;
  last_order_at: string | null;
}): SegmentMember => ({
  id: r.id,
  externalId: r.external_id,
  name: r.name,
  email: r.email,
  stage: r.stage,
  lastOrderAt: r.last_order_at ? new Date(r.last_order_at).toISOString() : null,
});

/**
 * An analyst may count, but not by what names or reaches a person: refused with the path of each
 * such condition, for a rule being tried as for a saved segment (whose summary would tell as much).
 */
function checkPersonalFilters(principal: Principal, rule: Rule, refused = 'filter on'): void {
  if (principal.role !== 'analyst') return;
  const found = personalConditions(rule);
  if (found.length > 0)
    throw new AppError(
      'forbidden',
      `An analyst may not ${refused} name, email, phone or external id (${found.join(', ')})`,
    );
}

export function segmentRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments/fields',
      middleware: anyone,
      tags: ['segments'],
      summary:
        'What a rule can test: fields, operators and the value each takes, custom attributes, scores, known values',
      responses: {
        200: json(catalogueSchema, 'The catalogue'),
      },
    }),
    async (c) => {
      const [types, known] = await Promise.all([attributeTypes(deps.db), knownValues(deps.db)]);
      const attributes = [...types].map(([key, type]) => ({ key, type })).sort((a, b) => a.key.localeCompare(b.key));
      return c.json({ fields, attributes, scores: scoreColumns, ...known }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/segments/preview',
      middleware: anyone,
      tags: ['segments'],
      summary:
        'Live count of a rule before it is saved, with stages, scores and the first ten customers (numbers only for an analyst, who may not filter on personal fields)',
      request: {
        body: { content: { 'application/json': { schema: z.object({ rule: ruleSchema }) } }, required: true },
      },
      responses: { 200: json(segmentPreviewSchema, 'Who matches now') },
    }),
    async (c) => {
      const { rule } = c.req.valid('json');
      checkPersonalFilters(c.get('principal'), rule);
      const preview = await previewRule(deps, rule);
      return c.json({ ...preview, sample: namesFor(c.get('principal'), preview.sample.map(toMember)) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments',
      middleware: anyone,
      tags: ['segments'],
      summary: 'Saved segments',
      responses: { 200: json(z.object({ segments: z.array(segmentSchema) }), 'By name') },
    }),
    async (c) => c.json({ segments: (await listSegments(deps.db)).map((s) => segmentFor(c.get('principal'), s)) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/segments',
      middleware: marketing,
      tags: ['segments'],
      summary: 'Save a segment (admin or marketer); a snapshot takes its members now',
      request: { body: { content: { 'application/json': { schema: segmentBody } }, required: true } },
      responses: { 201: json(segmentSchema, 'Saved') },
    }),
    async (c) => c.json(await saveSegment(deps, c.get('principal'), c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments/{id}',
      middleware: anyone,
      tags: ['segments'],
      summary: 'A segment and its summary now (refused to an analyst when the rule filters on a personal field)',
      request: { params: idParam },
      responses: { 200: json(segmentDetailSchema, 'The segment') },
    }),
    async (c) => {
      const found = await findSegment(deps.db, c.req.valid('param').id);
      checkPersonalFilters(c.get('principal'), found.rule, 'see a segment that filters on');
      return c.json(
        { segment: segmentFor(c.get('principal'), found), summary: await segmentSummary(deps, found) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/segments/{id}',
      middleware: marketing,
      tags: ['segments'],
      summary: 'Change a segment (admin or marketer); a snapshot is taken again',
      request: { params: idParam, body: { content: { 'application/json': { schema: segmentBody } }, required: true } },
      responses: { 200: json(segmentSchema, 'Saved') },
    }),
    async (c) => c.json(await saveSegment(deps, c.get('principal'), c.req.valid('json'), c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/segments/{id}/refresh',
      middleware: marketing,
      tags: ['segments'],
      summary: "Take a snapshot segment's members again from its rule",
      request: { params: idParam },
      responses: { 200: json(segmentSchema, 'Taken') },
    }),
    async (c) => c.json(await refreshSnapshot(deps, c.req.valid('param').id), 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/segments/{id}',
      middleware: marketing,
      tags: ['segments'],
      summary: 'Delete a segment no campaign uses (admin or marketer)',
      request: { params: idParam },
      responses: { 204: { description: 'Deleted' } },
    }),
    async (c) => {
      await deleteSegment(deps, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/segments/{id}/customers',
      middleware: staff,
      tags: ['segments'],
      summary: 'Members, by customer id',
      request: {
        params: idParam,
        query: z.object({ limit: whole(1, 500).default(50), offset: whole(0, 1_000_000).default(0) }),
      },
      responses: { 200: json(z.object({ customers: z.array(segmentMemberSchema) }), 'A page of members') },
    }),
    async (c) => {
      const found = await findSegment(deps.db, c.req.valid('param').id);
      return c.json({ customers: (await segmentMembers(deps, found, c.req.valid('query'))).map(toMember) }, 200);
    },
  );

  return app;
}
