// Turning one CSV row into a typed record, per kind; every failure names the field, what was
// expected and what was found.
import { normaliseEmail, normalisePhone } from '../customers/identity.ts';
import {
  acceptedFlagWords,
  flagFromText,
  type AttributeType,
  type AttributeValue,
  type CustomerRef,
  type StatusFlag,
} from '../customers/index.ts';
import { multiplyDecimal } from '../shared/decimal.ts';
import { exactDecimal, firstDay, isCalendarDate, lastDay, textProblem } from '../shared/input.ts';
import { dayIn } from '../shared/time.ts';
import type { SubscriptionPeriod } from '../subscriptions/index.ts';
import type { DateParser } from './date-format.ts';
import { isChannel, type ImportKind } from './import.ts';

export interface RowError {
  field: string;
  message: string;
}

export type Row =
  | {
      kind: 'order';
      ref: CustomerRef;
      customer: string;
      orderId: string;
      at: Date;
      product: string | null;
      category: string | null;
      quantity: string;
      unitPrice: string | null;
      amount: string;
      channel: string | null;
      currency: string | null;
    }
  | {
      kind: 'return';
      ref: CustomerRef;
      customer: string;
      returnId: string | null;
      orderId: string | null;
      at: Date;
      product: string | null;
      quantity: string;
      amount: string;
      reasonCode: string | null;
      reason: string | null;
    }
  | {
      kind: 'touchpoint';
      ref: CustomerRef;
      customer: string;
      id: string | null;
      at: Date;
      channel: string;
      direction: 'in' | 'out';
      touch: string;
      campaign: string | null;
    }
  | {
      kind: 'ticket';
      ref: CustomerRef;
      customer: string;
      ticketId: string;
      openedAt: Date;
      channel: string | null;
      category: string | null;
      priority: string | null;
      status: string;
      subject: string | null;
      orderId: string | null;
      resolvedAt: Date | null;
      outcome: string | null;
    }
  | {
      kind: 'survey';
      ref: CustomerRef;
      customer: string;
      id: string | null;
      at: Date;
      survey: string;
      question: string;
      score: string | null;
      answer: string | null;
      channel: string | null;
    }
  | {
      kind: 'subscription';
      ref: CustomerRef;
      customer: string;
      subscriptionId: string;
      startedAt: Date;
      plan: string | null;
      price: string | null;
      currency: string | null;
      period: SubscriptionPeriod | null;
      renewedAt: Date | null;
      cancelledAt: Date | null;
      reasonCode: string | null;
      reason: string | null;
    }
  | {
      /** A catalogue entry: no customer's fact (written by upsertProducts, not the facts pipeline). */
      kind: 'product';
      sku: string;
      name: string | null;
      category: string | null;
      price: string | null;
      cost: string | null;
      currency: string | null;
    }
  | {
      kind: 'flag';
      ref: CustomerRef;
      customer: string;
      flag: StatusFlag;
      at: Date | null;
      reason: string | null;
    }
  | {
      kind: 'customer';
      ref: CustomerRef;
      name: string | null;
      createdAt: Date | null;
      acquisitionChannel: string | null;
      address: Record<string, string> | null;
      attributes: Record<string, AttributeValue>;
    };

export interface RowContext {
  get(target: string): string;
  has(target: string): boolean;
  parseDate: DateParser;
  /** A decimal comma is accepted in files delimited by semicolons. */
  decimalComma: boolean;
  /** Custom attribute columns of a customers file: header name -> (key, type). */
  attributes: { index: number; key: string; type: AttributeType }[];
  values: string[];
  /** What a reason calls each column: the target it feeds, else its header name. */
  names: string[];
  /** The country of phone numbers written without a prefix. */
  defaultCountry: string;
  /** The business time zone: the day a subscription id made from its start is named by. */
  timeZone: string;
  /** When the import began: a subscriptions snapshot's `tenure` counts back from it, `cancelled` means by then. */
  importedAt: Date;
}

class Invalid extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const quote = (text: string) => JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);

