// The finder against a planted truth: 20,000 customers with duplicates of every kind and decoys;
// precision at least 0.95 and recall at least 0.90 (issue 21), with the figures printed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, refreshStatistics, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { findDuplicates } from './duplicate.service.ts';
import { pairKey, plantStore, type PlantedStore } from '../../test/planted-duplicates.ts';

let deps: Deps;
let store: PlantedStore;
before(async () => {
  deps = await createTestDeps();
  store = await plantStore(deps.db, 20_000, 21, deps.config.defaultCountry);
  await refreshStatistics(deps.db);
});
after(() => deps.close());

test('planted duplicates in 20,000 customers are found with precision >= 0.95 and recall >= 0.90', async () => {
  const started = Date.now();
  const result = await findDuplicates(deps);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(result.customers, store.customers);
  const found = await queryRows<{ a: string; b: string; evidence: string[] }>(
    deps.db,
    sql`select a.external_id as a, b.external_id as b, p.evidence from duplicate_pairs p
      join customers a on a.id = p.first_id join customers b on b.id = p.second_id where p.status = 'open'`,
  );
  const hits = found.filter((p) => store.truth.has(pairKey(p.a, p.b))).length;
  const precision = hits / found.length;
  const recall = hits / store.truth.size;
  const missed = [...store.truth].filter((k) => !found.some((p) => pairKey(p.a, p.b) === k)).slice(0, 5);
  const wrong = found.filter((p) => !store.truth.has(pairKey(p.a, p.b))).slice(0, 5);
  console.log(
    `duplicates: ${store.customers} customers, ${store.truth.size} planted pairs (${Object.entries(store.kinds)
      .map(([k, n]) => `${k} ${n}`)
      .join(
        ', ',
      )}); ${result.candidates} candidates, ${found.length} found, precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}, ${seconds.toFixed(1)} s`,
  );
  assert.ok(precision >= 0.95, `precision ${precision}; e.g. ${JSON.stringify(wrong)}`);
  assert.ok(recall >= 0.9, `recall ${recall}; e.g. missed ${missed.join(', ')}`);
  // Blocking keeps the work near-linear: a few candidates per customer, not n².
  assert.ok(result.candidates < store.customers * 3, `${result.candidates} candidates`);
});
