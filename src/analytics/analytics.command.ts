// The analytics commands. Each action loads what it runs only when it runs, so `kept --help` stays quick.
import path from 'node:path';
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { action, cliActor, dataOption, parseDay, withDeps } from '../cli.ts';
import type { ActivityModel } from '../config.ts';
import { AppError } from '../shared/errors.ts';
import type { Backtest, SubscriptionAnalysis } from './analytics.ts';
import { registerRetentionCommands } from './retention.command.ts';

export function registerAnalyticsCommands(program: Command): void {
  program
    .command('analyze')
    .description('Fit the repeat-buying models on the purchase history up to the as-of date and score every customer')
    .option('--as-of <date>', 'last day of history the models see (default: today in KEPT_TIME_ZONE)', parseDay)
    .addOption(
      new Option(
        '--model <model>',
        'pin the model that scores (default KEPT_ACTIVITY_MODEL or auto: the best in the backtest)',
      ).choices(['auto', 'bgnbd', 'mbgnbd', 'pareto', 'supervised']),
    )
    .addOption(dataOption())
    .option('--json', 'print the outcome as JSON')
    .addHelpText(
      'after',
      `
First a backtest: the last KEPT_BACKTEST_DAYS (90) days before the as-of date are held out, and each
candidate (BG/NBD, MBG/NBD, Pareto/NBD, and a model learnt from this store's own past) is fitted on
what came before and judged on how well it foretold them; the best (or the one pinned with --model)
scores. Stored per customer: probability still active and its change, chance of buying in the next
30/90/365 days, expected purchases in 30/90/365 days, expected next order date, expected order value,
predicted 365-day value (discounted), value at stake, RFM scores, churn probability, stage and reasons
in words. A run as of the latest purchase in the data also moves lifecycle stages (best, at_risk,
lapsed) and raises activity-drop alerts; an earlier --as-of only stores scores (stages as of that
date); a later one than today is refused. Thresholds: KEPT_AT_RISK_BELOW, KEPT_LAPSED_BELOW,
KEPT_BEST_TOP_SHARE (docs/analytics.md).`,
    )
    .action(
      action(async (options: { asOf?: string; model?: ActivityModel; data?: string; json?: boolean }) => {
        const [{ analyze }, { terminalProgress }] = await Promise.all([
          import('./analyze.service.ts'),
          import('../shared/progress.ts'),
        ]);
        await withDeps('analyze', options, async (deps) => {
          const progress = terminalProgress('analyze', 'steps');
          const started = performance.now();
          try {
            const outcome = await analyze(deps, {
              asOf: options.asOf,
              model: options.model,
              onProgress: progress.report,
            });
            progress.stop();
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            if (options.json) process.stdout.write(`${JSON.stringify({ ...outcome, seconds: Number(seconds) })}\n`);
            else {
              process.stdout.write(
                `Analysis #${outcome.runId} as of ${outcome.asOf} in ${seconds} s: ${outcome.customers} customers scored, ${outcome.repeatCustomers} with repeat purchases` +
                  (outcome.current
                    ? `; ${outcome.stageChanges} stage changes, ${outcome.alerts} activity-drop alerts\n`
                    : '; a past as-of date (the data runs past it): stages left as they are\n') +
                  `Scored by ${outcome.model}: ${outcome.why}\n`,
              );
            }
            for (const warning of outcome.warnings) process.stderr.write(`warning: ${warning}\n`);
          } finally {
            progress.stop();
          }
        });
      }),
    );

  const report = program.command('report').description('Reports of the latest analysis');
  registerRetentionCommands(program, report);
  report
    .command('model')
    .description('Fitted model parameters and log-likelihoods of the latest analysis')
    .addOption(
      new Option('--time-unit <unit>', 'time unit of the rate parameters').choices(['day', 'week']).default('week'),
    )
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(
      action(async (options: { timeUnit: 'day' | 'week'; json?: boolean; data?: string }) => {
        const { modelReport, parametersInWords: fmt } = await import('./report.service.ts');
        await withDeps('report model', options, async (deps) => {
          const result = await modelReport(deps.db, options.timeUnit);
          if (options.json) {
            process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            return;
          }
          process.stdout.write(
            `Analysis #${result.runId} as of ${result.asOf} (${result.customers} customers, ${result.repeatCustomers} repeat), time unit ${result.timeUnit}\n` +
              `  BG/NBD      ${fmt(result.bgnbd)}\n  MBG/NBD     ${fmt(result.mbgnbd)}\n  Pareto/NBD  ${fmt(result.paretoNbd)}\n  Gamma-Gamma ${fmt(result.gammaGamma)}\n` +
              `  Scored by ${result.model}: ${result.why ?? ''}\n` +
              backtestInWords(result.backtest) +
              (result.warnings as string[]).map((w) => `  warning: ${w}\n`).join(''),
          );
        });
      }),
    );

  report
    .command('churn-model')
    .description(
      'Subscriptions in the latest analysis: retention by start cohort (sBG) and the cross-validated churn model',
    )
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(
      action(async (options: { json?: boolean; data?: string }) => {
        const { churnModelReport } = await import('./report.service.ts');
        await withDeps('report churn-model', options, async (deps) => {
          const result = await churnModelReport(deps.db);
          process.stdout.write(
            options.json
              ? `${JSON.stringify(result, null, 2)}\n`
              : churnModelInWords(result, result.runId, result.asOf),
          );
        });
      }),
    );

  program
    .command('churn')
    .description('The subscription churn model')
    .command('cross-validate')
    .description("Out-of-fold cancellation probabilities on your own folds, to compare Kept's churn model with yours")
    .requiredOption('--folds <file>', 'CSV with a header and two columns: the customer external id and the fold number')
    .option(
      '--as-of <date>',
      'the day the labels and features are read as of (default: today in KEPT_TIME_ZONE)',
      parseDay,
    )
    .option('--output <file>', 'write the CSV to a file instead of standard output')
    .addOption(dataOption())
    .addHelpText(
      'after',
      `
Writes external_id,fold,churn_probability: each subscriber's probability of having cancelled by the
as-of date from a model trained on the other folds (features as the subscription stood when it
ended, or at the as-of date while it runs). Subscribers the folds file does not name are left out.`,
    )
    .action(
      action(async (options: { folds: string; asOf?: string; output?: string; data?: string }) => {
        const [{ parse }, { stringify }, { crossValidateChurn }, { dayIn }] = await Promise.all([
          import('csv-parse/sync'),
          import('csv-stringify/sync'),
          import('./subscriptions.service.ts'),
          import('../shared/time.ts'),
        ]);
        const folds = readFolds(parse, options.folds);
        await withDeps('churn cross-validate', options, async (deps) => {
          const asOf = options.asOf ?? dayIn(deps.config.timeZone, deps.clock.now());
          const result = await crossValidateChurn(deps.db, { asOf, timeZone: deps.config.timeZone, folds });
          const csv = stringify([
            ['external_id', 'fold', 'churn_probability'],
            ...result.predictions.map((p) => [p.externalId, p.fold, Number(p.churnProbability.toFixed(6))]),
          ]);
          if (options.output) fs.writeFileSync(options.output, csv);
          else process.stdout.write(csv);
          process.stderr.write(
            `${result.predictions.length} subscribers in ${new Set(result.predictions.map((p) => p.fold)).size} folds (of ${result.subscribers} subscribers as of ${asOf})\n`,
          );
          if (result.unknown.length > 0)
            process.stderr.write(
              `warning: ${result.unknown.length} ids in the folds file have no subscription by ${asOf}: ${result.unknown.slice(0, 5).join(', ')}${result.unknown.length > 5 ? ', ...' : ''}\n`,
            );
        });
      }),
    );

  const exporter = program.command('export').description('Export data');
  exporter
    .command('scores')
    .description('One row per customer with every score of the latest analysis')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'json']).default('csv'))
    .option('--output <file>', 'write to a file instead of standard output')
    .addOption(dataOption())
    .action(
      action(async (options: { format: 'csv' | 'json'; output?: string; data?: string }) => {
        const [{ stringify }, { audit }, { formulaSafe }, { latestScores, scoreColumns }] = await Promise.all([
          import('csv-stringify/sync'),
          import('../audit/index.ts'),
          import('../shared/spreadsheet.ts'),
          import('./report.service.ts'),
        ]);
        await withDeps('export scores', options, async (deps) => {
          const out = options.output ? fs.createWriteStream(options.output) : process.stdout;
          const write = (text: string) =>
            new Promise<void>((resolve) => (out.write(text) ? resolve() : out.once('drain', () => resolve())));
          let first = true;
          let rows = 0;
          if (options.format === 'csv') await write(stringify([[...scoreColumns]]));
          else await write('[');
          for await (const row of latestScores(deps.db)) {
            if (options.format === 'csv') await write(stringify([scoreColumns.map((c) => formulaSafe(row[c]))]));
            else await write(`${first ? '\n' : ',\n'}${JSON.stringify(row)}`);
            first = false;
            rows++;
          }
          await audit(deps.db, {
            actor: cliActor(),
            action: 'export.scores',
            target: options.output ? path.basename(options.output) : 'standard output',
            detail: { rows, format: options.format },
          });
          if (options.format === 'json') await write('\n]\n');
          if (options.output) await new Promise((resolve) => (out as fs.WriteStream).end(resolve));
        });
      }),
    );
}

