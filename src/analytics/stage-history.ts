// The stages of the past, rebuilt: each month's end, every buyer judged from their purchases up to
// that day as an analysis would have judged them then (with this run's fitted parameters), so the
// stages-over-time chart is true from the store's first month, not flat until the first analysis.
import type { Histories } from './analytics.repository.ts';
import { firstPurchaseDay } from './candidates.ts';

export interface MonthStages {
  month: string;
  stage: string;
  customers: number;
}

/** What the rebuild needs of a fitted model: P(alive) given the history (x, tx, T in days). */
export type Judge = (x: number, tx: number, T: number) => number;

const day = 86_400_000;
const monthName = (d: number) => new Date(d * day).toISOString().slice(0, 7);
/** The last day of the month of day d. */
function monthEnd(d: number): number {
  const date = new Date(d * day);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0) / day;
}

/**
 * Buyers by stage (trial, customer, best, at_risk, lapsed) at the end of every month whose end is
 * before `untilDay` (the as-of date, or the first current analysis that set stages itself).
 * best: the top `bestTopShare` of the active true customers, as a current run counts them.
 */
export function rebuildStages(
  h: Histories,
  judge: Judge,
  untilDay: number,
  t: { atRiskBelow: number; lapsedBelow: number; bestTopShare: number },
): MonthStages[] {
  if (h.size === 0) return [];
  const first = firstPurchaseDay(h);
  const ends: number[] = [];
  for (let end = monthEnd(first); end < untilDay; end = monthEnd(end + 1)) ends.push(end);
  const out: MonthStages[] = [];
  for (const end of ends) {
    const counts = new Map<string, number>();
    let active = 0;
    const add = (stage: string) => counts.set(stage, (counts.get(stage) ?? 0) + 1);
    for (let i = 0; i < h.size; i++) {
      const from = h.dayStart[i];
      const firstDay = h.firstDay[i];
      if (firstDay > end) continue;
      let x = -1;
      let last = firstDay;
      for (let j = from; j < h.dayStart[i + 1] && h.days[j] <= end; j++) {
        x++;
        last = h.days[j];
      }
      const T = end - firstDay;
      const tx = last - firstDay;
      const pAlive = judge(x, tx, T);
      if (pAlive < t.lapsedBelow) add('lapsed');
      else if (pAlive < t.atRiskBelow) add('at_risk');
      else if (x === 0) add('trial');
      else active++;
    }
    // best: the top share of the active true customers by predicted value (only their number
    // matters here); the rest are customers.
    const best = Math.ceil(active * t.bestTopShare);
    if (best) counts.set('best', best);
    if (active - best) counts.set('customer', active - best);
    for (const [stage, customers] of [...counts].sort(([a], [b]) => a.localeCompare(b)))
      out.push({ month: monthName(end), stage, customers });
  }
  return out;
}

/**
 * The chart's series: rebuilt months before `fromMonth` (buyer stages, with prospects and
 * suppressed customers as the stage history has them), the stage history from then on.
 */
export function mergeStageHistory(rebuilt: MonthStages[], recorded: MonthStages[], fromMonth: string): MonthStages[] {
  const keep = new Set(['prospect', 'suppressed']);
  return [
    ...rebuilt.filter((r) => r.month < fromMonth),
    ...recorded.filter((r) => r.month < fromMonth && keep.has(r.stage)),
    ...recorded.filter((r) => r.month >= fromMonth),
  ].sort((a, b) => a.month.localeCompare(b.month) || a.stage.localeCompare(b.stage));
}
