// Two records that turn out to be one person become one (DESIGN: one person, one customer): every
// row of the duplicate moves to the customer kept, in one transaction, found through the catalogue
// like the privacy export, so a new table moves too. Two records of one thing that both customers
// hold under the same key (the same order id, both in one campaign) stop the merge with what
// clashes: nothing is dropped without a person deciding. Subscriptions are the exception: an event
// both hold is the same event told twice, kept once, and each subscription's state is recomputed.
import { audit, type AuditEntry } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { customerTables } from '../privacy/index.ts';
import { AppError, sqlState, sqlStateOf } from '../shared/errors.ts';
import { moveSubscriptions } from '../subscriptions/index.ts';
import { refreshLifecycle } from './lifecycle.repository.ts';
import {
  deleteCustomer,
  deleteDerivedOf,
  deleteScoresOf,
  lockCustomers,
  mergeProfile,
  moveCustomerRows,
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
}

/**
 * Moves everything of customer `from` to `into` and deletes `from`; audited. Scores, experiences and
 * outcome cases go (the next analysis derives them again for the merged customer).
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
      await deleteScoresOf(tx, from);
      await deleteDerivedOf(tx, [into, from]);
      const moved: Record<string, number> = {};
      for (const [table, n] of Object.entries(await moveSubscriptions(tx, from, into))) if (n > 0) moved[table] = n;
      for (const table of await customerTables(tx)) {
        if (table === 'customers') continue;
        const n = await moveCustomerRows(tx, table, from, into);
        if (n > 0) moved[table] = n;
      }
      // The profile keeps what the customer kept had, and takes what only the duplicate had.
      await mergeProfile(tx, into, from);
      await deleteCustomer(tx, from);
      await refreshLifecycle(tx, [into], { timeZone: deps.config.timeZone });
      await audit(tx, { ...by, action: 'customer.merged', target: `customer #${into}`, detail: { from, moved } });
      return { into, from, moved };
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
