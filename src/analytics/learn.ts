// A supervised "will buy within H days" model learned from the store's own past: logistic regression
// on binned features. Each numeric feature is cut at quantiles of the training data into bins (plus
// a "missing" bin), each categorical feature keeps its common categories (the rare ones pooled into
// "other", plus "missing"), and every bin gets its own coefficient: effects can be non-linear, and a
// customer's score is a sum of readable parts ("recency_days 180-365: -1.2").
//
// Identifiability: there is no reference bin. All bin coefficients carry the L2 penalty (the
// intercept does not), which makes the optimum unique; afterwards each feature's coefficients are
// shifted to a training-weighted mean of zero and the shift moved into the intercept. That changes no
// prediction, and it makes a coefficient read as "relative to the average customer" and the fit
// unique even at l2 = 0, where the penalty no longer pins the shift.

export interface Columns {
  /** NaN (or ±Infinity) = missing. */
  numeric: Record<string, Float64Array>;
  /** A code below 0 or past the names = missing. */
  categorical: Record<string, { codes: Int32Array; names: string[] }>;
}

export interface BinnedFeature {
  name: string;
  kind: 'numeric' | 'categorical';
  /** numeric: bin k >= 1 starts at edges[k - 1] (inclusive); values below edges[0] fall in bin 0. */
  edges: number[];
  /** categorical: bin k is categories[k]; then "other" (rare in training, or unseen), then "missing". */
  categories: string[];
  /** Labels in words, one per bin; the last is always "missing". */
  bins: string[];
  /** Log-odds of each bin relative to the feature's training-weighted average (0 for bins unseen in training). */
  coefficients: number[];
  /** Training share of each bin (weighted). */
  shares: number[];
}

export interface BinnedLogistic {
  model: 'binned-logistic';
  /** Log-odds of a customer average in every feature. */
  intercept: number;
  features: BinnedFeature[];
  settings: { bins: number; l2: number; minCategoryShare: number };
  diagnostics: {
    rows: number;
    positives: number;
    parameters: number;
    iterations: number;
    converged: boolean;
    /** Mean (weighted) log-loss on the training rows, without the penalty. */
    logLoss: number;
  };
}

export interface FitOptions {
  /** Quantile bins per numeric feature (fewer when values repeat). Default 8. */
  bins?: number;
  /** Penalty on the mean log-loss: l2 * sum of squared bin coefficients. Default 1 / rows. */
  l2?: number;
  /** Categories below this training share are pooled into "other". Default 0.01. */
  minCategoryShare?: number;
  /** Above this many rows, train on a deterministic systematic subsample of this size. Default 300,000. */
  maxRows?: number;
  /** Row weights (e.g. to balance cut dates); quantile edges ignore them. */
  weight?: Float64Array;
}

