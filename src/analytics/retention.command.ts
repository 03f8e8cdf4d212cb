// kept report outcomes | drivers | uplift, and kept rules: why customers leave and whom an action
// moves, from the latest analysis. Each action loads what it runs only when it runs.
import { Option, type Command } from 'commander';
import { action, cliActor, dataOption, withDeps } from '../cli.ts';
import { AppError } from '../shared/errors.ts';

const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
const points = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}`;
const none = () => new AppError('not_found', 'No analysis has looked at experiences yet: run `kept analyze` first');

export function registerRetentionCommands(program: Command, report: Command): void {
  report
    .command('outcomes')
    .description(
      'Outcome tables: what each type of customer did after each experience, against the same type without it',
    )
    .option('--kind <kind>', 'only this experience kind (e.g. late_delivery)')
    .option('--stage <stage>', 'only this stage at the time: prospect, trial, customer or * (any)')
    .option('--min-n <n>', 'only cells with at least this many customers', (v) => Number.parseInt(v, 10))
    .option('--segment <id>', "the tables for a saved segment's members", (v) => Number.parseInt(v, 10))
    .addOption(
      new Option('--all', 'every cell (by channel, first or repeated, followed up or not), not just the overview'),
    )
    .option('--json', 'print JSON (every cell, with counts and 95 % intervals)')
    .addOption(dataOption())
    .addHelpText(
      'after',
      `
