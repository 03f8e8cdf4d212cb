import { InvalidArgumentError } from 'commander';
import { action, cliActor, dataOption, withDeps, type Command } from '../cli.ts';

const parseScore = (value: string) => {
  const score = Number(value);
  if (!/^\d*\.?\d+$/.test(value) || score < 0 || score > 1)
    throw new InvalidArgumentError('a score from 0 to 1, e.g. 0.7');
  return score;
};

export function registerDuplicatesCommand(program: Command): void {
  const duplicates = program
    .command('duplicates')
    .description('Customers that look like one person: find them for the review queue (docs/duplicates.md)');
  duplicates
    .command('find')
    .description(
      'Compare all customers (name, email, phone, address, postcode) and list the pairs that look like one person, highest score first, with the evidence in words; the pairs join the review queue (the Duplicates page), pairs marked "not the same person" stay so',
    )
    .option('--json', 'print {"pairs":[{score, evidence, first, second}]} for a script')
    .option('--min-score <score>', 'propose pairs at or above this score, 0 to 1 (default 0.6)', parseScore)
    .addOption(dataOption())
    .action(
      action(async (options: { json?: boolean; minScore?: number; data?: string }) => {
        const [{ allPairs, findDuplicates }, { terminalProgress }, { audit }] = await Promise.all([
          import('./duplicate.service.ts'),
          import('../shared/progress.ts'),
          import('../audit/index.ts'),
        ]);
        await withDeps('duplicates find', options, async (deps) => {
          const bar = terminalProgress('duplicates', 'pairs');
          const result = await findDuplicates(deps, { minScore: options.minScore, progress: bar.report });
          bar.stop();
          await audit(deps.db, {
            actor: cliActor(),
            action: 'duplicates.found',
            detail: { found: result.found, added: result.added, removed: result.removed, minScore: result.minScore },
          });
          process.stderr.write(
            `Compared ${result.customers} customers: ${result.candidates} candidate pairs, ${result.found} at or above ${result.minScore} ` +
              `(${result.added} new, ${result.removed} no longer found, ${result.decided} already decided) in ${result.seconds.toFixed(1)} s\n`,
          );
          // The pairs found (open or put off), a page at a time so a big store is not held in memory.
          if (options.json) process.stdout.write('{"pairs":[');
          let written = 0;
          for await (const pair of allPairs(deps, ['open', 'later'], result.minScore)) {
            if (options.json) {
              const who = (c: typeof pair.first) => ({
                id: c.id,
                externalId: c.externalId,
                name: c.name,
                email: c.email,
              });
              const line = JSON.stringify({
                score: pair.score,
                evidence: pair.evidence,
                status: pair.status,
                first: who(pair.first),
                second: who(pair.second),
              });
              process.stdout.write(`${written > 0 ? ',' : ''}\n${line}`);
            } else {
              const who = (c: typeof pair.first) =>
                `#${c.id}${c.externalId ? ` (${c.externalId})` : ''} ${c.name ?? '(no name)'}`;
              process.stdout.write(
                `${pair.score.toFixed(3)}  ${who(pair.first)}  ~  ${who(pair.second)}  ${pair.evidence.join('; ')}${pair.status === 'later' ? '  [later]' : ''}\n`,
              );
            }
            written++;
          }
          if (options.json) process.stdout.write('\n]}\n');
        });
      }),
    );
}
