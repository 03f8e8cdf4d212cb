// A fit on a thread of its own: the Gamma-Gamma spend model takes seconds on large data, so it runs
// beside the backtest and the activity fits instead of after them. (It can fit Pareto/NBD there too;
// analyze.service.ts asks only for Gamma-Gamma now.)
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  fitGammaGamma,
  fitParetoNbd,
  type FitOptions,
  type FitOutcome,
  type GammaGamma,
  type HistoryGroup,
  type ParetoNbd,
  type SpendHistory,
} from './models.ts';

interface Task {
  groups: { x: Float64Array; tx: Float64Array; T: Float64Array; count: Float64Array } | null;
  spends: { x: Float64Array; zbar: Float64Array };
  /** Without options, no Pareto/NBD fit (it is the scoring model, fitted on the main thread). */
  pareto: FitOptions | null;
}
type Answer = { gammaGamma: FitOutcome<GammaGamma> | null } | { paretoNbd: FitOutcome<ParetoNbd> | null };
// The thread runs this file. As sources (tests, `npm run dev`) it is TypeScript, which fit.worker.mjs
// loads through tsx; the build (scripts/build.mjs) compiles it to fit.worker.js beside the other chunks.
const workerEntry = import.meta.url.endsWith('.ts') ? './fit.worker.mjs' : './fit.worker.js';

/**
 * Fits Gamma-Gamma on the spends (when there are any) and then, when asked, Pareto/NBD on the groups,
 * on another thread; each promise settles as soon as its fit is done (null: not fitted).
 */
export function fitAside(
  groups: HistoryGroup[],
  spends: SpendHistory[],
  pareto: FitOptions | null,
): { gammaGamma: Promise<FitOutcome<GammaGamma> | null>; paretoNbd: Promise<FitOutcome<ParetoNbd> | null> } {
  const column = <T>(items: T[], pick: (item: T) => number) => Float64Array.from(items, pick);
  const task: Task = {
    groups: pareto
      ? {
          x: column(groups, (g) => g.x),
          tx: column(groups, (g) => g.tx),
          T: column(groups, (g) => g.T),
          count: column(groups, (g) => g.count),
        }
      : null,
    spends: { x: column(spends, (s) => s.x), zbar: column(spends, (s) => s.zbar) },
    pareto,
  };
  const worker = new Worker(new URL(workerEntry, import.meta.url), { workerData: task });
  const settled = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the fitting thread stopped (exit code ${code}) before it answered`)),
    );
  });
  const answer = <T>(pick: (message: Answer) => T | undefined) =>
    Promise.race([
      settled,
      new Promise<T>((resolve) => {
        worker.on('message', (message: Answer) => {
          const value = pick(message);
          if (value !== undefined) resolve(value);
        });
      }),
    ]);
  return {
    gammaGamma: answer((m) => ('gammaGamma' in m ? m.gammaGamma : undefined)),
    paretoNbd: answer((m) => ('paretoNbd' in m ? m.paretoNbd : undefined)),
  };
}

if (!isMainThread && parentPort) {
  const { groups: g, spends: s, pareto } = workerData as Task;
  const spends = Array.from(s.x, (x, i) => ({ x, zbar: s.zbar[i] }));
  parentPort.postMessage({ gammaGamma: spends.length ? fitGammaGamma(spends) : null } satisfies Answer);
  const groups = g && Array.from(g.x, (x, i) => ({ x, tx: g.tx[i], T: g.T[i], count: g.count[i] }));
  parentPort.postMessage({ paretoNbd: groups && pareto ? fitParetoNbd(groups, pareto) : null } satisfies Answer);
}
