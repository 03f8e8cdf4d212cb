// The binned logistic regression against planted truth (a known non-linear model it can represent)
// and against logistic regressions whose maximum-likelihood answer is known in closed form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normal, random } from '../shared/random.ts';
import { calibration, rocAuc } from './evaluate.ts';
import { type Columns, contributions, featureEffects, fitBinnedLogistic, predictBinned } from './learn.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
const mean = (values: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  return sum / values.length;
};

// P(buy) = sigmoid(b0 + f1(recency) + b2 [segment = A] + b3 subscribed); `noise` plays no part.
// f1 is U-shaped in steps at the quartiles of recency (recent: +0.8, middle: -0.6, old: +0.4,
// unknown: +1.0), so quantile bins can represent it up to a day's misplacement at the steps.
const b0 = -1.2;
const b2 = 0.7;
const b3 = 0.9;
const f1 = (days: number) => (Number.isNaN(days) ? 1 : days < 91 ? 0.8 : days < 274 ? -0.6 : 0.4);
const SEGMENTS = ['A', 'B', 'C', 'D'];

function planted(n: number, seed: number) {
  const rng = random(seed);
  const recency = new Float64Array(n);
  const subscribed = new Float64Array(n);
  const noise = new Float64Array(n);
  const segment = new Int32Array(n);
  const truth = new Float64Array(n);
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    recency[i] = rng() < 0.05 ? Number.NaN : Math.floor(rng() * 365);
    subscribed[i] = rng() < 0.5 ? 1 : 0;
    noise[i] = normal(rng);
    const u = rng();
    segment[i] = u < 0.3 ? 0 : u < 0.7 ? 1 : u < 0.995 ? 2 : 3; // D (0.5%) is pooled into "other"
    truth[i] = sigmoid(b0 + f1(recency[i]) + (segment[i] === 0 ? b2 : 0) + b3 * subscribed[i]);
    label[i] = rng() < truth[i] ? 1 : 0;
  }
  const data: Columns = {
    numeric: { recency_days: recency, subscribed, noise },
    categorical: { segment: { codes: segment, names: SEGMENTS } },
  };
  return { data, truth, label };
}

const train = planted(50_000, 1);
const fresh = planted(100_000, 2);
const model = fitBinnedLogistic(train.data, train.label);
const coefficient = (feature: string, bin: string) => {
  const f = model.features.find((x) => x.name === feature);
  assert.ok(f, feature);
  const b = f.bins.indexOf(bin);
  assert.ok(b >= 0, `${feature} has no bin ${bin}: ${f.bins.join(', ')}`);
  return f.coefficients[b];
};

test('planted truth: bins in words, probabilities near the true ones, AUC as good as the truth', () => {
  assert.equal(model.diagnostics.converged, true);
  assert.equal(model.diagnostics.rows, 50_000);
  const bins = Object.fromEntries(model.features.map((f) => [f.name, f.bins]));
  assert.deepEqual(bins.subscribed, ['0', '1', 'missing']);
  assert.deepEqual(bins.segment, ['B', 'A', 'C', 'other', 'missing']);
  assert.equal(bins.recency_days.length, 9, '8 quantile bins and missing');
  assert.match(bins.recency_days[0], /^0-\d+$/);
  assert.match(bins.recency_days[7], /^\d+\+$/);
  assert.equal(bins.noise.length, 9);

  const p = predictBinned(model, fresh.data);
  let error = 0;
  for (let i = 0; i < p.length; i++) error += Math.abs(p[i] - fresh.truth[i]);
  const mae = error / p.length;
  assert.ok(mae < 0.02, `mean absolute error ${mae}`);
  const fitted = rocAuc(p, fresh.label);
  const best = rocAuc(fresh.truth, fresh.label);
  close(fitted, best, 0.005, 'AUC of the fit against the AUC of the true probabilities');
  process.stdout.write(
    `# planted: MAE ${mae.toFixed(4)}, AUC ${fitted.toFixed(4)} vs true ${best.toFixed(4)}, ${model.diagnostics.iterations} Newton iterations\n`,
  );
});

