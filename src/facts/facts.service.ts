// The one write pipeline: every door (events, files) hands over facts, and this checks erasure,
// resolves their customers, writes each kind with its one writer and keeps the lifecycle current.
// A new kind of fact is a FactData entry (fact.ts), its writer (a repository function) and its
// line in `writers` below.
import { upsertTouchpoints } from '../channels/index.ts';
import {
  changeContacts,
  checkAttributeTypes,
  deceasedFinalMessage,
  newAddressArrived,
  normaliseRef,
  settleAddressReview,
  recordConsent,
  refreshLifecycle,
  resolveCustomers,
  setStatusFlags,
  upsertNotes,
  upsertProfiles,
  type NormalisedRef,
  type ProfileInput,
} from '../customers/index.ts';
import type { Db } from '../db/connection.ts';
import { addCounts, emptyCounts, type WriteCounts } from '../db/upsert.ts';
import type { Deps } from '../deps.ts';
import { upsertDeliveries, upsertOrders, upsertReturns } from '../orders/index.ts';
import { erasedMessage, erasedRefs } from '../privacy/index.ts';
import { checkRecords } from '../quality/index.ts';
import { applyTicketUpdates, upsertIncidents, upsertTickets } from '../support/index.ts';
import { upsertSubscriptions, type EventOutcome } from '../subscriptions/index.ts';
import { upsertSurveyResponses } from '../surveys/index.ts';
import type { CustomerRef, Fact, FactKind, Rejection, ResolvedFact } from './fact.ts';

/** What one write of facts runs with; writers add to its rejections, counts and changed customers. */
interface Run {
  deps: Deps;
  tx: Db;
  source: string;
  lifecycle: Lifecycle;
  created: ReadonlySet<number>;
  rejected: Map<number, Rejection>;
  counts: WriteCounts;
  changedCustomers: Set<number>;
  /** Customers whose profile or address changed: the entry checks run on them (and on the created) at the end. */
  rechecked: Set<number>;
  /** New current addresses written in this run (they may clear moved and undeliverable). */
  addressed: { customerId: number; at: Date }[];
}
/** Refresh purchase facts and stages of customers whose orders changed now, or hand them back to refresh later. */
export type Lifecycle = 'refresh' | 'defer';

interface Writer<Kind extends FactKind = FactKind> {
  /** The kinds it writes, in one call, in this order. */
  kinds: readonly Kind[];
  write(run: Run, facts: ResolvedFact<Kind>[]): Promise<void>;
}
const writer = <Kind extends FactKind>(kinds: readonly Kind[], write: Writer<Kind>['write']): Writer<Kind> => ({
  kinds,
  write,
});
const count = (run: Run, counts: WriteCounts) => {
  run.counts = addCounts(run.counts, counts);
};
/**
 * Counts per door item (`index`) what the writer did with each fact: a file row that states several
 * facts is one row, inserted when all its facts were new, unchanged when none changed, else updated.
 */
const countPerItem = (run: Run, facts: ResolvedFact[], outcomes: EventOutcome[]) => {
  const byItem = new Map<number, Set<EventOutcome>>();
  facts.forEach((f, i) => byItem.set(f.index, (byItem.get(f.index) ?? new Set()).add(outcomes[i])));
  for (const seen of byItem.values()) {
    if (seen.size === 1 && seen.has('inserted')) run.counts.inserted++;
    else if (seen.size === 1 && seen.has('unchanged')) run.counts.unchanged++;
    else run.counts.updated++;
  }
};

const addressArrived = (run: Run, addressed: Run['addressed']) =>
  newAddressArrived(run.tx, addressed, {
    source: run.source,
    mode: run.deps.config.newAddressClears,
    timeZone: run.deps.config.timeZone,
  });