/** Fits the binned logistic regression: Newton's method on mean log-loss + l2 * |w|^2. */
export function fitBinnedLogistic(data: Columns, label: Uint8Array, options: FitOptions = {}): BinnedLogistic {
  const total = label.length;
  const bins = options.bins ?? 8;
  const minCategoryShare = options.minCategoryShare ?? 0.01;
  const maxRows = options.maxRows ?? 300_000;
  checkLengths(data, total);
  if (options.weight && options.weight.length !== total) throw new RangeError('fitBinnedLogistic: weight length');
  // Systematic rows (every total/maxRows-th) keep the mix of cut dates and customers of the full data.
  const n = Math.min(total, maxRows);
  const rows = new Int32Array(n);
  for (let k = 0; k < n; k++) rows[k] = Math.floor((k * total) / n);
  const weight = new Float64Array(n);
  const y = new Uint8Array(n);
  let weightSum = 0;
  let positives = 0;
  for (let k = 0; k < n; k++) {
    weight[k] = options.weight ? options.weight[rows[k]] : 1;
    y[k] = label[rows[k]] ? 1 : 0;
    weightSum += weight[k];
    positives += y[k];
  }
  let positiveWeight = 0;
  for (let k = 0; k < n; k++) {
    if (!(weight[k] >= 0 && Number.isFinite(weight[k]))) throw new RangeError(`fitBinnedLogistic: weight ${rows[k]}`);
    positiveWeight += y[k] * weight[k];
  }
  if (!(positiveWeight > 0 && positiveWeight < weightSum))
    throw new RangeError('fitBinnedLogistic: needs both buyers and non-buyers');
  const l2 = options.l2 ?? 1 / n;

  // Bin every feature; the parameters are the intercept plus one per bin seen in training.
  const features: BinnedFeature[] = [
    ...Object.entries(data.numeric).map(([name, values]) => numericFeature(name, values, rows, bins)),
    ...Object.entries(data.categorical).map(([name, column]) =>
      categoricalFeature(name, column, rows, weight, minCategoryShare),
    ),
  ];
  const width = features.length;
  const cell = new Int32Array(n * width); // row-major: the parameter of each row's bin, per feature
  const parameterOf: Int32Array[] = [];
  let parameters = 1;
  features.forEach((feature, f) => {
    const bin = binsOf(feature, data, rows);
    const shares = new Float64Array(feature.bins.length);
    const counts = new Int32Array(feature.bins.length);
    for (let k = 0; k < n; k++) {
      shares[bin[k]] += weight[k] / weightSum;
      counts[bin[k]]++;
    }
    feature.shares = Array.from(shares);
    // Bins without training rows get no parameter: their coefficient stays at the average, 0.
    const map = new Int32Array(shares.length).fill(-1);
    for (let b = 0; b < shares.length; b++) if (counts[b] > 0) map[b] = parameters++;
    parameterOf.push(map);
    for (let k = 0; k < n; k++) cell[k * width + f] = map[bin[k]];
  });

  // each feature's parameters are consecutive
  const blocks = parameterOf.map((map): [number, number] => {
    const used = Array.from(map).filter((p) => p >= 0);
    return [used[0], used[used.length - 1] + 1];
  });
  const fit = newton(cell, width, parameters, y, weight, weightSum, l2, blocks);

  let intercept = fit.beta[0];
  for (let f = 0; f < width; f++) {
    const feature = features[f];
    const raw = Array.from(parameterOf[f], (p) => (p < 0 ? 0 : fit.beta[p]));
    const mean = raw.reduce((sum, c, b) => sum + c * feature.shares[b], 0);
    feature.coefficients = raw.map((c, b) => (parameterOf[f][b] < 0 ? 0 : c - mean));
    intercept += mean;
  }
  return {
    model: 'binned-logistic',
    intercept,
    features,
    settings: { bins, l2, minCategoryShare },
    diagnostics: {
      rows: n,
      positives,
      parameters,
      iterations: fit.iterations,
      converged: fit.converged,
      logLoss: fit.logLoss,
    },
  };
}

/** Probability of the label for every row. Unseen categories count as "other", NaN as "missing". */
export function predictBinned(model: BinnedLogistic, data: Columns): Float64Array {
  const n = rowCount(data);
  const eta = new Float64Array(n).fill(model.intercept);
  for (const feature of model.features) {
    const bin = binsOf(feature, data);
    for (let i = 0; i < n; i++) eta[i] += feature.coefficients[bin[i]];
  }
  for (let i = 0; i < n; i++) eta[i] = 1 / (1 + Math.exp(-eta[i]));
  return eta;
}

/** One row's score as parts: each feature's bin and its log-odds against the average, largest first. */
export function contributions(
  model: BinnedLogistic,
  data: Columns,
  row: number,
): { feature: string; bin: string; logOdds: number }[] {
  if (!(Number.isInteger(row) && row >= 0 && row < rowCount(data)))
    throw new RangeError(`contributions: no row ${row}`);
  const one = new Int32Array([row]);
  return model.features
    .map((feature) => {
      const bin = binsOf(feature, data, one)[0];
      return { feature: feature.name, bin: feature.bins[bin], logOdds: feature.coefficients[bin] };
    })
    .sort((a, b) => Math.abs(b.logOdds) - Math.abs(a.logOdds));
}

/** What matters: per feature the spread of its bins' log-odds (bins seen in training), largest first. */
export function featureEffects(
  model: BinnedLogistic,
): { feature: string; spread: number; lowest: string; highest: string }[] {
  return model.features
    .map((feature) => {
      let lowest = -1;
      let highest = -1;
      feature.coefficients.forEach((c, b) => {
        if (feature.shares[b] === 0) return;
        if (lowest < 0 || c < feature.coefficients[lowest]) lowest = b;
        if (highest < 0 || c > feature.coefficients[highest]) highest = b;
      });
      return {
        feature: feature.name,
        spread: feature.coefficients[highest] - feature.coefficients[lowest],
        lowest: feature.bins[lowest],
        highest: feature.bins[highest],
      };
    })
    .sort((a, b) => b.spread - a.spread);
}

