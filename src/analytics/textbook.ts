// The textbook candidates fitted together on history groups: BG/NBD, MBG/NBD and Pareto/NBD. No I/O
// and nothing of the store's tables, so the fitting thread (fit.worker.ts) loads only the models.
import {
  fitBgNbd,
  fitMbgNbd,
  fitParetoNbd,
  type BgNbd,
  type FitOutcome,
  type HistoryGroup,
  type MbgNbd,
  type ParetoNbd,
} from './models.ts';

export interface TextbookFits {
  bgnbd: FitOutcome<BgNbd>;
  mbgnbd?: FitOutcome<MbgNbd>;
  pareto?: FitOutcome<ParetoNbd>;
}

/** The fits of the textbook models on this many customers at most (then polished on all but for Pareto/NBD). */
export const fitSample = 20_000;
const paretoSample = 1500;

/** Fits the textbook candidates on the histories at a cut; a candidate that cannot be fitted is left out with its reason. */
export function fitTextbook(groups: HistoryGroup[], warnings: string[]): TextbookFits {
  const bgnbd = fitBgNbd(groups, { sampleAbove: fitSample });
  const attempt = <T>(name: string, fit: () => T): T | undefined => {
    try {
      return fit();
    } catch (error) {
      warnings.push(`${name} could not be fitted: ${(error as Error).message}`);
      return undefined;
    }
  };
  return {
    bgnbd,
    mbgnbd: attempt('MBG/NBD', () => fitMbgNbd(groups, { sampleAbove: fitSample })),
    // Pareto/NBD's likelihood costs far more per history (a quadrature each), and on histories with
    // little heterogeneity its optimiser falls back to Nelder-Mead: it is fitted on a sample only.
    pareto: attempt('Pareto/NBD', () => fitParetoNbd(groups, { sampleAbove: paretoSample, polish: false })),
  };
}
