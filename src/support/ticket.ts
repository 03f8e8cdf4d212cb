import { z } from '@hono/zod-openapi';

export const ticketCategories = [
  'wrong_item',
  'damaged',
  'late',
  'missing',
  'website',
  'portal',
  'billing',
  'question',
  'other',
] as const;
export const priorities = ['low', 'normal', 'high', 'urgent'] as const;

export const openTicketBody = z
  .object({
    subject: z.string().trim().min(1).max(200),
    category: z.enum(ticketCategories),
    priority: z.enum(priorities).default('normal'),
    channel: z.enum(['phone', 'email', 'chat', 'store', 'web', 'social']).default('phone'),
    orderId: z
      .string()
      .trim()
      .max(200)
      .optional()
      .openapi({ description: "The customer's order it is about (your order id)" }),
    message: z.string().trim().max(10_000).optional().openapi({ description: 'What the customer said' }),
    assignee: z.string().trim().max(320).optional(),
  })
  .openapi('OpenTicket');

export const ticketUpdateBody = z
  .object({
    message: z.string().trim().max(10_000).optional(),
    direction: z.enum(['out', 'in', 'internal']).default('out').openapi({
      description: 'out: a reply to the customer; in: what the customer said; internal: a note for colleagues',
    }),
    status: z.enum(['open', 'pending', 'waiting_on_customer', 'escalated', 'resolved', 'closed']).optional(),
    assignee: z.string().trim().max(320).optional(),
    outcome: z
      .enum(['resolved', 'replaced', 'refunded', 'answered', 'unresolved', 'no_response', 'refused', 'escalated'])
      .optional()
      .openapi({ description: 'How it ended for the customer; resolves the ticket' }),
  })
  .openapi('TicketUpdate');

// --- what the API answers

export const ticketSchema = z
  .object({
    customerId: z.number(),
    ticketId: z.number(),
    externalId: z.string(),
    customerName: z.string().nullable(),
    orderId: z.string().nullable(),
    openedAt: z.string(),
    channel: z.string().nullable(),
    category: z.string().nullable(),
    priority: z.string().nullable(),
    status: z.string(),
    subject: z.string().nullable(),
    assignee: z.string().nullable(),
    firstResponseHours: z.number().nullable(),
    resolutionHours: z.number().nullable(),
    outcome: z.string().nullable(),
  })
  .openapi('Ticket');
export type Ticket = z.infer<typeof ticketSchema>;

/** One message or status change of a ticket's conversation. */
export const ticketMessageSchema = z.object({
  id: z.number(),
  at: z.string(),
  status: z.string(),
  note: z.string().nullable(),
  direction: z.string(),
  author: z.string().nullable(),
});
export type TicketMessage = z.infer<typeof ticketMessageSchema>;
export const ticketDetailSchema = z.object({ ticket: ticketSchema, messages: z.array(ticketMessageSchema) });
export type TicketDetail = z.infer<typeof ticketDetailSchema>;
export const openedTicketSchema = z.object({ customerId: z.number(), ticketId: z.number(), externalId: z.string() });
export type OpenedTicket = z.infer<typeof openedTicketSchema>;
