// Dates and times from files: a small, fast parser (millions of rows) for yyyy MM dd HH mm ss
// patterns and ISO 8601. A time without a zone is wall-clock time in the business time zone.

export type DateParser = (text: string) => Date | null;

const tokens: Record<string, string> = { yyyy: '(\\d{4})', MM: '(\\d{1,2})', dd: '(\\d{1,2})', HH: '(\\d{1,2})', mm: '(\\d{1,2})', ss: '(\\d{1,2})' };
const iso = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/** Offset (ms) of a time zone from UTC at an instant, cached by hour: Intl is too slow per row. */
function offsetFinder(timeZone: string): (utcMs: number) => number {
  if (timeZone === 'UTC') return () => 0;
  const format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const cache = new Map<number, number>();
  return (utcMs) => {
    const hour = Math.floor(utcMs / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      const parts = Object.fromEntries(format.formatToParts(new Date(hour * 3_600_000)).map((p) => [p.type, Number(p.value)]));
      offset = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - hour * 3_600_000;
      if (cache.size > 100_000) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
}

function zoned(offsetAt: (utcMs: number) => number) {
  // Wall time -> UTC: guess with the offset at the wall time, then correct once (DST edges).
  return (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date | null => {
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
    const wall = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    const check = new Date(wall);
    if (check.getUTCDate() !== d || check.getUTCMonth() !== mo - 1) return null; // 31 February
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
        const instant = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}.${String(ms).padStart(3, '0')}${m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]}`);
        return Number.isNaN(instant.getTime()) ? null : instant;
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
