// kept report programme: the whole marketing programme against the universal control group, in a
// few lines or as JSON. Added to the `kept report` group; loads what it runs only when it runs.
import { InvalidArgumentError, type Command } from 'commander';
import { action, dataOption, withDeps } from '../cli.ts';
import type { ProgrammeLift, ProgrammePeriod } from './lift.ts';

const parseMonths = (value: string) => {
  const months = Number(value);
  if (!/^\d+$/.test(value) || months < 1 || months > 36) throw new InvalidArgumentError('a whole number 1-36');
  return months;
};

export function registerProgrammeCommand(program: Command): void {
  const report =
    program.commands.find((c) => c.name() === 'report') ??
    program.command('report').description('Reports of the latest analysis');
  report
    .command('programme')
    .description(
      'Is marketing working overall: every campaign and journey against the universal control group, by month and over the span',
    )
    .option('--months <n>', 'calendar months back, the current one (to date) included (default 12)', parseMonths)
    .option('--json', 'print JSON (every figure, with 95 % intervals and p-values)')
    .addOption(dataOption())
    .addHelpText(
      'after',
      `
The universal control group is a fixed share of customers (KEPT_UNIVERSAL_CONTROL, default 5 %) that no
marketing programme ever touches. Each month compares the customers who existed at its start: the
share who ordered, revenue per customer, and among those who had ordered before, the share who
ordered again. docs/campaigns.md, "The whole programme: the universal control group".`,
    )
    .action(
      action(async (options: { months?: number; json?: boolean; data?: string }) => {
        const { programmeLiftReport } = await import('./lift.service.ts');
        await withDeps('report programme', options, async (deps) => {
          const report = await programmeLiftReport(deps, options.months ?? 12);
          process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : programmeText(report));
        });
      }),
    );
}

const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)} %`);
const points = (v: number) => `${v < 0 ? '' : '+'}${(v * 100).toFixed(1)}`;
const cash = (v: number | null) => (v === null ? '-' : v.toFixed(2));
const signedCash = (v: number) => `${v < 0 ? '' : '+'}${v.toFixed(2)}`;

function measures(p: ProgrammePeriod): string[] {
  const line = (
    name: string,
    m: ProgrammePeriod['purchase'],
    value: (g: ProgrammePeriod['control']) => string,
    diff: (v: number) => string,
  ) => {
    const c = m.comparison;
    return `    ${name}: marketed to ${value(p.marketed)}, control ${value(p.control)}${c ? `, difference ${diff(c.difference)} [${diff(c.low)}, ${diff(c.high)}] p=${c.p.toFixed(3)}${c.relative !== null ? `, relative ${points(c.relative)} %` : ''}` : ''}${m.warning ? `\n      warning: ${m.warning}` : ''}`;
  };
  return [
    line(
      'bought',
      p.purchase,
      (g) => `${percent(g.purchaseRate)} of ${g.customers}`,
      (v) => `${points(v)} points`,
    ),
    line('revenue per customer', p.revenuePerCustomer, (g) => cash(g.revenuePerCustomer), signedCash),
    line(
      'retention',
      p.retention,
      (g) => `${percent(g.retention)} of ${g.repeatCustomers}`,
      (v) => `${points(v)} points`,
    ),
  ];
}

/** The report in words and columns, as `kept report programme` prints it. */
export function programmeText(report: ProgrammeLift): string {
  const lines = [
    `The whole programme against the universal control group (${percent(report.share)} of customers; months in ${report.timeZone})`,
    report.headline,
    `Control group: ${report.control.size.toLocaleString('en')} of ${report.control.customers.toLocaleString('en')} customers. ${report.control.health}`,
    '',
    `Over the span, ${report.span.from.slice(0, 10)} to ${report.span.to.slice(0, 10)}, customers who were with us at its start:`,
    ...measures(report.span),
    '',
    'By month (marketing messages sent; bought: marketed to / control, difference [95 %]):',
  ];
  for (const m of report.monthly) {
    const volume = report.volume.find((v) => v.month === m.period);
    const c = m.purchase.comparison;
    lines.push(
      `  ${m.period}${m.complete ? '' : ' (to date)'}: ${volume?.messages ?? 0} messages; bought ${percent(m.marketed.purchaseRate)} / ${percent(m.control.purchaseRate)}${c ? `, ${points(c.difference)} [${points(c.low)}, ${points(c.high)}] points` : ''}${m.purchase.warning ? ' (too small to tell)' : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
