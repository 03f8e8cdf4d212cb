// P29: upgrades keep data, and a backup restores to the same rows, on either database and between them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { createTestDatabaseUrl, createTestDeps } from '../../test/database.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { createApiKey, createUser } from '../auth/auth.service.ts';
import { loadConfig } from '../config.ts';
import { createDeps, type Deps } from '../deps.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { createApp } from '../server.ts';
import { migrationsUpTo, restoreBackup, writeBackup } from './backup.ts';
import { migrationsFolder, openDatabase, queryRows, sql, type Database, type Db } from './connection.ts';

const onPostgres = Boolean(process.env.DATABASE_URL);
const tags = (
  JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  }
).entries.map((e) => e.tag);
let work: string;
const cleanups: (() => Promise<void>)[] = [];
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-backup-'));
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

/** An empty database of this run's kind (or PGlite), closed and dropped after the file. */
async function emptyDatabase(kind: 'pglite' | 'postgres'): Promise<Database> {
  const target = kind === 'postgres' ? await createTestDatabaseUrl() : undefined;
  const database = await openDatabase(target ? { databaseUrl: target.url } : { dataDir: 'memory://' });
  cleanups.push(async () => {
    await database.close();
    await target?.drop();
  });
  return database;
}

test('every earlier schema upgrades cleanly to this one, and data stored under the first schema is intact and fully derived after it', async () => {
  const kind = onPostgres ? 'postgres' : 'pglite';
  // One release after another, each upgrade on its own (the data-carrying jump from the first straight to this one is below).
  const chain = await emptyDatabase(kind);
  for (const tag of tags) {
    const upTo = migrationsUpTo(tag);
    await chain.migrate(upTo.folder);
    upTo.dispose();
  }
  const [{ applied }] = await queryRows<{ applied: number }>(
    chain.db,
    sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
  );
  assert.equal(applied, tags.length);

  const first = await emptyDatabase(kind);
  const upTo = migrationsUpTo(tags[0]);
  await first.migrate(upTo.folder);
  upTo.dispose();
  // What a shop had on the first release: two customers, orders on two days, consent, a note, a user.
  await first.db.execute(sql`insert into customers (external_id, email, name, stage, order_days, first_order_at, last_order_at) overriding system value
    values ('A-1', 'ada@example.com', 'Ada Byron', 'customer', 2, '2025-01-02T10:00:00Z', '2025-03-04T10:00:00Z'), ('B-2', 'bo@example.com', 'Bo Lund', 'trial', 1, '2025-02-01T10:00:00Z', '2025-02-01T10:00:00Z')`);
  await first.db.execute(
    sql`insert into identities (kind, value, customer_id, source) values ('external', 'A-1', 1, 'import'), ('email', 'ada@example.com', 1, 'import'), ('external', 'B-2', 2, 'import')`,
  );
  await first.db.execute(sql`insert into orders (customer_id, external_id, ordered_at, total, source) values
    (1, 'O-1', '2025-01-02T10:00:00Z', 30.00, 'import'), (1, 'O-2', '2025-03-04T10:00:00Z', 12.50, 'import'), (2, 'O-3', '2025-02-01T10:00:00Z', 8.00, 'import')`);
  await first.db.execute(
    sql`insert into order_lines (customer_id, order_id, line_no, product, quantity, amount) values (1, 1, 1, 'Scarf', 1, 30.00), (1, 2, 1, 'Tea', 2, 12.50), (2, 3, 1, 'Mug', 1, 8.00)`,
  );
  await first.db.execute(sql`insert into consent_ledger (customer_id, list, granted, at, source, wording) values
    (1, 'marketing', true, '2025-01-01T00:00:00Z', 'import', 'Yes please'), (1, 'marketing', false, '2025-02-01T00:00:00Z', 'unsubscribe', 'Unsubscribed'), (2, 'marketing', true, '2025-01-01T00:00:00Z', 'import', 'Yes')`);
  await first.db.execute(
    sql`insert into notes (customer_id, at, body, feeling) values (1, '2025-01-05T00:00:00Z', 'Prefers calls', 1)`,
  );
  await first.migrate();

  const facts = await queryRows<{
    external_id: string;
    order_count: number;
    spend: string;
    recent: number;
    consent: Record<string, boolean>;
  }>(
    first.db,
    sql`
    select external_id, order_count, spend::text, cardinality(recent_orders) as recent, consent from customers order by id`,
  );
  assert.deepEqual(facts, [
    { external_id: 'A-1', order_count: 2, spend: '42.50', recent: 2, consent: { marketing: false } },
    { external_id: 'B-2', order_count: 1, spend: '8.00', recent: 1, consent: { marketing: true } },
  ]);
  const [note] = await queryRows<{ body: string }>(first.db, sql`select body from notes`);
  assert.equal(note.body, 'Prefers calls');
});

