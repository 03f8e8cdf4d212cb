import { z } from '@hono/zod-openapi';
import { normaliseEmail } from '../customers/identity.ts';
import { multiplyDecimal } from '../shared/decimal.ts';
import { exactDecimal, instant } from '../shared/input.ts';
import { subscriptionChanges, subscriptionPeriods } from '../subscriptions/subscription.ts';

/** The nine channels Kept knows. */
export const channels = [
  'web',
  'email',
  'store',
  'phone',
  'chat',
  'mobile',
  'social',
  'display',
  'direct_mail',
] as const;
export type Channel = (typeof channels)[number];
// The four status flags and what each stops are defined once, in src/customers/flags.ts.
import { statusFlags } from '../customers/index.ts';
export { statusFlags, type StatusFlag } from '../customers/index.ts';

export const channel = z.enum(channels);
const text = (max = 500) => z.string().trim().min(1).max(max);
/** Money as numeric(14, 2) holds it exactly: 12 digits before the point, 2 after; never negative (a refund is a return). */
export const money = exactDecimal(12, 2, 'not negative');
/** A quantity as numeric(14, 3) holds it: more than 0 (a negative quantity is a return). */
export const quantity = exactDecimal(11, 3, 'positive');
/** ISO 4217 shape: three letters. */
export const currency = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{3}$/, 'a three-letter currency code like EUR');

// Refinements run even when a field failed: a product of values that are not decimals is left to their own issues.
const fitsMoney = (quantity: string, unitPrice: string) => {
  try {
    return /^\d{1,12}\./.test(multiplyDecimal(quantity, unitPrice));
  } catch {
    return true;
  }
};

export const customerRef = z
  .object({
    externalId: text(200).optional(),
    // An address or number that normalises to nothing would leave the customer without that identity, silently.
    email: z
      .string()
      .trim()
      .max(320)
      .refine((email) => email === '' || normaliseEmail(email) !== null, 'not an email address')
      .optional(),
    phone: z
      .string()
      .trim()
      .max(50)
      .refine((phone) => phone === '' || phone.replace(/\D/g, '').length >= 5, 'not a phone number: at least 5 digits')
      .optional(),
  })
  .refine((ref) => ref.externalId || ref.email || ref.phone, 'needs externalId, email or phone')
  .openapi('CustomerRef');
export type CustomerRef = z.infer<typeof customerRef>;

export const address = z
  .object({
    kind: z.enum(['postal', 'billing', 'shipping']).default('postal'),
    line1: text(300).optional(),
    line2: text(300).optional(),
    city: text(200).optional(),
    region: text(200).optional(),
    postalCode: text(40).optional(),
    country: z
      .string()
      .trim()
      .toUpperCase()
      .regex(/^[A-Z]{2}$/, 'a two-letter country code like DE')
      .optional(),
  })
  .openapi('Address');

const attributeValue = z.union([z.string().max(2000), z.number().finite(), z.boolean(), z.null()]);

const base = {
  id: text(200).describe('Client event id: a repeat of the same id is stored once and answered as duplicate'),
  customer: customerRef,
};

export const customerUpsertEvent = z.object({
  ...base,
  type: z.literal('customer.upsert'),
  at: instant.optional(),
  name: text(300).optional(),
  createdAt: instant.optional().describe('When the relationship started (defaults to first seen)'),
  acquisitionChannel: channel.optional(),
  attributes: z
    .record(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'snake_case attribute key'), attributeValue)
    .optional(),
  address: address.optional(),
});