// The value rules of the event API (src/ingest/event.ts, src/shared/input.ts), so a row of a file
// stores exactly what the same fact sent as an event would: money as numeric(14, 2) holds it,
// quantities as numeric(14, 3) does. On orders rows a minus makes a credit note (a return).
// The schema's answers are remembered per text: a file has millions of cells, most amounts and
// quantities repeat, and parsing each with zod cost more than a third of the reading.
function remembered(schema: ReturnType<typeof exactDecimal>) {
  const answers = new Map<string, { value: string } | { message: string }>();
  return (text: string) => {
    let answer = answers.get(text);
    if (!answer) {
      const parsed = schema.safeParse(text);
      answer = parsed.success ? { value: parsed.data } : { message: parsed.error.issues[0].message };
      if (answers.size >= 10_000) answers.clear();
      answers.set(text, answer);
    }
    return answer;
  };
}
const money = remembered(exactDecimal(12, 2, 'not negative'));
const signedMoney = remembered(exactDecimal(12, 2));
const quantity = remembered(exactDecimal(11, 3, 'positive'));
const signedQuantity = remembered(exactDecimal(11, 3));

function decimal(context: RowContext, target: string, rule: typeof money, required: boolean): string | null {
  const raw = context.get(target);
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty; expected a number like 12.50`);
    return null;
  }
  const text = context.decimalComma && /^-?\d+,\d+$/.test(raw) ? raw.replace(',', '.') : raw;
  const answer = rule(text);
  if ('value' in answer) return answer.value;
  const { message } = answer;
  throw new Invalid(
    target,
    message.startsWith('a ')
      ? `${target}: expected ${message}, found ${quote(raw)}`
      : `${target} ${message}, found ${quote(raw)}`,
  );
}

function score(context: RowContext): string | null {
  const raw = context.get('score');
  if (!raw) return null;
  const text = context.decimalComma && /^-?\d+,\d+$/.test(raw) ? raw.replace(',', '.') : raw;
  if (!/^-?\d{1,4}(\.\d{1,2})?$/.test(text) || Math.abs(Number(text)) > 1000) {
    throw new Invalid(
      'score',
      `score: expected a number from -1000 to 1000 with at most 2 decimals, found ${quote(raw)}`,
    );
  }
  return text;
}

// The first and the day after the last day Kept takes (UTC, as the event API's instants).
const earliest = Date.parse(`${firstDay}T00:00:00Z`);
const afterLatest = Date.parse(`${lastDay}T00:00:00Z`) + 86_400_000;

function date(context: RowContext, target: string, required: boolean): Date | null {
  const raw = context.get(target);
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty; expected a date`);
    return null;
  }
  const parsed = context.parseDate(raw);
  if (!parsed)
    throw new Invalid(
      target,
      `${target}: expected a date like 2026-03-01 (or as --date-format says), found ${quote(raw)}`,
    );
  // A typo like 0026 or 3026 is refused, as the event API refuses it, not stored.
  if (parsed.getTime() < earliest || parsed.getTime() >= afterLatest)
    throw new Invalid(target, `${target}: expected a date from ${firstDay} to ${lastDay}, found ${quote(raw)}`);
  return parsed;
}

