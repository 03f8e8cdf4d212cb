// Who changed a record, what and why: record_edits, written by the profile and contact writers
// (src/facts) for every value they really change, and read back on the timeline as `edit`.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { normaliseEmail, normalisePhone } from './identity.ts';

/**
 * Who made a change and why, written with every value it changes. A person's edit (`byPerson`) is
 * kept whatever the field held; a door's (an event, a file) only where it overwrites a value that
 * was there, so that importing a customer file does not log every first value of every customer.
 */
export interface EditNote {
  /** The person (their email, or key:NAME), or the door: `event 42`, `import:12`. */
  actor: string;
  reason: string | null;
  byPerson: boolean;
  /** When it changed; now when not given. */
  at?: Date;
}

/** One field of one record, before and after; null where it was or becomes empty. */
export interface FieldEdit {
  customerId: number;
  /** name, email, phone, acquisition_channel, attributes.<key>, address.<kind> */
  field: string;
  before: unknown;
  after: unknown;
}

/** Appends the edits that change something, each with its note (a door's only over a value that was there). */
export async function recordEdits(db: Db, edits: (FieldEdit & { note: EditNote })[], now: Date): Promise<number> {
  const kept = edits.filter(
    (e) =>
      JSON.stringify(e.before ?? null) !== JSON.stringify(e.after ?? null) &&
      (e.note.byPerson || (e.before ?? null) !== null),
  );
  if (kept.length === 0) return 0;
  const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));
  await db.execute(sql`
    insert into record_edits (customer_id, at, field, before, after, actor, reason)
    select u.customer_id, u.at, u.field, u.before::jsonb, u.after::jsonb, u.actor, u.reason
    from unnest(${array(kept.map((e) => e.customerId))}::bigint[], ${array(kept.map((e) => (e.note.at ?? now).toISOString()))}::timestamptz[],
      ${array(kept.map((e) => e.field))}::text[], ${array(kept.map((e) => json(e.before)))}::text[], ${array(kept.map((e) => json(e.after)))}::text[],
      ${array(kept.map((e) => e.note.actor))}::text[], ${array(kept.map((e) => e.note.reason))}::text[])
      as u(customer_id, at, field, before, after, actor, reason)`);
  return kept.length;
}

/** The fields a profile update changed, from the row before and after. */
export function profileEdits(
  customerId: number,
  before: { name: string | null; acquisitionChannel: string | null; attributes: Record<string, unknown> },
  after: typeof before,
): FieldEdit[] {
  const edits: FieldEdit[] = [];
  if (before.name !== after.name) edits.push({ customerId, field: 'name', before: before.name, after: after.name });
  if (before.acquisitionChannel !== after.acquisitionChannel)
    edits.push({
      customerId,
      field: 'acquisition_channel',
      before: before.acquisitionChannel,
      after: after.acquisitionChannel,
    });
  for (const key of [...new Set([...Object.keys(before.attributes), ...Object.keys(after.attributes)])].sort()) {
    const was = before.attributes[key] ?? null;
    const is = after.attributes[key] ?? null;
    if (JSON.stringify(was) !== JSON.stringify(is))
      edits.push({ customerId, field: `attributes.${key}`, before: was, after: is });
  }
  return edits;
}

type AddressShape = Record<'line1' | 'line2' | 'city' | 'region' | 'postalCode' | 'country', string | null>;

/** The current address of each (customer, kind), or none: what a person's new address replaces. */
export async function currentAddresses(
  db: Db,
  wanted: { customerId: number; kind: string }[],
): Promise<Map<string, AddressShape>> {
  if (wanted.length === 0) return new Map();
  const rows = await queryRows<{ customer_id: number; kind: string } & Record<string, string | null>>(
    db,
    sql`
    select customer_id, kind, line1, line2, city, region, postal_code, country from addresses
    where customer_id = any(${array(wanted.map((w) => w.customerId))}::bigint[]) and valid_to is null`,
  );
  return new Map(
    rows.map((r) => [
      `${Number(r.customer_id)}|${r.kind}`,
      {
        line1: r.line1,
        line2: r.line2,
        city: r.city,
        region: r.region,
        postalCode: r.postal_code,
        country: r.country,
      },
    ]),
  );
}

export interface ContactInput {
  customerId: number;
  /** The new email or phone of the record, as given (normalised here). */
  email?: string;
  phone?: string;
  at: Date;
  source: string;
  note: EditNote;
}
export interface ContactRejection {
  /** Place in the input. */
  index: number;
  field: 'email' | 'phone';
  message: string;
  /** The other customer who holds the value: a merge, not an edit. */
  heldBy?: number;
}

/**
 * Replaces the email or phone on records. The new value becomes an identity of the customer; one
 * another customer holds is refused (naming that customer: the two are one person, to be merged).
 * The old value stays an identity of this customer, so events and files that still name the person
 * by it find them. A value equal to the record's writes nothing. Returns the customers changed.
 */
