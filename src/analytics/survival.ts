/**
 * Kaplan-Meier: the share still "surviving" (here: not yet converted) at each asked time, with
 * censoring. Item i ends at time[i], with the event when event[i] is 1 and censored when 0.
 */
export function kaplanMeier(
  items: { time: ArrayLike<number>; event: ArrayLike<number> },
  at: number[],
): { time: number; survival: number; atRisk: number }[] {
  // Sorted by time, events before censorings at the same time, as one number each (times are whole days).
  const sorted = Float64Array.from(
    { length: items.time.length },
    (_, i) => items.time[i] * 2 + (items.event[i] ? 0 : 1),
  ).sort();
  const out: { time: number; survival: number; atRisk: number }[] = [];
  let survival = 1;
  let atRisk = sorted.length;
  let i = 0;
  for (const t of [...at].sort((a, b) => a - b)) {
    while (i < sorted.length && Math.floor(sorted[i] / 2) <= t) {
      const time = Math.floor(sorted[i] / 2);
      let events = 0;
      let leaving = 0;
      while (i < sorted.length && Math.floor(sorted[i] / 2) === time) {
        if (sorted[i] % 2 === 0) events++;
        leaving++;
        i++;
      }
      if (atRisk > 0 && events > 0) survival *= 1 - events / atRisk;
      atRisk -= leaving;
    }
    out.push({ time: t, survival, atRisk });
  }
  return out;
}