function text(context: RowContext, target: string, max: number, required = false): string | null {
  const raw = context.get(target);
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty`);
    return null;
  }
  if (raw.length > max)
    throw new Invalid(target, `${target}: at most ${max} characters, found ${raw.length.toLocaleString('en')}`);
  return raw;
}

function channel(context: RowContext, target: string, required = false): string | null {
  const raw = context.get(target).toLowerCase().replace(/[\s-]/g, '_');
  if (!raw) {
    if (required) throw new Invalid(target, `${target} is empty; expected one of the channels`);
    return null;
  }
  if (!isChannel(raw))
    throw new Invalid(
      target,
      `${target}: expected web, email, store, phone, chat, mobile, social, display or direct_mail, found ${quote(context.get(target))}`,
    );
  return raw;
}

function currency(context: RowContext): string | null {
  const raw = context.get('currency');
  if (!raw) return null;
  if (!/^[A-Z]{3}$/.test(raw.toUpperCase()))
    throw new Invalid('currency', `currency: expected a three-letter code like EUR, found ${quote(raw)}`);
  return raw.toUpperCase();
}

// What billing systems and spreadsheets call the periods, to the four Kept knows.
const periods: Record<string, SubscriptionPeriod> = {
  week: 'week',
  weekly: 'week',
  month: 'month',
  monthly: 'month',
  quarter: 'quarter',
  quarterly: 'quarter',
  year: 'year',
  yearly: 'year',
  annual: 'year',
  annually: 'year',
};

function period(context: RowContext): SubscriptionPeriod | null {
  const raw = context.get('period');
  if (!raw) return null;
  const known = periods[raw.toLowerCase()];
  if (!known)
    throw new Invalid(
      'period',
      `period: expected week, month, quarter or year (or monthly, yearly ...), found ${quote(raw)}`,
    );
  return known;
}

/** Whole periods completed (a churn data set's tenure), or null without the column. */
function tenure(context: RowContext): number | null {
  const raw = context.get('tenure');
  if (!context.has('tenure') || (!raw && context.get('started_at'))) return null;
  if (!/^\d{1,4}$/.test(raw))
    throw new Invalid('tenure', `tenure: expected a whole number of periods (0 or more), found ${quote(raw)}`);
  return Number(raw);
}

/** A yes/no cell: yes, true, 1, y; no, false, 0, n, or empty for no. */
function yes(context: RowContext, target: string): boolean {
  const raw = context.get(target).toLowerCase();
  if (['yes', 'y', 'true', '1'].includes(raw)) return true;
  if (['', 'no', 'n', 'false', '0'].includes(raw)) return false;
  throw new Invalid(target, `${target}: expected yes or no (true/false, 1/0), found ${quote(context.get(target))}`);
}

/** The day `n` periods before `from` (calendar months for month, quarter and year). */
function monthsBefore(from: Date, n: number, unit: SubscriptionPeriod): Date {
  const at = new Date(from);
  if (unit === 'week') at.setUTCDate(at.getUTCDate() - 7 * n);
  else at.setUTCMonth(at.getUTCMonth() - n * (unit === 'month' ? 1 : unit === 'quarter' ? 3 : 12));
  return at;
}

/** A reason code as the event API takes it (snake_case); "Too expensive" is read as too_expensive. */
function reasonCode(context: RowContext): string | null {
  const raw = text(context, 'reason_code', 60);
  if (raw === null) return null;
  const code = raw.toLowerCase().replace(/[\s-]+/g, '_');
  if (!/^[a-z0-9_]+$/.test(code))
    throw new Invalid(
      'reason_code',
      `reason_code: expected a code of letters, digits and _ like too_expensive, found ${quote(raw)}`,
    );
  return code;
}

function customerRef(context: RowContext): { ref: CustomerRef; customer: string } {
  const value = context.get('customer');
  if (!value) throw new Invalid('customer', 'customer is empty; expected an external customer id or an email');
  // A reference that normalises to nothing would make a customer nobody can be found by.
  if (value.includes('@')) {
    if (value.length > 320 || !normaliseEmail(value))
      throw new Invalid(
        'customer',
        `customer: expected an external customer id or an email like name@example.com, found ${quote(value)}`,
      );
    return { ref: { email: value }, customer: value };
  }
  if (value.length > 200)
    throw new Invalid(
      'customer',
      `customer: an external customer id has at most 200 characters, found ${value.length.toLocaleString('en')}`,
    );
  return { ref: { externalId: value }, customer: value };
}

/**
 * The customer a flags file names: an email (it has an @), a phone number (it starts with + or 00,
 * or is digits written with spaces, dashes, dots, slashes or brackets) or else an external id. A
 * plain run of digits is an external id.
 */
function existingCustomerRef(context: RowContext): { ref: CustomerRef; customer: string } {
  const value = context.get('customer');
  if (/^(\+|00)?[\d\s()./-]+$/.test(value) && /^(\+|00)|[\s()./-]/.test(value) && /(\d\D*){5}/.test(value)) {
    if (!normalisePhone(value, context.defaultCountry))
      throw new Invalid('customer', `customer: expected a phone number, found ${quote(value)}`);
    return { ref: { phone: value }, customer: value };
  }
  return customerRef(context);
}

function attribute(raw: string, type: AttributeType, key: string): AttributeValue {
  if (type === 'number') {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value))
      throw new Invalid(key, `${key} is a number column; found ${quote(raw)}`);
    return value;
  }
  if (type === 'boolean') {
    const value = raw.trim().toLowerCase();
    if (['true', 'yes', 'y', '1'].includes(value)) return true;
    if (['false', 'no', 'n', '0'].includes(value)) return false;
    throw new Invalid(key, `${key} is a yes/no column; found ${quote(raw)}`);
  }
  if (type === 'date' && !isCalendarDate(raw.trim()))
    throw new Invalid(key, `${key} is a date column (YYYY-MM-DD from ${firstDay} to ${lastDay}); found ${quote(raw)}`);
  if (raw.trim().length > 2000)
    throw new Invalid(key, `${key}: at most 2000 characters, found ${raw.trim().length.toLocaleString('en')}`);
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

// With the event API's lengths for the same fields.
const addressTargets = [
  ['line1', 300],
  ['line2', 300],
  ['city', 200],
  ['region', 200],
  ['postal_code', 40],
  ['country', 60],
] as const;

/** One row as a typed record, or the first reason it cannot be one. */
export function convertRow(kind: ImportKind, context: RowContext): Row | RowError {
  try {
    // Every cell, read or not: text no column can hold makes the row a rejected one, never a failed chunk.
    context.values.forEach((value, index) => {
      const problem = textProblem(value);
      const name = context.names[index] ?? `column ${index + 1}`;
      if (problem) throw new Invalid(name, `${name}: ${problem}`);
    });
    switch (kind) {
      case 'orders': {
        const { ref, customer } = customerRef(context);
        const at = date(context, 'at', true)!;
        const quantity = decimal(context, 'quantity', signedQuantity, false) ?? '1';
        if (!/[1-9]/.test(quantity))
          throw new Invalid('quantity', `quantity must not be 0, found ${quote(context.get('quantity'))}`);
        const unitPrice = decimal(context, 'unit_price', money, false);
        const given = decimal(context, 'amount', signedMoney, unitPrice === null);
        const amount = given ?? multiplyDecimal(quantity, unitPrice!);
        if (given === null && !/^-?\d{1,12}\./.test(amount))
          throw new Invalid(
            'amount',
            'amount: quantity x unit_price has more than 12 digits before the point; give the amount',
          );
        const orderId = text(context, 'order', 200) ?? `${customer}@${at.toISOString()}`;
        return {
          kind: 'order',
          ref,
          customer,
          orderId,
          at,
          product: text(context, 'product', 200),
          category: text(context, 'category', 100),
          quantity,
          unitPrice,
          amount,
          channel: channel(context, 'channel'),
          currency: currency(context),
        };
      }
      case 'returns': {
        const { ref, customer } = customerRef(context);
        return {
          kind: 'return',
          ref,
          customer,
          returnId: text(context, 'return', 200),
          orderId: text(context, 'order', 200),
          at: date(context, 'at', true)!,
          product: text(context, 'product', 200),
          quantity: decimal(context, 'quantity', quantity, false) ?? '1',
          amount: decimal(context, 'amount', money, true)!,
          reasonCode: text(context, 'reason_code', 60),
          reason: text(context, 'reason', 2000),
        };
      }
      case 'touchpoints': {
        const { ref, customer } = customerRef(context);
        const direction = (context.get('direction') || 'in').toLowerCase();
        if (direction !== 'in' && direction !== 'out')
          throw new Invalid('direction', `direction: expected in or out, found ${quote(context.get('direction'))}`);
        return {
          kind: 'touchpoint',
          ref,
          customer,
          id: text(context, 'id', 200),
          at: date(context, 'at', true)!,
          channel: channel(context, 'channel', true)!,
          direction,
          touch: text(context, 'kind', 60, true)!,
          campaign: text(context, 'campaign', 200),
        };
      }
      case 'tickets': {
        const { ref, customer } = customerRef(context);
        const resolvedAt = date(context, 'resolved_at', false);
        return {
          kind: 'ticket',
          ref,
          customer,
          ticketId: text(context, 'ticket', 200, true)!,
          openedAt: date(context, 'opened_at', true)!,
          channel: channel(context, 'channel'),
          category: text(context, 'category', 60),
          priority: text(context, 'priority', 60),
          status: text(context, 'status', 60) ?? (resolvedAt ? 'resolved' : 'open'),
          subject: text(context, 'subject', 500),
          orderId: text(context, 'order', 200),
          resolvedAt,
          outcome: text(context, 'outcome', 60),
        };
      }
      case 'surveys': {
        const { ref, customer } = customerRef(context);
        return {
          kind: 'survey',
          ref,
          customer,
          id: text(context, 'id', 200),
          at: date(context, 'at', true)!,
          survey: text(context, 'survey', 200, true)!,
          question: text(context, 'question', 500, true)!,
          score: score(context),
          answer: text(context, 'answer', 5000),
          channel: channel(context, 'channel'),
        };
      }
      case 'subscriptions': {
        const { ref, customer } = customerRef(context);
        // A snapshot (a churn data set) gives tenure in whole periods and whether the subscriber has
        // left, instead of dates: it started that many periods before the import and, if it left,
        // was cancelled by the import day.
        const snapshot = tenure(context);
        const chosenPeriod = period(context);
        const startedAt =
          snapshot === null
            ? date(context, 'started_at', true)!
            : monthsBefore(context.importedAt, snapshot, chosenPeriod ?? 'month');
        const renewedAt = date(context, 'renewed_at', false);
        const cancelledAt =
          date(context, 'cancelled_at', false) ?? (yes(context, 'cancelled') ? context.importedAt : null);
        const day = (at: Date) => dayIn(context.timeZone, at);
        if (renewedAt && renewedAt < startedAt)
          throw new Invalid(
            'renewed_at',
            `renewed_at: before started_at (${day(renewedAt)} < ${day(startedAt)}); a renewal follows the start`,
          );
        if (cancelledAt && cancelledAt < startedAt)
          throw new Invalid(
            'cancelled_at',
            `cancelled_at: before started_at (${day(cancelledAt)} < ${day(startedAt)}); a cancellation follows the start`,
          );
        const reasons = { reasonCode: reasonCode(context), reason: text(context, 'reason', 2000) };
        if (!cancelledAt && (reasons.reasonCode || reasons.reason))
          throw new Invalid(
            reasons.reasonCode ? 'reason_code' : 'reason',
            `${reasons.reasonCode ? 'reason_code' : 'reason'}: a reason is for a cancellation; cancelled_at is empty`,
          );
        return {
          kind: 'subscription',
          ref,
          customer,
          subscriptionId: text(context, 'subscription', 200) ?? `${customer}:${day(startedAt)}`,
          startedAt,
          plan: text(context, 'plan', 200),
          price: decimal(context, 'price', money, false),
          currency: currency(context),
          period: chosenPeriod,
          renewedAt,
          cancelledAt,
          ...reasons,
        };
      }
      case 'products':
        // Price and cost as the event API takes money: not negative, 12 digits before the point, 2 after.
        return {
          kind: 'product',
          sku: text(context, 'id', 200, true)!,
          name: text(context, 'name', 300),
          category: text(context, 'category', 100),
          price: decimal(context, 'price', money, false),
          cost: decimal(context, 'cost', money, false),
          currency: currency(context),
        };
      case 'flags': {
        const { ref, customer } = existingCustomerRef(context);
        const raw = text(context, 'flag', 100, true)!;
        const flag = flagFromText(raw);
        if (!flag) throw new Invalid('flag', `flag: expected one of ${acceptedFlagWords}, found ${quote(raw)}`);
        return {
          kind: 'flag',
          ref,
          customer,
          flag,
          at: date(context, 'at', false),
          reason: text(context, 'reason', 2000),
        };
      }
      case 'customers': {
        const ref: CustomerRef = {
          externalId: text(context, 'id', 200) ?? undefined,
          email: text(context, 'email', 320) ?? undefined,
          phone: text(context, 'phone', 50) ?? undefined,
        };
        if (!ref.externalId && !ref.email && !ref.phone)
          throw new Invalid('id', 'the row has no id, email or phone to recognise the customer by');
        if (ref.email && !normaliseEmail(ref.email))
          throw new Invalid('email', `email: expected an address like name@example.com, found ${quote(ref.email)}`);
        if (ref.phone && !normalisePhone(ref.phone, context.defaultCountry))
          throw new Invalid('phone', `phone: expected a phone number (at least 5 digits), found ${quote(ref.phone)}`);
        const address: Record<string, string> = {};
        for (const [target, max] of addressTargets) {
          const value = text(context, target, max);
          if (value)
            address[target === 'postal_code' ? 'postalCode' : target] =
              target === 'country' ? value.toUpperCase() : value;
        }
        if (address.country && !/^[A-Z]{2}$/.test(address.country))
          throw new Invalid(
            'country',
            `country: expected a two-letter code like US, found ${quote(context.get('country'))}`,
          );
        const attributes: Record<string, AttributeValue> = {};
        for (const column of context.attributes) {
          const raw = context.values[column.index] ?? '';
          if (raw.trim()) attributes[column.key] = attribute(raw, column.type, column.key);
        }
        return {
          kind: 'customer',
          ref,
          name: text(context, 'name', 300),
          createdAt: date(context, 'created_at', false),
          acquisitionChannel: channel(context, 'acquisition_channel'),
          address: Object.keys(address).length > 0 ? address : null,
          attributes,
        };
      }
    }
  } catch (error) {
    if (error instanceof Invalid) return { field: error.field, message: error.message };
    throw error;
  }
}

export const isRowError = (value: Row | RowError): value is RowError => 'message' in value;
/** A row that states a customer's fact (every kind but products). */
export type CustomerRow = Exclude<Row, { kind: 'product' }>;
