// The models against the published CDNOW numbers (../shared/reference/clv.md), to its tolerances.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cdnowCustomers, grouped, spends } from './cdnow.fixture.ts';
import { beta as betaDraw, gamma as gammaDraw, random } from '../shared/random.ts';
import {
  bgnbdBuyIfAlive,
  bgnbdConditionalExpected,
  bgnbdLikelihood,
  bgnbdPAlive,
  bgnbdPBuy,
  bgnbdUnconditionalExpected,
  fitBgNbd,
  fitGammaGamma,
  fitMbgNbd,
  fitParetoNbd,
  gammaGammaExpectedSpend,
  mbgnbdConditionalExpected,
  mbgnbdLikelihood,
  mbgnbdPAlive,
  mbgnbdPBuy,
  mbgnbdUnconditionalExpected,
  paretoBuyIfAlive,
  paretoConditionalExpected,
  paretoLikelihood,
  paretoLogLikelihood,
  paretoPAlive,
  paretoPBuy,
  paretoUnconditionalExpected,
  rescaleFit,
  type HistoryGroup,
} from './models.ts';
import { digamma, lgamma, log2F1, logAddExp, logSubExp } from './special.ts';

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

/** The analytic gradient of a likelihood against its central differences, parameter by parameter. */
function matchesCentralDifferences<P extends Record<string, number>>(
  likelihood: (params: P, gradient?: number[]) => number,
  at: P,
  tolerance = 1e-4,
) {
  const gradient = Object.keys(at).map(() => 0);
  likelihood(at, gradient);
  Object.keys(at).forEach((name, i) => {
    const h = 1e-6 * at[name];
    const numeric =
      (likelihood({ ...at, [name]: at[name] + h }) - likelihood({ ...at, [name]: at[name] - h })) / (2 * h);
    close(gradient[i], numeric, tolerance * Math.max(1, Math.abs(numeric)), `d LL / d ${name}`);
  });
}

test('BG/NBD gradient matches central differences of the log-likelihood', () => {
  matchesCentralDifferences(bgnbdLikelihood(grouped(weeks)), { r: 0.3, alpha: 5, a: 0.7, b: 2.1 });
});

