// The input rules every edge applies before anything reaches the database (docs/security.md, "Input
// rules"). What passes them stores: text PostgreSQL can hold, JSON it can nest, numbers its numeric
// columns hold exactly, dates its calendar knows, identifiers its keys take.
import { z } from '@hono/zod-openapi';

/** JSON nests at most this deep (objects and arrays); deeper input is refused, never walked recursively. */
export const maxNesting = 32;
/** Instants and dates Kept takes: a typo like year 0026 or 20260 is refused, not stored. */
export const firstDay = '1900-01-01';
export const lastDay = '2999-12-31';

export interface InputProblem {
  path: string;
  message: string;
}

const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why a string cannot be stored as it is, or undefined: PostgreSQL text and jsonb refuse NUL, and an
 * unpaired surrogate is not Unicode (it would be written as U+FFFD, silently changing the value).
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000), which text cannot hold';
  if (unpairedSurrogate.test(value)) return 'contains an unpaired UTF-16 surrogate, which is not valid Unicode';
  return undefined;
}

/**
 * The first place in a parsed JSON value (keys included) that breaks the text rules or nests deeper
 * than `maxNesting`; iterative, so no input can overflow the stack.
 */
export function inputProblem(value: unknown, at: (string | number)[] = []): InputProblem | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: at }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { path: path.join('.'), message: problem };
    } else if (typeof current === 'object' && current !== null) {
      if (path.length - at.length >= maxNesting)
        return { path: path.join('.'), message: `nests deeper than ${maxNesting} levels` };
      if (Array.isArray(current)) current.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      else {
        for (const [key, item] of Object.entries(current)) {
          const problem = textProblem(key);
          if (problem) return { path: [...path, key].join('.'), message: `its name ${problem}` };
          stack.push({ value: item, path: [...path, key] });
        }
      }
    }
  }
  return undefined;
}

/** Replaces what text cannot hold (control characters but tab and newline, unpaired surrogates): for messages Kept writes itself, such as a job's error. */
export const cleanText = (value: string) =>
  value.replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, '').replace(new RegExp(unpairedSurrogate.source, 'g'), '\uFFFD');

/** A YYYY-MM-DD that names a real day (no 30 February) between firstDay and lastDay. */
export function isCalendarDate(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match || value < firstDay || value > lastDay) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

export const calendarDate = z
  .string()
  .refine(isCalendarDate, `a real calendar date YYYY-MM-DD from ${firstDay} to ${lastDay}`);

/** An ISO 8601 instant with a zone (zod checks the calendar), within the years Kept takes. */
export const instant = z.iso
  .datetime({ offset: true })
  // Runs even when the format check failed: an unreadable value is left to that issue.
  .refine((value) => {
    const at = new Date(value);
    if (Number.isNaN(at.getTime())) return true;
    const day = at.toISOString().slice(0, 10);
    return day >= firstDay && day <= lastDay;
  }, `an instant from ${firstDay} to ${lastDay}`)
  .describe(`ISO 8601 instant with a time zone, e.g. 2026-03-01T10:00:00Z, from ${firstDay} to ${lastDay}`);

/**
 * A whole number in a path or query string, written in decimal digits ("1e3", "0x10", "1.0" and
 * " 1" are refused, not coerced), between min and max.
 */
export function whole(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,16}$/, 'a whole number written in digits')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .openapi({ type: 'integer', minimum: min, maximum: max });
}

/** A record's number in a path: a positive whole number JavaScript holds exactly. */
export const id = whole(1, Number.MAX_SAFE_INTEGER);

/**
 * An exact decimal as a JSON number or string, kept as a string, that a numeric column with
 * `digits` places before the point and `places` after holds exactly: a number whose shortest form
 * is exponential (1e21, 5e-324) or has more decimals (0.1 + 0.2) would be rounded, so it is refused.
 */
export function exactDecimal(digits: number, places: number, sign: 'any' | 'positive' | 'not negative' = 'any') {
  const shape = new RegExp(`^-?\\d{1,${digits}}${places > 0 ? `(\\.\\d{1,${places}})?` : ''}$`);
  const expected = `a decimal number with at most ${digits} digits before the point and ${places} after, like ${places > 0 ? `12.${'5'.padEnd(places, '0')}` : '12'}`;
  return z
    .union([z.number().finite(), z.string().trim()])
    .transform((value) => (typeof value === 'number' ? String(value) : value))
    .superRefine((value, context) => {
      const zero = !/[1-9]/.test(value);
      if (!shape.test(value)) context.addIssue({ code: 'custom', message: expected });
      else if (sign === 'positive' && (zero || value.startsWith('-')))
        context.addIssue({ code: 'custom', message: 'must be more than 0' });
      else if (sign === 'not negative' && value.startsWith('-') && !zero)
        context.addIssue({ code: 'custom', message: 'must not be negative' });
    });
}