test('planted truth: the effects come back; the noise feature gets next to none', () => {
  // Standard errors: a bin of ~6,000 rows at p(1-p) ~ 0.2 is known to ~0.03 in log-odds, so the
  // spread of 8 such bins of pure noise is ~3 of them (0.09); the subscribed effect compares two
  // halves of 25,000 rows (se ~0.02) and the segment effect 15,000 vs 20,000 rows (se ~0.025).
  // Tolerances are 3 standard errors; the default penalty (1/rows) shrinks these bins by < 0.1%.
  const effects = featureEffects(model);
  const spread = Object.fromEntries(effects.map((e) => [e.feature, e.spread]));
  assert.ok(spread.noise < 0.15, `noise spread ${spread.noise}`);
  assert.equal(effects.at(-1)?.feature, 'noise', 'the least important feature');
  close(coefficient('subscribed', '1') - coefficient('subscribed', '0'), b3, 0.06, 'subscribed effect');
  close(coefficient('segment', 'A') - coefficient('segment', 'B'), b2, 0.075, 'segment A against B');
  close(coefficient('segment', 'C') - coefficient('segment', 'B'), 0, 0.075, 'segment C against B');
  close(
    coefficient('recency_days', 'missing') - coefficient('recency_days', bins('recency_days')[0]),
    0.2,
    0.12,
    'missing',
  );
  // The U: the first and last bins above every middle bin (steps 1.4 and 1.0 apart).
  const recency = model.features.find((f) => f.name === 'recency_days');
  assert.ok(recency);
  const middle = recency.coefficients.slice(2, 6);
  for (const c of middle) close(c - recency.coefficients[0], -1.4, 0.12, 'middle against recent');
  close(recency.coefficients[7] - recency.coefficients[0], -0.4, 0.12, 'old against recent');
  const top = effects[0];
  assert.equal(top.feature, 'recency_days');
  assert.ok(middle.map(String).includes(String(coefficient('recency_days', top.lowest))), top.lowest);
  // Coefficients are relative to the average customer: each feature's weighted mean is 0.
  for (const f of model.features)
    close(
      f.coefficients.reduce((s, c, b) => s + c * f.shares[b], 0),
      0,
      1e-12,
      f.name,
    );
});

function bins(feature: string) {
  const f = model.features.find((x) => x.name === feature);
  assert.ok(f);
  return f.bins;
}

test('planted truth: calibrated on a fresh test set, overall and by deciles', () => {
  const p = predictBinned(model, fresh.data);
  close(mean(p), mean(fresh.label), 0.01, 'mean predicted against mean observed');
  for (const bin of calibration(p, fresh.label, 10))
    close(bin.predicted, bin.observed, 0.03, `decile ${bin.from.toFixed(3)}-${bin.to.toFixed(3)}`);
});

test('missing values and unseen categories predict without NaN; contributions add up to the score', () => {
  const data: Columns = {
    numeric: {
      recency_days: Float64Array.of(Number.NaN, 10, Number.POSITIVE_INFINITY, 5000),
      subscribed: Float64Array.of(Number.NaN, 1, 0, 7),
      noise: Float64Array.of(Number.NaN, 0, Number.NaN, -50),
    },
    // New codes, an unseen name, a rare one, and a missing code.
    categorical: { segment: { codes: Int32Array.of(0, 1, 2, -1), names: ['Z', 'A', 'D'] } },
  };
  const p = predictBinned(model, data);
  for (const v of p) assert.ok(Number.isFinite(v) && v > 0 && v < 1, String(v));
  // Row 1 is a recent subscriber in segment A: well above the average customer.
  const parts = contributions(model, data, 1);
  assert.deepEqual(parts.map((c) => c.feature).sort(), ['noise', 'recency_days', 'segment', 'subscribed']);
  for (let k = 1; k < parts.length; k++) assert.ok(Math.abs(parts[k - 1].logOdds) >= Math.abs(parts[k].logOdds));
  assert.equal(parts.find((c) => c.feature === 'segment')?.bin, 'A');
  close(model.intercept + parts.reduce((s, c) => s + c.logOdds, 0), logit(p[1]), 1e-9, 'parts sum to the log-odds');
  const unseen = contributions(model, data, 0);
  assert.equal(unseen.find((c) => c.feature === 'segment')?.bin, 'other');
  assert.equal(unseen.find((c) => c.feature === 'recency_days')?.bin, 'missing');
  // Never missing in training: a missing value says nothing, so the feature adds nothing.
  assert.deepEqual(
    unseen.find((c) => c.feature === 'noise'),
    { feature: 'noise', bin: 'missing', logOdds: 0 },
  );
  assert.equal(contributions(model, data, 3).find((c) => c.feature === 'segment')?.bin, 'missing');
});

