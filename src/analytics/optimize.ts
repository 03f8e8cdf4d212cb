// Nelder-Mead and BFGS minimisation (on log-parameters, so every model parameter stays positive), run
// from several starting points; a fit is trusted only when it converged and the starts agree. Nothing
// here reads the clock: the same data and starts give the same fit, bit for bit.

export interface Minimum {
  x: number[];
  value: number;
  iterations: number;
  converged: boolean;
}

export function nelderMead(
  f: (x: number[]) => number,
  start: number[],
  options: { maxIterations?: number; tolerance?: number; xTolerance?: number; step?: number } = {},
): Minimum {
  const n = start.length;
  const maxIterations = options.maxIterations ?? 4000;
  const tolerance = options.tolerance ?? 1e-11;
  const step = options.step ?? 0.5;
  const xTolerance = options.xTolerance ?? 1e-7;
  const safe = (x: number[]) => {
    try {
      const v = f(x);
      return Number.isFinite(v) ? v : Infinity;
    } catch {
      return Infinity; // e.g. a series that does not converge at this point: not a candidate
    }
  };
  let simplex = [start, ...start.map((_, i) => start.map((v, j) => (i === j ? v + step : v)))].map((x) => ({
    x,
    value: safe(x),
  }));
  let iterations = 0;
  // A best value that stops improving is an optimum too (e.g. one on the edge of the parameter box).
  let stalledSince = 0;
  let lastBest = Infinity;
  for (; iterations < maxIterations; iterations++) {
    simplex.sort((p, q) => p.value - q.value);
    const best = simplex[0];
    const worst = simplex[n];
    if (best.value < lastBest - tolerance * Math.abs(best.value)) {
      lastBest = best.value;
      stalledSince = iterations;
    } else if (iterations - stalledSince > 50 * n) {
      return { x: best.x, value: best.value, iterations, converged: true };
    }
    if (
      Math.abs(worst.value - best.value) <= tolerance * (Math.abs(best.value) + tolerance) &&
      simplex.every((p) => p.x.every((v, i) => Math.abs(v - best.x[i]) < xTolerance))
    ) {
      return { x: best.x, value: best.value, iterations, converged: true };
    }
    const centroid = best.x.map((_, i) => simplex.slice(0, n).reduce((sum, p) => sum + p.x[i], 0) / n);
    const along = (t: number) => centroid.map((c, i) => c + t * (worst.x[i] - c));
    const reflected = along(-1);
    const reflectedValue = safe(reflected);
    if (reflectedValue < best.value) {
      const expanded = along(-2);
      const expandedValue = safe(expanded);
      simplex[n] =
        expandedValue < reflectedValue
          ? { x: expanded, value: expandedValue }
          : { x: reflected, value: reflectedValue };
    } else if (reflectedValue < simplex[n - 1].value) {
      simplex[n] = { x: reflected, value: reflectedValue };
    } else {
      const contracted = reflectedValue < worst.value ? along(-0.5) : along(0.5);
      const contractedValue = safe(contracted);
      if (contractedValue < Math.min(reflectedValue, worst.value)) {
        simplex[n] = { x: contracted, value: contractedValue };
      } else {
        simplex = simplex
          .map((p, i) => (i === 0 ? p : { x: p.x.map((v, j) => best.x[j] + 0.5 * (v - best.x[j])), value: 0 }))
          .map((p, i) => (i === 0 ? p : { x: p.x, value: safe(p.x) }));
      }
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  return { x: simplex[0].x, value: simplex[0].value, iterations, converged: false };
}

/**
 * Quasi-Newton (BFGS) minimisation with the objective's own gradient, for polishing a point already
 * near the optimum of a smooth objective: a handful of steps where Nelder-Mead takes hundreds of
 * evaluations. `f` writes its gradient into its second argument. Converged when the expected
 * remaining improvement is below `tolerance` relative to the value.
 */
export function bfgs(
  f: (x: number[], gradient: number[]) => number,
  start: number[],
  options: { maxIterations?: number; tolerance?: number; firstStep?: number } = {},
): Minimum {
  const n = start.length;
  const tolerance = options.tolerance ?? 1e-13;
  const evaluate = (x: number[]) => {
    const gradient = new Array<number>(n).fill(0);
    const value = f(x, gradient);
    return { x, value, gradient, finite: Number.isFinite(value) && gradient.every(Number.isFinite) };
  };
  let point = evaluate(start);
  if (!point.finite) return { x: start, value: Infinity, iterations: 0, converged: false };
  // The inverse Hessian, first (and after a reset) a multiple of the identity that makes the next
  // step `firstStep` long in its largest coordinate.
  const scaled = (gradient: number[]) => {
    const scale = (options.firstStep ?? 0.01) / Math.max(Math.max(...gradient.map(Math.abs)), 1e-300);
    return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? scale : 0)));
  };
  let inverse = scaled(point.gradient);
  // Until the first curvature update the inverse Hessian is only a guess of scale; that update first
  // rescales it to the curvature seen along the step (sᵀy / yᵀy), which saves most of the short
  // steps a far start would otherwise take.
  let guessed = true;
  const times = (m: number[][], v: number[]) => m.map((row) => row.reduce((sum, m_ij, j) => sum + m_ij * v[j], 0));
  const dot = (u: number[], v: number[]) => u.reduce((sum, u_i, i) => sum + u_i * v[i], 0);
  for (let iteration = 0; iteration < (options.maxIterations ?? 100); iteration++) {
    let direction = times(inverse, point.gradient).map((v) => -v);
    let slope = dot(point.gradient, direction);
    if (!(slope < 0)) {
      // not a descent direction: start the curvature over
      inverse = scaled(point.gradient);
      guessed = true;
      direction = times(inverse, point.gradient).map((v) => -v);
      slope = dot(point.gradient, direction);
    }
    if (-slope / 2 <= tolerance * (1 + Math.abs(point.value)))
      return { x: point.x, value: point.value, iterations: iteration, converged: true };
    // Backtracking to a step that decreases enough (Armijo).
    let step = 1;
    let next = evaluate(point.x.map((v, i) => v + direction[i]));
    while (!(next.finite && next.value <= point.value + 1e-4 * step * slope)) {
      step /= 2;
      if (step < 1e-10) return { x: point.x, value: point.value, iterations: iteration, converged: false };
      next = evaluate(point.x.map((v, i) => v + step * direction[i]));
    }
    const s = next.x.map((v, i) => v - point.x[i]);
    const y = next.gradient.map((g, i) => g - point.gradient[i]);
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      // H <- (I - ρ s yᵀ) H (I - ρ y sᵀ) + ρ s sᵀ
      const rho = 1 / sy;
      if (guessed) {
        const scale = sy / dot(y, y);
        inverse = inverse.map((row, i) => row.map((_, j) => (i === j ? scale : 0)));
        guessed = false;
      }
      const hy = times(inverse, y);
      const yhy = dot(y, hy);
      inverse = inverse.map((row, i) =>
        row.map((h, j) => h - rho * (s[i] * hy[j] + hy[i] * s[j]) + (rho * rho * yhy + rho) * s[i] * s[j]),
      );
    }
    point = next;
  }
  return { x: point.x, value: point.value, iterations: options.maxIterations ?? 100, converged: false };
}

