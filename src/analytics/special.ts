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
