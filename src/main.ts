import { serve } from '@hono/node-server';
import { Command, InvalidArgumentError } from 'commander';
import { changeUser, createApiKey, createUser, ensureInitialAdmin, resetPassword, revokeKey } from './auth/auth.service.ts';
import { findUserByEmail, listApiKeys, listUsers } from './auth/auth.repository.ts';
import { roles, type Role } from './auth/auth.ts';
import { registerAnalyticsCommands } from './analytics/analytics.command.ts';
import { scheduleCampaigns } from './campaigns/campaign.service.ts';
import { scheduleJourneys } from './journeys/journey.service.ts';
import { scheduleNightlyAnalysis, startAnalysis } from './analytics/analytics.routes.ts';
import { action, cliActor, dataOption, withDeps } from './cli.ts';
import { loadConfig } from './config.ts';
import { createDeps } from './deps.ts';
import { loadDemoIfEmpty, registerDemoCommand } from './demo/demo.command.ts';
import { registerImportCommand } from './imports/import.command.ts';
import { registerBackupCommands } from './db/backup.command.ts';
import { registerPrivacyCommand } from './privacy/privacy.command.ts';
import { scheduleRetention } from './privacy/retention.ts';
import { scheduleWebhooks } from './webhooks/webhook.service.ts';
import { releaseJobs, resumeJobs } from './jobs/job.service.ts';
import { createApp } from './server.ts';
import { AppError } from './shared/errors.ts';

const program = new Command('kept')
  .description('Kept: customer retention. Who is slipping away, why, what to do, and did it work.')
  .version('0.1.0')
  .showHelpAfterError();

const parsePort = (value: string) => {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port number 0-65535');
  return port;
};
const parseRole = (value: string): Role => {
  if (!(roles as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${roles.join(', ')}`);
  return value as Role;
};

program
  .command('serve')
  .description('Run the API, the web UI and the background workers')
  .option('--port <port>', 'port to listen on (default 3000, or KEPT_PORT)', parsePort)
  .addOption(dataOption())
  .option('--demo', 'load the demo data set when the database has no customers yet')
  .action(action(async (options: { port?: number; data?: string; demo?: boolean }) => {
    const config = loadConfig({ dataDir: options.data, port: options.port });
    const deps = await createDeps(config, { command: 'serve', port: config.port });
    // What no request handler or job caught is logged and the server goes on serving: one bad input
    // must not stop it for everyone, nor exit without a word.
    process.on('unhandledRejection', (reason) => deps.logger.error({ err: reason }, 'unhandled rejection; still serving'));
    process.on('uncaughtException', (error) => deps.logger.error({ err: error }, 'uncaught exception; still serving'));
    const admin = await ensureInitialAdmin(deps);
    const demoLoaded = options.demo ? await loadDemoIfEmpty(deps) : false;
    const stopSchedule = scheduleNightlyAnalysis(deps);
    const stopCampaigns = scheduleCampaigns(deps);
    const stopJourneys = scheduleJourneys(deps);
    const stopRetention = scheduleRetention(deps);
    const stopWebhooks = scheduleWebhooks(deps);
    const app = createApp(deps);
    const resumed = await resumeJobs(deps);
    if (resumed > 0) deps.logger.info({ jobs: resumed }, 'resumed background jobs interrupted by the last stop');
    const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
      const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${info.port}`;
      const login = admin.password ? `${admin.email} / ${admin.password}` : `${admin.email} (password set by its owner; reset with: npx kept users reset-password --email ${admin.email})`;
      process.stdout.write(`\nKept is running on ${deps.database.kind === 'pglite' ? `the embedded database in ${config.dataDir}` : 'PostgreSQL'}\n` +
        `  Open:   ${url}\n  Log in: ${login}\n  API:    ${url}/api/openapi.json\n\n`);
      // The demo's first analysis starts once the address is printed; the Analytics page shows its progress.
      if (demoLoaded) {
        process.stdout.write('Analysing the demo store in the background (progress on the Analytics page)...\n');
        startAnalysis(deps, {}).catch((error: unknown) => deps.logger.error({ err: error }, 'the demo analysis did not start'));
      }
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
  }));

program
  .command('migrate')
  .description('Create or upgrade the database schema (idempotent)')
  .addOption(dataOption())
  .action(action(async (options: { data?: string }) => {
    await withDeps('migrate', options, async (deps) => {
      process.stdout.write(`schema up to date (${deps.database.kind})\n`);
    });
  }));

registerImportCommand(program);
registerDemoCommand(program);
registerAnalyticsCommands(program);
registerPrivacyCommand(program);
registerBackupCommands(program);