export async function changeContacts(
  db: Db,
  changes: ContactInput[],
  options: { defaultCountry: string; now: Date },
): Promise<{ changed: number[]; rejected: ContactRejection[]; updatedFacts: Set<number> }> {
  const rejected: ContactRejection[] = [];
  const values = changes.map((c, index) => {
    const email = c.email === undefined ? undefined : normaliseEmail(c.email);
    const phone = c.phone === undefined ? undefined : normalisePhone(c.phone, options.defaultCountry);
    if (email === null) rejected.push({ index, field: 'email', message: 'not an email address' });
    else if (phone === null) rejected.push({ index, field: 'phone', message: 'not a phone number: at least 5 digits' });
    return { email: email ?? undefined, phone: phone ?? undefined };
  });
  const wanted = values.flatMap((v) => [
    ...(v.email ? [{ kind: 'email', value: v.email }] : []),
    ...(v.phone ? [{ kind: 'phone', value: v.phone }] : []),
  ]);
  if (wanted.length === 0) return { changed: [], rejected, updatedFacts: new Set() };
  const holders = async (keys: { kind: string; value: string }[]) =>
    new Map(
      (
        await queryRows<{ kind: string; value: string; customer_id: number }>(
          db,
          sql`
          select i.kind, i.value, i.customer_id from identities i
          join unnest(${array(keys.map((k) => k.kind))}::text[], ${array(keys.map((k) => k.value))}::text[]) as w(kind, value)
            on i.kind = w.kind and i.value = w.value`,
        )
      ).map((r) => [`${r.kind}:${r.value}`, Number(r.customer_id)]),
    );
  const held = await holders(wanted);
  const refuse = (index: number, field: 'email' | 'phone', value: string, other: number) =>
    rejected.push({
      index,
      field,
      heldBy: other,
      message: `${value} is already the ${field === 'email' ? 'email' : 'phone number'} of customer #${other}: if they are one person, merge customer #${other} into this record instead`,
    });
  const good: number[] = [];
  changes.forEach((c, index) => {
    if (rejected.some((r) => r.index === index)) return;
    const { email, phone } = values[index];
    const otherEmail = email && held.get(`email:${email}`);
    const otherPhone = phone && held.get(`phone:${phone}`);
    if (otherEmail && otherEmail !== c.customerId) refuse(index, 'email', email, otherEmail);
    else if (otherPhone && otherPhone !== c.customerId) refuse(index, 'phone', phone!, otherPhone);
    else good.push(index);
  });
  // New identities; one claimed meanwhile by another writer is refused like one held before.
  const claims = good.flatMap((index) =>
    (['email', 'phone'] as const)
      .filter((kind) => values[index][kind] && !held.has(`${kind}:${values[index][kind]}`))
      .map((kind) => ({ index, kind, value: values[index][kind]!, customerId: changes[index].customerId })),
  );
  if (claims.length > 0) {
    await db.execute(sql`
      insert into identities (kind, value, customer_id, source)
      select * from unnest(${array(claims.map((c) => c.kind))}::text[], ${array(claims.map((c) => c.value))}::text[],
        ${array(claims.map((c) => c.customerId))}::bigint[], ${array(claims.map((c) => changes[c.index].source))}::text[])
      on conflict (kind, value) do nothing`);
    const now = await holders(claims);
    for (const claim of claims) {
      const holder = now.get(`${claim.kind}:${claim.value}`);
      if (holder !== undefined && holder !== claim.customerId && !rejected.some((r) => r.index === claim.index))
        refuse(claim.index, claim.kind, claim.value, holder);
    }
  }
  const applied = good.filter((index) => !rejected.some((r) => r.index === index));
  if (applied.length === 0) return { changed: [], rejected, updatedFacts: new Set() };
  const ids = [...new Set(applied.map((index) => changes[index].customerId))];
  const rows = await queryRows<{ id: number; email: string | null; phone: string | null }>(
    db,
    sql`select id, email, phone from customers where id = any(${array(ids)}::bigint[])`,
  );
  const records = new Map(rows.map((r) => [Number(r.id), { email: r.email, phone: r.phone }]));
  const edits: (FieldEdit & { note: EditNote })[] = [];
  const updatedFacts = new Set<number>();
  for (const index of [...applied].sort((a, b) => changes[a].at.getTime() - changes[b].at.getTime())) {
    const change = changes[index];
    const record = records.get(change.customerId);
    if (!record) continue;
    for (const field of ['email', 'phone'] as const) {
      const value = values[index][field];
      if (value === undefined || record[field] === value) continue;
      edits.push({
        customerId: change.customerId,
        field,
        before: record[field],
        after: value,
        note: { ...change.note, at: change.note.at ?? change.at },
      });
      record[field] = value;
      updatedFacts.add(index);
    }
  }
  const changed = [...new Set(edits.map((e) => e.customerId))];
  if (changed.length === 0) return { changed, rejected, updatedFacts };
  await db.execute(sql`
    update customers c set email = u.email, phone = u.phone, updated_at = now()
    from unnest(${array(changed)}::bigint[], ${array(changed.map((id) => records.get(id)!.email))}::text[],
      ${array(changed.map((id) => records.get(id)!.phone))}::text[]) as u(id, email, phone)
    where c.id = u.id`);
  await recordEdits(db, edits, options.now);
  return { changed, rejected, updatedFacts };
}
