// Tickets opened and worked from the UI: the conversation, assignment and how it ended.
import { randomUUID } from 'node:crypto';
import type { z } from '@hono/zod-openapi';
import { principalName, type Principal } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { orderIds } from '../orders/index.ts';
import { AppError } from '../shared/errors.ts';
import {
  applyTicketUpdates,
  customerExists,
  findTicket,
  ticketIdByExternalId,
  upsertTickets,
} from './ticket.repository.ts';
import type { openTicketBody, ticketUpdateBody } from './ticket.ts';

export { findTicket, listTickets, type TicketRow } from './ticket.repository.ts';

export async function openTicket(
  deps: Deps,
  principal: Principal,
  customerId: number,
  body: z.infer<typeof openTicketBody>,
) {
  if (!(await customerExists(deps.db, customerId))) throw new AppError('not_found', `No customer ${customerId}`);
  if (body.orderId) {
    const order = await orderIds(deps.db, [{ customerId, externalId: body.orderId }]);
    if (order.size === 0) {
      throw new AppError('validation_failed', `The customer has no order ${body.orderId}`, {
        issues: [{ path: 'orderId', message: 'not an order of this customer' }],
      });
    }
  }
  const at = deps.clock.now();
  const externalId = `kept:${randomUUID()}`;
  return deps.db.transaction(async (tx) => {
    await upsertTickets(tx, [
      {
        customerId,
        externalId,
        openedAt: at,
        channel: body.channel,
        category: body.category,
        priority: body.priority,
        status: 'open',
        subject: body.subject,
        orderExternalId: body.orderId ?? null,
        assignee: body.assignee ?? principalName(principal),
        resolvedAt: null,
        outcome: null,
      },
    ]);
    if (body.message) {
      await applyTicketUpdates(tx, [
        {
          customerId,
          ticketExternalId: externalId,
          at,
          status: 'open',
          note: body.message,
          assignee: null,
          outcome: null,
          direction: 'in',
          author: principalName(principal),
        },
      ]);
    }
    return { customerId, ticketId: (await ticketIdByExternalId(tx, customerId, externalId))!, externalId };
  });
}

/** A reply, a note or a change of status, assignee or outcome; an outcome resolves the ticket. */
export async function updateTicket(
  deps: Deps,
  principal: Principal,
  customerId: number,
  ticketId: number,
  body: z.infer<typeof ticketUpdateBody>,
) {
  const found = await findTicket(deps.db, customerId, ticketId);
  if (!found) throw new AppError('not_found', `No ticket ${ticketId} for customer ${customerId}`);
  if (!body.message && !body.status && !body.assignee && !body.outcome)
    throw new AppError('validation_failed', 'Send a message, a status, an assignee or an outcome', {
      issues: [{ path: 'body', message: 'a message, a status, an assignee or an outcome' }],
    });
  // Closing a ticket without saying how it ended counts as resolved.
  const outcome = body.outcome ?? (body.status === 'resolved' || body.status === 'closed' ? 'resolved' : null);
  const status =
    body.status ?? (outcome ? 'resolved' : body.direction === 'out' && body.message ? 'pending' : found.ticket.status);
  await applyTicketUpdates(deps.db, [
    {
      customerId,
      ticketExternalId: found.ticket.external_id,
      at: deps.clock.now(),
      status,
      note: body.message ?? null,
      assignee: body.assignee ?? null,
      outcome,
      direction: body.direction,
      author: principalName(principal),
    },
  ]);
  return (await findTicket(deps.db, customerId, ticketId))!;
}
