// A person edits a record: profile, email and phone, custom attributes, a new address. Each is the
// same fact every door writes, through the one pipeline (src/facts), carrying who and why, so it
// lands in record_edits (the timeline's `edit`) exactly as an event's would; audited here.
import { audit } from '../audit/index.ts';
import { principalName, type Principal } from '../auth/auth.ts';
import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import type { ResolvedFact } from '../facts/index.ts';
import { writeResolved } from '../facts/index.ts';
import { AppError } from '../shared/errors.ts';
import { invalidRequest } from '../shared/http.ts';
import type { CustomerRecord } from './customer.ts';
import { getCustomerRecord } from './customer.service.ts';
import { editableBy, type EditableField, type NewAddress, type RecordEdit } from './edit.ts';

interface By {
  principal: Principal;
  ip: string | null;
}

const fieldWords: Record<EditableField, string> = {
  name: 'the name',
  email: 'the email',
  phone: 'the phone number',
  acquisitionChannel: 'the acquisition channel',
  attributes: 'custom attributes',
  address: 'addresses',
};

/** Refuses a field the principal's role may not change, naming it and who may. */
function mayEdit(principal: Principal, fields: EditableField[]) {
  const allowed: readonly EditableField[] = editableBy[principal.role];
  for (const field of fields) {
    if (allowed.includes(field)) continue;
    const who = (Object.keys(editableBy) as Principal['role'][]).filter((role) =>
      (editableBy[role] as readonly string[]).includes(field),
    );
    throw new AppError(
      'forbidden',
      `Changing ${fieldWords[field]} needs the role ${who.join(' or ')}; you have the role ${principal.role}`,
      { issues: [{ path: field, message: `not for the role ${principal.role}` }] },
    );
  }
}

/** Writes the facts of one person's edit; a refusal names the field (409 when another customer holds the value). */
async function write(deps: Deps, tx: Db, facts: ResolvedFact[], by: By) {
  const written = await writeResolved(deps, tx, facts, {
    source: by.principal.kind === 'key' ? 'api' : 'ui',
    lifecycle: 'refresh',
  });
  for (const rejection of written.rejected.values()) {
    if (rejection.heldBy !== undefined)
      throw new AppError('conflict', rejection.message, {
        issues: [{ path: rejection.field, message: rejection.message }],
        customerId: rejection.heldBy,
      });
    throw invalidRequest([{ path: rejection.field, message: rejection.message }], rejection.message);
  }
}

/** The profile fields that differ between two reads of a record (what an audit entry names). */
function changedFields(before: CustomerRecord, after: CustomerRecord): string[] {
  const fields = (['name', 'acquisitionChannel', 'email', 'phone'] as const).filter((f) => before[f] !== after[f]);
  const attributes = (r: CustomerRecord) => new Map(r.attributes.map((a) => [a.key, JSON.stringify(a.value)]));
  const was = attributes(before);
  const is = attributes(after);
  const keys = [...new Set([...was.keys(), ...is.keys()])].filter((k) => was.get(k) !== is.get(k)).sort();
  return [...fields, ...keys.map((k) => `attributes.${k}`)];
}

/**
 * Changes name, acquisition channel, email, phone and attributes of one record, with a reason.
 * Values equal to what the record holds change nothing and write nothing. Returns the record.
 */
export async function editCustomer(deps: Deps, customerId: number, edit: RecordEdit, by: By): Promise<CustomerRecord> {
  const { reason, email, phone, ...profile } = edit;
  mayEdit(by.principal, [
    ...(profile.name !== undefined ? (['name'] as const) : []),
    ...(email !== undefined ? (['email'] as const) : []),
    ...(phone !== undefined ? (['phone'] as const) : []),
    ...(profile.acquisitionChannel !== undefined ? (['acquisitionChannel'] as const) : []),
    ...(profile.attributes !== undefined ? (['attributes'] as const) : []),
  ]);
  return deps.db.transaction(async (tx) => {
    const before = await getCustomerRecord(tx, customerId);
    const note = { actor: principalName(by.principal), reason, byPerson: true, at: deps.clock.now() };
    const facts: ResolvedFact[] = [];
    if (profile.name !== undefined || profile.acquisitionChannel !== undefined || profile.attributes !== undefined)
      facts.push({ kind: 'profile', index: facts.length, customerId, data: { ...profile, edit: note } });
    if (email !== undefined || phone !== undefined)
      facts.push({ kind: 'contact', index: facts.length, customerId, data: { email, phone, at: note.at, edit: note } });
    await write(deps, tx, facts, by);
    const after = await getCustomerRecord(tx, customerId);
    const fields = changedFields(before, after);
    // The audit log names customers by number and fields by name; the values are in the record's edits.
    if (fields.length > 0)
      await audit(tx, {
        actor: note.actor,
        action: 'customer.edited',
        target: `customer #${customerId}`,
        detail: { fields, reason },
        ip: by.ip,
      });
    return after;
  });
}

/**
 * Adds a dated address: the current one of its kind is closed (kept in the history) and this one
 * opens from `validFrom` (now when not given). A new current address may clear moved and
 * undeliverable (src/customers/flags.repository.ts). Returns the record.
 */
export async function addAddress(deps: Deps, customerId: number, body: NewAddress, by: By): Promise<CustomerRecord> {
  mayEdit(by.principal, ['address']);
  const { reason, validFrom, ...address } = body;
  const now = deps.clock.now();
  const at = validFrom ? new Date(validFrom) : now;
  if (at > now)
    throw invalidRequest([{ path: 'validFrom', message: 'not in the future: add the address when they have moved' }]);
  return deps.db.transaction(async (tx) => {
    const before = await getCustomerRecord(tx, customerId);
    const current = before.addresses.find((a) => a.current && a.kind === address.kind);
    if (current && new Date(current.validFrom) > at)
      throw invalidRequest([
        {
          path: 'validFrom',
          message: `the current ${address.kind} address is valid from ${current.validFrom}; a new one starts after that`,
        },
      ]);
    const note = { actor: principalName(by.principal), reason, byPerson: true, at: now };
    await write(deps, tx, [{ kind: 'address', index: 0, customerId, data: { ...address, at, edit: note } }], by);
    const after = await getCustomerRecord(tx, customerId);
    if (after.addresses.length !== before.addresses.length)
      await audit(tx, {
        actor: note.actor,
        action: 'customer.address_added',
        target: `customer #${customerId}`,
        detail: { kind: address.kind, validFrom: at.toISOString(), reason },
        ip: by.ip,
      });
    return after;
  });
}
