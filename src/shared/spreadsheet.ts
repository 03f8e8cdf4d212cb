/** Text that a spreadsheet would run as a formula is prefixed with a quote (OWASP CSV injection). */
export const formulaSafe = (value: unknown) => (typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
