import { createRoute, z } from '@hono/zod-openapi';
import { anyone, marketing, staff } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { createRouter } from '../shared/http.ts';
import {
  approve,
  completeTask,
  decide,
  decisionOutcomes,
  giveGesture,
  listTasks,
  listWorklist,
  pendingApprovals,
  recordContact,
  worklistStages,
} from './worklist.service.ts';
import {
  contactBody,
  decisionBody,
  decisionOutcomesSchema,
  decisionSchema,
  gestureBody,
  taskSchema,
  worklistSchema,
} from './worklist.ts';
import { id, whole } from '../shared/input.ts';

const customerParam = z.object({ customerId: id });

export function worklistRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/worklist',
      middleware: staff,
      tags: ['worklist'],
      summary:
        'Customers at risk or lapsed, by expected incremental value (uplift x value at stake - cost), with why they are here and a suggested action',
      request: {
        query: z.object({
          stage: z.enum([...worklistStages, 'all']).default('all'),
          queue: z
            .enum(['all', 'mine'])
            .default('all')
            .openapi({ description: 'mine: customers with an open ticket assigned to the caller' }),
          show: z.enum(['worth_acting', 'all']).default('worth_acting').openapi({
            description:
              'worth_acting: leave off customers whom acting is not expected to pay for (incremental value at or below 0) unless something needs putting right',
          }),
          holdout: z
            .enum(['exclude', 'include'])
            .default('exclude')
            .openapi({ description: "include: also the customers drawn into the worklist's random holdout" }),
          limit: whole(1, 200).default(50),
          offset: whole(0, 10_000).default(0),
        }),
      },
      responses: {
        200: {
          description: 'The worklist',
          content: {
            'application/json': {
              schema: worklistSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const { stage, queue, holdout, show, limit, offset } = c.req.valid('query');
      const principal = c.get('principal');
      const { items, ranking } = await listWorklist(deps, {
        stages: stage === 'all' ? [...worklistStages] : [stage],
        assignee: queue === 'mine' ? principalName(principal) : undefined,
        holdout,
        show,
        limit,
        offset,
      });
      return c.json(
        { items: items.map(({ runId: _, ...item }) => item), giftAllowance: deps.config.care.giftAllowance, ranking },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/worklist/{customerId}/decisions',
      middleware: staff,
      tags: ['worklist'],
      summary: 'Accept, change or reject the suggestion for a customer; the suggestion and the decision are both kept',
      request: {
        params: customerParam,
        body: { content: { 'application/json': { schema: decisionBody } }, required: true },
      },
      responses: {
        201: {
          description: 'Recorded',
          content: {
            'application/json': {
              schema: decisionSchema,
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(await decide(deps, c.get('principal'), c.req.valid('param').customerId, c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{customerId}/gestures',
      middleware: staff,
      tags: ['worklist'],
      summary:
        'Give any customer a small gesture (gift, offer, apology with a replacement), on the worklist or not; over the allowance it waits for approval',
      request: {
        params: customerParam,
        body: { content: { 'application/json': { schema: gestureBody } }, required: true },
      },
      responses: {
        201: {
          description: 'Recorded',
          content: {
            'application/json': {
              schema: z.object({
                id: z.number(),
                customerId: z.number(),
                action: z.string(),
                giftValue: z.number(),
                needsApproval: z.boolean(),
                heldOut: z.boolean().openapi({
                  description: "The customer is in the worklist's random holdout: recorded as an override",
                }),
              }),
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(await giveGesture(deps, c.get('principal'), c.req.valid('param').customerId, c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/worklist/approvals',
      middleware: staff,
      tags: ['worklist'],
      summary: 'Gestures over the allowance waiting for approval',
      responses: {
        200: {
          description: 'Oldest first',
          content: {
            'application/json': {
              schema: z.object({
                approvals: z.array(
                  z.object({
                    customerId: z.number(),
                    id: z.number(),
                    name: z.string().nullable(),
                    action: z.string(),
                    giftValue: z.string(),
                    agent: z.string(),
                    decidedAt: z.string(),
                    reason: z.string().nullable(),
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
        {
          approvals: (await pendingApprovals(deps.db)).map((r) => ({
            customerId: r.customer_id,
            id: r.id,
            name: r.name,
            action: r.action,
            giftValue: r.gift_value,
            agent: r.agent,
            decidedAt: new Date(r.decided_at).toISOString(),
            reason: r.reason,
          })),
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/worklist/{customerId}/decisions/{id}/approve',
      middleware: marketing,
      tags: ['worklist'],
      summary: 'Approve a gesture over the allowance (admin or marketer)',
      request: { params: customerParam.extend({ id: id }) },
      responses: { 204: { description: 'Approved' } },
    }),
    async (c) => {
      const { customerId, id } = c.req.valid('param');
      await approve(deps, c.get('principal'), customerId, id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/worklist/outcomes',
      middleware: anyone,
      tags: ['worklist'],
      summary:
        'What happened after accepted, changed and rejected suggestions: the share who bought again within the window, and their revenue',
      request: { query: z.object({ days: whole(7, 365).default(90) }) },
      responses: {
        200: {
          description: 'Per decision',
          content: {
            'application/json': {
              schema: decisionOutcomesSchema,
            },
          },
        },
      },
    }),
    async (c) => {
      const { days } = c.req.valid('query');
      const rows = await decisionOutcomes(deps.db, { now: deps.clock.now(), windowDays: days });
      return c.json(
        {
          days,
          outcomes: rows.map((r) => ({
            ...r,
            boughtShare: r.decisions ? Math.round((r.bought / r.decisions) * 1000) / 1000 : 0,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{customerId}/contacts',
      middleware: staff,
      tags: ['worklist'],
      summary: 'Record a contact with a customer: what was said and how the customer felt (on their timeline)',
      request: {
        params: customerParam,
        body: { content: { 'application/json': { schema: contactBody } }, required: true },
      },
      responses: {
        201: {
          description: 'Recorded',
          content: { 'application/json': { schema: z.object({ externalId: z.string() }) } },
        },
      },
    }),
    async (c) =>
      c.json(await recordContact(deps, c.get('principal'), c.req.valid('param').customerId, c.req.valid('json')), 201),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tasks',
      middleware: staff,
      tags: ['worklist'],
      summary: 'Tasks for agents (from journeys): open ones soonest due first, or done ones latest first',
      request: {
        query: z.object({
          status: z.enum(['open', 'done']).default('open'),
          customerId: id.optional(),
          limit: whole(1, 200).default(50),
          offset: whole(0, 10_000).default(0),
        }),
      },
      responses: {
        200: {
          description: 'Tasks',
          content: { 'application/json': { schema: z.object({ tasks: z.array(taskSchema) }) } },
        },
      },
    }),
    async (c) => {
      const rows = await listTasks(deps.db, c.req.valid('query'));
      return c.json(
        {
          tasks: rows.map((r) => ({
            id: Number(r.id),
            customerId: Number(r.customer_id),
            name: r.name,
            email: r.email,
            stage: r.stage,
            action: r.action,
            title: r.title,
            reason: r.reason,
            source: r.source,
            journeyId: r.journey_id === null ? null : Number(r.journey_id),
            orderId: r.order_id,
            createdAt: new Date(r.created_at).toISOString(),
            dueAt: new Date(r.due_at).toISOString(),
            status: r.status,
            doneBy: r.done_by,
            doneAt: r.done_at && new Date(r.done_at).toISOString(),
            outcome: r.outcome,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tasks/{id}/done',
      middleware: staff,
      tags: ['worklist'],
      summary: 'Mark a task done, saying what was done (it counts as a follow-up)',
      request: {
        params: z.object({ id: id }),
        body: {
          required: true,
          content: { 'application/json': { schema: z.object({ outcome: z.string().trim().min(1).max(2000) }) } },
        },
      },
      responses: {
        200: {
          description: 'Done',
          content: {
            'application/json': {
              schema: z.object({ id: z.number(), customerId: z.number(), status: z.literal('done') }),
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(await completeTask(deps, c.get('principal'), c.req.valid('param').id, c.req.valid('json').outcome), 200),
  );

  return app;
}
