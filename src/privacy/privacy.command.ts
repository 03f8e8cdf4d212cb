import { action, cliActor, dataOption, withDeps, type Command } from '../cli.ts';
import { AppError } from '../shared/errors.ts';

export function registerPrivacyCommand(program: Command): void {
  program
    .command('erase')
    .description(
      'Erase a customer for a deletion request: every record about them goes, and they cannot come back by import, API or event (docs/security.md)',
    )
    .requiredOption('--customer <ref>', 'their email, external id, or #number as shown in the app')
    .option('--yes', 'really erase (it cannot be undone); without it, only says who would be erased')
    .addOption(dataOption())
    .action(
      action(async (options: { customer: string; yes?: boolean; data?: string }) => {
        const [{ normaliseEmail, normaliseExternalId }, { findCustomerByReference }, { eraseCustomer }] =
          await Promise.all([
            import('../customers/identity.ts'),
            import('./privacy.repository.ts'),
            import('./erasure.ts'),
          ]);
        await withDeps('erase', options, async (deps) => {
          const ref = options.customer.trim();
          const number = /^#\d+$/.test(ref) ? Number(ref.slice(1)) : null;
          const found = await findCustomerByReference(
            deps.db,
            number !== null ? { id: number } : { email: normaliseEmail(ref), externalId: normaliseExternalId(ref) },
          );
          if (!found) throw new AppError('not_found', `No customer ${ref}`);
          if (!options.yes) {
            process.stdout.write(
              `Would erase customer #${found.id}${found.name ? ` (${found.name})` : ''}. Run again with --yes to erase; it cannot be undone.\n`,
            );
            return;
          }
          const erased = await eraseCustomer(deps, Number(found.id), { actor: cliActor() });
          process.stdout.write(
            `Erased customer #${erased.customerId}: ${erased.rows} records deleted (${Object.entries(erased.tables)
              .map(([t, n]) => `${t} ${n}`)
              .join(', ')}).\n`,
          );
        });
      }),
    );

  program
    .command('retention')
    .description(
      'Delete what is past its retention, class by class (KEPT_RETENTION; the server also does it every night at 03:00)',
    )
    .addOption(dataOption())
    .action(
      action(async (options: { data?: string }) => {
        const [{ retentionClasses, sweepRetention }, { terminalProgress }] = await Promise.all([
          import('./retention.ts'),
          import('../shared/progress.ts'),
        ]);
        await withDeps('retention', options, async (deps) => {
          const bar = terminalProgress('retention', 'classes');
          const results = await sweepRetention(deps, cliActor(), bar.report);
          bar.stop();
          for (const r of results) {
            const kept =
              r.class === 'orphans'
                ? 'rows left without a customer'
                : r.days === null
                  ? 'kept'
                  : `after ${r.days} days`;
            process.stdout.write(
              `${r.class.padEnd(20)} ${String(r.deleted).padStart(8)} deleted  (${kept}${r.class in retentionClasses ? `: ${retentionClasses[r.class as keyof typeof retentionClasses]}` : ''})\n`,
            );
          }
        });
      }),
    );
}
