// Calendar days in the business time zone (never the server's).

/** The day `at` falls on in `timeZone`, as YYYY-MM-DD. */
export const dayIn = (timeZone: string, at: Date) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(at);
