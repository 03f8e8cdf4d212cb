/** Kaplan-Meier: the share still "surviving" (here: not yet converted) at each asked time, with censoring. */
export function kaplanMeier(items: { time: number; event: boolean }[], at: number[]): { time: number; survival: number; atRisk: number }[] {
  const sorted = [...items].sort((a, b) => a.time - b.time || Number(b.event) - Number(a.event));
  const out: { time: number; survival: number; atRisk: number }[] = [];
  let survival = 1;
  let atRisk = sorted.length;
  let i = 0;
  for (const t of [...at].sort((a, b) => a - b)) {
    while (i < sorted.length && sorted[i].time <= t) {
      const time = sorted[i].time;
      let events = 0;
      let leaving = 0;
      while (i < sorted.length && sorted[i].time === time) {
        if (sorted[i].event) events++;
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
