/**
 * Text that a spreadsheet would run as a formula is prefixed with a quote (OWASP CSV injection),
 * full-width = + - @ included: some spreadsheets read them as the ASCII signs.
 */
export const formulaSafe = (value: unknown) =>
  typeof value === 'string' && /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(value) ? `'${value}` : value;
