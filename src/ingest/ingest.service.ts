import { recordConsent } from '../customers/consent.repository.ts';
import { upsertTouchpoints } from '../channels/touchpoint.repository.ts';
import { resolveCustomers } from '../customers/customer.repository.ts';
import { erasedMessage, erasedRefs } from '../privacy/erasure.ts';
import { normaliseRef } from '../customers/identity.ts';
import { refreshLifecycle } from '../customers/lifecycle.repository.ts';
import { checkAttributeTypes, setStatusFlags, upsertNotes, upsertProfiles, type ProfileInput } from '../customers/profile.repository.ts';
import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { upsertOrders, upsertReturns } from '../orders/order.repository.ts';
import { multiplyDecimal } from '../shared/decimal.ts';
import { rootMessage, sqlState, sqlStateOf } from '../shared/errors.ts';
import { cleanText, inputProblem } from '../shared/input.ts';
import { applyTicketUpdates, upsertIncidents, upsertTickets } from '../support/ticket.repository.ts';
import { upsertSurveyResponses } from '../surveys/survey.repository.ts';
import { ingestEvent, type IngestEvent } from './event.ts';
import { claimEventIds, deadLetter, deleteLedgerRows, ledgerResults, recordLedgerResults } from './ingest.repository.ts';

/** Segment-compatible limits: bytes per event, bytes per request body, events per batch. */
export const ingestLimits = { eventBytes: 32 * 1024, batchBytes: 500 * 1024, batchEvents: 2500 } as const;

export interface FieldIssue { field: string; message: string }
export interface EventResult {
  index: number;
  id: string | null;
  status: 'accepted' | 'duplicate' | 'rejected';
  customerId?: number;
  errors?: FieldIssue[];
}
export interface IngestResult { accepted: number; duplicate: number; rejected: number; results: EventResult[] }

export interface IngestOptions {
  source: string;
  /** Replaying this dead letter: a failure updates it instead of adding another. */
  deadLetterId?: number;
}

type Typed<T extends IngestEvent['type']> = Extract<IngestEvent, { type: T }> & { index: number };
interface Pending { index: number; event: IngestEvent }

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
      results[index].errors = [{ field: 'event', message: `event is ${bytes} bytes; the limit is ${ingestLimits.eventBytes}` }];
      return;
    }
    const parsed = ingestEvent.safeParse(raw);
    if (!parsed.success) {
      results[index].errors = parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || 'event', message: issue.message }));
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

function idOf(raw: unknown): string | null {
  return typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
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
        index: item.index, id: item.event.id, status: 'rejected',
        errors: [{ field: 'event', message: `could not be applied (${reason.slice(0, 300)})${kept ? '; kept as a dead letter for replay' : ''}` }],
      });
    }
  }
  return outcome;
}

