// Turning one CSV row into a typed record, per kind; every failure names the field, what was
// expected and what was found.
import { normaliseEmail, normalisePhone } from '../customers/identity.ts';
import type { CustomerRef } from '../ingest/event.ts';
import type { AttributeType, AttributeValue } from '../customers/profile.repository.ts';
import { multiplyDecimal } from '../shared/decimal.ts';
import type { DateParser } from './date-format.ts';
import { isChannel, type ImportKind } from './import.ts';

export interface RowError { field: string; message: string }

export type Row =
  | { kind: 'order'; ref: CustomerRef; customer: string; orderId: string; at: Date; product: string | null; category: string | null; quantity: string; unitPrice: string | null; amount: string; channel: string | null; currency: string | null }
  | { kind: 'return'; ref: CustomerRef; customer: string; returnId: string | null; orderId: string | null; at: Date; product: string | null; quantity: string; amount: string; reasonCode: string | null; reason: string | null }
  | { kind: 'touchpoint'; ref: CustomerRef; customer: string; id: string | null; at: Date; channel: string; direction: 'in' | 'out'; touch: string; campaign: string | null }
  | { kind: 'ticket'; ref: CustomerRef; customer: string; ticketId: string; openedAt: Date; channel: string | null; category: string | null; priority: string | null; status: string; subject: string | null; orderId: string | null; resolvedAt: Date | null; outcome: string | null }
  | { kind: 'survey'; ref: CustomerRef; customer: string; id: string | null; at: Date; survey: string; question: string; score: string | null; answer: string | null; channel: string | null }
  | { kind: 'customer'; ref: CustomerRef; name: string | null; createdAt: Date | null; acquisitionChannel: string | null; address: Record<string, string> | null; attributes: Record<string, AttributeValue> };

export interface RowContext {
  get(target: string): string;
  has(target: string): boolean;
  parseDate: DateParser;
  /** A decimal comma is accepted in files delimited by semicolons. */
  decimalComma: boolean;
  /** Custom attribute columns of a customers file: header name -> (key, type). */
  attributes: { index: number; key: string; type: AttributeType }[];
  values: string[];
}

class Invalid extends Error {
  constructor(readonly field: string, message: string) { super(message); }
}

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

function decimal(context: RowContext, target: string, required: boolean): string | null {
  const raw = context.get(target);
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty; expected a number like 12.50`);
    return null;
  }
  const text = context.decimalComma && /^-?\d+,\d+$/.test(raw) ? raw.replace(',', '.') : raw;
  if (!/^-?\d{1,12}(\.\d{1,4})?$/.test(text)) throw new Invalid(target, `${target}: expected a number like 12.50, found ${quote(raw)}`);
  return text;
}

function date(context: RowContext, target: string, required: boolean): Date | null {
  const raw = context.get(target);
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty; expected a date`);
    return null;
  }
  const parsed = context.parseDate(raw);
  if (!parsed) throw new Invalid(target, `${target}: expected a date like 2026-03-01 (or as --date-format says), found ${quote(raw)}`);
  return parsed;
}

function text(context: RowContext, target: string, required = false): string | null {
  const raw = context.get(target);
  if (!raw && required) throw new Invalid(target, `${target} is empty`);
  return raw || null;
}

