import os from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from './config.ts';
import type { Deps } from './deps.ts';
import { AppError } from './shared/errors.ts';

/** Exit codes the CLI promises: 0 done, 1 failed, 2 bad usage or input, 3 database in use by another process. */
export const exitCode = { ok: 0, failed: 1, badInput: 2, locked: 3 } as const;

/** A --date option's value: a calendar day YYYY-MM-DD, kept as that text. */
export function parseDay(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)))
    throw new InvalidArgumentError('a date like 2026-11-22');
  return value;
}

/** Who ran a command, as the audit log names them: the operating-system user. */
export const cliActor = () => `cli:${os.userInfo().username}`;

export const dataOption = () =>
  new Option('--data <dir>', 'folder of the embedded database (ignored when DATABASE_URL is set)');

/** Opens the database for one CLI command (taking the embedded database's lock), runs it, closes. */
export async function withDeps<T>(
  command: string,
  options: { data?: string; port?: number },
  run: (deps: Deps) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ dataDir: options.data, port: options.port });
  // Loaded here, not at the top: `kept --help` and argument errors never load the database drivers.
  const { createDeps } = await import('./deps.ts');
  const deps = await createDeps(config, { command, port: options.port });
  try {
    return await run(deps);
  } finally {
    await deps.close();
  }
}

/** Prints an error the way every command does and sets the exit code. */
export function reportFailure(error: unknown): void {
  if (error instanceof AppError) {
    process.stderr.write(`kept: ${error.message}\n`);
    process.exitCode =
      error.code === 'database_locked'
        ? exitCode.locked
        : error.code === 'validation_failed' || error.code === 'bad_request'
          ? exitCode.badInput
          : exitCode.failed;
    return;
  }
  process.stderr.write(`kept: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = exitCode.failed;
}

/** Wraps a command's action so failures print one clear line and exit with a meaningful code. */
export function action<A extends unknown[]>(run: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await run(...args);
    } catch (error) {
      reportFailure(error);
    }
  };
}

export { Command, Option };
