import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from './connection.ts';
import { copyRows } from './copy.ts';

test('COPY writes nulls, empty strings, quotes, commas, newlines and arrays exactly, on either database', async () => {
  const deps = await createTestDeps();
  try {
    await deps.db.execute(sql`create table copy_probe (id bigint, label text, amount numeric(14, 2), score float8, lines text[])`);
    await copyRows(deps.db, 'copy_probe', ['id', 'label', 'amount', 'score', 'lines'], [
      [1, '', '12.50', 0.125, ['one, two', 'say "hi"', 'back\\slash', 'two\nlines']],
      [2, null, null, null, []],
      [3, 'plain', '-3.00', 1e-9, ['']],
    ]);
    const rows = await queryRows<Record<string, unknown>>(deps.db, sql`select id, label, amount, score, lines from copy_probe order by id`);
    assert.deepEqual(rows, [
      { id: 1, label: '', amount: '12.50', score: 0.125, lines: ['one, two', 'say "hi"', 'back\\slash', 'two\nlines'] },
      { id: 2, label: null, amount: null, score: null, lines: [] },
      { id: 3, label: 'plain', amount: '-3.00', score: 1e-9, lines: [''] },
    ]);
    await assert.rejects(copyRows(deps.db, 'copy_probe', ['id', 'amount'], [[4, 'not a number']]), /numeric/);
    const [{ n }] = await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from copy_probe`);
    assert.equal(n, 3, 'a failed COPY writes nothing');
  } finally {
    await deps.close();
  }
});
