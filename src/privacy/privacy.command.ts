import { action, cliActor, dataOption, withDeps, type Command } from '../cli.ts';
import { normaliseEmail, normaliseExternalId } from '../customers/identity.ts';
import { queryRows, sql } from '../db/connection.ts';
import { AppError } from '../shared/errors.ts';
import { eraseCustomer } from './erasure.ts';
import { retentionClasses, sweepRetention } from './retention.ts';
import { terminalProgress } from '../shared/progress.ts';

export function registerPrivacyCommand(program: Command): void {
  program
    .command('erase')
    .description('Erase a customer for a deletion request: every record about them goes, and they cannot come back by import, API or event (docs/security.md)')
    .requiredOption('--customer <ref>', 'their email, external id, or #number as shown in the app')
    .option('--yes', 'really erase (it cannot be undone); without it, only says who would be erased')
    .addOption(dataOption())
    .action(action(async (options: { customer: string; yes?: boolean; data?: string }) => {
      await withDeps('erase', options, async (deps) => {
        const ref = options.customer.trim();
        const number = /^#\d+$/.test(ref) ? Number(ref.slice(1)) : null;
        const [found] = await queryRows<{ id: number; name: string | null }>(deps.db, number !== null
          ? sql`select id, name from customers where id = ${number}`
          : sql`select c.id, c.name from identities i join customers c on c.id = i.customer_id
              where (i.kind = 'email' and i.value = ${normaliseEmail(ref)}) or (i.kind = 'external' and i.value = ${normaliseExternalId(ref)}) limit 1`);
        if (!found) throw new AppError('not_found', `No customer ${ref}`);
        if (!options.yes) {
          process.stdout.write(`Would erase customer #${found.id}${found.name ? ` (${found.name})` : ''}. Run again with --yes to erase; it cannot be undone.\n`);
          return;
        }
        const erased = await eraseCustomer(deps, Number(found.id), { actor: cliActor() });
        process.stdout.write(`Erased customer #${erased.customerId}: ${erased.rows} records deleted (${Object.entries(erased.tables).map(([t, n]) => `${t} ${n}`).join(', ')}).\n`);
      });
    }));

  program
    .command('retention')
    .description('Delete what is past its retention, class by class (KEPT_RETENTION; the server also does it every night at 03:00)')
    .addOption(dataOption())
    .action(action(async (options: { data?: string }) => {
      await withDeps('retention', options, async (deps) => {
        const bar = terminalProgress('retention', 'classes');
        const results = await sweepRetention(deps, cliActor(), bar.report);
        bar.stop();
        for (const r of results) {
          const kept = r.class === 'orphans' ? 'rows left without a customer' : r.days === null ? 'kept' : `after ${r.days} days`;
          process.stdout.write(`${r.class.padEnd(20)} ${String(r.deleted).padStart(8)} deleted  (${kept}${r.class in retentionClasses ? `: ${retentionClasses[r.class as keyof typeof retentionClasses]}` : ''})\n`);
        }
      });
    }));
}