test('deterministic, JSON-serialisable, and a systematic subsample above maxRows', () => {
  const again = fitBinnedLogistic(train.data, train.label);
  assert.deepEqual(again, model);
  const copy = JSON.parse(JSON.stringify(model));
  assert.deepEqual(copy, model);
  assert.deepEqual(predictBinned(copy, fresh.data), predictBinned(model, fresh.data));
  const sampled = fitBinnedLogistic(train.data, train.label, { maxRows: 20_000 });
  assert.equal(sampled.diagnostics.rows, 20_000);
  assert.deepEqual(fitBinnedLogistic(train.data, train.label, { maxRows: 20_000 }), sampled);
  close(coefficient('subscribed', '1') - coefficient('subscribed', '0'), b3, 0.1, 'subsample still finds b3');
});

test('textbook: one binary feature at l2 = 0 gives the log-odds of each group and the log odds ratio', () => {
  // 200 customers without the feature, 50 buyers (odds 1/3); 300 with it, 180 buyers (odds 3/2).
  const x = new Float64Array(500);
  const y = new Uint8Array(500);
  for (let i = 0; i < 500; i++) {
    x[i] = i < 200 ? 0 : 1;
    y[i] = i < 50 || (i >= 200 && i < 380) ? 1 : 0;
  }
  const asNumber: Columns = { numeric: { x }, categorical: {} };
  const asCategory: Columns = { numeric: {}, categorical: { x: { codes: Int32Array.from(x), names: ['no', 'yes'] } } };
  for (const data of [asNumber, asCategory]) {
    const fit = fitBinnedLogistic(data, y, { l2: 0 });
    assert.equal(fit.diagnostics.converged, true);
    const { bins, coefficients } = fit.features[0];
    // categories are ordered by frequency: "yes" (300) comes before "no" (200)
    const c0 = coefficients[bins.indexOf(data.numeric.x ? '0' : 'no')];
    const c1 = coefficients[bins.indexOf(data.numeric.x ? '1' : 'yes')];
    close(fit.intercept + c0, Math.log(1 / 3), 1e-4, 'log-odds without');
    close(fit.intercept + c1, Math.log(3 / 2), 1e-4, 'log-odds with');
    close(c1 - c0, Math.log(4.5), 1e-4, 'log odds ratio ad/bc');
    const p = predictBinned(fit, data);
    close(p[0], 0.25, 1e-6, 'rate without');
    close(p[499], 0.6, 1e-6, 'rate with');
  }
});

test('row weights count as repeated rows', () => {
  // The 180 buyers with the feature weighted 2: 360 of 480, odds 3; the group without is unchanged.
  const x = Float64Array.from({ length: 500 }, (_, i) => (i < 200 ? 0 : 1));
  const y = Uint8Array.from({ length: 500 }, (_, i) => (i < 50 || (i >= 200 && i < 380) ? 1 : 0));
  const weight = Float64Array.from({ length: 500 }, (_, i) => (i >= 200 && i < 380 ? 2 : 1));
  const data: Columns = { numeric: { x }, categorical: {} };
  const p = predictBinned(fitBinnedLogistic(data, y, { l2: 0, weight }), data);
  close(p[0], 0.25, 1e-6, 'rate without');
  close(p[499], 0.75, 1e-6, 'weighted rate with');
  assert.throws(() => fitBinnedLogistic(data, y, { weight: new Float64Array(500).fill(-1) }), RangeError);
  assert.throws(() => fitBinnedLogistic(data, new Uint8Array(500)), RangeError, 'no buyers');
});

