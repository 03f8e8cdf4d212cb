import { createRoute, z } from '@hono/zod-openapi';
import { staff } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter } from '../shared/http.ts';
import { mergeCustomers } from './merge.ts';
import {
  countCap,
  customerFacets,
  searchCountCap,
  customerTimeline,
  getCustomerRecord,
  listCustomers,
} from './customer.service.ts';
import {
  customerFacetsSchema,
  customerPageSchema,
  customerRecordSchema,
  customerSorts,
  mergeResultSchema,
  timelineKinds,
  timelinePageSchema,
  type TimelineKind,
} from './customer.ts';
import { id, whole } from '../shared/input.ts';

export function customerRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers',
      middleware: staff,
      tags: ['customers'],
      summary: 'Search and page through customers',
      description: `\`q\` matches the start of the email, the external id, the name or any word of the name, or the digits of a phone
number. The total is counted up to ${countCap.toLocaleString('en')} (a search: up to ${searchCountCap.toLocaleString('en')}); past that \`totalCapped\` is true.`,
      request: {
        query: z.object({
          q: z.string().max(200).optional(),
          stage: z.string().optional(),
          channel: z.string().optional().openapi({ description: 'Acquisition channel' }),
          flag: z.string().optional().openapi({ description: 'A status flag currently set, e.g. do_not_contact' }),
          sort: z.enum(customerSorts).default('last_order'),
          direction: z.enum(['asc', 'desc']).default('desc'),
          page: whole(1, 10_000).default(1),
          pageSize: whole(1, 200).default(50),
        }),
      },
      responses: {
        200: {
          description: 'One page',
          content: {
            'application/json': {
              schema: customerPageSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      // A search has connections of its own and is stopped when its client leaves; the plain list is a record read.
      const list = await deps.database.run(query.q?.trim() ? 'search' : 'record', c.req.raw.signal, (db) =>
        listCustomers(db, query),
      );
      return c.json({ ...list, page: query.page, pageSize: query.pageSize }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/facets',
      middleware: staff,
      tags: ['customers'],
      summary: 'The stages, acquisition channels and flags present, for filters',
      responses: {
        200: {
          description: 'Values present',
          content: {
            'application/json': {
              schema: customerFacetsSchema,
            },
          },
        },
      },
    }),
    async (c) => c.json(await customerFacets(deps.db), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}',
      middleware: staff,
      tags: ['customers'],
      summary: 'One customer: profile, attributes, identities, addresses, flags and stage with their history, totals',
      request: { params: z.object({ id: id }) },
      responses: {
        200: { description: 'The record', content: { 'application/json': { schema: customerRecordSchema } } },
      },
    }),
    async (c) =>
      c.json(await deps.database.run('record', undefined, (db) => getCustomerRecord(db, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{id}/timeline',
      middleware: staff,
      tags: ['customers'],
      summary: 'Everything that happened with one customer, newest first',
      description: `Orders with lines, returns, touchpoints, tickets and their updates, incidents, survey answers, notes, status flags,
stage changes, address changes and edits of the record (who, why, before and after). Filter with \`kind\` (comma-separated) and \`channel\`; page with the \`nextCursor\` of the previous answer.`,
      request: {
        params: z.object({ id: id }),
        query: z.object({
          kind: z
            .string()
            .optional()
            .openapi({ description: `Comma-separated: ${timelineKinds.join(', ')}` })
            .refine((v) => !v || v.split(',').every((k) => (timelineKinds as readonly string[]).includes(k)), {
              message: `kinds are ${timelineKinds.join(', ')}`,
            }),
          channel: z.string().optional(),
          cursor: z.string().optional(),
          limit: whole(1, 200).default(50),
        }),
      },
      responses: {
        200: {
          description: 'One page of the timeline',
          content: {
            'application/json': {
              schema: timelinePageSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const { kind, ...rest } = c.req.valid('query');
      const kinds = kind ? (kind.split(',') as TimelineKind[]) : undefined;
      const page = await deps.database.run('record', undefined, (db) =>
        customerTimeline(db, c.req.valid('param').id, { ...rest, kinds }),
      );
      return c.json(page, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{id}/merge',
      middleware: staff,
      tags: ['customers'],
      summary:
        'Merge a duplicate into this customer: everything of the duplicate moves here (orders, tickets, notes, consent, identities, ...) and the duplicate goes',
      description:
        'One transaction. When both hold the same record under one key (the same order id, both in one campaign) the merge is refused with 409 naming it, and nothing changes. Audited as customer.merged.',
      request: {
        params: z.object({ id: id }),
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.object({ from: z.number().int().positive().describe('the duplicate, which goes') }),
            },
          },
        },
      },
      responses: {
        200: {
          description: 'Merged',
          content: {
            'application/json': {
              schema: mergeResultSchema,
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(
        await mergeCustomers(deps, c.req.valid('param').id, c.req.valid('json').from, {
          actor: principalName(c.get('principal')),
          ip: clientIp(c),
        }),
        200,
      ),
  );
  return app;
}
