import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { writeFacts } from '../facts/index.ts';
import { upsertProducts } from '../orders/index.ts';
import { AppError, rootMessage, sqlState, sqlStateOf } from '../shared/errors.ts';
import { cleanText, inputProblem } from '../shared/input.ts';
import { ingestEvent, type IngestEvent } from './event.ts';
import { factOf } from './event-facts.ts';
import {
  claimEventIds,
  deadLetter,
  deleteLedgerRows,
  findDeadLetter,
  ledgerResults,
  listDeadLetters,
  lockReferences,
  markReplayed,
  noteReplayFailed,
  recordLedgerResults,
  type DeadLetterRow,
} from './ingest.repository.ts';

/** Segment-compatible limits: bytes per event, bytes per request body, events per batch. */
export const ingestLimits = { eventBytes: 32 * 1024, batchBytes: 500 * 1024, batchEvents: 2500 } as const;

export interface FieldIssue {
  field: string;
  message: string;
}
export interface EventResult {
  index: number;
  id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  customerId?: number;
  errors?: FieldIssue[];
}
export interface IngestResult {
  accepted: number;
  duplicate: number;
  rejected: number;
  results: EventResult[];
}

export interface IngestOptions {
  source: string;
  /** Replaying this dead letter: a failure updates it instead of adding another. */
  deadLetterId?: number;
}

interface Pending {
  index: number;
  event: IngestEvent;
}

const transient = new Set<string>([sqlState.serializationFailure, sqlState.deadlockDetected, sqlState.uniqueViolation]);

/**
 * Validates, deduplicates and stores a batch of events. An event is answered `accepted` only once
 * its effect and its ledger row are committed; a repeated id is answered `duplicate` with the
 * original customer; an event that fails unexpectedly is dead-lettered, never silently dropped.
 */
export async function ingestEvents(deps: Deps, events: unknown[], options: IngestOptions): Promise<IngestResult> {
  const results: EventResult[] = events.map((raw, index) => ({ index, id: idOf(raw), status: 'rejected' }));
  const valid: Pending[] = [];
  const firstIndex = new Map<string, number>();
  events.forEach((raw, index) => {
    // Before anything walks it recursively: text the database cannot hold, or nesting that would overflow the stack.
    const problem = inputProblem(raw);
    if (problem) {
      results[index].errors = [{ field: problem.path || 'event', message: problem.message }];
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(raw) ?? '');
    if (bytes > ingestLimits.eventBytes) {
      results[index].errors = [
        { field: 'event', message: `event is ${bytes} bytes; the limit is ${ingestLimits.eventBytes}` },
      ];
      return;
    }
    const parsed = ingestEvent.safeParse(raw);
    if (!parsed.success) {
      results[index].errors = parsed.error.issues.map((issue) => ({
        field: issue.path.join('.') || 'event',
        message: issue.message,
      }));
      return;
    }
    if (firstIndex.has(parsed.data.id)) {
      results[index].status = 'duplicate';
      return;
    }
    firstIndex.set(parsed.data.id, index);
    valid.push({ index, event: parsed.data });
  });

  if (valid.length > 0) {
    let outcome: Map<number, EventResult>;
    try {
      outcome = await withRetry(() => deps.db.transaction((tx) => applyBatch(deps, tx, valid, options.source)));
    } catch (error) {
      if (isTransientOrUnavailable(error)) throw error;
      deps.logger.warn({ err: error }, 'batch failed; isolating events one by one');
      outcome = await isolate(deps, valid, options);
    }
    for (const [index, result] of outcome) results[index] = result;
  }
  // Duplicates within the batch answer like their first occurrence.
  results.forEach((result, index) => {
    if (result.status === 'duplicate' && result.id !== null && firstIndex.get(result.id) !== index) {
      const first = results[firstIndex.get(result.id)!];
      if (first.customerId !== undefined) result.customerId = first.customerId;
      if (first.status === 'rejected') Object.assign(result, { status: 'rejected', errors: first.errors });
    }
  });
  const count = (status: EventResult['status']) => results.filter((r) => r.status === status).length;
  return { accepted: count('accepted'), duplicate: count('duplicate'), rejected: count('rejected'), results };
}

/** Dead letters, newest first. */
export function deadLetters(deps: Deps, limit: number): Promise<DeadLetterRow[]> {
  return listDeadLetters(deps.db, limit);
}