export const orderEvent = z.object({
  ...base,
  type: z.literal('order'),
  orderId: text(200),
  at: instant,
  channel: channel.optional(),
  currency: currency.optional(),
  lines: z
    .array(
      z
        .object({
          product: text(200).optional(),
          category: text(100)
            .optional()
            .describe('Product category, e.g. towels: what segments and templates call interests'),
          quantity: quantity.default('1'),
          unitPrice: money.optional(),
          amount: money.optional().describe('Line amount, discounts taken off; defaults to quantity x unitPrice'),
        })
        .refine((line) => line.amount !== undefined || line.unitPrice !== undefined, 'needs amount or unitPrice')
        .refine(
          (line) =>
            line.amount !== undefined || line.unitPrice === undefined || fitsMoney(line.quantity, line.unitPrice),
          { message: 'quantity x unitPrice is over 12 digits; send the amount', path: ['amount'] },
        ),
    )
    .min(1)
    .max(1000),
});

/** Why something ended, as a code to count by: churn reasons, return reasons. */
const reasonCode = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[a-z0-9_]+$/, 'snake_case reason code');

export const returnEvent = z.object({
  ...base,
  type: z.literal('return'),
  returnId: text(200),
  orderId: text(200).optional(),
  at: instant,
  product: text(200).optional(),
  quantity: quantity.default('1'),
  amount: money,
  reasonCode: reasonCode.optional(),
  reason: text(2000).optional(),
});

export const deliveryStatuses = ['delivered', 'delayed', 'failed'] as const;
export const deliveryEvent = z.object({
  ...base,
  type: z.literal('delivery'),
  deliveryId: text(200)
    .optional()
    .describe(
      'The carrier or shop id of this status (a parcel can be delayed, then delivered); the event id when absent',
    ),
  orderId: text(200).optional().describe('The order delivered'),
  at: instant,
  status: z.enum(deliveryStatuses),
  carrier: text(100).optional(),
  detail: text(2000).optional().describe('What the carrier said, e.g. "left with a neighbour"'),
});

export const subscriptionEvent = z
  .object({
    ...base,
    type: z.literal('subscription'),
    subscriptionId: text(200).describe('The subscription id in the system that bills it'),
    change: z.enum(subscriptionChanges),
    at: instant,
    plan: text(200).optional(),
    price: money.optional().describe('Price per period'),
    currency: currency.optional(),
    period: z.enum(subscriptionPeriods).optional().describe('How often it renews; month when never given'),
    reasonCode: reasonCode.optional().describe('Why it was cancelled, e.g. too_expensive; only with change cancelled'),
    reason: text(2000).optional().describe('Why it was cancelled, in words; only with change cancelled'),
  })
  .refine((event) => event.change === 'cancelled' || event.reasonCode === undefined, {
    message: 'a reason code is only for change "cancelled"',
    path: ['reasonCode'],
  })
  .refine((event) => event.change === 'cancelled' || event.reason === undefined, {
    message: 'a reason is only for change "cancelled"',
    path: ['reason'],
  });

