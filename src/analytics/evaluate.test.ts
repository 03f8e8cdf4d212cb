// The forecast metrics against hand-computed and scikit-learn values, and against planted data whose
// true AUC is known in closed form.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normal, random } from '../shared/random.ts';
import { bootstrapIntervals, brierScore, calibration, gains, logLoss, prAuc, rocAuc } from './evaluate.ts';
import { erfc } from '../campaigns/measurement.ts';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
const labels = (...values: number[]) => Uint8Array.from(values);

/** The standard normal CDF. */
const phi = (x: number) => erfc(-x / Math.SQRT2) / 2;

/** Binormal scores: non-buyers N(0, 1), buyers N(d, 1); the true AUC is Φ(d / √2). */
function binormal(n: number, d: number, share: number, seed: number) {
  const rng = random(seed);
  const y = new Uint8Array(n);
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng() < share ? 1 : 0;
    s[i] = normal(rng) + (y[i] ? d : 0);
  }
  return { y, s };
}

function pick(values: Float64Array, rows: Int32Array) {
  const out = new Float64Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]];
  return out;
}
function pickLabels(values: Uint8Array, rows: Int32Array) {
  const out = new Uint8Array(rows.length);
  for (let k = 0; k < rows.length; k++) out[k] = values[rows[k]];
  return out;
}

test('rocAuc: hand-computed pairs with ties counted half; separated, reversed, constant; NaN for one class', () => {
  // scikit-learn's roc_auc_score example: 3 of the 4 buyer/non-buyer pairs are ordered right.
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], labels(0, 0, 1, 1)), 0.75);
  // buyer 0.2 ties non-buyer 0.2 (½) and beats 0.1 (1); buyer 0.9 beats both (2): 3.5 / 4.
  assert.equal(rocAuc([0.2, 0.2, 0.1, 0.9], labels(0, 1, 0, 1)), 0.875);
  assert.equal(rocAuc([1, 2, 3, 4, 5], labels(0, 0, 1, 1, 1)), 1);
  assert.equal(rocAuc([5, 4, 3, 2, 1], labels(0, 0, 1, 1, 1)), 0);
  assert.equal(rocAuc([7, 7, 7, 7], labels(0, 1, 0, 1)), 0.5);
  assert.ok(Number.isNaN(rocAuc([1, 2, 3], labels(1, 1, 1))));
  assert.ok(Number.isNaN(rocAuc([1, 2, 3], labels(0, 0, 0))));
  assert.throws(() => rocAuc([1, Number.NaN], labels(0, 1)), RangeError);
});

test('rocAuc of planted binormal scores matches Φ(d/√2); a million rows well under a second', () => {
  const { y, s } = binormal(1_000_000, 1, 0.3, 11);
  const started = performance.now();
  const auc = rocAuc(s, y);
  const ms = performance.now() - started;
  // the standard error of the AUC at this size is ~0.0006
  close(auc, phi(1 / Math.SQRT2), 0.002, 'AUC of 1,000,000 binormal rows');
  assert.ok(ms < 1000, `rocAuc took ${ms} ms`);
  process.stdout.write(`# rocAuc on 1,000,000 rows: ${ms.toFixed(0)} ms\n`);
});

test('prAuc is average precision as scikit-learn computes it', () => {
  // scikit-learn's average_precision_score example: 0.8333...
  close(prAuc([0.1, 0.4, 0.35, 0.8], labels(0, 0, 1, 1)), 5 / 6, 1e-12, 'AP');
  // Tied scores form one threshold: {0.5: 1 buyer, 1 non-buyer} then {0.2: 1 buyer} -> ½·½ + ½·⅔.
  close(prAuc([0.5, 0.5, 0.2], labels(1, 0, 1)), 0.5 * 0.5 + 0.5 * (2 / 3), 1e-12, 'AP with ties');
  assert.equal(prAuc([0.9, 0.8, 0.1], labels(1, 1, 0)), 1);
  // Scores that say nothing: the precision is the base rate everywhere.
  close(prAuc([3, 3, 3, 3], labels(1, 0, 0, 0)), 0.25, 1e-12, 'AP of constant scores');
  assert.ok(Number.isNaN(prAuc([1, 2], labels(0, 0))));
});

test('Brier score and log-loss of a known case', () => {
  const p = [0.1, 0.9, 0.8, 0.3];
  const y = labels(0, 1, 1, 0);
  close(brierScore(p, y), (0.01 + 0.01 + 0.04 + 0.09) / 4, 1e-15, 'Brier');
  close(logLoss(p, y), -(Math.log(0.9) + Math.log(0.9) + Math.log(0.8) + Math.log(0.7)) / 4, 1e-15, 'log-loss');
  close(logLoss([0, 1], labels(1, 0)), -Math.log(1e-15), 1e-6, 'a confident miss is clipped, not Infinity');
  assert.equal(brierScore([1, 0], labels(1, 0)), 0);
});

test('calibration bins of a planted calibrated forecast match within sampling error', () => {
  const rng = random(5);
  const n = 100_000;
  const p = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    p[i] = rng() ** 2; // skewed towards low probabilities, as buying forecasts are
    y[i] = rng() < p[i] ? 1 : 0;
  }
  const bins = calibration(p, y, 10);
  assert.equal(bins.length, 10);
  assert.deepEqual(
    bins.map((b) => b.customers),
    new Array(10).fill(10_000),
  );
  for (let k = 0; k < bins.length; k++) {
    const b = bins[k];
    assert.ok(b.from <= b.predicted && b.predicted <= b.to);
    if (k > 0) assert.ok(bins[k - 1].to <= b.from, 'bins ordered by forecast');
    // 4 standard errors of a rate over 10,000 customers
    close(b.observed, b.predicted, 4 * Math.sqrt((b.predicted * (1 - b.predicted)) / b.customers) + 1e-3, `bin ${k}`);
  }
  // A forecast that is too high by 0.1 shows it in every bin.
  const high = calibration(
    p.map((v) => Math.min(1, v + 0.1)),
    y,
    5,
  );
  for (const b of high) assert.ok(b.predicted - b.observed > 0.08, 'over-forecast visible');
});