function rowCount(data: Columns): number {
  const first = Object.values(data.numeric)[0] ?? Object.values(data.categorical)[0]?.codes;
  return first?.length ?? 0;
}

function checkLengths(data: Columns, n: number) {
  for (const [name, values] of Object.entries(data.numeric))
    if (values.length !== n) throw new RangeError(`column ${name}: ${values.length} rows, expected ${n}`);
  for (const [name, column] of Object.entries(data.categorical))
    if (column.codes.length !== n) throw new RangeError(`column ${name}: ${column.codes.length} rows, expected ${n}`);
}

/** The bin of each row (all rows, or the given ones) of a feature, looked up by name in `data`. */
function binsOf(feature: BinnedFeature, data: Columns, rows?: Int32Array): Int32Array {
  const missing = feature.bins.length - 1;
  if (feature.kind === 'numeric') {
    const values = data.numeric[feature.name];
    if (!values) throw new RangeError(`missing numeric column ${feature.name}`);
    const n = rows ? rows.length : values.length;
    const bin = new Int32Array(n);
    const edges = feature.edges;
    for (let k = 0; k < n; k++) {
      const x = values[rows ? rows[k] : k];
      if (!Number.isFinite(x)) {
        bin[k] = missing;
        continue;
      }
      let b = 0; // the number of edges <= x; a linear scan beats a binary search at <= 15 edges
      while (b < edges.length && edges[b] <= x) b++;
      bin[k] = b;
    }
    return bin;
  }
  const column = data.categorical[feature.name];
  if (!column) throw new RangeError(`missing categorical column ${feature.name}`);
  // Codes are local to each data set: translate them through the names.
  const known = new Map(feature.categories.map((name, b) => [name, b]));
  const other = feature.categories.length;
  const byCode = Int32Array.from(column.names, (name) => known.get(name) ?? other);
  const n = rows ? rows.length : column.codes.length;
  const bin = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const code = column.codes[rows ? rows[k] : k];
    bin[k] = code >= 0 && code < byCode.length ? byCode[code] : missing;
  }
  return bin;
}

/** Values a numeric feature's quantiles are read from, at most: plenty for bins of 1/8 and a sort 3x cheaper at 300k rows. */
const QUANTILE_ROWS = 100_000;

function numericFeature(name: string, values: Float64Array, rows: Int32Array, bins: number): BinnedFeature {
  const finite = new Float64Array(rows.length);
  let count = 0;
  let integers = true;
  let min = Infinity;
  let max = -Infinity;
  for (let k = 0; k < rows.length; k++) {
    const x = values[rows[k]];
    if (!Number.isFinite(x)) continue;
    finite[count++] = x;
    if (x < min) min = x;
    if (x > max) max = x;
    if (integers && !Number.isInteger(x)) integers = false;
  }
  if (count === 0)
    return { name, kind: 'numeric', edges: [], categories: [], bins: ['any', 'missing'], coefficients: [], shares: [] };
  const m = Math.min(count, QUANTILE_ROWS);
  let sorted = finite.subarray(0, count);
  if (m < count) {
    sorted = new Float64Array(m);
    for (let j = 0; j < m; j++) sorted[j] = finite[Math.floor((j * count) / m)];
  }
  sorted.sort();
  // Bin k starts at the value found at the k/bins quantile; a repeated value (counts of 0, 1, 2)
  // yields one edge, so such a feature gets fewer, whole bins.
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) {
    const edge = sorted[Math.floor((k * m) / bins)];
    if (edge > min && edge > (edges.at(-1) ?? -Infinity)) edges.push(edge);
  }
  const labels = rangeLabels(edges, min, max, integers);
  return { name, kind: 'numeric', edges, categories: [], bins: [...labels, 'missing'], coefficients: [], shares: [] };
}

function rangeLabels(edges: number[], min: number, max: number, integers: boolean): string[] {
  const last = edges.length;
  return Array.from({ length: last + 1 }, (_, b) => {
    const from = b === 0 ? min : edges[b - 1];
    if (integers) {
      // Whole numbers read as closed ranges: "0", "1-2", "30-59", "365+".
      if (b === last) return from === max ? number(from) : `${number(from)}+`;
      return span(from, edges[b] - 1);
    }
    if (b === last) return `${number(from)}+`;
    return b === 0 ? `under ${number(edges[0])}` : span(from, edges[b]);
  });
}

