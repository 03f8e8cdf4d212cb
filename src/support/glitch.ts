// The glitch view: problems counted by week, and the weeks that stand out.

export interface GlitchSeries {
  source: string;
  category: string;
  counts: number[];
}
export interface Spike {
  week: string;
  source: string;
  category: string;
  count: number;
  expected: number;
}

/** P(X >= count) for X ~ Poisson(mean). */
export function poissonTail(count: number, mean: number): number {
  let term = Math.exp(-mean);
  let below = 0;
  for (let k = 0; k < count; k++) {
    below += term;
    term *= mean / (k + 1);
  }
  return Math.max(0, 1 - below);
}

/**
 * A week is a spike when it has at least `minimum` problems of a kind and so many that, at the
 * average rate of the `baseline` weeks before it (at least one every two weeks), a count this
 * high would happen by chance less than once in a thousand weeks.
 */
export function findSpikes(
  weeks: string[],
  series: GlitchSeries[],
  options = { baseline: 8, minimum: 5, chance: 0.001 },
): Spike[] {
  const spikes: Spike[] = [];
  for (const s of series) {
    for (let w = options.baseline; w < s.counts.length; w++) {
      const mean = s.counts.slice(w - options.baseline, w).reduce((a, b) => a + b, 0) / options.baseline;
      if (s.counts[w] >= options.minimum && poissonTail(s.counts[w], Math.max(0.5, mean)) < options.chance) {
        spikes.push({
          week: weeks[w],
          source: s.source,
          category: s.category,
          count: s.counts[w],
          expected: Number(mean.toFixed(1)),
        });
      }
    }
  }
  return spikes.sort((a, b) => b.week.localeCompare(a.week) || b.count - a.count);
}