A cell is a customer type (stage x value band x acquisition channel at the time; * = any) and an
experience (first or repeated; followed up within KEPT_FOLLOW_UP_DAYS or not). For each: how many, the
share who bought again within KEPT_OUTCOME_DAYS with a 95 % interval, what they spent in the next 180
days in bands (none = lapsed), and the same type right after an order without that experience.
Cells under 30 are marked "small", never hidden. docs/analytics.md explains each figure.`,
    )
    .action(
      action(
        async (options: {
          segment?: number;
          kind?: string;
          stage?: string;
          minN?: number;
          all?: boolean;
          json?: boolean;
          data?: string;
        }) => {
          const { outcomesReport } = await import('./retention.service.ts');
          await withDeps('report outcomes', options, async (deps) => {
            const overview = options.all || options.json ? {} : { channel: '*', occurrence: 'all', followedUp: 'all' };
            const result = await outcomesReport(deps, {
              kind: options.kind,
              stage: options.stage,
              minN: options.minN,
              segmentId: options.segment,
              ...overview,
            });
            if (!result) throw none();
            if (options.json) {
              process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
              return;
            }
            const lines = [
              `Analysis #${result.runId} as of ${result.asOf}: outcome tables${result.segment ? ` of segment ${result.segment.name}` : ''} (${result.anchors.exposed} experiences, ${result.anchors.control} orders as the baseline)`,
              '  type (stage / value band / channel)  experience  n  bought again [95 %]  without it  difference [95 %]',
            ];
            for (const c of result.cells)
              lines.push(
                `  ${c.stage} / ${c.valueBand} / ${c.channel}  ${c.kind}${c.occurrence !== 'all' ? ` (${c.occurrence})` : ''}${c.followedUp !== 'all' ? ` followed up: ${c.followedUp}` : ''}  n=${c.n}${c.small ? ' (small)' : ''}  ${pct(c.rate)} [${pct(c.low)}, ${pct(c.high)}]  ${c.baseline ? pct(c.baseline.rate) : '-'}  ${points(c.difference.difference)} [${points(c.difference.low)}, ${points(c.difference.high)}] points`,
              );
            process.stdout.write(`${lines.join('\n')}\n`);
          });
        },
      ),
    );

  report
    .command('drivers')
    .description(
      'Drivers of leaving: hazard ratios per experience, channel and category, and why customers left by month',
    )
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(
      action(async (options: { json?: boolean; data?: string }) => {
        const { retentionReport } = await import('./retention.service.ts');
        await withDeps('report drivers', options, async (deps) => {
          const result = await retentionReport(deps);
          if (!result) throw none();
          const d = result.drivers as {
            model: {
              covariates: { name: string; hazardRatio: number; low: number; high: number }[];
              events: number;
            } | null;
            whyLeft: { month: string; lapsed: number; causes: Record<string, number> }[];
          };
          if (options.json) {
            process.stdout.write(`${JSON.stringify({ runId: result.runId, asOf: result.asOf, ...d }, null, 2)}\n`);
            return;
          }
          const lines = [`Analysis #${result.runId} as of ${result.asOf}: drivers of leaving`];
          if (!d.model) lines.push('  too few lapses for the hazard model');
          else
            for (const c of d.model.covariates)
              lines.push(
                `  ${c.name}: hazard ratio ${c.hazardRatio.toFixed(2)} [${c.low.toFixed(2)}, ${c.high.toFixed(2)}]`,
              );
          lines.push('  Why customers left, by month:');
          for (const m of d.whyLeft)
            lines.push(
              `  ${m.month}: ${m.lapsed} lapsed; ${Object.entries(m.causes)
                .map(([cause, n]) => `${cause} ${n}`)
                .join(', ')}`,
            );
          process.stdout.write(`${lines.join('\n')}\n`);
        });
      }),
    );

  report
    .command('uplift')
    .description('Uplift from the random holdouts: effect by customer type, the uplift model, what the ranking saves')
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(
      action(async (options: { json?: boolean; data?: string }) => {
        const { retentionReport } = await import('./retention.service.ts');
        await withDeps('report uplift', options, async (deps) => {
          const result = await retentionReport(deps);
          if (!result) throw none();
          const u = result.uplift as { source: string; effect: number; trials: number; reason: string | null };
          process.stdout.write(
            options.json
              ? `${JSON.stringify({ runId: result.runId, asOf: result.asOf, ...u }, null, 2)}\n`
              : `Analysis #${result.runId} as of ${result.asOf}: uplift from ${u.trials} randomised assignments; the worklist ranks by ${u.source === 'model' ? 'the uplift model' : `${u.source === 'holdouts' ? "the holdouts' pooled" : 'an assumed'} effect of ${points(u.effect)} points`}${u.reason ? ` (${u.reason})` : ''}\n`,
          );
        });
      }),
    );

  const rules = program
    .command('rules')
    .description('Rules distilled from the outcome tables: list, approve, edit, retire');
  rules
    .command('list')
    .description('The rules with their evidence, approved first')
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .action(
      action(async (options: { json?: boolean; data?: string }) => {
        const { rules: list } = await import('../rules/index.ts');
        await withDeps('rules list', options, async (deps) => {
          const found = await list(deps);
          process.stdout.write(
            options.json
              ? `${JSON.stringify(found, null, 2)}\n`
              : found.length
                ? `${found.map((r) => `#${r.id} ${r.status}${r.stale ? ' (evidence not found again)' : ''}: ${r.text} → ${r.action.replace('_', ' ')}`).join('\n')}\n`
                : 'No rules yet: an analysis proposes them once the outcome tables show a clear difference\n',
          );
        });
      }),
    );
  for (const [name, status, what] of [
    ['approve', 'approved', 'Approve a rule: it drives the worklist from now on'],
    ['retire', 'retired', 'Retire a rule (with --reason): it no longer drives anything'],
  ] as const)
    rules
      .command(`${name} <id>`)
      .description(what)
      .option('--text <text>', 'the rule in your words')
      .option('--reason <reason>', 'why')
      .addOption(dataOption())
      .action(
        action(async (ruleId: string, options: { text?: string; reason?: string; data?: string }) => {
          const { changeRule } = await import('../rules/index.ts');
          const { audit } = await import('../audit/index.ts');
          await withDeps(`rules ${name}`, options, async (deps) => {
            const rule = await changeRule(
              deps,
              Number(ruleId),
              { status, text: options.text, reason: options.reason },
              cliActor(),
            );
            await audit(deps.db, {
              actor: cliActor(),
              action: 'rule.changed',
              target: `rule:${ruleId}`,
              detail: { status, text: options.text, reason: options.reason },
              ip: null,
            });
            process.stdout.write(`#${rule.id} ${rule.status}: ${rule.text}\n`);
          });
        }),
      );
}
