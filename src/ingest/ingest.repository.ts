import { array, queryRows, sql, type Db } from '../db/connection.ts';

/**
 * Takes a transaction-long advisory lock per customer reference, in one global order, before the
 * batch writes anything. Concurrent batches about the same customers then wait for each other
 * instead of taking row locks in different orders and deadlocking (which cost a retry, then a
 * one-by-one isolation of the whole batch).
 */
export async function lockReferences(db: Db, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await db.execute(sql`
    select count(pg_advisory_xact_lock(h)) from (
      select distinct hashtextextended(k, 0) as h from unnest(${array(keys)}::text[]) as k order by 1
    ) ordered`);
}

/** Inserts ledger rows for ids not seen before; returns the ids this transaction now owns. */
export async function claimEventIds(db: Db, events: { id: string; type: string }[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const rows = await queryRows<{ event_id: string }>(
    db,
    sql`
    insert into ingested_events (event_id, type, result)
    select id, type, '{}'::jsonb from unnest(${array(events.map((e) => e.id))}::text[], ${array(events.map((e) => e.type))}::text[]) as t(id, type)
    on conflict (event_id) do nothing
    returning event_id`,
  );
  return new Set(rows.map((row) => row.event_id));
}

export async function ledgerResults(db: Db, ids: string[]): Promise<Map<string, number | null>> {
  if (ids.length === 0) return new Map();
  const rows = await queryRows<{ event_id: string; customer_id: number | null }>(
    db,
    sql`
    select event_id, customer_id from ingested_events where event_id = any(${array(ids)}::text[])`,
  );
  return new Map(rows.map((row) => [row.event_id, row.customer_id]));
}

export async function recordLedgerResults(db: Db, results: { id: string; customerId: number }[]): Promise<void> {
  if (results.length === 0) return;
  await db.execute(sql`
    update ingested_events e set customer_id = r.customer_id, result = jsonb_build_object('customerId', r.customer_id)
    from unnest(${array(results.map((r) => r.id))}::text[], ${array(results.map((r) => r.customerId))}::bigint[]) as r(id, customer_id)
    where e.event_id = r.id`);
}

export async function deleteLedgerRows(db: Db, ids: string[]): Promise<void> {
  if (ids.length > 0) await db.execute(sql`delete from ingested_events where event_id = any(${array(ids)}::text[])`);
}

export async function deadLetter(
  db: Db,
  letter: { source: string; eventId: string | null; payload: unknown; reason: string },
): Promise<void> {
  await db.execute(sql`
    insert into dead_letters (source, event_id, payload, reason)
    values (${letter.source}, ${letter.eventId}, ${JSON.stringify(letter.payload)}, ${letter.reason})`);
}

export interface DeadLetterRow {
  id: number;
  source: string;
  event_id: string | null;
  payload: unknown;
  reason: string;
  created_at: string;
  replayed_at: string | null;
}

// The payload is kept as JSON text, which holds what jsonb refuses; it is read back as JSON.
const readLetter = (row: DeadLetterRow & { payload: string }): DeadLetterRow => ({
  ...row,
  payload: JSON.parse(row.payload),
});

export async function listDeadLetters(db: Db, limit: number): Promise<DeadLetterRow[]> {
  return (
    await queryRows<DeadLetterRow & { payload: string }>(
      db,
      sql`
    select id, source, event_id, payload, reason, created_at, replayed_at from dead_letters order by id desc limit ${limit}`,
    )
  ).map(readLetter);
}

export async function findDeadLetter(db: Db, id: number): Promise<DeadLetterRow | undefined> {
  const [row] = await queryRows<DeadLetterRow & { payload: string }>(
    db,
    sql`select id, source, event_id, payload, reason, created_at, replayed_at from dead_letters where id = ${id}`,
  );
  return row && readLetter(row);
}

export async function markReplayed(db: Db, id: number): Promise<void> {
  await db.execute(sql`update dead_letters set replayed_at = now() where id = ${id}`);
}

/** A replay that failed again: the letter keeps waiting, with why. */
export async function noteReplayFailed(db: Db, id: number, reason: string): Promise<void> {
  await db.execute(sql`update dead_letters set reason = ${reason} where id = ${id}`);
}
