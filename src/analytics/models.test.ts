// The models against the published CDNOW numbers (../shared/reference/clv.md), to its tolerances.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cdnowCustomers, grouped, spends } from './cdnow.fixture.ts';
import {
  bgnbdConditionalExpected,
  bgnbdLikelihood,
  bgnbdPAlive,
  bgnbdUnconditionalExpected,
  fitBgNbd,
  fitGammaGamma,
  fitParetoNbd,
  gammaGammaExpectedSpend,
  paretoConditionalExpected,
  paretoPAlive,
  paretoUnconditionalExpected,
} from './models.ts';
import { digamma } from './special.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
const weeks = cdnowCustomers(7);
const vignette = { r: 0.2425982, alpha: 4.4136842, a: 0.7929899, b: 2.4261667 };
/** The published BG/NBD fit (clv.md), to its tolerances times `scale` (the log-likelihood to 0.01 always). */
function matchesPublished(fit: ReturnType<typeof fitBgNbd>, scale: number) {
  close(fit.params.r, 0.2426, 0.005 * scale, 'r');
  close(fit.params.alpha, 4.4137, 0.02 * scale, 'alpha');
  close(fit.params.a, 0.793, 0.01 * scale, 'a');
  close(fit.params.b, 2.4262, 0.03 * scale, 'b');
  close(fit.logLikelihood, -9582.429, 0.01, 'LL');
  assert.equal(fit.converged, true);
}

test('CDNOW summary matches the published preparation: 2,357 customers, Σx 2,457, Σx* 1,882, 946 repeaters', () => {
  assert.equal(weeks.length, 2357);
  assert.equal(
    weeks.reduce((s, c) => s + c.x, 0),
    2457,
  );
  assert.equal(
    weeks.reduce((s, c) => s + c.holdout, 0),
    1882,
  );
  assert.equal(weeks.filter((c) => c.x > 0).length, 946);
  const one = weeks[0];
  close(one.tx, 30.4286, 1e-4, 'customer 1 t_x');
  close(one.T, 38.8571, 1e-4, 'customer 1 T');
  close(one.zbar, 22.345, 1e-9, 'customer 1 zbar');
});

test('BG/NBD fit reproduces r, alpha, a, b and the log-likelihood, fast', () => {
  const groups = grouped(weeks);
  const started = performance.now();
  const fit = fitBgNbd(groups);
  const ms = performance.now() - started;
  matchesPublished(fit, 1);
  assert.deepEqual(fit.warnings, []);
  process.stdout.write(`# BG/NBD fit on CDNOW: ${ms.toFixed(0)} ms over ${groups.length} history groups\n`);
});

test('digamma matches its known values', () => {
  close(digamma(1), -0.5772156649015329, 1e-13, 'psi(1) = -Euler-Mascheroni');
  close(digamma(0.5), -1.9635100260214235, 1e-13, 'psi(1/2) = -gamma - 2 ln 2');
  close(digamma(10), 2.251752589066721, 1e-13, 'psi(10)');
  close(digamma(1e-3), -1000.5755719318103, 1e-9, 'psi(0.001)');
});

test('BG/NBD gradient matches central differences of the log-likelihood', () => {
  const likelihood = bgnbdLikelihood(grouped(weeks));
  const at = { r: 0.3, alpha: 5, a: 0.7, b: 2.1 };
  const gradient = [0, 0, 0, 0];
  likelihood(at, gradient);
  (['r', 'alpha', 'a', 'b'] as const).forEach((name, i) => {
    const h = 1e-6 * at[name];
    const numeric =
      (likelihood({ ...at, [name]: at[name] + h }) - likelihood({ ...at, [name]: at[name] - h })) / (2 * h);
    close(gradient[i], numeric, 1e-4 * Math.max(1, Math.abs(numeric)), `d LL / d ${name}`);
  });
});

test('BG/NBD fitted on a sample and polished on all customers (large data) reaches the same optimum as the full fit', () => {
  // 200 customers in the sample, then a quasi-Newton polish on all 2,357 with the analytic gradient.
  const fit = fitBgNbd(grouped(weeks), { sampleAbove: 200 });
  matchesPublished(fit, 0.2);
  assert.equal(fit.sampled, false);
});

