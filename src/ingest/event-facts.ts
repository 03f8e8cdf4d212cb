// Each kind of event as the fact it states (src/facts): one line of mapping per event type.
import type { Fact, FactData, FactKind } from '../facts/index.ts';
import { multiplyDecimal } from '../shared/decimal.ts';
import type { CustomerEvent } from './event.ts';

const at = (iso: string) => new Date(iso);

/** The fact an event (already validated) states; `index` is its place in the batch. */
export function factOf(event: CustomerEvent, index: number): Fact {
  const fact = <Kind extends FactKind>(kind: Kind, data: FactData[Kind]) =>
    ({ kind, index, ref: event.customer, data }) as Fact<Kind>;
  switch (event.type) {
    case 'customer.upsert':
      return fact('profile', {
        name: event.name,
        createdAt: event.createdAt ? at(event.createdAt) : undefined,
        acquisitionChannel: event.acquisitionChannel,
        attributes: event.attributes,
        edit: { actor: `event ${event.id}`, reason: null, byPerson: false },
        address: event.address
          ? { ...event.address, at: at(event.at ?? event.createdAt ?? new Date().toISOString()) }
          : undefined,
      });
    case 'contact.change':
      return fact('contact', {
        email: event.email,
        phone: event.phone,
        at: at(event.at),
        edit: { actor: `event ${event.id}`, reason: event.reason ?? null, byPerson: false, at: at(event.at) },
      });
    case 'address.change':
      return fact('address', { ...event.address, at: at(event.at) });
    case 'status.change':
      return fact('status', {
        flag: event.flag,
        active: event.active,
        at: at(event.at),
        note: event.note ?? null,
        origin: `event ${event.id}`,
      });
    case 'order':
      return fact('order', {
        externalId: event.orderId,
        orderedAt: at(event.at),
        channel: event.channel ?? null,
        currency: event.currency ?? null,
        lines: event.lines.map((line, i) => ({
          lineNo: i + 1,
          product: line.product ?? null,
          category: line.category ?? null,
          quantity: line.quantity,
          unitPrice: line.unitPrice ?? null,
          amount: line.amount ?? multiplyDecimal(line.quantity, line.unitPrice!),
        })),
      });
    case 'return':
      return fact('return', {
        externalId: event.returnId,
        orderExternalId: event.orderId ?? null,
        returnedAt: at(event.at),
        product: event.product ?? null,
        quantity: event.quantity,
        amount: event.amount,
        reasonCode: event.reasonCode ?? null,
        reason: event.reason ?? null,
      });
    case 'delivery':
      return fact('delivery', {
        externalId: event.deliveryId ?? event.id,
        orderExternalId: event.orderId ?? null,
        at: at(event.at),
        status: event.status,
        carrier: event.carrier ?? null,
        detail: event.detail ?? null,
      });
    case 'ticket.opened':
      return fact('ticket', {
        externalId: event.ticketId,
        openedAt: at(event.at),
        channel: event.channel ?? null,
        category: event.category ?? null,
        priority: event.priority,
        status: 'open',
        subject: event.subject ?? null,
        orderExternalId: event.orderId ?? null,
        assignee: null,
        resolvedAt: null,
        outcome: null,
      });
    case 'ticket.updated':
      return fact('ticketUpdate', {
        ticketExternalId: event.ticketId,
        at: at(event.at),
        status: event.status,
        note: event.note ?? null,
        assignee: event.assignee ?? null,
        outcome: null,
      });
    case 'ticket.resolved':
      return fact('ticketUpdate', {
        ticketExternalId: event.ticketId,
        at: at(event.at),
        status: 'resolved',
        note: event.note ?? null,
        assignee: null,
        outcome: event.outcome,
      });
    case 'subscription':
      return fact('subscription', {
        subscriptionId: event.subscriptionId,
        at: at(event.at),
        change: event.change,
        plan: event.plan ?? null,
        price: event.price ?? null,
        currency: event.currency ?? null,
        period: event.period ?? null,
        reasonCode: event.reasonCode ?? null,
        reason: event.reason ?? null,
      });
    case 'touchpoint':
      return fact('touchpoint', {
        externalId: event.id,
        at: at(event.at),
        channel: event.channel,
        direction: event.direction,
        kind: event.kind,
        campaign: event.campaign ?? null,
        detail: event.detail ?? null,
      });
    case 'incident':
      return fact('incident', {
        externalId: event.id,
        at: at(event.at),
        kind: event.kind,
        orderExternalId: event.orderId ?? null,
        channel: event.channel ?? null,
        detail: event.detail ?? null,
      });
    case 'survey.response':
      return fact('surveyResponse', {
        externalId: event.id,
        at: at(event.at),
        survey: event.survey,
        question: event.question,
        score: event.score === undefined ? null : String(event.score),
        answer: event.answer ?? null,
        channel: event.channel ?? null,
      });
    case 'consent':
      return fact('consent', {
        list: event.list,
        granted: event.granted,
        at: at(event.at),
        wording: event.wording ?? null,
      });
    case 'note':
      return fact('note', {
        externalId: event.id,
        at: at(event.at),
        body: event.body,
        author: event.author ?? null,
        channel: event.channel ?? null,
        feeling: event.feeling ?? null,
      });
  }
}