const span = (from: number, to: number) =>
  from === to
    ? number(from)
    : from < 0 || to < 0
      ? `${number(from)} to ${number(to)}`
      : `${number(from)}-${number(to)}`;
const number = (x: number) => (Math.abs(x) >= 1000 ? String(Math.round(x)) : String(Number(x.toPrecision(3))));

function categoricalFeature(
  name: string,
  column: { codes: Int32Array; names: string[] },
  rows: Int32Array,
  weight: Float64Array,
  minCategoryShare: number,
): BinnedFeature {
  const byCode = new Float64Array(column.names.length);
  let weightSum = 0;
  for (let k = 0; k < rows.length; k++) {
    const code = column.codes[rows[k]];
    if (code >= 0 && code < byCode.length) byCode[code] += weight[k];
    weightSum += weight[k];
  }
  // Most common first, then by name, so the layout does not depend on how codes were assigned.
  const shares = new Map<string, number>();
  column.names.forEach((category, code) => shares.set(category, (shares.get(category) ?? 0) + byCode[code]));
  const categories = [...shares]
    .filter(([, w]) => w > 0 && w / weightSum >= minCategoryShare)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([category]) => category);
  return {
    name,
    kind: 'categorical',
    edges: [],
    categories,
    bins: [...categories, 'other', 'missing'],
    coefficients: [],
    shares: [],
  };
}

/** Rows above which the Hessian's cross terms come from a systematic sample of this many rows. */
const HESSIAN_ROWS = 50_000;

/**
 * Newton's method with backtracking. Rows are sparse (one indicator per feature), so the Hessian
 * costs width^2 / 2 adds per row, the bulk of the time at 300k rows x 20 features; above
 * HESSIAN_ROWS rows it is estimated on a systematic sample (the gradient and the diagonal stay
 * exact), which turns quadratic convergence into fast linear convergence at a sixth of the cost.
 * BFGS would need a hundred or more gradient passes for ~200 parameters.
 */
