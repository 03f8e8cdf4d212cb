import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

/**
 * Text that a spreadsheet would run as a formula is prefixed with a quote (OWASP CSV injection),
 * full-width = + - @ included: some spreadsheets read them as the ASCII signs.
 */
export const formulaSafe = (value: unknown) =>
  typeof value === 'string' && /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(value) ? `'${value}` : value;

/** A phone number in strict E.164: a plus, a first digit 1-9 and 6 to 14 more digits, nothing else. */
export const e164 = /^\+[1-9]\d{6,14}$/;

/**
 * A phone column's cell: the number in E.164 without the quote when it reads as a possible number
 * (libphonenumber-js, as customers/identity.ts normalises phones; `defaultCountry` for numbers
 * without a prefix), else the value formula-safe. The quote broke dialers, and an E.164 value is
 * safe without it: a plus and digits only, which a spreadsheet can at most read as a number, never
 * run as a formula that calls anything (no name, no parenthesis, no reference, no operator after
 * the sign).
 */
export function phoneCell(value: unknown, defaultCountry: string): unknown {
  if (typeof value !== 'string' || !value.trim()) return formulaSafe(value);
  const parsed = parsePhoneNumberFromString(value.trim(), defaultCountry as CountryCode);
  return parsed?.isPossible() && e164.test(parsed.number) ? parsed.number : formulaSafe(value);
}