export const touchpointEvent = z.object({
  ...base,
  type: z.literal('touchpoint'),
  at: instant,
  channel,
  direction: z.enum(['in', 'out']),
  kind: text(60).describe('e.g. visit, email_sent, email_opened, call, chat, store_visit, catalog_sent'),
  campaign: text(200).optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

export const ticketOpenedEvent = z.object({
  ...base,
  type: z.literal('ticket.opened'),
  ticketId: text(200),
  at: instant,
  channel: channel.optional(),
  category: text(60).optional().describe('wrong_item, damaged, late, portal_problem, billing, question ...'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
  subject: text(500).optional(),
  orderId: text(200).optional(),
});

export const ticketUpdatedEvent = z.object({
  ...base,
  type: z.literal('ticket.updated'),
  ticketId: text(200),
  at: instant,
  status: z.enum(['open', 'pending', 'waiting_on_customer', 'escalated']),
  assignee: text(200).optional(),
  note: text(5000).optional(),
});

export const ticketResolvedEvent = z.object({
  ...base,
  type: z.literal('ticket.resolved'),
  ticketId: text(200),
  at: instant,
  outcome: z.enum(['resolved', 'unresolved', 'refunded', 'replaced', 'no_response']),
  note: text(5000).optional(),
});

export const incidentEvent = z.object({
  ...base,
  type: z.literal('incident'),
  at: instant,
  kind: text(60).describe('late_delivery, wrong_item, damaged, portal_abandoned, payment_failed ...'),
  orderId: text(200).optional(),
  channel: channel.optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

export const surveyResponseEvent = z.object({
  ...base,
  type: z.literal('survey.response'),
  at: instant,
  survey: text(200),
  question: text(500),
  score: z
    .number()
    .finite()
    .min(-1000)
    .max(1000)
    .refine((score) => /^-?\d+(\.\d{1,2})?$/.test(String(score)), 'at most 2 decimals')
    .optional(),
  answer: text(5000).optional(),
  channel: channel.optional(),
});

export const noteEvent = z.object({
  ...base,
  type: z.literal('note'),
  at: instant,
  body: text(10000),
  author: text(200).optional(),
  channel: channel.optional(),
  feeling: z.number().int().min(-2).max(2).optional().describe('How the customer felt: -2 very upset .. 2 delighted'),
});

export const statusChangeEvent = z.object({
  ...base,
  type: z.literal('status.change'),
  at: instant,
  flag: z.enum(statusFlags),
  active: z.boolean(),
  note: text(2000).optional(),
});

export const addressChangeEvent = z.object({
  ...base,
  type: z.literal('address.change'),
  at: instant,
  address,
});

/** The email or phone on the record replaced (a typo fixed, a new address): docs/record.md, "Editing a record". */
export const contactChangeEvent = z
  .object({
    ...base,
    type: z.literal('contact.change'),
    at: instant,
    email: z
      .string()
      .trim()
      .max(320)
      .refine((email) => normaliseEmail(email) !== null, 'not an email address')
      .optional()
      .describe('The new email; refused when another customer holds it (merge them instead)'),
    phone: z
      .string()
      .trim()
      .max(50)
      .refine((phone) => phone.replace(/\D/g, '').length >= 5, 'not a phone number: at least 5 digits')
      .optional()
      .describe('The new phone number; refused when another customer holds it'),
    reason: text(500).optional().describe('Why, kept with the change on the timeline'),
  })
  .refine((event) => event.email !== undefined || event.phone !== undefined, {
    message: 'needs the new email or phone',
    path: ['email'],
  });

export const consentEvent = z.object({
  ...base,
  type: z.literal('consent'),
  at: instant,
  list: text(100).default('marketing').describe('What the consent is for; marketing campaigns need "marketing"'),
  granted: z.boolean().describe('true: opted in; false: withdrawn (unsubscribed)'),
  wording: text(2000).optional().describe('What the customer agreed to, as shown to them'),
});

/** A catalogue entry, no customer's: order lines name its SKU as their product; a field left out keeps what is stored. */
export const productUpsertEvent = z.object({
  id: base.id,
  type: z.literal('product.upsert'),
  sku: text(200).describe('The product id order lines name as their product'),
  name: text(300).optional(),
  category: text(100).optional().describe('Wins over the category an order line says for this SKU'),
  price: money.optional(),
  cost: money.optional().describe('What one unit costs the shop: a line earns its amount less quantity x cost'),
  currency: currency.optional(),
});

export const ingestEvent = z
  .discriminatedUnion('type', [
    customerUpsertEvent,
    orderEvent,
    returnEvent,
    deliveryEvent,
    subscriptionEvent,
    touchpointEvent,
    ticketOpenedEvent,
    ticketUpdatedEvent,
    ticketResolvedEvent,
    incidentEvent,
    surveyResponseEvent,
    noteEvent,
    statusChangeEvent,
    addressChangeEvent,
    contactChangeEvent,
    consentEvent,
    productUpsertEvent,
  ])
  .openapi('Event');
export type IngestEvent = z.infer<typeof ingestEvent>;
/** The events about a customer: every type but the catalogue's. */
export type CustomerEvent = Exclude<IngestEvent, { type: 'product.upsert' }>;
export type EventType = IngestEvent['type'];
export const eventTypes = ingestEvent.options.map((option) => option.shape.type.value);
