// Two records that turn out to be one person become one (DESIGN: one person, one customer): every
// row of the duplicate moves to the customer kept, in one transaction, found through the catalogue
// like the privacy export, so a new table moves too. Two records of one thing that both customers
// hold under the same key (the same order id, both in one campaign) stop the merge with what
// clashes: nothing is dropped without a person deciding. Subscriptions are the exception: an event
// both hold is the same event told twice, kept once, and each subscription's state is recomputed.
import { audit, type AuditEntry } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { customerTables } from '../privacy/index.ts';
import { checkRecords } from '../quality/index.ts';
import { AppError, sqlState, sqlStateOf } from '../shared/errors.ts';
import { moveSubscriptions, refreshSubscriptions } from '../subscriptions/index.ts';
import { refreshLifecycle } from './lifecycle.repository.ts';
import {
  customerRow,
  deleteCustomer,
  deleteDerivedOf,
  deleteScoresOf,
  deleteWarningsOf,
  identitiesTakenSince,
  insertMerge,
  lockCustomers,
  lockMerge,
  markUndone,
  mergeProfile,
  moveCustomerRows,
  pairsOf,
  recentMerges,
  restorePairs,
  restoreProfiles,
  restoreTable,
  rowsAddedTo,
  rowsOf,
  settlePairs,
  tableShapes,
} from './merge.repository.ts';

/** The first database error in a chain with a constraint name, for the message. */
function clash(error: unknown): { constraint?: string; table?: string; detail?: string } {
  for (
    let e = error as { constraint?: string; table?: string; detail?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.constraint) return e;
  }
  return {};
}

export interface Merge {
  into: number;
  from: number;
  moved: Record<string, number>;
  /** The merge's number, to undo it within undoDays. */
  mergeId: number;
}

/** How long a merge can be undone. */
export const undoDays = 30;
/** Tables a merge does not snapshot: the merge records themselves. */
const notRestored = new Set(['customers', 'merges']);

/**
 * Moves everything of customer `from` to `into` and deletes `from`; audited. Scores, experiences and
 * outcome cases go (the next analysis derives them again for the merged customer). Every row of
 * both customers is kept whole in the merge's record first, so undoMerge can give each back.
 */
export async function mergeCustomers(
  deps: Deps,
  into: number,
  from: number,
  by: Pick<AuditEntry, 'actor' | 'ip'>,
): Promise<Merge> {
  if (into === from)
    throw new AppError('bad_request', 'a customer cannot be merged into itself', {
      issues: [{ path: 'from', message: 'another customer than the one merged into' }],
    });
  try {
    return await deps.db.transaction(async (tx) => {
      const locked = await lockCustomers(tx, [into, from]);
      for (const id of [into, from]) if (!locked.includes(id)) throw new AppError('not_found', `No customer ${id}`);
      const shapes = await tableShapes(
        tx,
        (await customerTables(tx)).filter((t) => !notRestored.has(t)),
      );
      const rows = new Map<string, string>();
      for (const shape of shapes) {
        const before = await rowsOf(tx, shape.table, [into, from]);
        if (before) rows.set(shape.table, before);
      }
      const profiles = { into: await customerRow(tx, into), from: await customerRow(tx, from) };
      const pairs = await pairsOf(tx, [into, from]);
      await deleteScoresOf(tx, from);
      await deleteDerivedOf(tx, [into, from]);
      await deleteWarningsOf(tx, from);
      const moved: Record<string, number> = {};
      for (const [table, n] of Object.entries(await moveSubscriptions(tx, from, into))) if (n > 0) moved[table] = n;
      for (const shape of shapes) {
        const n = await moveCustomerRows(tx, shape.table, from, into);
        if (n > 0) moved[shape.table] = n;
      }
      // The profile keeps what the customer kept had, and takes what only the duplicate had.
      await mergeProfile(tx, into, from);
      await deleteCustomer(tx, from);
      await refreshLifecycle(tx, [into], { timeZone: deps.config.timeZone });
      const at = deps.clock.now();
      // The kept record may have taken the duplicate's email or phone: its entry checks run again.
      await checkRecords(tx, [into], { now: at, defaultCountry: deps.config.defaultCountry });
      await settlePairs(tx, into, from, by.actor, at);
      // What the merge itself added to the customer kept (a stage change, a recomputed subscription) goes on undo.
      const added: [string, string][] = [];
      for (const shape of shapes) {
        const keys = await rowsAddedTo(tx, shape, into, rows.get(shape.table) ?? null);
        if (keys) added.push([shape.table, keys]);
      }
      const merged = await customerRow(tx, into);
      const mergeId = await insertMerge(tx, {
        into,
        from,
        at,
        actor: by.actor,
        profiles: { ...profiles, merged },
        rows: [...rows],
        added,
        pairs,
      });
      await audit(tx, {
        ...by,
        action: 'customer.merged',
        target: `customer #${into}`,
        detail: { from, moved, mergeId },
      });
      return { into, from, moved, mergeId };
    });
  } catch (error) {
    if (sqlStateOf(error) !== sqlState.uniqueViolation) throw error;
    const { table, constraint, detail } = clash(error);
    throw new AppError(
      'conflict',
      `Both customers hold the same record in ${table ?? 'a table'} (${constraint ?? 'a unique key'}${detail ? `: ${detail}` : ''}); ` +
        'resolve it (e.g. remove the duplicate order) and merge again. Nothing was changed.',
      { table, constraint },
    );
  }
}

