import path from 'node:path';
import { action, dataOption, withDeps, type Command } from '../cli.ts';
import { loadConfig } from '../config.ts';

export function registerBackupCommands(program: Command): void {
  program
    .command('backup')
    .description(
      'Write everything in the database to one file (gzipped JSON lines); restore it with kept restore, on either database',
    )
    .requiredOption('--to <file>', 'where to write it, e.g. kept-2026-12-02.backup')
    .addOption(dataOption())
    .action(
      action(async (options: { to: string; data?: string }) => {
        const [{ writeBackup }, { terminalProgress }] = await Promise.all([
          import('./backup.ts'),
          import('../shared/progress.ts'),
        ]);
        await withDeps('backup', options, async (deps) => {
          const bar = terminalProgress('backup');
          const done = await writeBackup(deps.db, path.resolve(options.to), bar.report);
          bar.stop();
          process.stdout.write(
            `Backed up ${done.rows} rows of ${done.tables} tables (schema ${done.version}) to ${options.to}\n`,
          );
        });
      }),
    );
  program
    .command('restore')
    .description(
      'Load a backup into a new, empty database (the --data folder or DATABASE_URL), then upgrade it to this version',
    )
    .requiredOption('--from <file>', 'a file written by kept backup')
    .addOption(dataOption())
    .action(
      action(async (options: { from: string; data?: string }) => {
        const [{ restoreBackup }, { openDatabase }, { acquireDataLock }, { terminalProgress }] = await Promise.all([
          import('./backup.ts'),
          import('./connection.ts'),
          import('./lock.ts'),
          import('../shared/progress.ts'),
        ]);
        // Not through withDeps: that would build the newest schema first, and the backup needs its own.
        const config = loadConfig({ dataDir: options.data });
        const release = config.databaseUrl ? () => undefined : acquireDataLock(config.dataDir, { command: 'restore' });
        try {
          const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
          try {
            const bar = terminalProgress('restore');
            const done = await restoreBackup(database, path.resolve(options.from), bar.report);
            bar.stop();
            process.stdout.write(
              `Restored ${done.rows} rows of schema ${done.version} and upgraded to this version (${database.kind})\n`,
            );
          } finally {
            await database.close();
          }
        } finally {
          release();
        }
      }),
    );
}
