import { InvalidArgumentError, type Command } from 'commander';
import { action, dataOption, parseDay, withDeps } from '../cli.ts';
import { demoDefaults, yesterday } from './demo.ts';

const positiveInt = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new InvalidArgumentError(`a whole number from 1 to ${max.toLocaleString('en')}`);
  return n;
};

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Generate and load the demo store: two years of a homeware shop with cause and effect built in (docs/demo-data.md)',
    )
    .option('--customers <n>', 'how many customers', positiveInt(100_000), demoDefaults.customers)
    .option(
      '--seed <n>',
      'random seed; the same seed and end give the same store',
      positiveInt(2 ** 31),
      demoDefaults.seed,
    )
    .option(
      '--end <date>',
      'last day of the two years (default yesterday)',
      (value: string) => new Date(`${parseDay(value)}T23:59:59Z`),
    )
    .addOption(dataOption())
    .addHelpText('after', '\nLoading twice with the same seed and end changes nothing: every event has a stable id.')
    .action(
      action(async (options: { customers: number; seed: number; end?: Date; data?: string }) => {
        const { runDemo } = await import('./demo.service.ts');
        await withDeps('demo', options, (deps) =>
          runDemo(deps, { customers: options.customers, seed: options.seed, end: options.end ?? yesterday() }),
        );
      }),
    );
}