export interface Unmerge {
  mergeId: number;
  into: number;
  from: number;
  restored: Record<string, number>;
}

/**
 * Undoes a merge within undoDays: the duplicate comes back with its own number and profile, every
 * row that was its own goes back to it, what the merge deleted comes back, what it added goes;
 * rows that arrived for the customer kept after the merge stay there. Audited.
 */
export async function undoMerge(deps: Deps, mergeId: number, by: Pick<AuditEntry, 'actor' | 'ip'>): Promise<Unmerge> {
  return deps.db.transaction(async (tx) => {
    const merge = await lockMerge(tx, mergeId);
    if (!merge) throw new AppError('not_found', `No merge ${mergeId}`);
    if (merge.undoneAt)
      throw new AppError(
        'conflict',
        `Merge ${mergeId} was already undone on ${merge.undoneAt.toISOString().slice(0, 10)}`,
      );
    const now = deps.clock.now();
    if (now.getTime() - merge.at.getTime() > undoDays * 86_400_000)
      throw new AppError(
        'conflict',
        `Merge ${mergeId} is older than ${undoDays} days (${merge.at.toISOString().slice(0, 10)}); it can no longer be undone`,
      );
    const locked = await lockCustomers(tx, [merge.into, merge.from]);
    if (locked.includes(merge.from))
      throw new AppError('conflict', `Customer #${merge.from} exists again; merge ${mergeId} cannot be undone`);
    if (!locked.includes(merge.into))
      throw new AppError(
        'conflict',
        `Customer #${merge.into} no longer exists (erased or merged); merge ${mergeId} cannot be undone`,
      );
    const taken = await identitiesTakenSince(tx, merge);
    if (taken.length > 0)
      throw new AppError(
        'conflict',
        `The duplicate's ${taken.join(', ')} now belong to another customer; merge ${mergeId} cannot be undone. Nothing was changed.`,
      );
    const [customerShape] = await tableShapes(tx, ['customers']);
    await restoreProfiles(tx, customerShape, merge);
    const restored: Record<string, number> = {};
    for (const shape of await tableShapes(tx, merge.tables)) {
      const n = await restoreTable(tx, shape, merge);
      if (n > 0) restored[shape.table] = n;
    }
    await restorePairs(tx, mergeId);
    // The kept customer's subscription states were recomputed with the duplicate's events: again without them.
    await refreshSubscriptions(tx, merge.subscriptions);
    await refreshLifecycle(tx, [merge.into, merge.from], { timeZone: deps.config.timeZone });
    await markUndone(tx, mergeId, by.actor, now);
    await audit(tx, {
      ...by,
      action: 'customer.unmerged',
      target: `customer #${merge.into}`,
      detail: { mergeId, from: merge.from, restored },
    });
    return { mergeId, into: merge.into, from: merge.from, restored };
  });
}

/** The merges of the last `days` days, newest first, and whether each can still be undone. */
export async function listMerges(deps: Deps, days: number) {
  const now = deps.clock.now();
  const rows = await recentMerges(deps.db, new Date(now.getTime() - days * 86_400_000), 200);
  return rows.map((r) => {
    const at = new Date(r.at);
    return {
      id: Number(r.id),
      into: Number(r.into_id),
      from: Number(r.from_id),
      at: at.toISOString(),
      actor: r.actor,
      intoName: r.into_name,
      fromName: r.from_name,
      undoneAt: r.undone_at ? new Date(r.undone_at).toISOString() : null,
      undoable: !r.undone_at && now.getTime() - at.getTime() <= undoDays * 86_400_000,
    };
  });
}
