import { createRoute, z } from '@hono/zod-openapi';
import { staff } from '../auth/access.ts';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter } from '../shared/http.ts';
import { findTicket, listTickets, openTicket, updateTicket, type TicketRow } from './ticket.service.ts';
import {
  openedTicketSchema,
  openTicketBody,
  ticketCategories,
  ticketDetailSchema,
  ticketSchema,
  ticketUpdateBody,
  type Ticket,
  type TicketDetail,
} from './ticket.ts';
import { id, whole } from '../shared/input.ts';

const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());
const hours = (from: string, to: string | null) =>
  to === null ? null : Math.round(((Date.parse(to) - Date.parse(from)) / 3_600_000) * 10) / 10;
const present = (t: TicketRow): Ticket => ({
  customerId: t.customer_id,
  ticketId: t.id,
  externalId: t.external_id,
  customerName: t.customer_name,
  orderId: t.order_id,
  openedAt: iso(t.opened_at)!,
  channel: t.channel,
  category: t.category,
  priority: t.priority,
  status: t.status,
  subject: t.subject,
  assignee: t.assignee,
  firstResponseHours: hours(t.opened_at, t.first_response_at),
  resolutionHours: hours(t.opened_at, t.resolved_at),
  outcome: t.outcome,
});
const withMessages = (found: NonNullable<Awaited<ReturnType<typeof findTicket>>>): TicketDetail => ({
  ticket: present(found.ticket),
  messages: found.messages.map((m) => ({ ...m, at: iso(m.at)! })),
});
const ids = z.object({ customerId: id, ticketId: id });

export function ticketRoutes(deps: Deps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tickets',
      middleware: staff,
      tags: ['support'],
      summary: 'Tickets, open ones by default: urgent and oldest first, with first-response and resolution times',
      request: {
        query: z.object({
          state: z.enum(['open', 'closed', 'all']).default('open'),
          queue: z.enum(['all', 'mine']).default('all'),
          category: z.enum(ticketCategories).optional(),
          limit: whole(1, 500).default(100),
          offset: whole(0, 100_000).default(0),
        }),
      },
      responses: {
        200: {
          description: 'Tickets',
          content: { 'application/json': { schema: z.object({ tickets: z.array(ticketSchema) }) } },
        },
      },
    }),
    async (c) => {
      const { state, queue, category, limit, offset } = c.req.valid('query');
      const principal = c.get('principal');
      const rows = await listTickets(deps.db, {
        state,
        category,
        limit,
        offset,
        assignee: queue === 'mine' ? principalName(principal) : undefined,
      });
      return c.json({ tickets: rows.map(present) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{customerId}/tickets',
      middleware: staff,
      tags: ['support'],
      summary: 'Open a ticket for a customer (from a call, a visit, a message)',
      request: {
        params: z.object({ customerId: id }),
        body: { content: { 'application/json': { schema: openTicketBody } }, required: true },
      },
      responses: {
        201: {
          description: 'Opened',
          content: {
            'application/json': {
              schema: openedTicketSchema,
            },
          },
        },
      },
    }),
    async (c) =>
      c.json(await openTicket(deps, c.get('principal'), c.req.valid('param').customerId, c.req.valid('json')), 201),
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/customers/{customerId}/tickets/{ticketId}',
      middleware: staff,
      tags: ['support'],
      summary: 'A ticket and its conversation',
      request: { params: ids },
      responses: {
        200: {
          description: 'The ticket',
          content: { 'application/json': { schema: ticketDetailSchema } },
        },
      },
    }),
    async (c) => {
      const { customerId, ticketId } = c.req.valid('param');
      const found = await findTicket(deps.db, customerId, ticketId);
      if (!found) throw new AppError('not_found', `No ticket ${ticketId} for customer ${customerId}`);
      return c.json(withMessages(found), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/customers/{customerId}/tickets/{ticketId}/updates',
      middleware: staff,
      tags: ['support'],
      summary: 'Reply, note, reassign or resolve: the first reply to the customer is the first response',
      request: { params: ids, body: { content: { 'application/json': { schema: ticketUpdateBody } }, required: true } },
      responses: {
        200: {
          description: 'The ticket after the update',
          content: { 'application/json': { schema: ticketDetailSchema } },
        },
      },
    }),
    async (c) => {
      const { customerId, ticketId } = c.req.valid('param');
      return c.json(
        withMessages(await updateTicket(deps, c.get('principal'), customerId, ticketId, c.req.valid('json'))),
        200,
      );
    },
  );
  return app;
}
