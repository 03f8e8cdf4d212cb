import { Command, InvalidArgumentError } from 'commander';
import { action, dataOption, parseDay, withDeps } from '../cli.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { terminalProgress } from '../shared/progress.ts';
import { journeyFromRecipe, setJourneyStatus } from '../journeys/journey.service.ts';
import { recipes } from '../journeys/journey.ts';
import { loadDemo } from './generate.ts';

export const demoDefaults = { customers: 2000, seed: 1 } as const;

const positiveInt = (max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`a whole number from 1 to ${max.toLocaleString('en')}`);
  return n;
};
// Yesterday's last second (UTC): nothing in the future, and the same store all day.
const yesterday = () => new Date(Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`) - 1000);

async function runDemo(deps: Deps, options: { customers: number; seed: number; end: Date }) {
  const progress = terminalProgress('demo', 'customers');
  try {
    const started = performance.now();
    const loaded = await loadDemo(deps, { ...options, onProgress: progress.report });
    progress.stop();
    process.stdout.write(`Loaded the demo store: ${loaded.customers.toLocaleString('en')} customers, ${loaded.events.toLocaleString('en')} events ` +
      `in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${options.seed}, ending ${options.end.toISOString().slice(0, 10)})\n`);
  } finally {
    progress.stop();
  }
}

/** `npm start`: the demo store goes into a database that has no customers yet, and never into one that has; true when it did. */
export async function loadDemoIfEmpty(deps: Deps): Promise<boolean> {
  const [{ n }] = await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from (select 1 from customers limit 1) c`);
  if (n > 0) return false;
  await runDemo(deps, { ...demoDefaults, end: yesterday() });
  await startDemoJourneys(deps);
  return true;
}

/**
 * The five journeys, so the demo shows them at work: active when mail is captured (the analysis
 * that follows moves customers to at risk and lapsed, which starts win-backs and exit surveys);
 * drafts when a real SMTP server is configured, so no demo address is ever mailed.
 */
async function startDemoJourneys(deps: Deps) {
  const demo = { kind: 'key', id: 0, name: 'demo', role: 'admin' } as const;
  for (const recipe of recipes) {
    const journey = await journeyFromRecipe(deps, demo, recipe.key);
    if (deps.mailer.kind === 'capture') await setJourneyStatus(deps, journey.id, 'active');
  }
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Generate and load the demo store: two years of a homeware shop with cause and effect built in (docs/demo-data.md)')
    .option('--customers <n>', 'how many customers', positiveInt(100_000), demoDefaults.customers)
    .option('--seed <n>', 'random seed; the same seed and end give the same store', positiveInt(2 ** 31), demoDefaults.seed)
    .option('--end <date>', 'last day of the two years (default yesterday)', (value: string) => new Date(`${parseDay(value)}T23:59:59Z`))
    .addOption(dataOption())
    .addHelpText('after', '\nLoading twice with the same seed and end changes nothing: every event has a stable id.')
    .action(action(async (options: { customers: number; seed: number; end?: Date; data?: string }) => {
      await withDeps('demo', options, (deps) => runDemo(deps, { customers: options.customers, seed: options.seed, end: options.end ?? yesterday() }));
    }));
}
