// A bulk action names its first ids and counts them all: an audit entry never holds an unbounded list.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { audit, auditListLimit } from './audit.repository.ts';

test('a list longer than the limit is cut to its first ids with the total beside it', async () => {
  const t = await createTestApp();
  try {
    const ids = Array.from({ length: 500 }, (_, i) => i + 1);
    await audit(t.deps.db, {
      actor: 'test',
      action: 'test.bulk',
      detail: { customers: ids, few: [1, 2], reason: 'x' },
    });
    const [row] = await queryRows<{ detail: Record<string, unknown> }>(
      t.deps.db,
      sql`select detail from audit_log where action = 'test.bulk'`,
    );
    assert.deepEqual(row.detail, {
      customers: ids.slice(0, auditListLimit),
      customersTotal: 500,
      few: [1, 2],
      reason: 'x',
    });
  } finally {
    await t.close();
  }
});
