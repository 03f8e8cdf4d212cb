// Fits on a thread of their own: on large data the textbook candidates take seconds on the history
// up to the backtest's cut and again on all of it, and Gamma-Gamma on the repeat spends; one thread
// fits them in turn while this one trains the supervised model and scores the held-out days.
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { fitGammaGamma, type FitOutcome, type GammaGamma, type HistoryGroup, type SpendHistory } from './models.ts';
import { fitTextbook, type TextbookFits } from './textbook.ts';

/** The textbook candidates' fits with the warnings the fitting gave (those of a candidate left out). */
export interface TextbookOutcome {
  fits: TextbookFits;
  warnings: string[];
}

type Task =
  | { id: number; textbook: { x: Float64Array; tx: Float64Array; T: Float64Array; count: Float64Array } }
  | { id: number; gammaGamma: { x: Float64Array; zbar: Float64Array } };
type Answer = { id: number; outcome: TextbookOutcome | FitOutcome<GammaGamma> | null };
// The thread runs this file. As sources (tests, `npm run dev`) it is TypeScript, which fit.worker.mjs
// loads through tsx; the build (scripts/build.mjs) compiles it to fit.worker.js beside the other chunks.
const workerEntry = import.meta.url.endsWith('.ts') ? './fit.worker.mjs' : './fit.worker.js';

export interface FitThread {
  /** The textbook candidates fitted on `groups`, after the fits asked for before. */
  textbook(groups: HistoryGroup[]): Promise<TextbookOutcome>;
  /** Gamma-Gamma fitted on the repeat spends (null without any), after the fits asked for before. */
  gammaGamma(spends: SpendHistory[]): Promise<FitOutcome<GammaGamma> | null>;
  /** Ends the thread (the fits not yet done with it). */
  close(): void;
}

/**
 * A thread that fits what it is asked, in the order asked; each promise settles as soon as its fit
 * is done. The fits are those of the same functions on this thread, bit for bit.
 */
export function fitThread(): FitThread {
  const worker = new Worker(new URL(workerEntry, import.meta.url));
  const waiting = new Map<
    number,
    { resolve: (outcome: Answer['outcome']) => void; reject: (error: unknown) => void }
  >();
  const failAll = (error: unknown) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  worker.on('message', ({ id, outcome }: Answer) => {
    waiting.get(id)?.resolve(outcome);
    waiting.delete(id);
    // Idle, the thread does not keep the process alive.
    if (waiting.size === 0) worker.unref();
  });
  worker.once('error', failAll);
  worker.once('exit', (code) =>
    failAll(new Error(`the fitting thread stopped (exit code ${code}) before it answered`)),
  );
  let next = 0;
  const ask = (task: Omit<Task, 'id'>, columns: Float64Array[]) => {
    const id = next++;
    const outcome = new Promise<Answer['outcome']>((resolve, reject) => waiting.set(id, { resolve, reject }));
    // Awaited by the caller; this only keeps a failure from counting as unhandled meanwhile.
    outcome.catch(() => undefined);
    worker.ref();
    // The columns move to the thread rather than being copied.
    worker.postMessage(
      { ...task, id },
      columns.map((c) => c.buffer as ArrayBuffer),
    );
    return outcome;
  };
  const column = <T>(items: T[], pick: (item: T) => number) => Float64Array.from(items, pick);
  return {
    textbook: (groups) => {
      const task = {
        x: column(groups, (g) => g.x),
        tx: column(groups, (g) => g.tx),
        T: column(groups, (g) => g.T),
        count: column(groups, (g) => g.count),
      };
      return ask({ textbook: task }, Object.values(task)) as Promise<TextbookOutcome>;
    },
    gammaGamma: (spends) => {
      const task = { x: column(spends, (s) => s.x), zbar: column(spends, (s) => s.zbar) };
      return ask({ gammaGamma: task }, Object.values(task)) as Promise<FitOutcome<GammaGamma> | null>;
    },
    close: () => void worker.terminate(),
  };
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  port.on('message', (task: Task) => {
    if ('textbook' in task) {
      const g = task.textbook;
      const warnings: string[] = [];
      const groups = Array.from(g.x, (x, i) => ({ x, tx: g.tx[i], T: g.T[i], count: g.count[i] }));
      port.postMessage({ id: task.id, outcome: { fits: fitTextbook(groups, warnings), warnings } } satisfies Answer);
    } else {
      const s = task.gammaGamma;
      const spends = Array.from(s.x, (x, i) => ({ x, zbar: s.zbar[i] }));
      port.postMessage({ id: task.id, outcome: spends.length ? fitGammaGamma(spends) : null } satisfies Answer);
    }
  });
}