export interface Fit {
  x: number[];
  value: number;
  converged: boolean;
  starts: number;
  agreeing: number;
  iterations: number;
}

/**
 * Minimises from each start, then restarts from the best point until it stops improving (Nelder-Mead
 * can stall on flat ridges). `agreeing` counts the starts that reached the best value.
 */
export function minimiseFromStarts(f: (x: number[]) => number, starts: number[][]): Fit {
  // The first start is followed to full precision; the others only far enough to show whether they
  // reach the same optimum.
  const results = starts.map((start, i) => nelderMead(f, start, i === 0 ? {} : { tolerance: 1e-8, xTolerance: 1e-4 }));
  let best = results.reduce((p, q) => (q.value < p.value ? q : p));
  let iterations = results.reduce((sum, r) => sum + r.iterations, 0);
  for (let round = 0; round < 5; round++) {
    const again = nelderMead(f, best.x, { step: 0.02 });
    iterations += again.iterations;
    const improved = again.value < best.value - 1e-9 * Math.abs(best.value);
    best = again.value <= best.value ? again : best;
    if (!improved) break;
  }
  return summarise(results, best, iterations);
}

/** The best run, and how many of the runs from the starts reached its value. */
function summarise(results: Minimum[], best: Minimum, iterations: number): Fit {
  const agreeing = results.filter(
    (r) => Number.isFinite(r.value) && Math.abs(r.value - best.value) <= 1e-6 * Math.max(1, Math.abs(best.value)),
  ).length;
  return {
    x: best.x,
    value: best.value,
    converged: best.converged && Number.isFinite(best.value),
    starts: results.length,
    agreeing,
    iterations,
  };
}