/** Applies a dead-lettered event again; a replay that fails again leaves the letter waiting, with why. */
export async function replayDeadLetter(deps: Deps, id: number): Promise<IngestResult> {
  const letter = await findDeadLetter(deps.db, id);
  if (!letter) throw new AppError('not_found', 'No such dead letter');
  if (letter.replayed_at) throw new AppError('conflict', 'This dead letter was already replayed');
  const result = await ingestEvents(deps, [letter.payload], { source: letter.source, deadLetterId: letter.id });
  if (result.accepted + result.duplicate === 1) await markReplayed(deps.db, letter.id);
  else {
    const errors = (result.results[0].errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ');
    await noteReplayFailed(
      deps.db,
      letter.id,
      cleanText(`replay ${deps.clock.now().toISOString()} failed: ${errors}`).slice(0, 2000),
    );
  }
  return result;
}

function idOf(raw: unknown): string | null {
  return typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
    ? (raw as { id: string }).id
    : null;
}

function isTransientOrUnavailable(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && /^(08|53|57)/.test(state);
}

async function withRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const state = sqlStateOf(error);
      if (attempt >= 5 || !state || !transient.has(state)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
}

/**
 * Runs each event alone in its own transaction; what still fails unexpectedly is dead-lettered (a
 * replayed dead letter is not stored again). Answers every event: the ones before may have committed,
 * so only a database that is unavailable may end this with an error (the client's retry is then
 * answered `duplicate` for those).
 */
async function isolate(deps: Deps, pending: Pending[], options: IngestOptions): Promise<Map<number, EventResult>> {
  const outcome = new Map<number, EventResult>();
  for (const item of pending) {
    try {
      const one = await withRetry(() => deps.db.transaction((tx) => applyBatch(deps, tx, [item], options.source)));
      for (const [index, result] of one) outcome.set(index, result);
    } catch (error) {
      if (isTransientOrUnavailable(error)) throw error;
      const reason = cleanText(rootMessage(error)).slice(0, 2000);
      let kept = options.deadLetterId !== undefined;
      if (!kept) {
        try {
          await deadLetter(deps.db, { source: options.source, eventId: item.event.id, payload: item.event, reason });
          kept = true;
        } catch (failure) {
          if (isTransientOrUnavailable(failure)) throw failure;
          deps.logger.error({ err: failure, eventId: item.event.id }, 'an event failed and could not be dead-lettered');
        }
      }
      outcome.set(item.index, {
        index: item.index,
        id: item.event.id,
        status: 'rejected',
        errors: [
          {
            field: 'event',
            message: `could not be applied (${reason.slice(0, 300)})${kept ? '; kept as a dead letter for replay' : ''}`,
          },
        ],
      });
    }
  }
  return outcome;
}

/** The customers an event names (its customer, and the other one of a merge), as lock keys. */
function referenceKeys(event: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const value of Object.values(event)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const kind of ['externalId', 'email', 'phone'] as const) {
      const named = (value as Record<string, unknown>)[kind];
      if (typeof named === 'string' && named.trim() !== '') keys.push(`${kind}:${named.trim().toLowerCase()}`);
    }
  }
  return keys;
}

/** Applies events (already validated) inside one transaction; returns a result per event. */
export async function applyBatch(
  deps: Deps,
  tx: Db,
  pending: Pending[],
  source: string,
): Promise<Map<number, EventResult>> {
  const outcome = new Map<number, EventResult>();
  await lockReferences(
    tx,
    pending.flatMap((p) => referenceKeys(p.event)),
  );
  // Claim the ids first: a concurrent batch with the same id waits here, then sees it as taken.
  const claimed = await claimEventIds(
    tx,
    pending.map((p) => ({ id: p.event.id, type: p.event.type })),
  );
  const duplicates = pending.filter((p) => !claimed.has(p.event.id));
  const original = await ledgerResults(
    tx,
    duplicates.map((p) => p.event.id),
  );
  for (const p of duplicates) {
    outcome.set(p.index, {
      index: p.index,
      id: p.event.id,
      status: 'duplicate',
      customerId: original.get(p.event.id) ?? undefined,
    });
  }
  const claimedNow = pending.filter((p) => claimed.has(p.event.id));
  // Catalogue entries name no customer, so the facts pipeline (which resolves one per fact) does not
  // take them: they go to the catalogue's one writer, the one `kept import products` uses.
  const products = claimedNow.flatMap((p) => (p.event.type === 'product.upsert' ? [{ ...p, event: p.event }] : []));
  if (products.length > 0) {
    await upsertProducts(
      tx,
      products.map(({ event }) => ({
        sku: event.sku,
        name: event.name,
        category: event.category,
        price: event.price,
        cost: event.cost,
        currency: event.currency,
      })),
      deps.clock.now(),
    );
    for (const p of products) outcome.set(p.index, { index: p.index, id: p.event.id, status: 'accepted' });
  }
  const fresh = claimedNow.flatMap((p) => (p.event.type === 'product.upsert' ? [] : [{ ...p, event: p.event }]));
  if (fresh.length === 0) return outcome;

  const { rejected, customers } = await writeFacts(
    deps,
    tx,
    fresh.map((p) => factOf(p.event, p.index)),
    {
      source,
      referenceField: 'customer',
      lifecycle: 'refresh',
    },
  );

  // A rejected event leaves no trace, so it can be sent again once fixed.
  await deleteLedgerRows(
    tx,
    fresh.filter((p) => rejected.has(p.index)).map((p) => p.event.id),
  );
  const accepted = fresh.filter((p) => !rejected.has(p.index));
  await recordLedgerResults(
    tx,
    accepted.map((p) => ({ id: p.event.id, customerId: customers.get(p.index)! })),
  );
  for (const p of fresh) {
    const rejection = rejected.get(p.index);
    outcome.set(
      p.index,
      rejection
        ? {
            index: p.index,
            id: p.event.id,
            status: 'rejected',
            errors: [{ field: rejection.field, message: rejection.message }],
          }
        : { index: p.index, id: p.event.id, status: 'accepted', customerId: customers.get(p.index) },
    );
  }
  return outcome;
}