test('BG/NBD individual values: customer 1, customer 1516, the frequency paradox, unconditional E[X(t)]', () => {
  close(bgnbdConditionalExpected(vignette, 39, 2, 30.4286, 38.8571), 1.226, 0.001, 'customer 1 E[X(39)]');
  close(bgnbdConditionalExpected(vignette, 52, 26, 30.85714, 31), 25.75659, 0.001, 'customer 1516 E[X(52)]');
  close(bgnbdPAlive(vignette, 26, 30.85714, 31), 0.9688523, 1e-6, 'customer 1516 P(alive)');
  for (const [x, expected] of [
    [10, 0.3474606],
    [15, 0.04283391],
    [20, 0.004158973],
    [25, 0.0003583685],
  ]) {
    close(bgnbdConditionalExpected(vignette, 52, x, 20, 39), expected, expected * 1e-4, `paradox x=${x}`);
  }
  for (const [t, expected] of [
    [0.1429, 0.0078],
    [1, 0.0532],
    [3, 0.1506],
    [31.8571, 1.0405],
    [32, 1.0437],
  ]) {
    close(bgnbdUnconditionalExpected(vignette, t), expected, 0.001, `E[X(${t})]`);
  }
  close(bgnbdUnconditionalExpected(vignette, 52), 1.444004, 1e-5, 'E[X(52)]');
});

test('BG/NBD holdout by frequency bin matches the vignette', () => {
  const expected = [0.2250893, 0.5231364, 1.044126, 1.520256, 2.163824, 2.653789, 3.503957, 6.157036];
  const actual = [0.2367116, 0.6970387, 1.392523, 1.56, 2.532258, 2.947368, 3.862069, 6.359375];
  for (let bin = 0; bin < 8; bin++) {
    const members = weeks.filter((c) => (bin === 7 ? c.x >= 7 : c.x === bin));
    const predicted =
      members.reduce((s, c) => s + bgnbdConditionalExpected(vignette, 39, c.x, c.tx, c.T), 0) / members.length;
    close(predicted, expected[bin], 1e-4, `bin ${bin} predicted`);
    close(members.reduce((s, c) => s + c.holdout, 0) / members.length, actual[bin], 1e-6, `bin ${bin} actual`);
  }
});

test('Pareto/NBD fit and individual values', () => {
  const fit = fitParetoNbd(grouped(weeks));
  close(fit.params.r, 0.553, 0.01, 'r');
  close(fit.params.alpha, 10.578, 0.01 * 10.578, 'alpha');
  close(fit.params.s, 0.606, 0.005, 's');
  close(fit.params.beta, 11.669, 0.05 * 11.669, 'beta');
  close(fit.logLikelihood, -9594.976, 0.01, 'LL');
  const lt = { r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6562 };
  close(paretoPAlive(lt, 26, 30.86, 31), 0.9979, 0.001, 'customer 1516 P(alive)');
  close(paretoConditionalExpected(lt, 52, 26, 30.86, 31), 25.46, 0.01, 'customer 1516 E[X(52)]');
  const btyd = { r: 0.553, alpha: 10.58, s: 0.606, beta: 11.656 };
  for (const [x, expected] of [
    [10, 0.7062289],
    [15, 0.1442396],
    [20, 0.02250658],
    [25, 0.00309267],
  ]) {
    close(paretoConditionalExpected(btyd, 52, x, 20, 39), expected, expected * 1e-3, `paradox x=${x}`);
  }
  const unconditional = [
    0, 0.05077821, 0.09916088, 0.14542507, 0.1897993, 0.23247466, 0.27361274, 0.31335159, 0.35181024, 0.38909211,
  ];
  unconditional.forEach((expected, t) => close(paretoUnconditionalExpected(lt, t), expected, 0.01, `E[X(${t})]`));
});

