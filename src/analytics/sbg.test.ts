// The shifted-beta-geometric model against its published fits (Fader & Hardie 2007, the "regular"
// and "high end" cohorts of 1,000 customers, fitted on years 1-7 and projected to year 12) and
// against planted truth with staggered starts and censoring.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beta as betaOf, random } from '../shared/random.ts';
import {
  fitSbg,
  groupsOfCounts,
  sbgChurnWithin,
  sbgLogChurnAt,
  sbgLogSurvival,
  sbgNextChurn,
  sbgSurvivalCurve,
  type SurvivalGroup,
} from './sbg.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

// Customers still subscribed at the start of years 0..12 (FH07, Table 1).
const regular = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173];
const highEnd = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394];

test('sBG reproduces the published fits of Fader & Hardie (2007) and their projections', () => {
  const published = [
    { name: 'regular', data: regular, alpha: 0.704, beta: 1.182, ll: -1680.3 },
    { name: 'high end', data: highEnd, alpha: 0.668, beta: 3.806, ll: -1611.2 },
  ];
  for (const p of published) {
    const fit = fitSbg(groupsOfCounts(p.data.slice(0, 8)))!;
    assert.ok(fit.converged, `${p.name} converged`);
    close(fit.alpha, p.alpha, 0.0005, `${p.name} alpha`);
    close(fit.beta, p.beta, 0.0005, `${p.name} beta`);
    close(fit.logLikelihood, p.ll, 0.05, `${p.name} log-likelihood`);
    assert.equal(fit.subscribers, 1000);
    // Years 8-12 were held out: the projection stays within 5 % of what happened.
    const curve = sbgSurvivalCurve(fit.alpha, fit.beta, 12);
    for (let t = 8; t <= 12; t++) close(curve[t] * 1000, p.data[t], 0.05 * p.data[t], `${p.name} year ${t}`);
    // The same data gives the same fit, bit for bit.
    assert.deepEqual(fitSbg(groupsOfCounts(p.data.slice(0, 8))), fit);
  }
});

test('sBG quantities agree with each other', () => {
  const [a, b] = [0.7, 1.2];
  const curve = sbgSurvivalCurve(a, b, 10);
  let survived = 1;
  for (let t = 1; t <= 10; t++) {
    survived -= Math.exp(sbgLogChurnAt(a, b, t));
    close(curve[t], survived, 1e-12, `S(${t}) = 1 - sum of P(T = t)`);
    close(Math.exp(sbgLogSurvival(a, b, t)), curve[t], 1e-12, `log S(${t})`);
  }
  close(sbgNextChurn(a, b, 3), 1 - curve[4] / curve[3], 1e-12, 'next-renewal churn after 3 renewals');
  close(sbgChurnWithin(a, b, 2, 3), 1 - curve[5] / curve[2], 1e-12, 'churn within 3 renewals after 2');
});

test('sBG recovers planted parameters from staggered, censored cohorts', () => {
  const rng = random(7);
  const truth = { alpha: 1.5, beta: 4 };
  const counts = new Map<string, number>();
  for (let i = 0; i < 30_000; i++) {
    const theta = betaOf(rng, truth.alpha, truth.beta);
    const observable = 1 + Math.floor(rng() * 24); // started 1-24 months before the end of the data
    let t = 1;
    while (t <= observable && rng() >= theta) t++;
    const key = t <= observable ? `c${t}` : `a${observable}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const groups: SurvivalGroup[] = [...counts].map(([key, count]) => ({
    t: Number(key.slice(1)),
    cancelled: key[0] === 'c',
    count,
  }));
  const fit = fitSbg(groups)!;
  close(fit.alpha, truth.alpha, 0.15 * truth.alpha, 'alpha');
  close(fit.beta, truth.beta, 0.15 * truth.beta, 'beta');
  assert.equal(fitSbg([{ t: 0, cancelled: false, count: 10 }]), null, 'nobody reached a renewal: no fit');
});
