import cliProgress from 'cli-progress';

/** Progress of long work; the CLI draws a bar, the server records it on the job. */
export type ProgressReporter = (done: number, total?: number, detail?: string) => void;

/**
 * A progress bar on a terminal; elsewhere (CI, pipes) a plain line every few seconds, on stderr so
 * stdout stays clean for --json.
 */
export function terminalProgress(label: string, unit = 'rows'): { report: ProgressReporter; stop(): void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {detail}`,
        stream: process.stderr,
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      report(done, total, detail = '') {
        if (!started) {
          bar.start(total ?? done, done, { detail });
          started = true;
        }
        if (total !== undefined) bar.setTotal(total);
        bar.update(done, { detail });
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  return {
    report(done, total, detail = '') {
      const now = Date.now();
      if (now - last < 5000) return;
      last = now;
      const share = total ? ` (${Math.floor((done / total) * 100)}%)` : '';
      process.stderr.write(`${label}: ${done}${total ? `/${total}` : ''} ${unit}${share} ${detail}\n`);
    },
    stop: () => undefined,
  };
}