test('MBG/NBD and Pareto/NBD gradients match central differences, in weeks and in days', () => {
  for (const unit of [7, 1]) {
    const groups = grouped(cdnowCustomers(unit));
    const scale = 7 / unit;
    matchesCentralDifferences(mbgnbdLikelihood(groups), { r: 0.4, alpha: 5 * scale, a: 0.8, b: 1.9 });
    matchesCentralDifferences(mbgnbdLikelihood(groups), { r: 2, alpha: 30 * scale, a: 3, b: 0.5 });
    matchesCentralDifferences(paretoLikelihood(groups), { r: 0.5, alpha: 9 * scale, s: 0.7, beta: 13 * scale });
    matchesCentralDifferences(paretoLikelihood(groups), { r: 2, alpha: 40 * scale, s: 0.1, beta: 3 * scale });
  }
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

// ---------------------------------------------------------------------------------------------
// MBG/NBD, the three models in weeks and in days, P(buy), degenerate dropout

const days = cdnowCustomers(1);
const repeatPurchases = weeks.reduce((sum, c) => sum + c.x, 0);

test('MBG/NBD fit reproduces BTYDplus on CDNOW, and its individual values stay near BG/NBD', () => {
  const fit = fitMbgNbd(grouped(weeks));
  close(fit.params.r, 0.525, 0.01, 'r');
  close(fit.params.alpha, 6.183, 0.05, 'alpha');
  close(fit.params.a, 0.891, 0.01, 'a');
  close(fit.params.b, 1.614, 0.03, 'b');
  assert.equal(fit.converged, true);
  assert.equal(fit.dropoutDegenerate, false);
  assert.deepEqual(fit.warnings, []);
  // One parameter set, four ways of counting: no worse than BG/NBD's -9582.429.
  assert.ok(fit.logLikelihood > -9582.429, `LL ${fit.logLikelihood}`);
  close(mbgnbdConditionalExpected(fit.params, 39, 2, 30.4286, 38.8571), 1.226, 0.05, 'customer 1 E[X(39)]');
  for (const [t, expected] of [
    [0.1429, 0.0078],
    [1, 0.0532],
    [3, 0.1506],
    [31.8571, 1.0405],
    [32, 1.0437],
    [52, 1.444004],
    [78, 1.8576],
  ]) {
    close(mbgnbdUnconditionalExpected(fit.params, t), expected, 0.05 * expected, `E[X(${t})]`);
  }
  // Dropout right after the first purchase: even a customer who just bought may be gone.
  const p = mbgnbdPAlive(fit.params, 0, 1, 1);
  assert.ok(p < 1 && p > 0.5, `P(alive | x=0, tx=1, T=1) = ${p}`);
  close(p, 1 / (1 + fit.params.a / fit.params.b), 1e-12, 'P(alive | x=0, tx=T) = b/(a+b)');
  for (let x = 0; x <= 90; x += 10)
    for (let tx = 0; tx <= 90; tx += 10)
      for (let T = tx; T <= 90; T += 10) {
        const q = mbgnbdPAlive(fit.params, x, x === 0 ? 0 : tx, T);
        assert.ok(q >= 0 && q < 1, `P(alive) ${q} at ${x}, ${tx}, ${T}`);
      }
  assert.ok(mbgnbdPAlive(fit.params, 1000, 10, 100) < 1e-10);
});

test('BG/NBD, MBG/NBD and Pareto/NBD on CDNOW: the fit in days is the fit in weeks, and Pareto/NBD is as fast', () => {
  const timed = <F>(fit: () => F) => {
    const started = performance.now();
    const outcome = fit();
    return { outcome, ms: performance.now() - started };
  };
  const lines: string[] = [];
  for (const [unit, customers] of [
    ['weeks', weeks],
    ['days', days],
  ] as const) {
    const groups = grouped(customers);
    const bg = timed(() => fitBgNbd(groups));
    const mbg = timed(() => fitMbgNbd(groups));
    const pareto = timed(() => fitParetoNbd(groups));
    lines.push(
      `# CDNOW in ${unit} (${groups.length} history groups): BG/NBD ${bg.ms.toFixed(0)} ms, Pareto/NBD ${pareto.ms.toFixed(0)} ms (${(pareto.ms / bg.ms).toFixed(1)}x), MBG/NBD ${mbg.ms.toFixed(0)} ms\n`,
    );
    // In days the parameters and the likelihood are those in weeks after rescaling: rates by 7,
    // the likelihood by 7^x per customer.
    const factor = unit === 'days' ? 7 : 1;
    matchesPublished(rescaleFit(bg.outcome, factor, repeatPurchases), 1);
    const inWeeks = rescaleFit(pareto.outcome, factor, repeatPurchases);
    close(inWeeks.params.r, 0.553, 0.01, `${unit}: Pareto/NBD r`);
    close(inWeeks.params.alpha, 10.578, 0.01 * 10.578, `${unit}: Pareto/NBD alpha`);
    close(inWeeks.params.s, 0.606, 0.005, `${unit}: Pareto/NBD s`);
    close(inWeeks.params.beta, 11.669, 0.05, `${unit}: Pareto/NBD beta`);
    close(inWeeks.logLikelihood, -9594.976, 0.01, `${unit}: Pareto/NBD LL`);
    assert.deepEqual(pareto.outcome.warnings, []);
    const mbgInWeeks = rescaleFit(mbg.outcome, factor, repeatPurchases);
    const mbgWeeks = fitMbgNbd(grouped(weeks));
    for (const name of ['r', 'alpha', 'a', 'b'] as const)
      close(mbgInWeeks.params[name], mbgWeeks.params[name], 1e-5 * mbgWeeks.params[name], `${unit}: MBG/NBD ${name}`);
    close(mbgInWeeks.logLikelihood, mbgWeeks.logLikelihood, 1e-6, `${unit}: MBG/NBD LL`);
  }
  for (const line of lines) process.stdout.write(line);
});

test('Pareto/NBD fit is deterministic: the same data give bit-identical parameters', () => {
  for (const customers of [weeks, days]) {
    const groups = grouped(customers);
    const first = fitParetoNbd(groups);
    const second = fitParetoNbd(groups.map((g) => ({ ...g })));
    assert.deepEqual(second.params, first.params);
    assert.equal(second.logLikelihood, first.logLikelihood);
  }
  // On a sample and polished: deterministic too.
  const sampled = [
    fitParetoNbd(grouped(weeks), { sampleAbove: 300 }),
    fitParetoNbd(grouped(weeks), { sampleAbove: 300 }),
  ];
  assert.deepEqual(sampled[1].params, sampled[0].params);
  close(sampled[0].params.r, 0.553, 0.01, 'sampled and polished r');
  close(sampled[0].logLikelihood, -9594.976, 0.01, 'sampled and polished LL');
});

test('Pareto/NBD likelihood by quadrature matches the closed form with its hypergeometric A0', () => {
  // The published form: A0 from ₂F₁ in one of two branches (FHL 2005 note), summed as a series.
  const closedForm = (
    { r, alpha, s, beta }: { r: number; alpha: number; s: number; beta: number },
    x: number,
    tx: number,
    T: number,
  ) => {
    const rsx = r + s + x;
    const logF =
      alpha >= beta
        ? (t: number) => log2F1(rsx, s + 1, rsx + 1, (alpha - beta) / (alpha + t)) - rsx * Math.log(alpha + t)
        : (t: number) => log2F1(rsx, r + x, rsx + 1, (beta - alpha) / (beta + t)) - rsx * Math.log(beta + t);
    const gone = Math.log(s / rsx) + logSubExp(logF(tx), logF(T));
    const alive = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
    return lgamma(r + x) - lgamma(r) + r * Math.log(alpha) + s * Math.log(beta) + logAddExp(alive, gone);
  };
  for (const params of [
    { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6687 },
    { r: 0.5533, alpha: 74.04, s: 0.6062, beta: 81.68 },
    { r: 2, alpha: 3, s: 0.05, beta: 30 },
    { r: 0.1, alpha: 20, s: 3, beta: 2 },
  ])
    for (const [x, tx, T] of [
      [0, 0, 38.86],
      [1, 1.71, 38.86],
      [2, 30.43, 38.86],
      [26, 30.86, 31],
      [10, 2, 39],
      [132, 150, 200],
    ]) {
      const expected = closedForm(params, x, tx, T);
      close(
        paretoLogLikelihood(params, { x, tx, T }),
        expected,
        1e-9 * Math.abs(expected),
        `${JSON.stringify(params)} at ${x}, ${tx}, ${T}`,
      );
    }
});

/** ∫ from 0 to t of f(u) du by Simpson's rule in ln(1 + u/scale), on many panels: slow and sure. */
function fineIntegral(f: (u: number) => number, t: number, scale: number): number {
  const panels = 20_000;
  const top = Math.log1p(t / scale);
  const h = top / panels;
  let sum = 0;
  for (let k = 0; k <= panels; k++) {
    const y = k * h;
    const u = scale * Math.expm1(y);
    const weight = k === 0 || k === panels ? 1 : k % 2 ? 4 : 2;
    sum += weight * f(u) * scale * Math.exp(y);
  }
  return (sum * h) / 3;
}

test('P(buy within t): 0 at t = 0, rising with t, within [0, 1]; Pareto/NBD quadrature to 1e-8 and its s → 0 limit', () => {
  const bg = vignette;
  const mbg = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
  const pareto = { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6687 };
  const histories = [
    [0, 0, 38.86],
    [2, 30.43, 38.86],
    [7, 29.43, 38.86],
    [26, 30.86, 31],
    [1, 1.71, 38.86],
    [0, 0, 0],
  ];
  for (const [x, tx, T] of histories) {
    for (const pBuy of [
      (t: number) => bgnbdPBuy(bg, t, x, tx, T),
      (t: number) => mbgnbdPBuy(mbg, t, x, tx, T),
      (t: number) => paretoPBuy(pareto, t, x, tx, T),
    ]) {
      assert.equal(pBuy(0), 0);
      let previous = 0;
      for (const t of [0.1, 1, 4, 13, 26, 52, 104, 520]) {
        const p = pBuy(t);
        // Rising until it reaches P(alive), where it stays (to rounding).
        assert.ok(
          (p > previous || Math.abs(p - previous) < 1e-12) && p <= 1,
          `P(buy within ${t}) = ${p} after ${previous} at ${x}, ${tx}, ${T}`,
        );
        previous = p;
      }
    }
    // An active customer's chance of no purchase is the NBD zero term.
    close(bgnbdBuyIfAlive(bg, 13, x, T), 1 - ((bg.alpha + T) / (bg.alpha + T + 13)) ** (bg.r + x), 1e-14, 'BG/NBD');
  }
  // Pareto/NBD against a fine numerical integration of its defining integral, including extreme histories.
  for (const params of [
    pareto,
    { r: 0.5533, alpha: 74.04, s: 0.6062, beta: 81.68 },
    { r: 2, alpha: 3, s: 4, beta: 40 },
  ])
    for (const [x, T] of [
      [0, 38.86],
      [2, 38.86],
      [26, 31],
      [300, 60],
      [0, 0],
    ])
      for (const t of [0.5, 13, 52, 1000]) {
        const [rx, a, b] = [params.r + x, params.alpha + T, params.beta + T];
        const expected = fineIntegral(
          (u) => (rx / a) * (1 + u / a) ** -(rx + 1) * (1 + u / b) ** -params.s,
          t,
          a / (rx + 1),
        );
        close(
          paretoBuyIfAlive(params, t, x, T),
          expected,
          1e-8 * expected,
          `Pareto/NBD buy within ${t} at x=${x}, T=${T}`,
        );
      }
  // Without dropout (s → 0) Pareto/NBD is the NBD: 1 − (1 + t/α')^−r'.
  for (const [x, T, t] of [
    [0, 38.86, 13],
    [5, 20, 52],
    [100, 39, 1],
  ]) {
    const nbd = 1 - (1 + t / (pareto.alpha + T)) ** -(pareto.r + x);
    close(paretoBuyIfAlive({ ...pareto, s: 1e-12 }, t, x, T), nbd, 1e-10, `s → 0 at x=${x}`);
  }
});

/**
 * P(buy within t | history) by simulating the model: customers drawn from the prior, weighted by the
 * probability of the history given their rates (how the history selects them), alive or not at T
 * by the odds of the two ways the history could have come about, then the next purchase drawn
 * against the horizon (and, for Pareto/NBD, against the dropout).
 */
function simulatedPBuy(
  model: 'bgnbd' | 'mbgnbd' | 'pareto',
  params: Record<string, number>,
  [x, tx, T]: number[],
  t: number,
  seed: number,
): number {
  const rng = random(seed);
  const draws = 150_000;
  const logWeights = new Float64Array(draws);
  const buys = new Uint8Array(draws);
  for (let k = 0; k < draws; k++) {
    const lambda = gammaDraw(rng, params.r) / params.alpha;
    let logAlive: number;
    let logGone: number;
    let dropoutTime = Infinity;
    if (model === 'pareto') {
      const mu = gammaDraw(rng, params.s) / params.beta;
      logAlive = x * Math.log(lambda) - (lambda + mu) * T;
      logGone =
        tx < T
          ? x * Math.log(lambda) + Math.log(mu / (lambda + mu)) + logSubExp(-(lambda + mu) * tx, -(lambda + mu) * T)
          : -Infinity;
      dropoutTime = -Math.log(1 - rng()) / mu;
    } else {
      const p = betaDraw(rng, params.a, params.b);
      const chances = model === 'bgnbd' ? x : x + 1;
      logAlive = chances * Math.log1p(-p) + x * Math.log(lambda) - lambda * T;
      logGone =
        chances > 0 ? Math.log(p) + (chances - 1) * Math.log1p(-p) + x * Math.log(lambda) - lambda * tx : -Infinity;
    }
    const logWeight = logAddExp(logAlive, logGone);
    logWeights[k] = logWeight;
    const alive = rng() < Math.exp(logAlive - logWeight);
    const nextPurchase = -Math.log(1 - rng()) / lambda;
    buys[k] = alive && nextPurchase < Math.min(t, dropoutTime) ? 1 : 0;
  }
  const top = logWeights.reduce((m, v) => Math.max(m, v), -Infinity);
  let total = 0;
  let squares = 0;
  let bought = 0;
  for (let k = 0; k < draws; k++) {
    const w = Math.exp(logWeights[k] - top);
    total += w;
    squares += w * w;
    bought += w * buys[k];
  }
  // Enough effective draws that the simulation's own error is well under the tolerance.
  assert.ok((total * total) / squares > 15_000, `effective draws ${(total * total) / squares}`);
  return bought / total;
}

test('P(buy within t) agrees with a simulation of each model for a few histories', () => {
  const models = {
    bgnbd: { params: vignette, pBuy: bgnbdPBuy },
    mbgnbd: { params: { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 }, pBuy: mbgnbdPBuy },
    pareto: { params: { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6687 }, pBuy: paretoPBuy },
  } as const;
  let seed = 1;
  for (const [model, { params, pBuy }] of Object.entries(models) as [
    keyof typeof models,
    (typeof models)[keyof typeof models],
  ][])
    for (const [history, t] of [
      [[0, 0, 30], 26],
      [[2, 30.43, 38.86], 39],
      [[4, 10, 39], 13],
      [[1, 5, 20], 52],
    ] as const) {
      const expected = (pBuy as (params: object, t: number, x: number, tx: number, T: number) => number)(
        params,
        t,
        ...(history as unknown as [number, number, number]),
      );
      const simulated = simulatedPBuy(model, params, [...history], t, seed++);
      close(simulated, expected, 0.01, `${model} P(buy within ${t} | ${history.join(', ')})`);
    }
});

test('no dropout in the history: BG/NBD says P(alive) carries no information; on CDNOW it does not', () => {
  // Heterogeneous purchase rates (gamma, as the NBD assumes), nobody ever drops out.
  const rng = random(2024);
  const groups: HistoryGroup[] = Array.from({ length: 2000 }, () => {
    const rate = gammaDraw(rng, 1.5) / 10;
    const T = 10 + 42 * rng();
    let x = 0;
    let tx = 0;
    for (let t = -Math.log(1 - rng()) / rate; t <= T; t += -Math.log(1 - rng()) / rate) {
      x++;
      tx = t;
    }
    return { x, tx, T, count: 1 };
  });
  const fit = fitBgNbd(groups);
  assert.equal(fit.dropoutDegenerate, true);
  assert.ok(fit.params.a / (fit.params.a + fit.params.b) < 1e-3, JSON.stringify(fit.params));
  const said = fit.warnings.join(' ');
  assert.match(said, /no dropout is visible/);
  assert.match(said, /P\(alive\) carries no information/);
  assert.doesNotMatch(said, /scores are usable/);
  // The purchase rates are still found: r near 1.5, mean rate r/alpha near 0.15 a week.
  close(fit.params.r / fit.params.alpha, 0.15, 0.03, 'mean purchase rate');
  const cdnow = fitBgNbd(grouped(weeks));
  assert.equal(cdnow.dropoutDegenerate, false);
  assert.equal(fitParetoNbd(grouped(weeks)).dropoutDegenerate, false);
});
