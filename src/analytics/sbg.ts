// The shifted-beta-geometric model of contractual retention (Fader & Hardie, "How to project customer
// retention", J. Interactive Marketing 21(1), 2007). Each subscriber has a constant chance θ of
// cancelling at every renewal; θ varies across subscribers as Beta(α, β). A subscriber who started
// at period 0 cancels at renewal t (t = 1, 2, ...) with
//   P(T = t) = B(α + 1, β + t − 1) / B(α, β)
// and is still subscribed after n renewals with S(n) = B(α, β + n) / B(α, β). The retention rate
// r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1) rises with tenure: the cancellation-prone
// leave first, which a curve fitted to the aggregate (linear, exponential) cannot project.
import type { SbgFit } from './analytics.ts';
import { minimiseSmoothFromStarts } from './optimize.ts';
import { digamma, lbeta } from './special.ts';

/** Subscribers by what was seen of them: cancelled at renewal `t`, or still subscribed after `t` renewals. */
export interface SurvivalGroup {
  t: number;
  cancelled: boolean;
  count: number;
}

/** log P(T = t). */
export const sbgLogChurnAt = (alpha: number, beta: number, t: number) =>
  lbeta(alpha + 1, beta + t - 1) - lbeta(alpha, beta);
/** log S(n): still subscribed after n renewals. */
export const sbgLogSurvival = (alpha: number, beta: number, n: number) => lbeta(alpha, beta + n) - lbeta(alpha, beta);
/** S(n) for n = 0..periods. */
export function sbgSurvivalCurve(alpha: number, beta: number, periods: number): number[] {
  const curve = [1];
  for (let t = 1; t <= periods; t++) curve.push(curve[t - 1] * ((beta + t - 1) / (alpha + beta + t - 1)));
  return curve;
}
/** The chance that a subscriber who renewed n times cancels at the next renewal: E[θ | survived n] = α / (α + β + n). */
export const sbgNextChurn = (alpha: number, beta: number, n: number) => alpha / (alpha + beta + n);
/** The chance that a subscriber who renewed n times cancels within the next k renewals: 1 − S(n + k) / S(n). */
export const sbgChurnWithin = (alpha: number, beta: number, n: number, k: number) =>
  1 - Math.exp(sbgLogSurvival(alpha, beta, n + k) - sbgLogSurvival(alpha, beta, n));

/** The survival groups of a cohort given as counts still subscribed after 0, 1, 2, ... renewals (the papers' tables). */
export function groupsOfCounts(alive: number[]): SurvivalGroup[] {
  const groups: SurvivalGroup[] = [];
  for (let t = 1; t < alive.length; t++) groups.push({ t, cancelled: true, count: alive[t - 1] - alive[t] });
  groups.push({ t: alive.length - 1, cancelled: false, count: alive[alive.length - 1] });
  return groups;
}

/**
 * Maximum likelihood α, β (on log-parameters, BFGS with the exact gradient from three starts: the
 * same data gives the same fit). Null when nobody has reached a renewal yet.
 */
export function fitSbg(groups: SurvivalGroup[]): SbgFit | null {
  // Subscribers before their first renewal say nothing yet (S(0) = 1).
  const seen = groups.filter((g) => g.count > 0 && g.t >= 1);
  if (seen.length === 0) return null;
  const objective = (x: number[], gradient?: number[]) => {
    const alpha = Math.exp(x[0]);
    const beta = Math.exp(x[1]);
    let ll = 0;
    let dA = 0;
    let dB = 0;
    const psiAB = digamma(alpha + beta);
    const psiA = digamma(alpha);
    const psiB = digamma(beta);
    for (const g of seen) {
      if (g.cancelled) {
        // lbeta(α + 1, β + t − 1) − lbeta(α, β)
        const b1 = beta + g.t - 1;
        ll += g.count * sbgLogChurnAt(alpha, beta, g.t);
        if (gradient) {
          const psiSum = digamma(alpha + 1 + b1);
          dA += g.count * (digamma(alpha + 1) - psiSum - psiA + psiAB);
          dB += g.count * (digamma(b1) - psiSum - psiB + psiAB);
        }
      } else {
        const b1 = beta + g.t;
        ll += g.count * sbgLogSurvival(alpha, beta, g.t);
        if (gradient) {
          const psiSum = digamma(alpha + b1);
          dA += g.count * (psiA - psiSum - psiA + psiAB);
          dB += g.count * (digamma(b1) - psiSum - psiB + psiAB);
        }
      }
    }
    if (gradient) {
      gradient[0] = -dA * alpha;
      gradient[1] = -dB * beta;
    }
    return -ll;
  };
  const fit = minimiseSmoothFromStarts(objective, [
    [0, 0],
    [Math.log(0.5), Math.log(3)],
    [Math.log(3), Math.log(10)],
  ]);
  return {
    alpha: Math.exp(fit.x[0]),
    beta: Math.exp(fit.x[1]),
    logLikelihood: -fit.value,
    converged: fit.converged,
    subscribers: seen.reduce((n, g) => n + g.count, 0),
    cancellations: seen.reduce((n, g) => n + (g.cancelled ? g.count : 0), 0),
  };
}