/** Per table: rows and a digest of their JSON, in UTC, so the two databases can be compared. */
async function fingerprint(db: Db): Promise<Record<string, string>> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local timezone = 'UTC'`);
    const names = await queryRows<{ name: string }>(
      tx,
      sql`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`,
    );
    const result: Record<string, string> = {};
    for (const { name } of names) {
      const [row] = await queryRows<{ n: number; digest: string }>(
        tx,
        sql`
        select count(*)::int as n, md5(coalesce(string_agg(row_to_json(t)::text, E'\\n' order by row_to_json(t)::text), '')) as digest from ${sql.identifier(name)} t`,
      );
      result[name] = `${row.n} ${row.digest}`;
    }
    return result;
  });
}

async function storeWithHistory(deps: Deps, scored = true): Promise<void> {
  const who = (i: number) => ({ externalId: `C-${i}`, email: `c${i}@example.com` });
  const events = [];
  for (let i = 1; i <= 40; i++) {
    events.push({
      id: `u${i}`,
      type: 'customer.upsert' as const,
      customer: who(i),
      name: `Customer ${i}`,
      attributes: { tier: i % 3 ? 'silver' : 'gold', since: 2019 + (i % 5) },
    });
    for (let k = 0; k < 1 + (i % 4); k++)
      events.push({
        id: `o${i}-${k}`,
        type: 'order' as const,
        customer: who(i),
        orderId: `O-${i}-${k}`,
        at: new Date(Date.UTC(2025, k * 3, 1 + i)).toISOString(),
        lines: [{ product: 'Tea', quantity: 2, unitPrice: '3.25' }],
      });
  }
  events.push({
    id: 'n',
    type: 'note' as const,
    customer: who(1),
    at: '2025-06-01T10:00:00Z',
    body: 'Line one\nline "two", with a tab\tand émoji 🎉',
    feeling: 2,
  });
  events.push({
    id: 'k',
    type: 'consent' as const,
    customer: who(2),
    at: '2025-06-01T10:00:00Z',
    granted: true,
    wording: 'Yes',
  });
  assert.equal((await ingestEvents(deps, events, { source: 'test' })).rejected, 0);
  if (scored) await analyze(deps, { asOf: '2025-12-31' });
  await createUser(deps, 'owner@example.com', 'admin');
}

test('a backup restores to the same rows in every table, on the same database and across PGlite and PostgreSQL, and the restored Kept carries on', async () => {
  const kinds: ('pglite' | 'postgres')[] = onPostgres ? ['pglite', 'postgres'] : ['pglite'];
  for (const from of kinds) {
    const config = { ...loadConfig({}, { ...process.env, NODE_ENV: 'test' }), databaseUrl: undefined };
    const source =
      from === 'postgres'
        ? await createTestDeps()
        : await createDeps(config, { command: 'test', dataDir: 'memory://' });
    cleanups.push(() => source.close());
    await storeWithHistory(source);
    const file = path.join(work, `${from}.backup`);
    const written = await writeBackup(source.db, file);
    assert.equal(written.version, tags.at(-1));
    const expected = await fingerprint(source.db);
    assert.ok(Number(expected.orders.split(' ')[0]) > 40 && Number(expected.scores.split(' ')[0]) === 40);

    for (const to of kinds) {
      const target = await emptyDatabase(to);
      const restored = await restoreBackup(target, file);
      assert.equal(restored.rows, written.rows);
      assert.deepEqual(await fingerprint(target.db), expected, `${from} to ${to}`);
      await assert.rejects(restoreBackup(target, file), /the database is not empty/, 'nothing is restored over data');

      // The restored database works as Kept: a new customer gets a new id, and the record reads back.
      const deps = { ...source, db: target.db, database: target };
      const added = await ingestEvents(
        deps,
        [{ id: 'new', type: 'customer.upsert', customer: { externalId: 'NEW' }, name: 'New One' }],
        { source: 'test' },
      );
      assert.equal(added.results[0].customerId, 41, `${from} to ${to}: ids carry on after the restored ones`);
      const app = createApp(deps);
      const { key } = await createApiKey(deps, 'check', 'admin');
      const record = await (
        await app.request('/api/v1/customers/1', { headers: { authorization: `Bearer ${key}` } })
      ).json();
      assert.deepEqual([record.name, record.totals.orders], ['Customer 1', 2]);
    }
  }
});

test('a cut-short or foreign file is refused and restores nothing', async () => {
  const deps = await createTestDeps();
  cleanups.push(() => deps.close());
  await storeWithHistory(deps, false);
  const file = path.join(work, 'whole.backup');
  await writeBackup(deps.db, file);
  const whole = zlibLines(file);
  const cut = path.join(work, 'cut.backup');
  fs.writeFileSync(cut, gzip(whole.slice(0, -3).join('\n')));
  const target = await emptyDatabase('pglite');
  await assert.rejects(restoreBackup(target, cut), /cut short or damaged .* nothing was restored/);
  const [{ n }] = await queryRows<{ n: number }>(target.db, sql`select count(*)::int as n from customers`);
  assert.equal(n, 0);
  const foreign = path.join(work, 'foreign.backup');
  fs.writeFileSync(foreign, gzip('{"hello":"world"}\n'));
  await assert.rejects(restoreBackup(await emptyDatabase('pglite'), foreign), /not a Kept backup/);
  const newer = path.join(work, 'newer.backup');
  fs.writeFileSync(
    newer,
    gzip([whole[0].replace(/"version":"[^"]+"/, '"version":"9999_future"'), ...whole.slice(1)].join('\n')),
  );
  await assert.rejects(restoreBackup(await emptyDatabase('pglite'), newer), /made by a newer Kept/);
});

const zlibLines = (file: string) => zlib.gunzipSync(fs.readFileSync(file)).toString('utf8').trimEnd().split('\n');
const gzip = (text: string) => zlib.gzipSync(`${text}\n`);