test('gains: from (0,0) to (1,1); perfect scores capture every buyer first; ties count pro rata', () => {
  const { y, s } = binormal(10_000, 1.5, 0.2, 3);
  const curve = gains(s, y, 20);
  assert.equal(curve.length, 21);
  assert.deepEqual(curve[0], { share: 0, captured: 0 });
  assert.deepEqual(curve[20], { share: 1, captured: 1 });
  for (let k = 1; k < curve.length; k++) assert.ok(curve[k].captured >= curve[k - 1].captured, 'non-decreasing');
  assert.ok(curve[4].captured > 0.5, 'the top 20% hold more than half the buyers at this separation');

  // 2 buyers of 10, scored highest: the top 10% hold half of them, the top 20% all.
  const perfect = gains([9, 8, 1, 1, 1, 1, 1, 1, 1, 1], labels(1, 1, 0, 0, 0, 0, 0, 0, 0, 0), 10);
  assert.equal(perfect[1].captured, 0.5);
  assert.equal(perfect[2].captured, 1);
  // Constant scores: any share of customers holds that share of buyers, whatever the row order.
  const flat = gains([1, 1, 1, 1], labels(1, 1, 0, 0), 4);
  assert.deepEqual(
    flat.map((point) => point.captured),
    [0, 0.25, 0.5, 0.75, 1],
  );
});

test('bootstrap interval of the AUC covers the true AUC at ~95% and is as wide as the sampling spread', () => {
  const truth = phi(1 / Math.SQRT2); // 0.7602
  const auc = (y: Uint8Array, s: Float64Array) => (rows: Int32Array) => rocAuc(pick(s, rows), pickLabels(y, rows));
  // Coverage over 40 independent data sets of 1,000 rows: 95% expected, binomial sd ~3.5 points.
  let covered = 0;
  for (let d = 0; d < 40; d++) {
    const { y, s } = binormal(1000, 1, 0.3, 100 + d);
    const { auc: interval } = bootstrapIntervals(1000, { auc: auc(y, s) }, { seed: d, resamples: 100 });
    if (interval.low <= truth && truth <= interval.high) covered++;
  }
  assert.ok(covered >= 34, `covered ${covered} of 40`);
  process.stdout.write(`# bootstrap 95% interval of the AUC covered the truth in ${covered} of 40 data sets\n`);

  // Width: against the spread of the AUC over independent samples of the same size, both below and
  // above maxRows (where the resamples come from a subsample and are scaled back to n rows).
  for (const n of [5000, 100_000]) {
    const spread: number[] = [];
    for (let r = 0; r < 40; r++) {
      const { y, s } = binormal(n, 1, 0.3, 1000 + r);
      spread.push(rocAuc(s, y));
    }
    const mean = spread.reduce((a, b) => a + b, 0) / spread.length;
    const sd = Math.sqrt(spread.reduce((a, b) => a + (b - mean) ** 2, 0) / (spread.length - 1));
    const { y, s } = binormal(n, 1, 0.3, 7);
    const started = performance.now();
    const { auc: interval } = bootstrapIntervals(n, { auc: auc(y, s) }, { seed: 1 });
    const ms = performance.now() - started;
    const width = interval.high - interval.low;
    // 2 × 1.96 sd; the sd from 40 samples is itself uncertain by ~11%, the bootstrap's by ~10%.
    const ratio = width / (2 * 1.96 * sd);
    assert.ok(ratio > 0.7 && ratio < 1.4, `n ${n}: width ${width} vs sampling sd ${sd} (ratio ${ratio})`);
    assert.ok(interval.low <= truth && truth <= interval.high, `n ${n}: ${JSON.stringify(interval)}`);
    assert.equal(interval.value, rocAuc(s, y));
    process.stdout.write(
      `# bootstrap AUC, ${n} rows, 200 resamples: ${ms.toFixed(0)} ms, width ${width.toFixed(4)} = ${ratio.toFixed(2)} x 3.92 sampling sd\n`,
    );
  }
});

test('bootstrap intervals are deterministic for a seed and differ across seeds', () => {
  const { y, s } = binormal(3000, 0.8, 0.4, 9);
  const statistics = {
    auc: (rows: Int32Array) => rocAuc(pick(s, rows), pickLabels(y, rows)),
    rate: (rows: Int32Array) => pickLabels(y, rows).reduce((a, b) => a + b, 0) / rows.length,
  };
  const first = bootstrapIntervals(3000, statistics, { seed: 4, resamples: 100 });
  assert.deepEqual(bootstrapIntervals(3000, statistics, { seed: 4, resamples: 100 }), first);
  assert.notDeepEqual(bootstrapIntervals(3000, statistics, { seed: 5, resamples: 100 }), first);
  // A rate's interval is the binomial one: ±1.96 sqrt(p(1-p)/n).
  const p = first.rate.value;
  close(first.rate.high - first.rate.low, 2 * 1.96 * Math.sqrt((p * (1 - p)) / 3000), 0.006, 'rate interval width');
  assert.ok(first.auc.low < first.auc.value && first.auc.value < first.auc.high);
});
