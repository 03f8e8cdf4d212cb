// Did it work: each arm against the holdout, with 95 % intervals and p-values. Pure functions.
// Normal approximations throughout (Agresti-Caffo interval for a difference of shares, Wald for a
// difference of means, Katz log interval for a ratio,
// delta method for a ratio of means), which hold for the group sizes a holdout is worth having at;
// below 30 customers in a group the report says the holdout is too small rather than trust them.

import type { Comparison } from './campaign.ts';

export type { Comparison };

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error below 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
/** Two-sided p-value of a standard normal statistic. */
export const twoSidedP = (z: number) => (Number.isFinite(z) ? erfc(Math.abs(z) / Math.SQRT2) : 0);

const z95 = 1.959964;
const zPower80 = 0.841621;

/** Share of each group that did something (bought, unsubscribed). */
export function compareProportions(treated: { n: number; x: number }, control: { n: number; x: number }): Comparison {
  const p1 = treated.x / treated.n;
  const p2 = control.x / control.n;
  // Agresti-Caffo: the interval adds one success and one failure to each group, so a group with no
  // buyers (or only buyers) still has a width; the plain (Wald) interval collapses there and covers
  // far less than 95 % in small groups.
  const q1 = (treated.x + 1) / (treated.n + 2);
  const q2 = (control.x + 1) / (control.n + 2);
  const centre = q1 - q2;
  const se = Math.sqrt((q1 * (1 - q1)) / (treated.n + 2) + (q2 * (1 - q2)) / (control.n + 2));
  const pooled = (treated.x + control.x) / (treated.n + control.n);
  const sePooled = Math.sqrt(pooled * (1 - pooled) * (1 / treated.n + 1 / control.n));
  const difference = p1 - p2;
  // Katz: the log of the ratio is close to normal.
  const logSe = treated.x > 0 && control.x > 0 ? Math.sqrt((1 - p1) / treated.x + (1 - p2) / control.x) : NaN;
  const ratio = p2 > 0 ? p1 / p2 : NaN;
  return {
    treated: p1,
    control: p2,
    difference,
    low: centre - z95 * se,
    high: centre + z95 * se,
    ...relative(ratio, logSe),
    p: sePooled > 0 ? twoSidedP(difference / sePooled) : 1,
    // From the adjusted control rate too: a holdout with no buyers cannot detect everything.
    detectable: (z95 + zPower80) * Math.sqrt(q2 * (1 - q2) * (1 / treated.n + 1 / control.n)),
  };
}

/** Per-customer amounts (revenue): n, sum and sum of squares of each group. */
export function compareMeans(
  treated: { n: number; sum: number; squares: number },
  control: { n: number; sum: number; squares: number },
): Comparison {
  const stats = (g: typeof treated) => {
    const mean = g.sum / g.n;
    return { mean, variance: g.n > 1 ? Math.max(0, (g.squares - g.n * mean * mean) / (g.n - 1)) : 0 };
  };
  const a = stats(treated);
  const b = stats(control);
  const se = Math.sqrt(a.variance / treated.n + b.variance / control.n);
  const difference = a.mean - b.mean;
  const logSe =
    a.mean > 0 && b.mean > 0
      ? Math.sqrt(a.variance / (treated.n * a.mean ** 2) + b.variance / (control.n * b.mean ** 2))
      : NaN;
  return {
    treated: a.mean,
    control: b.mean,
    difference,
    low: difference - z95 * se,
    high: difference + z95 * se,
    ...relative(b.mean > 0 ? a.mean / b.mean : NaN, logSe),
    p: se > 0 ? twoSidedP(difference / se) : 1,
    detectable: (z95 + zPower80) * Math.sqrt(b.variance * (1 / treated.n + 1 / control.n)),
  };
}

function relative(ratio: number, logSe: number) {
  if (!Number.isFinite(ratio)) return { relative: null, relativeLow: null, relativeHigh: null };
  if (!Number.isFinite(logSe) || ratio <= 0) return { relative: ratio - 1, relativeLow: null, relativeHigh: null };
  return {
    relative: ratio - 1,
    relativeLow: ratio * Math.exp(-z95 * logSe) - 1,
    relativeHigh: ratio * Math.exp(z95 * logSe) - 1,
  };
}

/** Customers needed in each group to detect a difference in shares from p2 to p1 (80 % power, 5 % level). */
export function neededPerGroup(p1: number, p2: number): number {
  const d = Math.abs(p1 - p2);
  if (d === 0) return Infinity;
  return Math.ceil(((z95 + zPower80) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2))) / (d * d));
}

/** Why a comparison cannot be trusted to have seen an effect, in words; null when it can. */
export function holdoutWarning(
  c: Comparison,
  groups: { treated: number; control: number },
  what: string,
): string | null {
  if (groups.control === 0) return 'There is no holdout: nothing to compare with.';
  if (Math.min(groups.treated, groups.control) < 30)
    return `The holdout is too small to measure anything: ${groups.control} in the holdout, ${groups.treated} treated; at least 30 in each are needed.`;
  if (c.p < 0.05 || Math.abs(c.difference) >= c.detectable) return null;
  const needed = neededPerGroup(c.treated, c.control);
  const points = (v: number) => `${(100 * v).toFixed(1)} points`;
  return (
    `The holdout of ${groups.control.toLocaleString('en')} is too small to detect an effect of the size seen on ${what} (${c.difference >= 0 ? '+' : ''}${points(c.difference)}); ` +
    `it would detect ${points(c.detectable)} or more.${Number.isFinite(needed) ? ` Seeing this effect reliably needs about ${needed.toLocaleString('en')} customers in each group.` : ''}`
  );
}