/** Each kind's writer, in the order they run: orders before what links to them (returns, deliveries, tickets, incidents). */
const writers = [
  writer(['profile', 'address'], async (run, facts) => {
    const profiles = facts.filter((f) => f.kind === 'profile');
    // Custom attributes are typed at first sight; a value of another type rejects its fact.
    for (const error of await checkAttributeTypes(
      run.tx,
      profiles.map((f) => f.data),
    )) {
      run.rejected.set(profiles[error.index].index, { field: error.field, message: error.message });
    }
    const good = facts.filter((f) => !run.rejected.has(f.index));
    // Without a person's note, the door is the actor of what changes (record_edits).
    const door = { actor: run.source, reason: null, byPerson: false };
    const { changed, addressed } = await upsertProfiles(
      run.tx,
      good.map((f): ProfileInput => {
        if (f.kind === 'profile')
          return {
            ...f.data,
            customerId: f.customerId,
            address: f.data.address && { ...f.data.address, source: run.source },
            edit: f.data.edit ?? door,
          };
        const { edit, ...address } = f.data;
        return { customerId: f.customerId, address: { ...address, source: run.source }, edit: edit ?? door };
      }),
      run.deps.clock.now(),
    );
    for (const id of changed) run.rechecked.add(id);
    // Counted per fact: the first of a customer created now is inserted, of one changed updated.
    const updated = new Set(changed);
    const counted = new Set<number>();
    for (const { customerId } of good) {
      if (counted.has(customerId)) run.counts.unchanged++;
      else if (run.created.has(customerId)) run.counts.inserted++;
      else if (updated.has(customerId)) run.counts.updated++;
      else run.counts.unchanged++;
      counted.add(customerId);
    }
    // A new current address clears moved and undeliverable, or asks (KEPT_NEW_ADDRESS_CLEARS).
    run.addressed.push(...addressed);
    await addressArrived(run, addressed);
  }),
  writer(['contact'], async (run, facts) => {
    const { changed, rejected, updatedFacts } = await changeContacts(
      run.tx,
      facts.map((f) => ({
        ...f.data,
        customerId: f.customerId,
        source: run.source,
        note: f.data.edit ?? { actor: run.source, reason: null, byPerson: false },
      })),
      { defaultCountry: run.deps.config.defaultCountry, now: run.deps.clock.now() },
    );
    for (const { index, ...rejection } of rejected) run.rejected.set(facts[index].index, rejection);
    for (const id of changed) run.rechecked.add(id);
    facts.forEach((f, i) => {
      if (updatedFacts.has(i)) run.counts.updated++;
      else if (!run.rejected.has(f.index)) run.counts.unchanged++;
    });
  }),
  writer(['status'], async (run, facts) => {
    // Deceased is final: only an admin's reversal in the record (flags.routes.ts) clears it.
    for (const f of facts)
      if (f.data.flag === 'deceased' && !f.data.active && !f.data.adminReversal)
        run.rejected.set(f.index, { field: 'active', message: deceasedFinalMessage });
    const allowed = facts.filter((f) => !run.rejected.has(f.index));
    const { changed, applied } = await setStatusFlags(
      run.tx,
      allowed.map((f) => ({ ...f.data, customerId: f.customerId, source: run.source })),
    );
    // A file's flag row counts as updated when it set or cleared the flag, unchanged when it was already so.
    for (const done of applied) run.counts[done ? 'updated' : 'unchanged']++;
    for (const { customerId, data } of allowed.filter((f) => changed.includes(f.customerId))) {
      const cause = `status ${data.flag} ${data.active ? 'set' : 'cleared'} (${data.origin})`;
      await refreshLifecycle(run.tx, [customerId], {
        timeZone: run.deps.config.timeZone,
        flagChange: { at: data.at, cause },
      });
    }
    // A flag set in this run before an address of this run is cleared by it, as if they came one by one.
    await addressArrived(
      run,
      run.addressed.filter((a) => changed.includes(a.customerId)),
    );
    await settleAddressReview(run.tx, changed);
  }),
  writer(['order'], async (run, facts) => {
    const written = await upsertOrders(
      run.tx,
      facts.map((f) => ({ ...f.data, customerId: f.customerId, source: run.source })),
    );
    count(run, written);
    if (run.lifecycle === 'refresh')
      await refreshLifecycle(run.tx, written.changedCustomers, { timeZone: run.deps.config.timeZone });
    else for (const id of written.changedCustomers) run.changedCustomers.add(id);
  }),
  writer(['return'], async (run, facts) => {
    count(
      run,
      await upsertReturns(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId, source: run.source })),
      ),
    );
  }),
  writer(['delivery'], async (run, facts) => {
    count(
      run,
      await upsertDeliveries(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId, source: run.source })),
      ),
    );
  }),
  writer(['ticket'], async (run, facts) => {
    count(
      run,
      await upsertTickets(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId })),
      ),
    );
  }),
  writer(['ticketUpdate'], async (run, facts) => {
    // Resolutions after plain updates: a ticket resolved at the instant it was updated ends resolved.
    const ordered = [...facts.filter((f) => f.data.outcome === null), ...facts.filter((f) => f.data.outcome !== null)];
    const { unknown } = await applyTicketUpdates(
      run.tx,
      ordered.map((f) => ({ ...f.data, customerId: f.customerId })),
    );
    for (const i of unknown) {
      const message = `no ticket ${ordered[i].data.ticketExternalId} for this customer; send ticket.opened first`;
      run.rejected.set(ordered[i].index, { field: 'ticketId', message });
    }
  }),
  writer(['touchpoint'], async (run, facts) => {
    count(
      run,
      await upsertTouchpoints(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId })),
      ),
    );
  }),
  writer(['incident'], async (run, facts) => {
    count(
      run,
      await upsertIncidents(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId })),
      ),
    );
  }),
  writer(['subscription'], async (run, facts) => {
    const { outcomes } = await upsertSubscriptions(
      run.tx,
      facts.map((f) => ({ ...f.data, customerId: f.customerId, source: run.source })),
    );
    countPerItem(run, facts, outcomes);
  }),
  writer(['surveyResponse'], async (run, facts) => {
    count(
      run,
      await upsertSurveyResponses(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId })),
      ),
    );
  }),
  writer(['consent'], async (run, facts) => {
    await recordConsent(
      run.tx,
      facts.map((f) => ({ ...f.data, customerId: f.customerId, source: run.source })),
    );
  }),
  writer(['note'], async (run, facts) => {
    count(
      run,
      await upsertNotes(
        run.tx,
        facts.map((f) => ({ ...f.data, customerId: f.customerId })),
      ),
    );
  }),
];
// A kind of fact without a writer fails the type check here.
const everyKindWritten: [Exclude<FactKind, (typeof writers)[number]['kinds'][number]>] extends [never] ? true : never =
  true;
