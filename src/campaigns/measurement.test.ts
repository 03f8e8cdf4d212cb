import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beta, gamma, random, type Rng } from '../shared/random.ts';
import { compareMeans, compareProportions, holdoutWarning, neededPerGroup, twoSidedP } from './measurement.ts';

test('p-values and intervals agree with textbook values', () => {
  assert.ok(Math.abs(twoSidedP(1.959964) - 0.05) < 1e-6);
  assert.ok(Math.abs(twoSidedP(2.575829) - 0.01) < 1e-6);
  // 120 of 1,000 against 100 of 1,000: difference 0.02; the Agresti-Caffo interval (Agresti & Caffo
  // 2000) adds a success and a failure to each group: 121 of 1,002 against 101 of 1,002.
  const c = compareProportions({ n: 1000, x: 120 }, { n: 1000, x: 100 });
  assert.ok(Math.abs(c.difference - 0.02) < 1e-12);
  const [q1, q2] = [121 / 1002, 101 / 1002];
  const se = Math.sqrt((q1 * (1 - q1)) / 1002 + (q2 * (1 - q2)) / 1002);
  assert.ok(Math.abs(c.low - (q1 - q2 - 1.959964 * se)) < 1e-9);
  assert.ok(Math.abs(c.high - (q1 - q2 + 1.959964 * se)) < 1e-9);
  // No buyers in a small holdout: the interval keeps its width and takes in 0 (a plain Wald interval
  // would claim 0.1 +- 0.06), and what it could detect is not 0.
  const none = compareProportions({ n: 100, x: 10 }, { n: 20, x: 0 });
  assert.ok(none.low < 0 && none.high > 0.15, JSON.stringify(none));
  assert.ok(none.detectable > 0.1, JSON.stringify(none));
  assert.ok(Math.abs(c.relative! - 0.2) < 1e-12);
  // R: prop.test(c(120, 100), c(1000, 1000), correct = FALSE)$p.value = 0.1529
  assert.ok(Math.abs(c.p - 0.1529) < 0.0005, `pooled z-test p ${c.p}`);
  // Fleiss: 10 % -> 12 % needs 3,839 per group at 80 % power (normal approximation without continuity correction)
  assert.equal(neededPerGroup(0.12, 0.1), 3839);
});

/** A campaign with a planted effect: `rate` of the holdout buy, `rate + lift` of the treated; amounts skewed. */
function simulate(rng: Rng, n: { treated: number; control: number }, rate: number, lift: number, spendLift: number) {
  const group = (size: number, p: number, mean: number) => {
    let x = 0;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < size; i++) {
      if (rng() < p) {
        x++;
        const amount = (gamma(rng, 2) * mean) / 2;
        sum += amount;
        squares += amount * amount;
      }
    }
    return { buyers: { n: size, x }, revenue: { n: size, sum, squares } };
  };
  return { treated: group(n.treated, rate + lift, 60 * (1 + spendLift)), control: group(n.control, rate, 60) };
}

test('with a planted effect the 95 % intervals cover it about 95 % of the time; without one, 5 % of campaigns look significant', () => {
  const rng = random(20261201);
  const runs = 2000;
  const n = { treated: 4500, control: 500 };
  let buyersCovered = 0;
  let relativeCovered = 0;
  let revenueCovered = 0;
  let falsePositives = 0;
  let revenueFalsePositives = 0;
  for (let i = 0; i < runs; i++) {
    // Each campaign its own base rate, as real campaigns differ.
    const rate = 0.05 + 0.2 * beta(rng, 2, 2);
    const planted = simulate(rng, n, rate, 0.03, 0.1);
    const buyers = compareProportions(planted.treated.buyers, planted.control.buyers);
    if (buyers.low <= 0.03 && 0.03 <= buyers.high) buyersCovered++;
    const trueRelative = (rate + 0.03) / rate - 1;
    if (buyers.relativeLow! <= trueRelative && trueRelative <= buyers.relativeHigh!) relativeCovered++;
    const revenue = compareMeans(planted.treated.revenue, planted.control.revenue);
    const trueRevenue = (rate + 0.03) * 66 - rate * 60;
    if (revenue.low <= trueRevenue && trueRevenue <= revenue.high) revenueCovered++;

    const none = simulate(rng, n, rate, 0, 0);
    if (compareProportions(none.treated.buyers, none.control.buyers).p < 0.05) falsePositives++;
    if (compareMeans(none.treated.revenue, none.control.revenue).p < 0.05) revenueFalsePositives++;
  }
  const share = (k: number) => k / runs;
  // 2,000 runs: a true 95 % shows between 93.9 % and 96.0 % with 99 % probability.
  for (const [name, covered] of [
    ['buyers', buyersCovered],
    ['relative lift', relativeCovered],
    ['revenue', revenueCovered],
  ] as const) {
    assert.ok(
      share(covered) > 0.935 && share(covered) < 0.965,
      `${name} interval covered the planted effect in ${share(covered)}`,
    );
  }
  for (const [name, k] of [
    ['buyers', falsePositives],
    ['revenue', revenueFalsePositives],
  ] as const) {
    assert.ok(share(k) > 0.035 && share(k) < 0.065, `${name}: ${share(k)} of campaigns without an effect had p < 0.05`);
  }
});

test('a holdout too small for the effect seen is said so, with how many it would take', () => {
  const small = compareProportions({ n: 900, x: 108 }, { n: 100, x: 10 });
  assert.match(
    holdoutWarning(small, { treated: 900, control: 100 }, 'buying')!,
    /holdout of 100 is too small to detect an effect of the size seen on buying \(\+2\.0 points\); it would detect .* about 3,839 customers in each group/,
  );
  assert.match(holdoutWarning(small, { treated: 20, control: 5 }, 'buying')!, /at least 30 in each/);
  const large = compareProportions({ n: 20000, x: 2400 }, { n: 20000, x: 2000 });
  assert.equal(holdoutWarning(large, { treated: 20000, control: 20000 }, 'buying'), null);
});
