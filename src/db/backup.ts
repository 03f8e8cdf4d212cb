// Backup and restore (P29), the same on both databases and between them: a gzipped file of JSON
// lines (a header naming the schema version, then each table's rows as PostgreSQL renders them,
// then a closing line with the count, so a cut-short file is refused). Restore builds the schema
// of the backup's version in an empty database, loads every table in one transaction, and then
// upgrades it like any database: restoring an old backup is an upgrade test of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { AppError } from '../shared/errors.ts';
import type { ProgressReporter } from '../shared/progress.ts';
import { migrationsFolder, queryRows, refreshStatistics, sql, type Database, type Db } from './connection.ts';

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}
const journal = (): { entries: JournalEntry[] } & Record<string, unknown> =>
  JSON.parse(fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8'));

/** A copy of the migrations up to and including `tag`, for a database that must stop at that version. */
export function migrationsUpTo(tag: string): { folder: string; dispose(): void } {
  const all = journal();
  const last = all.entries.findIndex((e) => e.tag === tag);
  if (last < 0)
    throw new AppError(
      'bad_request',
      `schema version ${tag} is not one this Kept knows: the backup was made by a newer Kept`,
    );
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-migrations-'));
  fs.mkdirSync(path.join(folder, 'meta'));
  const entries = all.entries.slice(0, last + 1);
  fs.writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify({ ...all, entries }));
  for (const e of entries)
    fs.copyFileSync(path.join(migrationsFolder, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
  return { folder, dispose: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/** The latest migration applied, or null for a database Kept never touched. */
async function schemaVersion(db: Db): Promise<string | null> {
  const [exists] = await queryRows<{ ok: boolean }>(
    db,
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as ok`,
  );
  if (!exists.ok) return null;
  const [row] = await queryRows<{ created_at: string }>(
    db,
    sql`select created_at::text from drizzle.__drizzle_migrations order by created_at::bigint desc limit 1`,
  );
  return row ? (journal().entries.find((e) => String(e.when) === row.created_at)?.tag ?? 'unknown') : null;
}

async function tables(db: Db): Promise<string[]> {
  return (
    await queryRows<{ name: string }>(
      db,
      sql`
    select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`,
    )
  ).map((r) => r.name);
}

const pageSize = 2000;

/** Writes every table to `file` (through a temporary file, so a failed backup leaves no half file). */
export async function writeBackup(
  database: Db,
  file: string,
  report?: ProgressReporter,
): Promise<{ tables: number; rows: number; version: string }> {
  // One snapshot for the whole file, so a backup taken while Kept runs (on PostgreSQL) is consistent.
  return database.transaction((db) => writeSnapshot(db, file, report), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  });
}

async function writeSnapshot(
  db: Db,
  file: string,
  report?: ProgressReporter,
): Promise<{ tables: number; rows: number; version: string }> {
  const version = await schemaVersion(db);
  if (!version) throw new AppError('bad_request', 'there is nothing to back up: the database has no Kept schema');
  const names = await tables(db);
  let total = 0;
  for (const name of names)
    total += (await queryRows<{ n: number }>(db, sql`select count(*)::int as n from ${sql.identifier(name)}`))[0].n;
  let rows = 0;
  async function* lines() {
    yield `${JSON.stringify({ kept: 'backup', format: 1, version, at: new Date().toISOString(), tables: names.length, rows: total })}\n`;
    for (const name of names) {
      yield `${JSON.stringify({ table: name })}\n`;
      // Pages in physical order (ctid), so a big table is never read whole; each row as PostgreSQL writes it as JSON.
      for (let after = '(0,0)'; ; ) {
        const page = await queryRows<{ at: string; row: string }>(
          db,
          sql`
          select ctid::text as at, row_to_json(t)::text as row from ${sql.identifier(name)} t where ctid > ${after}::tid order by ctid limit ${pageSize}`,
        );
        if (page.length === 0) break;
        yield `${page.map((r) => r.row).join('\n')}\n`;
        rows += page.length;
        report?.(rows, total, name);
        after = page.at(-1)!.at;
      }
    }
    yield `${JSON.stringify({ end: true, rows })}\n`;
  }
  const partial = `${file}.partial`;
  await pipeline(Readable.from(lines()), zlib.createGzip(), fs.createWriteStream(partial));
  fs.renameSync(partial, file);
  return { tables: names.length, rows, version };
}

/** Loads a backup into an empty database, then upgrades it to this Kept's schema. */
export async function restoreBackup(
  database: Database,
  file: string,
  report?: ProgressReporter,
): Promise<{ tables: number; rows: number; version: string }> {
  if (!fs.existsSync(file)) throw new AppError('bad_request', `no file ${file}`);
  const input = readline.createInterface({
    input: fs.createReadStream(file).pipe(zlib.createGunzip()),
    crlfDelay: Infinity,
  });
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next().catch(() => ({ done: true, value: '' }));
  let header: { kept?: string; format?: number; version: string; rows: number };
  try {
    header = JSON.parse(first.done ? '' : first.value);
  } catch {
    throw new AppError('bad_request', `${file} is not a Kept backup (kept backup writes one)`);
  }
  if (header.kept !== 'backup' || header.format !== 1)
    throw new AppError('bad_request', `${file} is not a Kept backup in a format this Kept reads`);
  const current = await schemaVersion(database.db);
  if (current) {
    // Migrations seed some tables (the standard surveys); people, customers and the log mean it is in use.
    for (const name of ['users', 'customers', 'audit_log']) {
      if (
        (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(name)}`))[0]
          .n > 0
      ) {
        throw new AppError(
          'conflict',
          `the database is not empty (${name} has rows): restore goes into a new database, so nothing in it is overwritten`,
        );
      }
    }
    const order = journal().entries.map((e) => e.tag);
    if (order.indexOf(current) > order.indexOf(header.version)) {
      throw new AppError(
        'conflict',
        `the database already has schema ${current}, newer than the backup's ${header.version}: restore into a new database`,
      );
    }
  }
  const schema = migrationsUpTo(header.version);
  try {
    await database.migrate(schema.folder);
  } finally {
    schema.dispose();
  }
  let rows = 0;
  let ended = false;
  await database.db.transaction(async (tx) => {
    // What the migrations seeded is in the backup too, as it was then.
    for (const name of await tables(tx)) await tx.execute(sql`delete from ${sql.identifier(name)}`);
    let table: string | null = null;
    let batch: string[] = [];
    const flush = async () => {
      if (!table || batch.length === 0) return;
      await tx.execute(sql`insert into ${sql.identifier(table)} overriding system value
        select * from json_populate_recordset(null::${sql.identifier(table)}, ${`[${batch.join(',')}]`}::json)`);
      rows += batch.length;
      batch = [];
      report?.(rows, header.rows, table);
    };
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      const line = next.value;
      if (line.startsWith('{"table":')) {
        await flush();
        table = (JSON.parse(line) as { table: string }).table;
      } else if (line.startsWith('{"end":')) {
        await flush();
        ended = (JSON.parse(line) as { rows: number }).rows === rows;
      } else if (line) {
        batch.push(line);
        if (batch.length >= pageSize) await flush();
      }
    }
    if (!ended)
      throw new AppError(
        'bad_request',
        `${file} is cut short or damaged (it has no closing line with a matching count); nothing was restored`,
      );
    // Identity columns continue after the restored ids.
    const identities = await queryRows<{ table_name: string; column_name: string }>(
      tx,
      sql`
      select table_name, column_name from information_schema.columns where table_schema = current_schema() and is_identity = 'YES'`,
    );
    for (const { table_name, column_name } of identities) {
      await tx.execute(sql`select setval(pg_get_serial_sequence(${table_name}, ${column_name}),
        coalesce((select max(${sql.identifier(column_name)}) from ${sql.identifier(table_name)}), 0) + 1, false)`);
    }
  });
  await database.migrate();
  await refreshStatistics(database.db);
  return { tables: (await tables(database.db)).length, rows, version: header.version };
}
