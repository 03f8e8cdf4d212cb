// The special functions the repeat-buying models need, in log space so that extreme histories
// (hundreds of purchases, long ages) neither overflow nor underflow.

const lanczos = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; about 15 significant digits). */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const z = x - 1;
  let sum = lanczos[0];
  for (let i = 1; i < 9; i++) sum += lanczos[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x >= 10, then the asymptotic series. */
export function digamma(x: number): number {
  let shift = 0;
  for (; x < 10; x++) shift -= 1 / x;
  const f = 1 / (x * x);
  return shift + Math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))));
}

/** ln B(a, b). */
export const lbeta = (a: number, b: number) => lgamma(a) + lgamma(b) - lgamma(a + b);

/** ln(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const max = Math.max(a, b);
  return max + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** ln(e^a - e^b) for a >= b. */
export function logSubExp(a: number, b: number): number {
  if (b === -Infinity) return a;
  return a + Math.log1p(-Math.exp(b - a));
}

/**
 * ln ₂F₁(a, b; c; z) for 0 <= z < 1 and a, b, c > 0 (or terms that stay positive), by its series
 * summed in log space. When the plain series would converge slowly (terms growing before they
 * shrink) Euler's transformation ₂F₁(a,b;c;z) = (1-z)^(c-a-b) ₂F₁(c-a, c-b; c; z) is used.
 */
export function log2F1(a: number, b: number, c: number, z: number): number {
  if (z === 0) return 0;
  if (!(z > 0 && z < 1)) throw new RangeError(`2F1 needs 0 <= z < 1, got ${z}`);
  // The ratio of successive terms tends to z, but starts near a*b*z/c: when that is large the
  // transformed series (whose first ratio is (c-a)(c-b)z/c) is the better one.
  if (Math.abs(a * b) > Math.abs((c - a) * (c - b)) && c - a !== 0 && c - b !== 0) {
    return (c - a - b) * Math.log1p(-z) + series(c - a, c - b, c, z);
  }
  return series(a, b, c, z);
}

function series(a: number, b: number, c: number, z: number): number {
  // Terms may change sign when c-a or c-b is negative; sum them as signed values scaled by the
  // largest magnitude seen so far.
  let logScale = 0;
  let sum = 1;
  let term = 1;
  for (let k = 0; ; k++) {
    if (k === 50_000) throw new RangeError(`2F1(${a}, ${b}; ${c}; ${z}) does not converge in ${k} terms`);
    term *= (((a + k) * (b + k)) / ((c + k) * (k + 1))) * z;
    if (!Number.isFinite(term) || Math.abs(term) > 1e250) {
      // Rescale to keep the running sum representable.
      const shift = Math.log(Math.abs(term));
      sum *= Math.exp(-shift);
      term *= Math.exp(-shift);
      logScale += shift;
    }
    sum += term;
    if (Math.abs(term) <= 1e-15 * Math.abs(sum) && k > 2) break;
  }
  if (sum <= 0) throw new RangeError(`2F1(${a}, ${b}; ${c}; ${z}) is not positive here`);
  return Math.log(sum) + logScale;
}

/** Gauss-Legendre nodes and weights for n points on [0, 1] (weights sum to 1). */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  // Legendre P_n and its derivative at z, by the three-term recurrence.
  const legendre = (z: number) => {
    let previous = 1;
    let current = z;
    for (let k = 2; k <= n; k++) [previous, current] = [current, ((2 * k - 1) * z * current - (k - 1) * previous) / k];
    return { value: current, slope: (n * (z * current - previous)) / (z * z - 1) };
  };
  for (let i = 0; i < Math.ceil(n / 2); i++) {
    // Newton's method from the usual asymptotic guess of the i-th root.
    let z = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iteration = 0; iteration < 100; iteration++) {
      const { value, slope } = legendre(z);
      const step = value / slope;
      z -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    const { slope } = legendre(z);
    nodes[i] = (1 - z) / 2;
    nodes[n - 1 - i] = (1 + z) / 2;
    weights[i] = weights[n - 1 - i] = 1 / ((1 - z * z) * slope * slope);
  }
  return { nodes, weights };
}

const quadrature = gaussLegendre(20);

