import path from 'node:path';
import v8 from 'node:v8';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { action, cliActor, dataOption, withDeps } from '../cli.ts';
import type { Delimiter } from './csv-source.ts';
import { encodings, importKinds, targets, type Encoding, type ImportKind } from './import-options.ts';

const delimiters: Record<string, Delimiter> = {
  ',': ',',
  comma: ',',
  ';': ';',
  semicolon: ';',
  tab: '\t',
  '\\t': '\t',
};

const width = Math.max(...importKinds.map((kind) => kind.length));
const targetHelp = importKinds.map((kind) => `  ${kind.padEnd(width)} ${targets[kind].all.join(', ')}`).join('\n');

export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description(`Import ${importKinds.slice(0, -1).join(', ')} or ${importKinds.at(-1)} from a CSV file`)
    .argument('<kind>', `what the file holds: ${importKinds.join(', ')} or campaign`, (value: string) => {
      if (value !== 'campaign' && !(importKinds as readonly string[]).includes(value))
        throw new InvalidArgumentError(`one of ${importKinds.join(', ')} or campaign`);
      return value as ImportKind;
    })
    .argument('<file>', 'the CSV file (comma, semicolon or tab separated; UTF-8 unless --encoding)')
    .option('--map <pairs>', 'target=SourceColumn pairs, comma-separated, for columns not named like their target')
    .option(
      '--date-format <format>',
      'how dates are written, with yyyy MM dd HH mm ss (e.g. yyyyMMdd, dd/MM/yyyy HH:mm); default ISO 8601',
    )
    .addOption(
      new Option('--delimiter <delimiter>', 'column separator; sniffed from the header when not given').choices(
        Object.keys(delimiters),
      ),
    )
    .addOption(
      new Option('--encoding <encoding>', 'text encoding of the file').choices([...encodings]).default('utf-8'),
    )
    .option('--rejected <file>', 'where to write rejected rows (default <data>/imports/<id>-rejected.csv)')
    .addOption(dataOption())
    .option('--json', 'print the summary as JSON')
    .option('--name <name>', 'campaign: the name of the experiment')
    .option('--control <arm>', 'campaign: the arm that is the holdout (default control)')
    .addHelpText(
      'after',
      `
Mapping targets per kind:
${targetHelp}

Orders: rows with the same order id form one order with several lines; without an order column,
rows with the same customer and time form one order. amount may be given or computed as
quantity x unit_price. Rows with negative quantity (credit notes) become returns.
Customers: every column that maps to no target is kept as a custom attribute, typed as number,
date (YYYY-MM-DD), yes/no or text from its first rows.
Subscriptions: one row is one subscription as it stands: started at started_at, renewed at
renewed_at and cancelled at cancelled_at (with reason_code, reason) when those are given; period is
week, month, quarter or year (monthly, yearly, annual ... too); subscription defaults to
customer:start date.
Products: the catalogue, one row per SKU (id, or a column named sku); name, category, price, cost,
currency. Order lines name the SKU as their product: the catalogue's category then wins over the
line's, and a cost gives each line its margin. An empty or absent column keeps what is stored.
Flags: a provider's moved or deceased file: --map customer=Col,flag=Col[,at=Col,reason=Col]. The
customer is an external id, an email or a phone number (+49 30 ..., 030-...; a plain run of digits
is an external id) of a customer Kept has: an unknown one is a rejected row, never a new customer.
flag is moved, deceased, undeliverable or do_not_contact, in any case, or a provider's word for one
(gone away, dead, return to sender, do not contact ...). Each row sets its flag (at: when, default
now; reason: kept as the note); the summary reads: rows read = applied + already set + rejected.
Campaign: an experiment run elsewhere, one row per member: --map customer=Col,arm=Col[,at=Col,
converted=Col,revenue=Col,engaged=Col] --name NAME [--control ARM]. All or nothing: an unknown
customer or a bad value is reported with its row and column and nothing is imported. Then
kept report campaign NAME --json [--by ATTRIBUTE].
Times without a zone are in the business time zone (KEPT_TIME_ZONE, default UTC).

Every row is imported or reported: rejected rows go to a CSV with row number and reason.
Importing the same file again changes nothing. An import that stopped (even kill -9) resumes
from its last checkpoint when the same command runs again.

Exit codes: 0 the import completed (rejected rows, if any, are in the rejected file),
2 the file cannot be read as asked (missing column, not UTF-8 ...), 3 the database is in use.

Example:
  kept import orders cdnowElog.csv --map customer=masterid,at=date,amount=sales --date-format yyyyMMdd`,
    )
    .action(
      action(
        async (
          kind: ImportKind,
          file: string,
          options: {
            map?: string;
            dateFormat?: string;
            delimiter?: string;
            encoding: Encoding;
            rejected?: string;
            data?: string;
            json?: boolean;
            name?: string;
            control?: string;
          },
        ) => {
          // V8 lets the heap grow to about four times what is live before it collects in full. An import
          // keeps little alive (one chunk) but allocates fast, so this process collects once the heap has
          // grown 30 % instead: about 260 MB at its peak instead of 420 MB, at the same speed
          // (docs/benchmarks.md). The flag only sets when collections happen, not what they keep.
          v8.setFlagsFromString('--heap-growing-percent=30');
          if ((kind as string) === 'campaign') {
            const { runExperimentImport } = await import('../campaigns/experiment.command.ts');
            return runExperimentImport(file, options);
          }
          const [{ parseMap }, { runImport }, { audit }, { terminalProgress }] = await Promise.all([
            import('./import.ts'),
            import('./import.service.ts'),
            import('../audit/index.ts'),
            import('../shared/progress.ts'),
          ]);
          const map = parseMap(options.map);
          await withDeps('import', options, async (deps) => {
            const progress = terminalProgress(`import ${kind}`, 'bytes');
            const started = performance.now();
            try {
              const outcome = await runImport(
                deps,
                {
                  kind,
                  file: path.resolve(file),
                  map,
                  dateFormat: options.dateFormat,
                  delimiter: options.delimiter ? delimiters[options.delimiter] : undefined,
                  encoding: options.encoding,
                  rejectedFile: options.rejected ? path.resolve(options.rejected) : undefined,
                },
                { onProgress: progress.report },
              );
              progress.stop();
              await audit(deps.db, {
                actor: cliActor(),
                action: 'import.finished',
                target: `${kind} from ${path.basename(file)}`,
                detail: { importId: outcome.importId, ...outcome.counts },
              });
              const seconds = (performance.now() - started) / 1000;
              const { read, imported, updated, unchanged, rejected } = outcome.counts;
              // A flag row either set its flag (applied), found it set (already set) or was rejected.
              const flags = kind === 'flags' ? { applied: updated, alreadySet: unchanged } : {};
              if (options.json) {
                process.stdout.write(
                  `${JSON.stringify({ importId: outcome.importId, ...outcome.counts, ...flags, rejectedFile: outcome.rejectedFile, resumed: outcome.resumed, seconds })}\n`,
                );
              } else if (kind === 'flags') {
                process.stdout.write(
                  `${outcome.resumed ? 'Resumed and finished' : 'Finished'} import #${outcome.importId} in ${seconds.toFixed(1)} s: ` +
                    `rows read ${read} = applied ${updated} + already set ${unchanged} + rejected ${rejected}\n` +
                    (outcome.rejectedFile
                      ? `Rejected rows, with row number and reason: ${outcome.rejectedFile}\n`
                      : ''),
                );
              } else {
                process.stdout.write(
                  `${outcome.resumed ? 'Resumed and finished' : 'Finished'} import #${outcome.importId} in ${seconds.toFixed(1)} s: ` +
                    `read ${read}, imported ${imported}, updated ${updated}, unchanged ${unchanged}, rejected ${rejected}\n` +
                    (outcome.rejectedFile
                      ? `Rejected rows, with row number and reason: ${outcome.rejectedFile}\n`
                      : ''),
                );
              }
            } finally {
              progress.stop();
            }
          });
        },
      ),
    );
}