test('Gamma-Gamma fit and conditional expected spend of the first ten customers', () => {
  const fit = fitGammaGamma(spends(weeks));
  close(fit.params.p, 6.25, 0.02, 'p');
  close(fit.params.q, 3.74, 0.02, 'q');
  close(fit.params.gamma, 15.44, 0.05, 'gamma');
  close(fit.logLikelihood, -4055.92, 0.01, 'LL');
  const hardie = { p: 6.25, q: 3.74, gamma: 15.44 };
  const published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17];
  weeks
    .slice(0, 10)
    .forEach((c, i) => close(gammaGammaExpectedSpend(hardie, c.x, c.zbar), published[i], 0.1, `customer ${c.id}`));
});

test('extreme histories give finite numbers: x = 1000, the x = 132/133 underflow case, age 0', () => {
  assert.equal(bgnbdPAlive(vignette, 0, 1, 1), 1);
  const extreme = bgnbdPAlive(vignette, 1000, 10, 100);
  assert.ok(extreme >= 0 && extreme < 1e-10, `P(alive | x=1000) = ${extreme}`);
  const e = bgnbdConditionalExpected(vignette, 39, 1000, 10, 100);
  assert.ok(Number.isFinite(e) && e >= 0, `E | x=1000 = ${e}`);
  for (let x = 0; x <= 90; x += 10)
    for (let tx = 0; tx <= 90; tx += 10)
      for (let T = tx; T <= 90; T += 10) {
        const p = bgnbdPAlive(vignette, x, x === 0 ? 0 : tx, T);
        assert.ok(p >= 0 && p <= 1, `P(alive) ${p} at ${x}, ${tx}, ${T}`);
      }
  const pareto = { r: 0.55, alpha: 10.58, s: 0.61, beta: 11.67 };
  const e132 = paretoConditionalExpected(pareto, 10, 132, 200, 200);
  const e133 = paretoConditionalExpected(pareto, 10, 133, 200, 200);
  close(e132, 6.2061, 0.01, 'x=132');
  assert.ok(Math.abs(e133 - e132) < 0.05, `x=133 gives ${e133}`);
  assert.ok(Number.isFinite(paretoConditionalExpected(pareto, 10, 1000, 10, 100)));
  // Bought only on the as-of date: age 0.
  assert.equal(bgnbdPAlive(vignette, 0, 0, 0), 1);
  assert.ok(Number.isFinite(bgnbdConditionalExpected(vignette, 4, 0, 0, 0)));
  assert.ok(Number.isFinite(paretoConditionalExpected(pareto, 4, 0, 0, 0)));
});

test('small data: under 100 repeat buyers the fit warns and stays sensible instead of failing', () => {
  const few = weeks.slice(0, 120);
  const fit = fitBgNbd(grouped(few));
  assert.equal(fit.regularised, true);
  assert.match(fit.warnings.join(' '), /repeat buyers/);
  for (const v of Object.values(fit.params))
    assert.ok(Number.isFinite(v) && v > 0 && v < 1e4, JSON.stringify(fit.params));
  const gg = fitGammaGamma(spends(few));
  assert.ok(Object.values(gg.params).every((v) => Number.isFinite(v) && v > 0));
  assert.throws(
    () => fitBgNbd(grouped(weeks.filter((c) => c.x === 0))),
    /at least one customer with a repeat purchase/,
  );
});

test('customers who all buy at the same rate (no heterogeneity): the fit stops at a bound and says so, quickly', () => {
  const groups = Array.from({ length: 120 }, (_, c) => ({
    x: c < 30 ? 7 : 18,
    tx: (c < 30 ? 7 : 18) * 20,
    T: 370 - (c % 5),
    count: 1,
  }));
  const fit = fitBgNbd(groups);
  assert.equal(fit.converged, true);
  assert.match(fit.warnings.join(' '), /r reached the edge of the plausible range/);
  const p = bgnbdPAlive(fit.params, 7, 140, 370);
  assert.ok(p >= 0 && p < 0.5, `stopped 230 days ago after ordering every 20 days: P(alive) ${p}`);
});