test('textbook: a 2x2 table without interaction is fitted exactly by the two main effects', () => {
  // Cell odds 1/4, 1 (A), 1/2 (B), 2 (A and B): multiplicative, so the main-effects MLE reproduces
  // each cell's log-odds; the A effect is log 4, the B effect log 2.
  const cells = [
    { a: 0, b: 0, n: 100, buyers: 20 },
    { a: 1, b: 0, n: 100, buyers: 50 },
    { a: 0, b: 1, n: 60, buyers: 20 },
    { a: 1, b: 1, n: 90, buyers: 60 },
  ];
  const rows = cells.flatMap((c) => Array.from({ length: c.n }, (_, k) => ({ ...c, y: k < c.buyers ? 1 : 0 })));
  const data: Columns = {
    numeric: {},
    categorical: {
      a: { codes: Int32Array.from(rows, (r) => r.a), names: ['no', 'yes'] },
      b: { codes: Int32Array.from(rows, (r) => r.b), names: ['no', 'yes'] },
    },
  };
  const fit = fitBinnedLogistic(
    data,
    Uint8Array.from(rows, (r) => r.y),
    { l2: 0 },
  );
  assert.equal(fit.diagnostics.converged, true);
  const effect = (name: string) => {
    const f = fit.features.find((x) => x.name === name);
    assert.ok(f);
    return f.coefficients[f.bins.indexOf('yes')] - f.coefficients[f.bins.indexOf('no')];
  };
  close(effect('a'), Math.log(4), 1e-4, 'A effect');
  close(effect('b'), Math.log(2), 1e-4, 'B effect');
  const p = predictBinned(fit, data);
  let start = 0;
  for (const c of cells) {
    close(logit(p[start]), Math.log(c.buyers / (c.n - c.buyers)), 1e-4, `cell ${c.a}${c.b}`);
    start += c.n;
  }
  const expectedLoss =
    -cells.reduce(
      (s, c) => s + c.buyers * Math.log(c.buyers / c.n) + (c.n - c.buyers) * Math.log(1 - c.buyers / c.n),
      0,
    ) / rows.length;
  close(fit.diagnostics.logLoss, expectedLoss, 1e-9, 'log-loss at the optimum');
});

test('speed: 300,000 rows x 20 features (14 numeric, 6 categorical) in about 2 seconds', () => {
  const n = 300_000;
  const rng = random(42);
  const data: Columns = { numeric: {}, categorical: {} };
  const eta = new Float64Array(n).fill(-1);
  for (let f = 0; f < 14; f++) {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // alternately counts (few distinct values) and continuous, some with missing values
      values[i] = f % 3 === 2 && rng() < 0.1 ? Number.NaN : f % 2 ? Math.floor(-Math.log(1 - rng()) * 2) : normal(rng);
      if (!Number.isNaN(values[i]))
        eta[i] += (f % 2 ? 0.1 * Math.min(values[i], 5) : 0.2 * values[i]) * (f % 4 ? 1 : -1);
    }
    data.numeric[`numeric_${f}`] = values;
  }
  for (let f = 0; f < 6; f++) {
    const levels = 4 + 3 * f;
    const names = Array.from({ length: levels }, (_, k) => `level_${k}`);
    const codes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      codes[i] = Math.floor(rng() ** 2 * levels); // skewed, so the last levels are rare
      eta[i] += 0.05 * ((codes[i] * (f + 1)) % 5);
    }
    data.categorical[`categorical_${f}`] = { codes, names };
  }
  const label = Uint8Array.from(eta, (e) => (rng() < sigmoid(e) ? 1 : 0));
  const started = performance.now();
  const fit = fitBinnedLogistic(data, label);
  const ms = performance.now() - started;
  assert.equal(fit.diagnostics.converged, true);
  assert.equal(fit.diagnostics.rows, n);
  process.stdout.write(
    `# fitBinnedLogistic: ${ms.toFixed(0)} ms for ${n} rows x 20 features, ${fit.diagnostics.parameters} parameters, ${fit.diagnostics.iterations} iterations\n`,
  );
  // ~2 s is the budget; the margin is for a shared machine.
  assert.ok(ms < 4000, `${ms} ms`);
  const predicted = performance.now();
  predictBinned(fit, data);
  process.stdout.write(`# predictBinned: ${(performance.now() - predicted).toFixed(0)} ms for ${n} rows\n`);
});