/** The slope of ln(integrand) by ln(γ+τ) at τ, for the factor (γ+τ)^-P times (o+τ)^-Q: it is monotone in τ. */
const slopeAt = (g: number, P: number, o: number, Q: number, t: number) => P - 1 + (Q * (g + t)) / (o + t);

/**
 * ln ∫ from t0 to t1 of (α+τ)^-p (β+τ)^-q dτ, for p + q > 1 and max(p, q) > 1 (the shape of the
 * Pareto/NBD dropout and next-purchase integrals; its closed form needs ₂F₁ in a form that converges
 * slowly, and has no parameter derivatives). Gauss-Legendre in w = ((γ+t0)/(γ+τ))^m, γ being α or
 * β, turns the power decay into a low-degree polynomial times a smooth ratio, so 20 nodes give 11
 * digits or more in any time unit while α and β are within a factor of ten or so of each other (and
 * 5 or more far beyond). Given `moments`, the integrand-weighted means of ln(α+τ), 1/(α+τ), ln(β+τ)
 * and 1/(β+τ) are written there: the derivatives of the integral by p, α, q and β over it.
 */
export function logPowerIntegral(
  alpha: number,
  p: number,
  beta: number,
  q: number,
  t0: number,
  t1: number,
  moments?: Float64Array,
): number {
  if (!(t1 > t0)) return -Infinity;
  // In y = ln((γ+τ)/(γ+t0)) the log-integrand falls with a slope that is monotone in τ. Take the base
  // whose slope varies least over the interval, and m a quarter of its smallest slope: the integrand
  // in w is then w^3 or flatter times the ratio ((γ+τ)/(o+τ))^Q, smooth even where w^(1/m) is not.
  const alphaFirst = slopeAt(alpha, p, beta, q, t0);
  const alphaLast = slopeAt(alpha, p, beta, q, t1);
  const betaFirst = slopeAt(beta, q, alpha, p, t0);
  const betaLast = slopeAt(beta, q, alpha, p, t1);
  const alphaLow = Math.min(alphaFirst, alphaLast);
  const betaLow = Math.min(betaFirst, betaLast);
  const alphaSpread = alphaLow > 0 ? Math.max(alphaFirst, alphaLast) / alphaLow : Infinity;
  const betaSpread = betaLow > 0 ? Math.max(betaFirst, betaLast) / betaLow : Infinity;
  const onAlpha = alphaSpread <= betaSpread;
  const g = onAlpha ? alpha : beta;
  const o = onAlpha ? beta : alpha;
  const P = onAlpha ? p : q;
  const Q = onAlpha ? q : p;
  const m = (onAlpha ? alphaLow : betaLow) / 4;
  const logStart = Math.log(g + t0);
  const logW = m * (logStart - Math.log(g + t1));
  const W = Math.exp(logW);
  const span = -Math.expm1(logW);
  const power = (P + Q - 1) / m - 1;
  // The ratio is monotone in τ: its larger end bounds every term, so none overflows.
  const shift = Q * Math.max(logStart - Math.log(o + t0), Math.log((g + t1) / (o + t1)));
  const { nodes, weights } = quadrature;
  let sum = 0;
  let logG = 0;
  let inverseG = 0;
  let logO = 0;
  let inverseO = 0;
  for (let i = 0; i < nodes.length; i++) {
    const logw = Math.log(W + span * nodes[i]);
    const logBase = logStart - logw / m; // ln(γ+τ)
    const base = Math.exp(logBase);
    const other = base + o - g;
    const logOther = Math.log(other);
    const term = weights[i] * Math.exp(power * logw + Q * (logBase - logOther) - shift);
    sum += term;
    if (moments) {
      logG += term * logBase;
      inverseG += term / base;
      logO += term * logOther;
      inverseO += term / other;
    }
  }
  if (moments) {
    moments[0] = (onAlpha ? logG : logO) / sum;
    moments[1] = (onAlpha ? inverseG : inverseO) / sum;
    moments[2] = (onAlpha ? logO : logG) / sum;
    moments[3] = (onAlpha ? inverseO : inverseG) / sum;
  }
  return (1 - P - Q) * logStart - Math.log(m) + Math.log(span) + Math.log(sum) + shift;
}
