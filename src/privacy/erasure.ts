// Erasure (P16): everything about one person goes, in one transaction, and they stay gone: a keyed
// hash of each identity they had blocks their return by import, API or event. What is deleted is
// found the way the access export finds it (privacy.repository.ts), so the two cannot drift apart.
import { audit, type AuditEntry } from '../audit/index.ts';
import { keyedHash } from '../auth/signing.ts';
import { identitiesOf, type NormalisedRef } from '../customers/identity.ts';
import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { queueWebhookEvent } from '../webhooks/index.ts';
import {
  anyErasures,
  deleteCustomerData,
  erasedHashes,
  erasuresByOtherKeys,
  identitiesOfCustomer,
  insertErasures,
  lockCustomerIdentities,
} from './privacy.repository.ts';

const purpose = 'erased-identity';
const hashOf = (deps: Deps, db: Db, kind: string, value: string) =>
  keyedHash(deps, db, purpose, `${kind}:${value.toLowerCase()}`);

const keyChecked = new WeakSet<Deps>();

/** Stops ingest when erasures were hashed with another key: with a changed KEPT_SECRET they would not be recognised. */
async function checkKey(deps: Deps, db: Db, keyId: string): Promise<void> {
  if (keyChecked.has(deps)) return;
  const other = await erasuresByOtherKeys(db, keyId);
  if (other > 0) {
    throw new AppError(
      'erasure_key_changed',
      `${other} identities of erased people were hashed with another key: KEPT_SECRET changed, ` +
        'so they would not be recognised and could be stored again. Restore the previous KEPT_SECRET; nothing is stored until then.',
    );
  }
  keyChecked.add(deps);
}

/** Which references (by index) belong to an erased person; they must not be stored. */
export async function erasedRefs(deps: Deps, db: Db, refs: NormalisedRef[]): Promise<Set<number>> {
  const blocked = new Set<number>();
  if (refs.length === 0 || !(await anyErasures(db))) return blocked;
  const hashes = await Promise.all(
    refs.map((ref) => Promise.all(identitiesOf(ref).map((i) => hashOf(deps, db, i.kind, i.value)))),
  );
  const keyId = hashes.flat()[0]?.keyId;
  if (!keyId) return blocked;
  await checkKey(deps, db, keyId);
  const found = await erasedHashes(
    db,
    hashes.flat().map((h) => h.hash),
  );
  hashes.forEach((list, index) => {
    if (list.some((h) => found.has(h.hash))) blocked.add(index);
  });
  return blocked;
}

/** The message a blocked reference gets, in the import's rejected rows and the event's answer. */
export const erasedMessage = 'this person asked to be erased; Kept does not store them again';

export interface Erasure {
  customerId: number;
  rows: number;
  tables: Record<string, number>;
}

/**
 * Deletes every record about the customer. On their request (`by` someone) they are remembered as
 * erased and the erasure is audited with counts only; past retention (`by` null) they may come
 * back as a new customer, and the sweep audits the total.
 */
export async function eraseCustomer(
  deps: Deps,
  customerId: number,
  by: Pick<AuditEntry, 'actor' | 'ip'> | null,
): Promise<Erasure> {
  return deps.db.transaction(async (tx) => {
    const customer = await lockCustomerIdentities(tx, customerId);
    if (!customer) throw new AppError('not_found', `No customer ${customerId}`);
    const identities = await identitiesOfCustomer(tx, customerId);
    const all = [
      ...new Map(
        [
          ...identities,
          ...(customer.email ? [{ kind: 'email', value: customer.email }] : []),
          ...(customer.phone ? [{ kind: 'phone', value: customer.phone }] : []),
          ...(customer.externalId ? [{ kind: 'external', value: customer.externalId }] : []),
        ].map((i) => [`${i.kind}:${i.value}`, i]),
      ).values(),
    ];
    const hashes = await Promise.all(all.map((i) => hashOf(deps, tx, i.kind, i.value)));
    if (by && hashes.length > 0)
      await insertErasures(
        tx,
        hashes.map((h) => h.hash),
        hashes[0].keyId,
      );
    const tables = await deleteCustomerData(tx, customerId, {
      emails: [...new Set(all.filter((i) => i.kind === 'email').map((i) => i.value.toLowerCase()))],
      keys: [...new Set(all.filter((i) => i.kind !== 'phone').map((i) => i.value))],
    });
    const rows = Object.values(tables).reduce((a, b) => a + b, 0);
    const touched = Object.fromEntries(Object.entries(tables).filter(([, n]) => n > 0));
    if (by) {
      // Systems that hold a copy (a shop, a mail service) hear of it; the event names the id they know the person by.
      const event = { customerId, externalId: customer.externalId, at: deps.clock.now().toISOString() };
      await queueWebhookEvent(tx, 'customer.erased', `erased-${customerId}`, event);
      await audit(tx, {
        ...by,
        action: 'customer.erased',
        target: `customer #${customerId}`,
        detail: { rows, tables: touched, identities: hashes.length },
      });
    }
    return { customerId, rows, tables: touched };
  });
}
