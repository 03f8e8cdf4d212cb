// The `kept` command: the program and its commands, declared with commander only. Each command
// loads its code when it runs (an `await import` in its action), so `kept --help` loads no
// database driver, web framework or model.
import { Command, InvalidArgumentError } from 'commander';
import { registerAnalyticsCommands } from './analytics/analytics.command.ts';
import { registerAuthCommands } from './auth/auth.command.ts';
import { registerChannelCommands } from './channels/economics.command.ts';
import { registerExperimentCommands } from './campaigns/experiment.command.ts';
import { registerProgrammeCommand } from './campaigns/lift.command.ts';
import { action, dataOption, withDeps } from './cli.ts';
import { registerBackupCommands } from './db/backup.command.ts';
import { registerDemoCommand } from './demo/demo.command.ts';
import { registerDuplicatesCommand } from './duplicates/duplicate.command.ts';
import { registerImportCommand } from './imports/import.command.ts';
import { registerPrivacyCommand } from './privacy/privacy.command.ts';

const program = new Command('kept')
  .description('Kept: customer retention. Who is slipping away, why, what to do, and did it work.')
  .version('0.1.0')
  .showHelpAfterError();

const parsePort = (value: string) => {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port number 0-65535');
  return port;
};

program
  .command('serve')
  .description('Run the API, the web UI and the background workers')
  .option('--port <port>', 'port to listen on (default 3000, or KEPT_PORT)', parsePort)
  .addOption(dataOption())
  .option('--demo', 'load the demo data set when the database has no customers yet')
  .action(
    action(async (options: { port?: number; data?: string; demo?: boolean }) => {
      const { serve } = await import('./serve.ts');
      await serve(options);
    }),
  );

program
  .command('migrate')
  .description('Create or upgrade the database schema (idempotent)')
  .addOption(dataOption())
  .action(
    action(async (options: { data?: string }) => {
      await withDeps('migrate', options, async (deps) => {
        process.stdout.write(`schema up to date (${deps.database.kind})\n`);
      });
    }),
  );

registerImportCommand(program);
registerDemoCommand(program);
registerAnalyticsCommands(program);
registerChannelCommands(program);
registerExperimentCommands(program);
registerProgrammeCommand(program);
registerPrivacyCommand(program);
registerDuplicatesCommand(program);
registerBackupCommands(program);
registerAuthCommands(program);

// A reader that stops early (`kept export scores | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

await program.parseAsync(process.argv);
