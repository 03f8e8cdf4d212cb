// Calendar days in the business time zone (never the server's).

/** The day `at` falls on in `timeZone`, as YYYY-MM-DD. */
export const dayIn = (timeZone: string, at: Date) => new Intl.DateTimeFormat('en-CA', { timeZone }).format(at);

/** Minutes `timeZone` is ahead of UTC at the instant `at`. */
function offsetMinutes(timeZone: string, at: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(new Date(at))
      .filter((p) => p.type !== 'literal')
      .map((p) => [p.type, Number(p.value)]),
  );
  return Math.round(
    (Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) -
      Math.floor(at / 1000) * 1000) /
      60_000,
  );
}

/**
 * The instant a wall-clock time `YYYY-MM-DDTHH:mm` in `timeZone` names. A time skipped by a
 * spring-forward change moves forward by the gap (02:30 becomes 03:30); a time that occurs twice
 * when clocks fall back is the first of the two.
 */
export function wallTimeToInstant(local: string, timeZone: string): Date {
  const [date, time] = local.split('T');
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const asUtc = Date.UTC(y, m - 1, d, hh, mm);
  // The offsets half a day either side; a wall time is valid under an offset when that offset holds at the instant it gives.
  const offsets = [offsetMinutes(timeZone, asUtc - 43_200_000), offsetMinutes(timeZone, asUtc + 43_200_000)];
  const valid = offsets
    .map((o) => asUtc - o * 60_000)
    .filter((at, i) => offsetMinutes(timeZone, at) === offsets[i])
    .sort((a, b) => a - b);
  // None valid: the time was skipped; under the earlier offset it lands after the gap.
  return new Date(valid[0] ?? asUtc - offsets[0] * 60_000);
}
