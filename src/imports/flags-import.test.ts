import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { runImport } from './import.service.ts';

let deps: Deps;
let work: string;
before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-flags-'));
  deps = await createTestDeps({ dataDir: work });
});
after(async () => {
  await deps.close();
  fs.rmSync(work, { recursive: true, force: true });
});

test("kept import flags applies a provider's file to existing customers with exact row accounting", async () => {
  const stored = await ingestEvents(
    deps,
    [
      { id: 'p1', type: 'customer.upsert', customer: { externalId: 'P1', email: 'p1@example.com' }, name: 'Pia One' },
      { id: 'p2', type: 'customer.upsert', customer: { externalId: 'P2', email: 'p2@example.com' }, name: 'Paul Two' },
      { id: 'p3', type: 'customer.upsert', customer: { externalId: 'P3', phone: '+49 30 7654321' }, name: 'Per Three' },
      { id: 'p4', type: 'customer.upsert', customer: { externalId: 'P4' }, name: 'Pam Four' },
      {
        id: 'p4d',
        type: 'status.change',
        customer: { externalId: 'P4' },
        at: '2025-12-01T00:00:00Z',
        flag: 'deceased',
        active: true,
      },
    ],
    { source: 'test' },
  );
  assert.equal(stored.accepted, 5);
  const file = path.join(work, 'provider.csv');
  fs.writeFileSync(
    file,
    [
      'Kunde,Status,Datum,Grund',
      'P1,Gone away,2026-03-01,Mail returned: gone away',
      'p2@example.com,DECEASED,2026-03-02,Provider match',
      '+49 30 7654321,do not contact,,Asked on the phone',
      'P9,moved,2026-03-01,',
      'P1,maybe,2026-03-01,',
      'P1,Gone away,2026-03-01,Mail returned: gone away',
      'P4,Deceased,2026-01-01,',
    ].join('\n'),
  );
  const options = {
    kind: 'flags' as const,
    file,
    map: { customer: 'Kunde', flag: 'Status', at: 'Datum', reason: 'Grund' },
    encoding: 'utf-8' as const,
  };
  const before = await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from customers`);
  const outcome = await runImport(deps, options);
  // rows read 7 = applied 3 + already set 2 (the repeated row, the customer already deceased) + rejected 2
  assert.deepEqual(outcome.counts, { read: 7, imported: 0, updated: 3, unchanged: 2, rejected: 2 });
  const rejected = fs.readFileSync(outcome.rejectedFile!, 'utf8').trim().split(/\r?\n/).slice(1);
  assert.equal(rejected.length, 2);
  assert.match(rejected[0], /^P9,moved,2026-03-01,,4,5,customer: no customer with external id P9$/);
  assert.match(
    rejected[1],
    /^P1,maybe,2026-03-01,,5,6,"flag: expected one of deceased, do_not_contact, moved, undeliverable \(also: .*gone away.*; any case\), found ""maybe"""$/,
  );
  const after = await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from customers`);
  assert.equal(after[0].n, before[0].n, 'an unknown customer is never created');

  const flagged = await queryRows<{ external_id: string; flags: string[]; stage: string }>(
    deps.db,
    sql`select external_id, flags, stage from customers order by external_id`,
  );
  assert.deepEqual(
    flagged.map((c) => [c.external_id, c.flags, c.stage]),
    [
      ['P1', ['moved'], 'prospect'],
      ['P2', ['deceased'], 'suppressed'],
      ['P3', ['do_not_contact'], 'suppressed'],
      ['P4', ['deceased'], 'suppressed'],
    ],
  );
  const history = await queryRows<{ external_id: string; flag: string; at: string; source: string; note: string }>(
    deps.db,
    sql`
    select c.external_id, s.flag, s.at::text as at, s.source, s.note from status_changes s join customers c on c.id = s.customer_id
    where s.source like 'import:%' order by c.external_id`,
  );
  assert.deepEqual(
    history.map((h) => [h.external_id, h.flag, h.at.slice(0, 10), h.source, h.note]),
    [
      ['P1', 'moved', '2026-03-01', `import:${outcome.importId}`, 'Mail returned: gone away'],
      ['P2', 'deceased', '2026-03-02', `import:${outcome.importId}`, 'Provider match'],
      [
        'P3',
        'do_not_contact',
        deps.clock.now().toISOString().slice(0, 10),
        `import:${outcome.importId}`,
        'Asked on the phone',
      ],
    ],
  );

  // The same file again changes nothing: every good row is already set.
  const again = await runImport(deps, options);
  assert.deepEqual(again.counts, { read: 7, imported: 0, updated: 0, unchanged: 5, rejected: 2 });
  const changes = await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from status_changes`);
  assert.equal(changes[0].n, 4);
  // A customers file with P1's new address (another door) clears moved, and the timeline says so.
  const moved = path.join(work, 'moved.csv');
  fs.writeFileSync(moved, 'id,line1,city,country\nP1,Neue Strasse 5,Berlin,DE\n');
  const addressed = await runImport(deps, { kind: 'customers', file: moved, map: {}, encoding: 'utf-8' });
  assert.equal(addressed.counts.updated, 1);
  const [p1] = await queryRows<{ flags: string[]; note: string; source: string }>(
    deps.db,
    sql`
    select c.flags, s.note, s.source from customers c join status_changes s on s.customer_id = c.id
    where c.external_id = 'P1' and not s.active`,
  );
  assert.deepEqual(p1, {
    flags: [],
    note: `cleared by a new address (import:${addressed.importId})`,
    source: `import:${addressed.importId}`,
  });
});

test('a flags file without a flag column is refused before any row is read, naming what it needs', async () => {
  const file = path.join(work, 'no-flag.csv');
  fs.writeFileSync(file, 'customer,date\nP1,2026-03-01\n');
  await assert.rejects(
    runImport(deps, { kind: 'flags', file, map: {}, encoding: 'utf-8' }),
    /a flags file needs a column for flag/,
  );
});