const users = program.command('users').description('Manage people who sign in');
users
  .command('add')
  .description('Add a user; prints a generated password once')
  .requiredOption('--email <email>', 'their sign-in address')
  .requiredOption('--role <role>', `one of ${roles.join(', ')}`, parseRole)
  .addOption(dataOption())
  .option('--json', 'print JSON')
  .action(action(async (options: { email: string; role: Role; data?: string; json?: boolean }) => {
    await withDeps('users add', options, async (deps) => {
      const user = await createUser(deps, options.email, options.role, cliActor());
      process.stdout.write(options.json ? `${JSON.stringify(user)}\n` : `Added ${user.email} (${user.role}). Password, shown once: ${user.password}\n`);
    });
  }));
users
  .command('reset-password')
  .description('Give a user a new generated password; prints it once')
  .requiredOption('--email <email>', 'their sign-in address')
  .addOption(dataOption())
  .action(action(async (options: { email: string; data?: string }) => {
    await withDeps('users reset-password', options, async (deps) => {
      process.stdout.write(`New password for ${options.email}, shown once: ${await resetPassword(deps, options.email, cliActor())}\n`);
    });
  }));
users
  .command('change')
  .description("Change a user's role, or disable them (their sessions end at once) or enable them again")
  .requiredOption('--email <email>', 'their sign-in address')
  .option('--role <role>', `one of ${roles.join(', ')}`, parseRole)
  .option('--disable', 'they can no longer sign in')
  .option('--enable', 'they can sign in again')
  .addOption(dataOption())
  .action(action(async (options: { email: string; role?: Role; disable?: boolean; enable?: boolean; data?: string }) => {
    await withDeps('users change', options, async (deps) => {
      const user = await findUserByEmail(deps.db, options.email.trim().toLowerCase());
      if (!user) throw new AppError('not_found', `No user ${options.email}`);
      const changed = await changeUser(deps, user.id, { role: options.role, disabled: options.disable ? true : options.enable ? false : undefined }, cliActor());
      process.stdout.write(`${changed.email}: ${changed.role}${changed.disabledAt ? ', disabled' : ''}\n`);
    });
  }));
users
  .command('list')
  .description('List users')
  .addOption(dataOption())
  .option('--json', 'print JSON')
  .action(action(async (options: { data?: string; json?: boolean }) => {
    await withDeps('users list', options, async (deps) => {
      const rows = await listUsers(deps.db);
      if (options.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else for (const u of rows) process.stdout.write(`${u.id}\t${u.email}\t${u.role}${u.disabledAt ? '\tdisabled' : ''}\n`);
    });
  }));

const keys = program.command('keys').description('Manage API keys for integrations');
keys
  .command('create')
  .description('Create an API key; prints it once (only its hash is stored)')
  .requiredOption('--name <name>', 'what the key is for')
  .requiredOption('--role <role>', `one of ${roles.join(', ')}`, parseRole)
  .option('--scope <area:read|write>', 'limit the key to an area, e.g. events:write (repeat for several; docs/security.md)', (v: string, all: string[] = []) => [...all, v])
  .addOption(dataOption())
  .option('--json', 'print JSON')
  .action(action(async (options: { name: string; role: Role; scope?: string[]; data?: string; json?: boolean }) => {
    await withDeps('keys create', options, async (deps) => {
      const key = await createApiKey(deps, options.name, options.role, options.scope ?? null, cliActor());
      const limited = key.scopes ? `, only ${key.scopes.join(', ')}` : '';
      process.stdout.write(options.json ? `${JSON.stringify(key)}\n`
        : `Created key #${key.id} "${key.name}" (${key.role}${limited}). Shown once, keep it safe:\n${key.key}\n`);
    });
  }));
keys
  .command('list')
  .description('List API keys (never the keys themselves)')
  .addOption(dataOption())
  .option('--json', 'print JSON')
  .action(action(async (options: { data?: string; json?: boolean }) => {
    await withDeps('keys list', options, async (deps) => {
      const rows = await listApiKeys(deps.db);
      if (options.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else for (const k of rows) process.stdout.write(`${k.id}\t${k.name}\t${k.role}\t${k.scopes?.join(',') ?? 'all of its role'}\t${k.prefix}…${k.revokedAt ? '\trevoked' : ''}\n`);
    });
  }));
keys
  .command('revoke')
  .description('Revoke an API key at once')
  .requiredOption('--id <id>', 'the key number from `kept keys list`', (v) => Number(v))
  .addOption(dataOption())
  .action(action(async (options: { id: number; data?: string }) => {
    await withDeps('keys revoke', options, async (deps) => {
      const done = await revokeKey(deps, options.id, cliActor());
      process.stdout.write(done ? `Revoked key #${options.id}\n` : `No active key #${options.id}\n`);
      if (!done) process.exitCode = 2;
    });
  }));

// A reader that stops early (`kept export scores | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

await program.parseAsync(process.argv);