/** The backtest in a few lines of words, as `kept report model` prints it. */
function backtestInWords(b: Backtest | null): string {
  if (!b) return '  backtest: none (too little history before the as-of date)\n';
  return (
    `  How well each model foretold ${b.from} to ${b.to} (${b.buyers} of ${b.customers} customers bought, ${b.actualPurchases} purchases):\n` +
    b.candidates
      .map(
        (c) =>
          `    ${c.name.padEnd(34)} ROC AUC ${c.rocAuc.value.toFixed(3)} (${c.rocAuc.low.toFixed(3)}-${c.rocAuc.high.toFixed(3)}), expected ${Math.round(c.predictedPurchases)} purchases${c.excluded ? ' (not used: no dropout visible)' : ''}\n`,
      )
      .join('') +
    `    ${'days since the last purchase alone'.padEnd(34)} ROC AUC ${b.recencyAuc.toFixed(3)}\n`
  );
}

/** A folds file as external id -> fold: a header line, then id and a whole fold number per row; any other row is an error naming it. */
function readFolds(parse: typeof import('csv-parse/sync').parse, file: string): Map<string, number> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new AppError('bad_request', `--folds ${file}: ${(error as Error).message}`);
  }
  const rows = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  const folds = new Map<string, number>();
  rows.slice(1).forEach((row, i) => {
    const line = i + 2;
    const [id, fold] = row;
    if (!id || fold === undefined || !/^-?\d+$/.test(fold))
      throw new AppError(
        'bad_request',
        `--folds ${file} line ${line}: expected an external id and a whole fold number, found ${JSON.stringify(row.join(','))}`,
      );
    if (folds.has(id)) throw new AppError('bad_request', `--folds ${file} line ${line}: ${id} is listed twice`);
    folds.set(id, Number(fold));
  });
  if (folds.size === 0) throw new AppError('bad_request', `--folds ${file}: no rows after the header`);
  return folds;
}

