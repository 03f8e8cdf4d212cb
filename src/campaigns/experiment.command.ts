// kept import campaign FILE (an experiment run elsewhere) and kept report campaign NAME|ID: each arm
// against the control, overall and by subgroup. Loaded only when they run.
import path from 'node:path';
import type { Command } from 'commander';
import { action, cliActor, dataOption, withDeps } from '../cli.ts';

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const pts = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)}`;

/** The import itself, called by `kept import campaign` (src/imports/import.command.ts). */
export async function runExperimentImport(
  file: string,
  options: { name?: string; control?: string; map?: string; data?: string; json?: boolean },
): Promise<void> {
  const [{ importExperiment }, { terminalProgress }, { audit }, { AppError }] = await Promise.all([
    import('./experiment.service.ts'),
    import('../shared/progress.ts'),
    import('../audit/index.ts'),
    import('../shared/errors.ts'),
  ]);
  if (!options.name) throw new AppError('validation_failed', 'kept import campaign needs --name NAME');
  const map = Object.fromEntries(
    (options.map ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => p.split('=').map((s) => s.trim())),
  );
  await withDeps('import', options, async (deps) => {
    const progress = terminalProgress('import campaign', 'bytes');
    const started = performance.now();
    try {
      const actor = { kind: 'key', id: 0, name: cliActor(), role: 'admin' } as const;
      const result = await importExperiment(
        deps,
        actor,
        { file: path.resolve(file), name: options.name!, map, control: options.control },
        progress.report,
      );
      progress.stop();
      await audit(deps.db, {
        actor: cliActor(),
        action: 'import.finished',
        target: `campaign ${options.name} from ${path.basename(file)}`,
        detail: { campaignId: result.id, members: result.members },
      });
      const seconds = (performance.now() - started) / 1000;
      if (options.json) process.stdout.write(`${JSON.stringify({ ...result, seconds })}\n`);
      else
        process.stdout.write(
          `Imported campaign #${result.id} "${options.name}" in ${seconds.toFixed(1)} s: ${result.members.toLocaleString('en')} members (` +
            Object.entries(result.arms)
              .map(([arm, n]) => `${arm === 'control' ? 'control (the holdout)' : arm} ${n.toLocaleString('en')}`)
              .join(', ') +
            `)\nkept report campaign ${result.id} --json [--by ATTRIBUTE] shows each arm against the control.\n`,
        );
    } finally {
      progress.stop();
    }
  });
}

export function registerExperimentCommands(program: Command): void {
  const report =
    program.commands.find((c) => c.name() === 'report') ??
    program.command('report').description('Reports of the latest analysis');
  report
    .command('campaign')
    .description(
      'A campaign or an imported experiment: each arm against the control on conversion, revenue per member and engagement',
    )
    .argument('<campaign>', 'the campaign id or name')
    .option(
      '--by <attribute>',
      'the same per subgroup of a customer attribute, with a test of whether the subgroups differ',
    )
    .option(
      '--days <n>',
      'days after each send in which outcomes count (when the file did not give them)',
      (v) => Number.parseInt(v, 10),
      30,
    )
    .option('--json', 'print JSON')
    .addOption(dataOption())
    .addHelpText(
      'after',
      `
For each treated arm against the control: conversion (the file's converted column, else an order
within --days of the send), revenue per member (the file's revenue, else order totals), engagement
(the file's engaged, else any visit, open or click): each group's value, the difference with a 95 %
interval and p-value, the relative lift, and a warning when the groups are too small to tell, with
the size needed. --by adds the same per value of a customer attribute and Cochran's Q test of
whether the arm's effect differs between the subgroups. docs/campaigns.md explains each figure.`,
    )
    .action(
      action(async (ref: string, options: { by?: string; days: number; json?: boolean; data?: string }) => {
        const { experimentReport } = await import('./experiment.service.ts');
        await withDeps('report', options, async (deps) => {
          const r = await experimentReport(deps, ref, { days: options.days, by: options.by });
          if (options.json) {
            process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
            return;
          }
          const lines = [
            `Campaign #${r.campaign.id} "${r.campaign.name}": control ${r.control.members.toLocaleString('en')}`,
          ];
          const show = (arms: typeof r.arms, indent: string) => {
            for (const a of arms)
              for (const o of a.outcomes) {
                const money = o.outcome === 'revenue';
                const value = (v: number) => (money ? v.toFixed(2) : pct(v));
                const diff = (v: number) => (money ? `${v >= 0 ? '+' : ''}${v.toFixed(2)}` : pts(v));
                lines.push(
                  `${indent}${a.arm} (${a.members.toLocaleString('en')}) ${o.outcome}: ${value(o.treated)} vs ${value(o.control)}, ${diff(o.difference)} [${diff(o.low)}, ${diff(o.high)}] p ${o.p < 0.001 ? '< 0.001' : o.p.toFixed(3)}${o.warning ? `\n${indent}  ${o.warning}` : ''}`,
                );
              }
          };
          show(r.arms, '  ');
          if (r.by) {
            for (const g of r.by.groups) {
              lines.push(`${r.by.attribute} = ${g.group} (${g.members.toLocaleString('en')})`);
              show(g.arms, '  ');
            }
            for (const h of r.by.heterogeneity)
              lines.push(
                `Do the subgroups differ? ${h.arm} ${h.outcome}: Q = ${h.q.toFixed(2)}, ${h.df} df, p ${h.p < 0.001 ? '< 0.001' : h.p.toFixed(3)}`,
              );
          }
          process.stdout.write(`${lines.join('\n')}\n`);
        });
      }),
    );
}
