// Dates and times from files: a small, fast parser (millions of rows) for yyyy MM dd HH mm ss
// patterns and ISO 8601. A time without a zone is wall-clock time in the business time zone.

export type DateParser = (text: string) => Date | null;

const tokens: Record<string, string> = {
  yyyy: '(\\d{4})',
  MM: '(\\d{1,2})',
  dd: '(\\d{1,2})',
  HH: '(\\d{1,2})',
  mm: '(\\d{1,2})',
  ss: '(\\d{1,2})',
};
const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Offset (ms) of a time zone from UTC at an instant, cached by hour: Intl is too slow per row. */
function offsetFinder(timeZone: string): (utcMs: number) => number {
  if (timeZone === 'UTC') return () => 0;
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const cache = new Map<number, number>();
  return (utcMs) => {
    const hour = Math.floor(utcMs / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      const parts = Object.fromEntries(
        format.formatToParts(new Date(hour * 3_600_000)).map((p) => [p.type, Number(p.value)]),
      );
      offset =
        (utcTime(parts.year, parts.month, parts.day, parts.hour, parts.minute, parts.second, 0) ?? hour * 3_600_000) -
        hour * 3_600_000;
      if (cache.size > 100_000) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
}

/**
 * Milliseconds since 1970 of a UTC wall time, or null when it names no real time (31 February,
 * 24:00). Years 0-99 stay what they are written as (Date.UTC would read 0026 as 1926).
 */
function utcTime(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number | null {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  if (date.getUTCDate() !== d || date.getUTCMonth() !== mo - 1) return null; // 31 February
  return date.getTime();
}

function zoned(offsetAt: (utcMs: number) => number) {
  // Wall time -> UTC: guess with the offset at the wall time, then correct once (DST edges).
  return (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date | null => {
    const wall = utcTime(y, mo, d, h, mi, s, ms);
    if (wall === null) return null;
    const first = wall - offsetAt(wall);
    return new Date(wall - offsetAt(first));
  };
}

/** A parser for `format` (e.g. yyyyMMdd, dd/MM/yyyy HH:mm) or, without one, ISO 8601. */
export function dateParser(format: string | undefined, timeZone: string): DateParser {
  const toUtc = zoned(offsetFinder(timeZone));
  if (!format) {
    return (text) => {
      const m = iso.exec(text.trim());
      if (!m) return null;
      const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
      if (m[8]) {
        // Parsed by hand: Date's own parser takes 31 February as 3 March and 24:00 as the next day.
        const wall = utcTime(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
        const zone = /^([+-])(\d{2}):?(\d{2})$/.exec(m[8]);
        if (wall === null || (zone && (+zone[2] > 23 || +zone[3] > 59))) return null;
        return new Date(wall - (zone ? (zone[1] === '-' ? -1 : 1) * (+zone[2] * 60 + +zone[3]) * 60_000 : 0));
      }
      return toUtc(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
    };
  }
  const order: string[] = [];
  const pattern = format.replace(/yyyy|MM|dd|HH|mm|ss|[.*+?^${}()|[\]\\]/g, (token) => {
    if (tokens[token]) {
      order.push(token);
      return tokens[token];
    }
    return `\\${token}`;
  });
  if (!order.includes('yyyy') || !order.includes('MM') || !order.includes('dd')) {
    throw new Error(`date format "${format}" needs yyyy, MM and dd`);
  }
  const regex = new RegExp(`^${pattern}$`);
  return (text) => {
    const m = regex.exec(text.trim());
    if (!m) return null;
    const part = (token: string) => (order.includes(token) ? Number(m[order.indexOf(token) + 1]) : 0);
    return toUtc(part('yyyy'), part('MM'), part('dd'), part('HH'), part('mm'), part('ss'), 0);
  };
}