function newton(
  cell: Int32Array,
  width: number,
  parameters: number,
  y: Uint8Array,
  weight: Float64Array,
  weightSum: number,
  l2: number,
  blocks: [number, number][],
) {
  const n = y.length;
  const P = parameters;
  const beta = new Float64Array(P);
  let positiveWeight = 0;
  for (let k = 0; k < n; k++) positiveWeight += y[k] * weight[k];
  beta[0] = Math.log(positiveWeight / (weightSum - positiveWeight));
  let eta = new Float64Array(n);
  let trialEta = new Float64Array(n);
  const objective = (b: Float64Array, out: Float64Array) => {
    let loss = 0;
    for (let k = 0; k < n; k++) {
      let e = b[0];
      const base = k * width;
      for (let f = 0; f < width; f++) e += b[cell[base + f]];
      out[k] = e;
      // log(1 + e^e) - y e, without overflow
      loss += weight[k] * ((e > 0 ? e + Math.log1p(Math.exp(-e)) : Math.log1p(Math.exp(e))) - y[k] * e);
    }
    let penalty = 0;
    for (let p = 1; p < P; p++) penalty += b[p] * b[p];
    return { value: loss / weightSum + l2 * penalty, logLoss: loss / weightSum };
  };
  const sampled = Math.min(n, HESSIAN_ROWS);
  let sampleWeight = 0;
  for (let j = 0; j < sampled; j++) sampleWeight += weight[Math.floor((j * n) / sampled)];
  if (!(sampleWeight > 0)) sampleWeight = 1; // a sample of weight-0 rows: no cross terms, the diagonal still holds
  let current = objective(beta, eta);
  const gradient = new Float64Array(P);
  const diagonal = new Float64Array(P);
  const hessian = new Float64Array(P * P);
  let iterations = 0;
  let converged = false;
  for (; iterations < 100; iterations++) {
    gradient.fill(0);
    diagonal.fill(0);
    for (let k = 0; k < n; k++) {
      const p = 1 / (1 + Math.exp(-eta[k]));
      const g = (weight[k] * (p - y[k])) / weightSum;
      const h = (weight[k] * p * (1 - p)) / weightSum;
      gradient[0] += g;
      diagonal[0] += h;
      const base = k * width;
      for (let a = 0; a < width; a++) {
        gradient[cell[base + a]] += g;
        diagonal[cell[base + a]] += h;
      }
    }
    hessian.fill(0);
    for (let j = 0; j < sampled; j++) {
      const k = Math.floor((j * n) / sampled);
      const p = 1 / (1 + Math.exp(-eta[k]));
      const h = (weight[k] * p * (1 - p)) / sampleWeight;
      hessian[0] += h;
      const base = k * width;
      for (let a = 0; a < width; a++) {
        const i = cell[base + a];
        // The row of i in the upper triangle; parameters of later features have larger indices.
        const row = i * P;
        hessian[row + i] += h;
        for (let b = a + 1; b < width; b++) hessian[row + cell[base + b]] += h;
      }
    }
    // Raising a diagonal keeps the sampled Hessian positive definite, and gives a bin the sample
    // missed (a rare category) its true curvature instead of none.
    if (diagonal[0] > hessian[0]) hessian[0] = diagonal[0];
    for (let i = 1; i < P; i++) {
      hessian[i] = hessian[i * P + i]; // the intercept meets bin i exactly on bin i's rows
      if (diagonal[i] > hessian[i * P + i]) hessian[i * P + i] = diagonal[i];
      gradient[i] += 2 * l2 * beta[i];
      hessian[i * P + i] += 2 * l2;
    }
    const step = solve(hessian, gradient, P);
    // Shifting a feature's bins by c and the intercept by -c changes no prediction, only the
    // penalty, which is least when the feature's coefficients sum to 0. Taking that shift exactly
    // keeps every iterate there: Newton need not find this direction, along which the curvature is
    // only 2 * l2 (the sampled Hessian gets it wrong, and at l2 = 0 there is none).
    for (const [first, end] of blocks) {
      let sum = 0;
      for (let i = first; i < end; i++) sum += step[i];
      const shift = sum / (end - first);
      for (let i = first; i < end; i++) step[i] -= shift;
      step[0] += shift;
    }
    let decrement = 0; // the Newton decrement: the predicted improvement is half of it
    for (let i = 0; i < P; i++) decrement += gradient[i] * step[i];
    // A predicted gain of 1e-12 in mean log-loss leaves coefficients ~1e-4 from the optimum even in
    // a bin of 0.1% of the rows: far inside their standard errors.
    if (decrement / 2 <= 1e-12) {
      converged = true;
      break;
    }
    let t = 1;
    const trial = new Float64Array(P);
    for (;;) {
      for (let i = 0; i < P; i++) trial[i] = beta[i] - t * step[i];
      const next = objective(trial, trialEta);
      if (next.value <= current.value - 1e-4 * t * decrement) {
        beta.set(trial);
        current = next;
        [eta, trialEta] = [trialEta, eta];
        break;
      }
      t /= 2;
      if (t < 1e-8) break;
    }
    if (t < 1e-8) {
      // No decrease left to find in floating point: at the optimum if the predicted gain was tiny.
      converged = decrement < 1e-10;
      break;
    }
  }
  return { beta, iterations, converged, logLoss: current.logLoss };
}

/**
 * Solves H x = g by Cholesky of the upper triangle of H. At l2 = 0 the Hessian is singular along
 * "every bin of a feature up, intercept down", a direction the gradient never has: a tiny ridge keeps
 * the factorisation going and the step out of it.
 */
function solve(hessian: Float64Array, gradient: Float64Array, P: number): Float64Array {
  const ridge = 1e-12 * hessian[0];
  const L = new Float64Array(P * P); // lower triangle, L[i][j] at i * P + j
  for (let j = 0; j < P; j++) {
    let d = hessian[j * P + j] + ridge;
    for (let k = 0; k < j; k++) d -= L[j * P + k] * L[j * P + k];
    const pivot = Math.sqrt(d > ridge ? d : ridge);
    L[j * P + j] = pivot;
    for (let i = j + 1; i < P; i++) {
      let s = hessian[j * P + i]; // H[i][j] from the upper triangle
      for (let k = 0; k < j; k++) s -= L[i * P + k] * L[j * P + k];
      L[i * P + j] = s / pivot;
    }
  }
  const x = Float64Array.from(gradient);
  for (let i = 0; i < P; i++) {
    for (let k = 0; k < i; k++) x[i] -= L[i * P + k] * x[k];
    x[i] /= L[i * P + i];
  }
  for (let i = P - 1; i >= 0; i--) {
    for (let k = i + 1; k < P; k++) x[i] -= L[k * P + i] * x[k];
    x[i] /= L[i * P + i];
  }
  return x;
}
