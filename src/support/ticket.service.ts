// Tickets opened and worked from the UI: the conversation, assignment and how it ended.
import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { applyTicketUpdates, findTicket, upsertTickets } from './ticket.repository.ts';
import type { openTicketBody, ticketUpdateBody } from './ticket.ts';

export async function openTicket(deps: Deps, principal: Principal, customerId: number, body: z.infer<typeof openTicketBody>) {
  const [customer] = await queryRows<{ id: number }>(deps.db, sql`select id from customers where id = ${customerId}`);
  if (!customer) throw new AppError('not_found', `No customer ${customerId}`);
  if (body.orderId) {
    const [order] = await queryRows<{ id: number }>(deps.db, sql`select id from orders where customer_id = ${customerId} and external_id = ${body.orderId}`);
    if (!order) throw new AppError('validation_failed', `The customer has no order ${body.orderId}`, { issues: [{ path: 'orderId', message: 'not an order of this customer' }] });
  }
  const at = deps.clock.now();
  const externalId = `kept:${randomUUID()}`;
  return deps.db.transaction(async (tx) => {
    await upsertTickets(tx, [{
      customerId, externalId, openedAt: at, channel: body.channel, category: body.category, priority: body.priority, status: 'open', subject: body.subject,
      orderExternalId: body.orderId ?? null, assignee: body.assignee ?? principalName(principal), resolvedAt: null, outcome: null,
    }]);
    if (body.message) {
      await applyTicketUpdates(tx, [{ customerId, ticketExternalId: externalId, at, status: 'open', note: body.message, assignee: null, outcome: null, direction: 'in', author: principalName(principal) }]);
    }
    const [{ id }] = await queryRows<{ id: number }>(tx, sql`select id from tickets where customer_id = ${customerId} and external_id = ${externalId}`);
    return { customerId, ticketId: id, externalId };
  });
}

/** A reply, a note or a change of status, assignee or outcome; an outcome resolves the ticket. */
export async function updateTicket(deps: Deps, principal: Principal, customerId: number, ticketId: number, body: z.infer<typeof ticketUpdateBody>) {
  const found = await findTicket(deps.db, customerId, ticketId);
  if (!found) throw new AppError('not_found', `No ticket ${ticketId} for customer ${customerId}`);
  if (!body.message && !body.status && !body.assignee && !body.outcome) throw new AppError('validation_failed', 'Send a message, a status, an assignee or an outcome', { issues: [{ path: 'body', message: 'a message, a status, an assignee or an outcome' }] });
  // Closing a ticket without saying how it ended counts as resolved.
  const outcome = body.outcome ?? (body.status === 'resolved' || body.status === 'closed' ? 'resolved' : null);
  const status = body.status ?? (outcome ? 'resolved' : body.direction === 'out' && body.message ? 'pending' : found.ticket.status);
  await applyTicketUpdates(deps.db, [{
    customerId, ticketExternalId: found.ticket.external_id, at: deps.clock.now(), status, note: body.message ?? null, assignee: body.assignee ?? null,
    outcome, direction: body.direction, author: principalName(principal),
  }]);
  return (await findTicket(deps.db, customerId, ticketId))!;
}