void everyKindWritten;

/** How a reference names its customer, in words: external id X, email X or phone X. */
const usable = (ref: NormalisedRef) => ref.externalId !== null || ref.email !== null || ref.phone !== null;
const namedBy = (ref: CustomerRef) =>
  ref.externalId ? `external id ${ref.externalId}` : ref.email ? `email ${ref.email}` : `phone ${ref.phone ?? ''}`;

export interface ResolveOptions<Item> {
  /** Where the facts came from: written with them and with the identities of new customers. */
  source: string;
  /** The field a problem with the customer reference is reported on ('customer' for events; a file's column). */
  referenceField: string;
  /** When the relationship of a customer created for this item began; now when not given. */
  createdAt?: (item: Item) => Date | undefined;
  /** false: only existing customers; an item naming nobody known is rejected ("no customer with ..."). Default true. */
  createMissing?: boolean;
}
export interface Resolution<Item> {
  /** The items whose customer is known (found, or created now), in their order. */
  resolved: { item: Item; customerId: number }[];
  /** Items not to be stored, by index: the person was erased, or the reference names nobody. */
  rejected: Map<number, Rejection>;
  /** Customers created by this resolution. */
  created: Set<number>;
}

/**
 * The pipeline's first half: normalises each item's customer reference, refuses erased people and
 * finds or creates the customer of every other item (one person, one customer).
 */
