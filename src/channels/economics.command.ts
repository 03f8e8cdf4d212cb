// kept report channels: channel economics in a few lines, or as JSON. Added to the `kept report`
// group that the analytics commands declare; loads what it runs only when it runs.
import type { Command } from 'commander';
import { action, dataOption, withDeps } from '../cli.ts';
import type { Economics } from './economics.ts';

export function registerChannelCommands(program: Command): void {
  const report =
    program.commands.find((c) => c.name() === 'report') ??
    program.command('report').description('Reports of the latest analysis');
  report
    .command('channels')
    .description(
      'Channel economics: per acquisition, order and contact channel what it brings, what goes wrong there, whether its customers come back, and what to emphasise',
    )
    .option('--json', 'print JSON (every figure, with counts and 95 % intervals)')
    .addOption(dataOption())
    .addHelpText(
      'after',
      `
Figures over the whole history as of now; predicted value and the satisfaction index from the latest
analysis. Costs are set on the Channels page or with PUT /api/v1/channels/costs. docs/analytics.md,
"Channel economics", explains each figure and the recommendation rule.`,
    )
    .action(
      action(async (options: { json?: boolean; data?: string }) => {
        const { channelEconomicsReport } = await import('./economics.service.ts');
        await withDeps('report channels', options, async (deps) => {
          const report = await channelEconomicsReport(deps);
          process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : channelsText(report));
        });
      }),
    );
}

const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)} %`);
const kindTitles = {
  acquisition: 'By acquisition channel (where customers came from)',
  order: 'By order channel (where they ordered)',
  contact: 'By contact channel (the contact an order followed)',
};

/** The report in words and columns, as `kept report channels` prints it. */
export function channelsText(report: Economics): string {
  const cash = (v: string | null) => (v === null ? '-' : `${v}${report.currency ? ` ${report.currency}` : ''}`);
  const lines = [
    `Channel economics as of ${report.asOf.slice(0, 10)}${report.run ? ` (predicted value from the analysis as of ${report.run.asOf})` : ''}`,
  ];
  for (const kind of report.kinds) {
    lines.push(
      '',
      kindTitles[kind.kind],
      '  channel  customers  orders  revenue  margin  returns  problems/1,000 orders  NPS  second purchase [95 %]  retained [95 %]  predicted value  cost per retained',
    );
    for (const r of kind.channels)
      lines.push(
        `  ${r.channel}  ${r.customers}  ${r.orders}  ${cash(r.revenue)}  ${cash(r.margin)}  ${r.returns.count} (${cash(r.returns.amount)})  ${r.problems.perThousandOrders ?? '-'}  ${r.satisfaction.nps ?? '-'}  ${percent(r.secondPurchase.rate)} [${percent(r.secondPurchase.low)}, ${percent(r.secondPurchase.high)}] n=${r.secondPurchase.n}  ${percent(r.retention.rate)} [${percent(r.retention.low)}, ${percent(r.retention.high)}] n=${r.retention.n}  ${r.predictedValue.mean ?? '-'}  ${cash(r.costPerRetained)}`,
      );
    const p = kind.problems;
    lines.push(
      `  problems: ${p.total}${kind.kind === 'order' ? `, ${p.viaOrder} placed by their order's channel (they named none)` : ''}${p.unplaced ? `, ${p.unplaced} with no channel or order to place them by` : ''}`,
    );
  }
  lines.push('', 'Later orders by acquisition channel (rows) and order channel (columns)');
  lines.push(`  from \\ to  ${report.movement.to.join('  ')}`);
  for (const from of report.movement.from)
    lines.push(
      `  ${from}  ${report.movement.to.map((to) => report.movement.cells.find((c) => c.from === from && c.to === to)?.orders ?? 0).join('  ')}`,
    );
  lines.push('', 'Recommendations');
  for (const r of report.recommendations) lines.push(`  ${r.channel}: ${r.evidence}`);
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  return `${lines.join('\n')}\n`;
}