/**
 * As minimiseFromStarts, for a smooth objective that writes its gradient: BFGS from each start, a
 * few dozen evaluations where Nelder-Mead takes hundreds. Where BFGS stalls (at a kink, such as the
 * edge of a parameter box) Nelder-Mead finishes from its last point.
 */
export function minimiseSmoothFromStarts(f: (x: number[], gradient?: number[]) => number, starts: number[][]): Fit {
  let iterations = 0;
  const run = (start: number[], tolerance: number): Minimum => {
    const quasiNewton = bfgs(f, start, { tolerance, maxIterations: 200 });
    iterations += quasiNewton.iterations;
    if (quasiNewton.converged) return quasiNewton;
    const simplex = nelderMead(f, Number.isFinite(quasiNewton.value) ? quasiNewton.x : start, {
      step: 0.05,
      maxIterations: 1000,
    });
    iterations += simplex.iterations;
    return simplex.value <= quasiNewton.value ? simplex : { ...quasiNewton, converged: false };
  };
  // As in minimiseFromStarts: the first start to full precision, the others far enough to compare.
  const results = starts.map((start, i) => run(start, i === 0 ? 1e-13 : 1e-9));
  let best = results.reduce((p, q) => (q.value < p.value ? q : p));
  if (best !== results[0]) {
    const again = run(best.x, 1e-13);
    if (again.value <= best.value) best = again;
  }
  return summarise(results, best, iterations);
}

/**
 * For large data: find the optimum on a sample (several starts, cheap), then polish it on the full
 * data from there (one short run: BFGS when the objective has a gradient, else Nelder-Mead from a
 * small simplex). Without a sample it is the multi-start alone: minimiseSmoothFromStarts with
 * `smooth` (the objectives write their gradients everywhere), else minimiseFromStarts.
 */
export function minimiseWithSample(
  full: (x: number[], gradient?: number[]) => number,
  sample: ((x: number[], gradient?: number[]) => number) | undefined,
  starts: number[][],
  options: { polish: boolean; gradient?: boolean; smooth?: boolean },
): Fit {
  const fromStarts = options.smooth ? minimiseSmoothFromStarts : minimiseFromStarts;
  if (!sample) return fromStarts(full, starts);
  const rough = fromStarts(sample, starts);
  if (!options.polish) return rough; // value: on the sample
  // The sample's optimum is within sampling error of the full one.
  const quasiNewton = options.gradient ? bfgs(full, rough.x) : undefined;
  const polished = quasiNewton?.converged
    ? quasiNewton
    : nelderMead(full, quasiNewton?.x ?? rough.x, {
        step: 0.02,
        tolerance: 1e-10,
        xTolerance: 1e-4,
        maxIterations: 400,
      });
  return {
    ...rough,
    x: polished.x,
    value: polished.value,
    converged: rough.converged && polished.converged,
    iterations: rough.iterations + polished.iterations,
  };
}
