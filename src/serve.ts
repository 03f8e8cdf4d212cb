// `kept serve`: the composition root of the server process. It opens the database, registers the job
// handlers, starts the schedules, mounts the app and resumes interrupted jobs; main.ts loads it only
// when `serve` runs.
import { serve as listen } from '@hono/node-server';
import { ensureInitialAdmin } from './auth/auth.service.ts';
import { scheduleNightlyAnalysis, startAnalysis } from './analytics/analyze.service.ts';
import { scheduleCampaigns } from './campaigns/campaign.service.ts';
import { loadConfig } from './config.ts';
import { loadDemoIfEmpty } from './demo/demo.service.ts';
import { createDeps } from './deps.ts';
import { registerJobHandlers } from './jobs/handlers.ts';
import { releaseJobs, resumeJobs } from './jobs/job.service.ts';
import { scheduleJourneys } from './journeys/journey.service.ts';
import { scheduleRetention } from './privacy/retention.ts';
import { createApp } from './server.ts';
import { scheduleWebhooks } from './webhooks/webhook.service.ts';

function loadDemoInBackground(deps: Awaited<ReturnType<typeof createDeps>>): void {
  loadDemoIfEmpty(deps)
    .then((loaded) => {
      if (!loaded) return;
      process.stdout.write('Analysing the demo store in the background (progress on the Analytics page)...\n');
      return startAnalysis(deps, {});
    })
    .catch((error: unknown) =>
      deps.logger.error({ err: error }, 'the demo did not load or its analysis did not start'),
    );
}

export async function serve(options: { port?: number; data?: string; demo?: boolean }): Promise<void> {
  registerJobHandlers();
  const config = loadConfig({ dataDir: options.data, port: options.port });
  const deps = await createDeps(config, { command: 'serve', port: config.port });
  // What no request handler or job caught is logged and the server goes on serving: one bad input
  // must not stop it for everyone, nor exit without a word.
  process.on('unhandledRejection', (reason) =>
    deps.logger.error({ err: reason }, 'unhandled rejection; still serving'),
  );
  process.on('uncaughtException', (error) => deps.logger.error({ err: error }, 'uncaught exception; still serving'));
  const admin = await ensureInitialAdmin(deps);
  const stopSchedule = scheduleNightlyAnalysis(deps);
  const stopCampaigns = scheduleCampaigns(deps);
  const stopJourneys = scheduleJourneys(deps);
  const stopRetention = scheduleRetention(deps);
  const stopWebhooks = scheduleWebhooks(deps);
  const app = createApp(deps);
  const resumed = await resumeJobs(deps);
  if (resumed > 0) deps.logger.info({ jobs: resumed }, 'resumed background jobs interrupted by the last stop');
  const server = listen({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
    const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${info.port}`;
    const login = admin.password
      ? `${admin.email} / ${admin.password}`
      : `${admin.email} (password set by its owner; reset with: npx kept users reset-password --email ${admin.email})`;
    process.stdout.write(
      `\nKept is running on ${deps.database.kind === 'pglite' ? `the embedded database in ${config.dataDir}` : 'PostgreSQL'}\n` +
        `  Open:   ${url}\n  Log in: ${login}\n  API:    ${url}/api/openapi.json\n\n`,
    );
    // The address is true as soon as the server listens, so it prints first; the demo loads behind it
    // (the UI works meanwhile) and its first analysis starts once it is in, shown on the Analytics page.
    if (options.demo) loadDemoInBackground(deps);
  });
  // A port another process holds is a plain fact with a plain fix, not a stack trace.
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE' && error.code !== 'EACCES') throw error;
    const next = config.port + 1;
    process.stderr.write(
      error.code === 'EADDRINUSE'
        ? `Port ${config.port} is in use. Start Kept on another port: npm start -- --port ${next} (or PORT=${next} npm start).\n`
        : `Port ${config.port} needs privileges this user lacks. Start Kept on another port: npm start -- --port ${next} (or PORT=${next} npm start).\n`,
    );
    deps.close().finally(() => process.exit(1));
  });
  const stop = async () => {
    stopSchedule();
    stopCampaigns();
    stopJourneys();
    stopRetention();
    stopWebhooks();
    server.close();
    await releaseJobs(deps);
    await deps.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