/** Applies events (already validated) inside one transaction; returns a result per event. */
export async function applyBatch(deps: Deps, tx: Db, pending: Pending[], source: string): Promise<Map<number, EventResult>> {
  const outcome = new Map<number, EventResult>();
  // Claim the ids first: a concurrent batch with the same id waits here, then sees it as taken.
  const claimed = await claimEventIds(tx, pending.map((p) => ({ id: p.event.id, type: p.event.type })));
  const duplicates = pending.filter((p) => !claimed.has(p.event.id));
  const original = await ledgerResults(tx, duplicates.map((p) => p.event.id));
  for (const p of duplicates) {
    outcome.set(p.index, { index: p.index, id: p.event.id, status: 'duplicate', customerId: original.get(p.event.id) ?? undefined });
  }
  const fresh = pending.filter((p) => claimed.has(p.event.id));
  if (fresh.length === 0) return outcome;

  const refs = fresh.map((p) => normaliseRef(p.event.customer, deps.config.defaultCountry));
  const erased = await erasedRefs(deps, tx, refs);
  const live = fresh.filter((_, i) => !erased.has(i));
  const { ids } = await resolveCustomers(tx, refs.filter((_, i) => !erased.has(i)), {
    source, createMissing: true,
    createdAt: (i) => (live[i].event.type === 'customer.upsert' && live[i].event.createdAt ? new Date(live[i].event.createdAt!) : undefined),
  });
  const customerOf = new Map(live.map((p, i) => [p.index, ids[i]!]));
  const rejected = new Map<number, FieldIssue[]>(fresh.filter((_, i) => erased.has(i)).map((p) => [p.index, [{ field: 'customer', message: erasedMessage }]]));
  const of = <T extends IngestEvent['type']>(type: T) =>
    fresh.filter((p) => p.event.type === type && !rejected.has(p.index)).map((p) => ({ ...(p.event as Extract<IngestEvent, { type: T }>), index: p.index }) as Typed<T>);
  const cid = (e: { index: number }) => customerOf.get(e.index)!;
  const at = (iso: string) => new Date(iso);

  const upserts = of('customer.upsert');
  for (const error of await checkAttributeTypes(tx, upserts)) {
    rejected.set(upserts[error.index].index, [{ field: error.field, message: error.message }]);
  }
  const profiles: ProfileInput[] = [
    ...of('customer.upsert').map((e) => ({
      customerId: cid(e), name: e.name, createdAt: e.createdAt ? at(e.createdAt) : undefined, acquisitionChannel: e.acquisitionChannel,
      attributes: e.attributes, address: e.address ? { ...e.address, at: at(e.at ?? e.createdAt ?? new Date().toISOString()), source } : undefined,
    })),
    ...of('address.change').map((e) => ({ customerId: cid(e), address: { ...e.address, at: at(e.at), source } })),
  ];
  await upsertProfiles(tx, profiles);
  const flagEvents = of('status.change');
  const { changed } = await setStatusFlags(tx, flagEvents.map((e) => ({ customerId: cid(e), flag: e.flag, active: e.active, at: at(e.at), source, note: e.note ?? null })));
  for (const e of flagEvents.filter((f) => changed.includes(cid(f)))) {
    await refreshLifecycle(tx, [cid(e)], { timeZone: deps.config.timeZone, flagChange: { at: at(e.at), cause: `status ${e.flag} ${e.active ? 'set' : 'cleared'} (event ${e.id})` } });
  }
  const orders = await upsertOrders(tx, of('order').map((e) => ({
    customerId: cid(e), externalId: e.orderId, orderedAt: at(e.at), channel: e.channel ?? null, currency: e.currency ?? null, source,
    lines: e.lines.map((line, i) => ({
      lineNo: i + 1, product: line.product ?? null, category: line.category ?? null, quantity: line.quantity, unitPrice: line.unitPrice ?? null,
      amount: line.amount ?? multiplyDecimal(line.quantity, line.unitPrice!),
    })),
  })));
  await refreshLifecycle(tx, orders.changedCustomers, { timeZone: deps.config.timeZone });
  await upsertReturns(tx, of('return').map((e) => ({
    customerId: cid(e), externalId: e.returnId, orderExternalId: e.orderId ?? null, returnedAt: at(e.at), product: e.product ?? null,
    quantity: e.quantity, amount: e.amount, reasonCode: e.reasonCode ?? null, reason: e.reason ?? null, source,
  })));
  await upsertTickets(tx, of('ticket.opened').map((e) => ({
    customerId: cid(e), externalId: e.ticketId, openedAt: at(e.at), channel: e.channel ?? null, category: e.category ?? null,
    priority: e.priority, status: 'open', subject: e.subject ?? null, orderExternalId: e.orderId ?? null, assignee: null, resolvedAt: null, outcome: null,
  })));
  const updates = [
    ...of('ticket.updated').map((e) => ({ index: e.index, customerId: cid(e), ticketExternalId: e.ticketId, at: at(e.at), status: e.status, note: e.note ?? null, assignee: e.assignee ?? null, outcome: null })),
    ...of('ticket.resolved').map((e) => ({ index: e.index, customerId: cid(e), ticketExternalId: e.ticketId, at: at(e.at), status: 'resolved', note: e.note ?? null, assignee: null, outcome: e.outcome })),
  ];
  const { unknown } = await applyTicketUpdates(tx, updates);
  for (const i of unknown) rejected.set(updates[i].index, [{ field: 'ticketId', message: `no ticket ${updates[i].ticketExternalId} for this customer; send ticket.opened first` }]);
  await upsertTouchpoints(tx, of('touchpoint').map((e) => ({
    customerId: cid(e), externalId: e.id, at: at(e.at), channel: e.channel, direction: e.direction, kind: e.kind, campaign: e.campaign ?? null, detail: e.detail ?? null,
  })));
  await upsertIncidents(tx, of('incident').map((e) => ({
    customerId: cid(e), externalId: e.id, at: at(e.at), kind: e.kind, orderExternalId: e.orderId ?? null, channel: e.channel ?? null, detail: e.detail ?? null,
  })));
  await upsertSurveyResponses(tx, of('survey.response').map((e) => ({
    customerId: cid(e), externalId: e.id, at: at(e.at), survey: e.survey, question: e.question, score: e.score === undefined ? null : String(e.score),
    answer: e.answer ?? null, channel: e.channel ?? null,
  })));
  await recordConsent(tx, of('consent').map((e) => ({ customerId: cid(e), list: e.list, granted: e.granted, at: at(e.at), source, wording: e.wording ?? null })));
  await upsertNotes(tx, of('note').map((e) => ({
    customerId: cid(e), externalId: e.id, at: at(e.at), body: e.body, author: e.author ?? null, channel: e.channel ?? null, feeling: e.feeling ?? null,
  })));

  // A rejected event leaves no trace, so it can be sent again once fixed.
  await deleteLedgerRows(tx, fresh.filter((p) => rejected.has(p.index)).map((p) => p.event.id));
  const accepted = fresh.filter((p) => !rejected.has(p.index));
  await recordLedgerResults(tx, accepted.map((p) => ({ id: p.event.id, customerId: customerOf.get(p.index)! })));
  for (const p of fresh) {
    const errors = rejected.get(p.index);
    outcome.set(p.index, errors
      ? { index: p.index, id: p.event.id, status: 'rejected', errors }
      : { index: p.index, id: p.event.id, status: 'accepted', customerId: customerOf.get(p.index) });
  }
  return outcome;
}