/** The subscription block in words, as `kept report churn-model` prints it. */
function churnModelInWords(s: SubscriptionAnalysis, runId: number, asOf: string): string {
  const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
  const lines = [`Analysis #${runId} as of ${asOf}: subscriptions`];
  const r = s.retention;
  if (r) {
    lines.push(
      `  ${r.subscribers} subscribers billed by the ${r.period} (${r.active} running)${r.otherPeriods ? `, ${r.otherPeriods} on other periods left out` : ''}`,
    );
    if (r.fit)
      lines.push(
        `  Retention (shifted-beta-geometric): alpha ${r.fit.alpha.toFixed(3)}, beta ${r.fit.beta.toFixed(3)}; ` +
          `projected still subscribed after ${r.projected.length - 1} renewals: ${pct(r.projected[r.projected.length - 1])}`,
      );
    if (r.backtest)
      lines.push(
        `  Backtest: fitted as of ${r.backtest.cut}, it expected ${r.backtest.predicted.toFixed(1)} cancellations ` +
          `(95 % ${Math.max(0, r.backtest.low).toFixed(1)}-${r.backtest.high.toFixed(1)}) among ${r.backtest.subscribers} subscribers; ${r.backtest.actual} happened`,
      );
  }
  const m = s.churnModel;
  if (m) {
    const f = m.metrics;
    lines.push(
      `  Churn model, ${m.folds}-fold cross-validated on ${m.subscribers} subscribers (${m.cancelled} cancelled): ` +
        `ROC AUC ${f.rocAuc.value.toFixed(3)} (${f.rocAuc.low.toFixed(3)}-${f.rocAuc.high.toFixed(3)}), PR AUC ${f.prAuc.value.toFixed(3)} ` +
        `(base rate ${f.baseRate.toFixed(3)}), Brier ${f.brier.value.toFixed(4)}`,
      `  What matters most: ${m.effects
        .slice(0, 5)
        .map((e) => `${e.feature.replace(/^attribute_/, '')} (${e.highest} most likely to cancel)`)
        .join('; ')}`,
      ...m.dropped.map((d) => `  left out: ${d}`),
    );
  } else lines.push(`  No churn model: ${s.churnModelSkipped}`);
  for (const a of s.atRisk.slice(0, 10))
    lines.push(
      `  ${(a.externalId ?? String(a.customerId)).padEnd(16)} ${pct(a.probability).padStart(7)}  ${a.factors.join(', ')}`,
    );
  return `${lines.join('\n')}\n`;
}
