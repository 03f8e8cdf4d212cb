// A person sets or clears a status flag in the record: the same status fact every door writes,
// through the one pipeline, with the reason as its note and the person as its origin.
import { principalName, type Principal } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { writeResolved } from '../facts/index.ts';
import { AppError } from '../shared/errors.ts';
import { flagMeanings, type StatusFlag } from './flags.ts';
import { currentFlags } from './flags.repository.ts';

export interface FlagChange {
  flag: StatusFlag;
  active: boolean;
  reason: string;
}

/**
 * Sets or clears one flag of a customer, from the record (source `ui`, or `api` for a key). Clearing a final flag
 * (deceased) needs an admin. Returns the flags now and whether anything changed.
 */
export async function changeFlag(
  deps: Deps,
  principal: Principal,
  customerId: number,
  change: FlagChange,
): Promise<{ flags: string[]; changed: boolean }> {
  const final = flagMeanings.find((m) => m.flag === change.flag)!.final;
  if (final && !change.active && principal.role !== 'admin')
    throw new AppError(
      'forbidden',
      `${change.flag} is final: only an admin clears it, with a reason; you have the role ${principal.role}`,
    );
  return deps.db.transaction(async (tx) => {
    const before = await currentFlags(tx, customerId);
    if (!before) throw new AppError('not_found', `No customer ${customerId}`);
    const written = await writeResolved(
      deps,
      tx,
      [
        {
          kind: 'status',
          index: 0,
          customerId,
          data: {
            flag: change.flag,
            active: change.active,
            at: deps.clock.now(),
            note: change.reason,
            origin: principalName(principal),
            adminReversal: final && !change.active,
          },
        },
      ],
      // The door, as for other edits of the record: the UI for a person, the API for a key.
      { source: principal.kind === 'key' ? 'api' : 'ui', lifecycle: 'refresh' },
    );
    const rejection = written.rejected.get(0);
    if (rejection) throw new AppError('validation_failed', rejection.message);
    const flags = (await currentFlags(tx, customerId))!;
    return { flags, changed: before.includes(change.flag) !== flags.includes(change.flag) };
  });
}