export async function resolveFacts<Item extends { index: number; ref: CustomerRef }>(
  deps: Deps,
  tx: Db,
  items: Item[],
  options: ResolveOptions<Item>,
): Promise<Resolution<Item>> {
  const refs = items.map((item) => normaliseRef(item.ref, deps.config.defaultCountry));
  const erased = await erasedRefs(deps, tx, refs);
  const rejected = new Map<number, Rejection>();
  // The erased person's values are not repeated in any report (the door leaves them out).
  for (const i of erased)
    rejected.set(items[i].index, { field: options.referenceField, message: erasedMessage, erased: true });
  const live = items.filter((_, i) => !erased.has(i));
  const liveRefs = refs.filter((_, i) => !erased.has(i));
  const createdAt = options.createdAt;
  const { ids, created } = await resolveCustomers(
    tx,
    refs.filter((_, i) => !erased.has(i)),
    {
      source: options.source,
      createMissing: options.createMissing ?? true,
      createdAt: createdAt && ((i) => createdAt(live[i])),
    },
  );
  const resolved: Resolution<Item>['resolved'] = [];
  live.forEach((item, i) => {
    const customerId = ids[i];
    if (customerId !== null) resolved.push({ item, customerId });
    else if (options.createMissing === false && usable(liveRefs[i])) {
      rejected.set(item.index, { field: options.referenceField, message: `no customer with ${namedBy(item.ref)}` });
    } else {
      const message = 'not a usable customer reference (an email needs an @ and a domain; a phone needs digits)';
      rejected.set(item.index, { field: options.referenceField, message });
    }
  });
  return { resolved, rejected, created };
}

export interface WriteOptions {
  source: string;
  lifecycle: Lifecycle;
  /** Customers created when these facts were resolved (counted as inserted by the profile writer). */
  created?: ReadonlySet<number>;
}
export interface Written {
  /** Facts not stored, by index, with the field and why. */
  rejected: Map<number, Rejection>;
  counts: WriteCounts;
  /** With `lifecycle: 'defer'`: the customers whose orders changed, for refreshCustomers. */
  changedCustomers: number[];
}

/**
 * The pipeline's second half: writes facts whose customers are known, kind by kind with each kind's
 * writer (within a kind in the order given), and refreshes lifecycles as `lifecycle` says. Status
 * changes always refresh at once, each with its cause.
 */
export async function writeResolved(
  deps: Deps,
  tx: Db,
  facts: ResolvedFact[],
  options: WriteOptions,
): Promise<Written> {
  const run: Run = {
    deps,
    tx,
    source: options.source,
    lifecycle: options.lifecycle,
    created: options.created ?? new Set(),
    rejected: new Map(),
    counts: emptyCounts(),
    changedCustomers: new Set(),
    addressed: [],
    rechecked: new Set(),
  };
  for (const { kinds, write } of writers as Writer[]) {
    const ofKinds = kinds.flatMap((kind) => facts.filter((f) => f.kind === kind && !run.rejected.has(f.index)));
    if (ofKinds.length > 0) await write(run, ofKinds);
  }
  // Warnings, never rejections: one batch for the whole run.
  await checkRecords(tx, [...run.created, ...run.rechecked], {
    now: deps.clock.now(),
    defaultCountry: deps.config.defaultCountry,
  });
  return { rejected: run.rejected, counts: run.counts, changedCustomers: [...run.changedCustomers] };
}

export interface FactsWritten extends Written {
  /** The customer of each fact stored, by index. */
  customers: Map<number, number>;
}

/**
 * Writes facts already validated and mapped, in one transaction (`tx`): refuses erased people,
 * resolves customers (creating the missing), writes each kind and keeps lifecycles current. Answers
 * per fact (by its index): its customer, or a rejection naming the field.
 */
export async function writeFacts(
  deps: Deps,
  tx: Db,
  facts: Fact[],
  options: Omit<ResolveOptions<Fact>, 'createdAt'> & WriteOptions,
): Promise<FactsWritten> {
  const resolution = await resolveFacts(deps, tx, facts, {
    ...options,
    createdAt: (fact) => (fact.kind === 'profile' ? fact.data.createdAt : undefined),
  });
  const resolved = resolution.resolved.map(({ item, customerId }): ResolvedFact => ({ ...item, customerId }));
  const written = await writeResolved(deps, tx, resolved, { ...options, created: resolution.created });
  const rejected = new Map([...resolution.rejected, ...written.rejected]);
  const customers = new Map(resolved.filter((f) => !rejected.has(f.index)).map((f) => [f.index, f.customerId]));
  return { ...written, rejected, customers };
}

/** The lifecycle refresh a write with `lifecycle: 'defer'` left to its caller (purchase facts, stages). */
export async function refreshCustomers(deps: Deps, tx: Db, customerIds: number[]): Promise<void> {
  await refreshLifecycle(tx, customerIds, { timeZone: deps.config.timeZone });
}
