// `kept users` and `kept keys`: the people who sign in and the API keys of integrations. Each action
// loads what it runs only when it runs, so `kept --help` stays quick.
import { InvalidArgumentError, type Command } from 'commander';
import { action, cliActor, dataOption, withDeps } from '../cli.ts';
import { AppError } from '../shared/errors.ts';
import { roles, type Role } from '../shared/principal.ts';

const parseRole = (value: string): Role => {
  if (!(roles as readonly string[]).includes(value)) throw new InvalidArgumentError(`one of ${roles.join(', ')}`);
  return value as Role;
};

export function registerAuthCommands(program: Command): void {
  const users = program.command('users').description('Manage people who sign in');
  users
    .command('add')
    .description('Add a user; prints a generated password once')
    .requiredOption('--email <email>', 'their sign-in address')
    .requiredOption('--role <role>', `one of ${roles.join(', ')}`, parseRole)
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(
      action(async (options: { email: string; role: Role; data?: string; json?: boolean }) => {
        const { createUser } = await import('./auth.service.ts');
        await withDeps('users add', options, async (deps) => {
          const user = await createUser(deps, options.email, options.role, cliActor());
          process.stdout.write(
            options.json
              ? `${JSON.stringify(user)}\n`
              : `Added ${user.email} (${user.role}). Password, shown once: ${user.password}\n`,
          );
        });
      }),
    );
  users
    .command('reset-password')
    .description('Give a user a new generated password; prints it once')
    .requiredOption('--email <email>', 'their sign-in address')
    .addOption(dataOption())
    .action(
      action(async (options: { email: string; data?: string }) => {
        const { resetPassword } = await import('./auth.service.ts');
        await withDeps('users reset-password', options, async (deps) => {
          process.stdout.write(
            `New password for ${options.email}, shown once: ${await resetPassword(deps, options.email, cliActor())}\n`,
          );
        });
      }),
    );
  users
    .command('change')
    .description("Change a user's role, or disable them (their sessions end at once) or enable them again")
    .requiredOption('--email <email>', 'their sign-in address')
    .option('--role <role>', `one of ${roles.join(', ')}`, parseRole)
    .option('--disable', 'they can no longer sign in')
    .option('--enable', 'they can sign in again')
    .addOption(dataOption())
    .action(
      action(async (options: { email: string; role?: Role; disable?: boolean; enable?: boolean; data?: string }) => {
        const [{ changeUser }, { findUserByEmail }] = await Promise.all([
          import('./auth.service.ts'),
          import('./auth.repository.ts'),
        ]);
        await withDeps('users change', options, async (deps) => {
          const user = await findUserByEmail(deps.db, options.email.trim().toLowerCase());
          if (!user) throw new AppError('not_found', `No user ${options.email}`);
          const disabled = options.disable ? true : options.enable ? false : undefined;
          const changed = await changeUser(deps, user.id, { role: options.role, disabled }, cliActor());
          process.stdout.write(`${changed.email}: ${changed.role}${changed.disabledAt ? ', disabled' : ''}\n`);
        });
      }),
    );
  users
    .command('list')
    .description('List users')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(
      action(async (options: { data?: string; json?: boolean }) => {
        const { listUsers } = await import('./auth.repository.ts');
        await withDeps('users list', options, async (deps) => {
          const rows = await listUsers(deps.db);
          if (options.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
          else
            for (const u of rows)
              process.stdout.write(`${u.id}\t${u.email}\t${u.role}${u.disabledAt ? '\tdisabled' : ''}\n`);
        });
      }),
    );

  const keys = program.command('keys').description('Manage API keys for integrations');
  keys
    .command('create')
    .description('Create an API key; prints it once (only its hash is stored)')
    .requiredOption('--name <name>', 'what the key is for')
    .requiredOption('--role <role>', `one of ${roles.join(', ')}`, parseRole)
    .option(
      '--scope <area:read|write>',
      'limit the key to an area, e.g. events:write (repeat for several; docs/security.md)',
      (v: string, all: string[] = []) => [...all, v],
    )
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(
      action(async (options: { name: string; role: Role; scope?: string[]; data?: string; json?: boolean }) => {
        const { createApiKey } = await import('./auth.service.ts');
        await withDeps('keys create', options, async (deps) => {
          const key = await createApiKey(deps, options.name, options.role, options.scope ?? null, cliActor());
          const limited = key.scopes ? `, only ${key.scopes.join(', ')}` : '';
          process.stdout.write(
            options.json
              ? `${JSON.stringify(key)}\n`
              : `Created key #${key.id} "${key.name}" (${key.role}${limited}). Shown once, keep it safe:\n${key.key}\n`,
          );
        });
      }),
    );
  keys
    .command('list')
    .description('List API keys (never the keys themselves)')
    .addOption(dataOption())
    .option('--json', 'print JSON')
    .action(
      action(async (options: { data?: string; json?: boolean }) => {
        const { listApiKeys } = await import('./auth.repository.ts');
        await withDeps('keys list', options, async (deps) => {
          const rows = await listApiKeys(deps.db);
          if (options.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
          else {
            for (const k of rows) {
              const scopes = k.scopes?.join(',') ?? 'all of its role';
              process.stdout.write(
                `${k.id}\t${k.name}\t${k.role}\t${scopes}\t${k.prefix}…${k.revokedAt ? '\trevoked' : ''}\n`,
              );
            }
          }
        });
      }),
    );
  keys
    .command('revoke')
    .description('Revoke an API key at once')
    .requiredOption('--id <id>', 'the key number from `kept keys list`', (v) => Number(v))
    .addOption(dataOption())
    .action(
      action(async (options: { id: number; data?: string }) => {
        const { revokeKey } = await import('./auth.service.ts');
        await withDeps('keys revoke', options, async (deps) => {
          const done = await revokeKey(deps, options.id, cliActor());
          process.stdout.write(done ? `Revoked key #${options.id}\n` : `No active key #${options.id}\n`);
          if (!done) process.exitCode = 2;
        });
      }),
    );
}