function channel(context: RowContext, target: string, required = false): string | null {
  const raw = context.get(target).toLowerCase().replace(/[\s-]/g, '_');
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty; expected one of the channels`);
    return null;
  }
  if (!isChannel(raw)) throw new Invalid(target, `${target}: expected web, email, store, phone, chat, mobile, social, display or direct_mail, found ${quote(context.get(target))}`);
  return raw;
}

function customerRef(context: RowContext): { ref: CustomerRef; customer: string } {
  const value = context.get('customer');
  if (!value) throw new Invalid('customer', 'customer is empty; expected an external customer id or an email');
  return { ref: value.includes('@') ? { email: value } : { externalId: value }, customer: value };
}

function attribute(raw: string, type: AttributeType, key: string): AttributeValue {
  if (type === 'number') {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) throw new Invalid(key, `${key} is a number column; found ${quote(raw)}`);
    return value;
  }
  if (type === 'boolean') {
    const value = raw.trim().toLowerCase();
    if (['true', 'yes', 'y', '1'].includes(value)) return true;
    if (['false', 'no', 'n', '0'].includes(value)) return false;
    throw new Invalid(key, `${key} is a yes/no column; found ${quote(raw)}`);
  }
  if (type === 'date' && !/^\d{4}-\d{2}-\d{2}$/.test(raw.trim())) throw new Invalid(key, `${key} is a date column (YYYY-MM-DD); found ${quote(raw)}`);
  return raw.trim();
}

/** The type most values of a column have: number, yes/no, date, else text. */
export function detectType(samples: string[]): AttributeType {
  const values = samples.map((s) => s.trim()).filter(Boolean);
  if (values.length === 0) return 'text';
  if (values.every((v) => /^-?\d+(\.\d+)?$/.test(v))) return 'number';
  if (values.every((v) => /^(true|false|yes|no)$/i.test(v))) return 'boolean';
  if (values.every((v) => /^\d{4}-\d{2}-\d{2}$/.test(v))) return 'date';
  return 'text';
}

const addressTargets = ['line1', 'line2', 'city', 'region', 'postal_code', 'country'] as const;

/** One row as a typed record, or the first reason it cannot be one. */
export function convertRow(kind: ImportKind, context: RowContext): Row | RowError {
  try {
    switch (kind) {
      case 'orders': {
        const { ref, customer } = customerRef(context);
        const at = date(context, 'at', true)!;
        const quantity = decimal(context, 'quantity', false) ?? '1';
        const unitPrice = decimal(context, 'unit_price', false);
        const given = decimal(context, 'amount', unitPrice === null);
        const amount = given ?? multiplyDecimal(quantity, unitPrice!);
        const orderId = text(context, 'order') ?? `${customer}@${at.toISOString()}`;
        return { kind: 'order', ref, customer, orderId, at, product: text(context, 'product'), category: text(context, 'category'), quantity, unitPrice, amount, channel: channel(context, 'channel'), currency: text(context, 'currency')?.toUpperCase() ?? null };
      }
      case 'returns': {
        const { ref, customer } = customerRef(context);
        return { kind: 'return', ref, customer, returnId: text(context, 'return'), orderId: text(context, 'order'), at: date(context, 'at', true)!, product: text(context, 'product'),
          quantity: decimal(context, 'quantity', false) ?? '1', amount: decimal(context, 'amount', true)!, reasonCode: text(context, 'reason_code'), reason: text(context, 'reason') };
      }
      case 'touchpoints': {
        const { ref, customer } = customerRef(context);
        const direction = (text(context, 'direction') ?? 'in').toLowerCase();
        if (direction !== 'in' && direction !== 'out') throw new Invalid('direction', `direction: expected in or out, found ${quote(context.get('direction'))}`);
        return { kind: 'touchpoint', ref, customer, id: text(context, 'id'), at: date(context, 'at', true)!, channel: channel(context, 'channel', true)!, direction, touch: text(context, 'kind', true)!, campaign: text(context, 'campaign') };
      }
      case 'tickets': {
        const { ref, customer } = customerRef(context);
        const resolvedAt = date(context, 'resolved_at', false);
        return { kind: 'ticket', ref, customer, ticketId: text(context, 'ticket', true)!, openedAt: date(context, 'opened_at', true)!, channel: channel(context, 'channel'),
          category: text(context, 'category'), priority: text(context, 'priority'), status: text(context, 'status') ?? (resolvedAt ? 'resolved' : 'open'), subject: text(context, 'subject'),
          orderId: text(context, 'order'), resolvedAt, outcome: text(context, 'outcome') };
      }
      case 'surveys': {
        const { ref, customer } = customerRef(context);
        return { kind: 'survey', ref, customer, id: text(context, 'id'), at: date(context, 'at', true)!, survey: text(context, 'survey', true)!, question: text(context, 'question', true)!,
          score: decimal(context, 'score', false), answer: text(context, 'answer'), channel: channel(context, 'channel') };
      }
      case 'customers': {
        const ref: CustomerRef = { externalId: text(context, 'id') ?? undefined, email: text(context, 'email') ?? undefined, phone: text(context, 'phone') ?? undefined };
        if (!ref.externalId && !ref.email && !ref.phone) throw new Invalid('id', 'the row has no id, email or phone to recognise the customer by');
        if (ref.email && !normaliseEmail(ref.email)) throw new Invalid('email', `email: expected an address like name@example.com, found ${quote(ref.email)}`);
        if (ref.phone && !normalisePhone(ref.phone, 'US')) throw new Invalid('phone', `phone: expected a phone number, found ${quote(ref.phone)}`);
        const address = addressTargets.some((t) => context.get(t))
          ? Object.fromEntries(addressTargets.filter((t) => context.get(t)).map((t) => [t === 'postal_code' ? 'postalCode' : t, t === 'country' ? context.get(t).toUpperCase() : context.get(t)]))
          : null;
        if (address?.country && address.country.length !== 2) throw new Invalid('country', `country: expected a two-letter code like US, found ${quote(address.country)}`);
        const attributes: Record<string, AttributeValue> = {};
        for (const column of context.attributes) {
          const raw = context.values[column.index] ?? '';
          if (raw.trim()) attributes[column.key] = attribute(raw, column.type, column.key);
        }
        return { kind: 'customer', ref, name: text(context, 'name'), createdAt: date(context, 'created_at', false), acquisitionChannel: channel(context, 'acquisition_channel'), address, attributes };
      }
    }
  } catch (error) {
    if (error instanceof Invalid) return { field: error.field, message: error.message };
    throw error;
  }
}

export const isRowError = (value: Row | RowError): value is RowError => 'message' in value;
