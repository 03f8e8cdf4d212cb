import type { Deps } from '../deps.ts';
import { journeyFromRecipe, setJourneyStatus } from '../journeys/journey.service.ts';
import { recipes } from '../journeys/journey.ts';
import { terminalProgress } from '../shared/progress.ts';
import { demoDefaults, yesterday } from './demo.ts';
import { hasCustomers } from './demo.repository.ts';
import { loadDemo } from './generate.ts';

/** Loads the demo store with a progress bar and says what it loaded. */
export async function runDemo(deps: Deps, options: { customers: number; seed: number; end: Date }) {
  const progress = terminalProgress('demo', 'customers');
  try {
    const started = performance.now();
    const loaded = await loadDemo(deps, { ...options, onProgress: progress.report });
    progress.stop();
    process.stdout.write(
      `Loaded the demo store: ${loaded.customers.toLocaleString('en')} customers, ${loaded.events.toLocaleString('en')} events, ` +
        `${loaded.campaigns} past campaign${loaded.campaigns === 1 ? '' : 's'} ` +
        `in ${((performance.now() - started) / 1000).toFixed(1)} s (seed ${options.seed}, ending ${options.end.toISOString().slice(0, 10)})\n`,
    );
  } finally {
    progress.stop();
  }
}

/** `npm start`: the demo store goes into a database that has no customers yet, and never into one that has; true when it did. */
export async function loadDemoIfEmpty(deps: Deps): Promise<boolean> {
  if (await hasCustomers(deps.db)) return false;
  await runDemo(deps, { ...demoDefaults, end: yesterday() });
  await startDemoJourneys(deps);
  return true;
}

/**
 * The six journeys, so the demo shows them at work: active when mail is captured (the analysis
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
