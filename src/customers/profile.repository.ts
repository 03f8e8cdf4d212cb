import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { upsertRows, type InsertOf, type WriteCounts } from '../db/upsert.ts';
import { notes as noteTable, statusChanges } from './customer.schema.ts';
import type { StatusFlag } from './flags.ts';
import { currentAddresses, profileEdits, recordEdits, type EditNote } from './edit.repository.ts';

/** One side of a changed value, as the profile update returns it. */
type Edited = { before: unknown; after: unknown };

export type AttributeValue = string | number | boolean | null;
export type AttributeType = 'number' | 'text' | 'date' | 'boolean';
export interface AddressInput {
  kind: 'postal' | 'billing' | 'shipping';
  line1?: string;
  line2?: string;
  city?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}
export interface ProfileInput {
  customerId: number;
  name?: string;
  createdAt?: Date;
  acquisitionChannel?: string;
  attributes?: Record<string, AttributeValue>;
  address?: AddressInput & { at: Date; source: string };
  /** Who changes the record and why (record_edits); the writer passes the door's source when no person does. */
  edit?: EditNote;
}
export type StatusFlagInput = InsertOf<typeof statusChanges, 'customerId' | 'active' | 'at' | 'source' | 'note'> & {
  flag: StatusFlag;
};
export type NoteInput = InsertOf<typeof noteTable, 'customerId' | 'at' | 'body' | 'author' | 'channel' | 'feeling'> & {
  /** The upsert's key with the customer: the same note sent twice is stored once. */
  externalId: string;
};
export interface FieldError {
  index: number;
  field: string;
  message: string;
}

/** The type a value says it has; a 'YYYY-MM-DD' string is a date. */
export function attributeTypeOf(value: Exclude<AttributeValue, null>): AttributeType {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return 'number';
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? 'date' : 'text';
}

/** The type of every custom attribute defined so far, by key. */
export async function attributeTypes(db: Db): Promise<Map<string, AttributeType>> {
  const rows = await queryRows<{ key: string; type: AttributeType }>(
    db,
    sql`select key, type from attribute_definitions`,
  );
  return new Map(rows.map((row) => [row.key, row.type]));
}

/**
 * Custom attributes are typed at first sight (attribute_definitions); a value of another type is
 * an error naming the attribute. New keys are defined here, so call it before upsertProfiles.
 */
export async function checkAttributeTypes(
  db: Db,
  profiles: { attributes?: Record<string, AttributeValue> }[],
): Promise<FieldError[]> {
  const seen = new Map<string, AttributeType>();
  profiles.forEach((p) =>
    Object.entries(p.attributes ?? {}).forEach(([key, value]) => {
      if (value !== null && !seen.has(key)) seen.set(key, attributeTypeOf(value));
    }),
  );
  if (seen.size === 0) return [];
  await db.execute(sql`
    insert into attribute_definitions (key, type)
    select * from unnest(${array([...seen.keys()])}::text[], ${array([...seen.values()])}::text[])
    on conflict (key) do nothing`);
  const rows = await queryRows<{ key: string; type: AttributeType }>(
    db,
    sql`
    select key, type from attribute_definitions where key = any(${array([...seen.keys()])}::text[])`,
  );
  const types = new Map(rows.map((row) => [row.key, row.type]));
  const errors: FieldError[] = [];
  profiles.forEach((p, index) =>
    Object.entries(p.attributes ?? {}).forEach(([key, value]) => {
      if (value === null) return;
      const actual = attributeTypeOf(value);
      const expected = types.get(key)!;
      // A number is acceptable where text is defined: it is written as its text.
      if (actual !== expected && !(expected === 'text' && actual !== 'boolean')) {
        errors.push({
          index,
          field: `attributes.${key}`,
          message: `${key} is a ${expected}; got ${actual} ${JSON.stringify(value)}`,
        });
      }
    }),
  );
  return errors;
}

/**
 * Only provided fields change; attributes merge (null removes a key; call checkAttributeTypes
 * first); a different address closes the current one of its kind and opens a new one. `addressed`:
 * the customers who got a new current address, and its time (a new address may clear flags).
 */
export async function upsertProfiles(
  db: Db,
  profiles: ProfileInput[],
  now: Date = new Date(),
): Promise<WriteCounts & { changed: number[]; addressed: { customerId: number; at: Date }[] }> {
  if (profiles.length === 0) return { inserted: 0, updated: 0, unchanged: 0, changed: [], addressed: [] };
  const types = await attributeTypes(db);
  const merged = [
    ...profiles
      .reduce((map, p) => {
        const previous = map.get(p.customerId);
        map.set(
          p.customerId,
          previous ? { ...previous, ...p, attributes: { ...previous.attributes, ...p.attributes } } : p,
        );
        return map;
      }, new Map<number, ProfileInput>())
      .values(),
  ];
  const setOf = (p: ProfileInput) =>
    Object.fromEntries(
      Object.entries(p.attributes ?? {})
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, types.get(k) === 'text' ? String(v) : v]),
    );
  const removedOf = (p: ProfileInput) =>
    Object.entries(p.attributes ?? {})
      .filter(([, v]) => v === null)
      .map(([k]) => k);
  // The row before and after each real change, for record_edits (one statement: the CTEs share a snapshot).
  const changed = await queryRows<{ id: number } & Record<'name' | 'channel' | 'attributes', Edited>>(
    db,
    sql`
    with u as (
      select * from unnest(${array(merged.map((p) => p.customerId))}::bigint[], ${array(merged.map((p) => p.name ?? null))}::text[],
        ${array(merged.map((p) => p.createdAt?.toISOString() ?? null))}::timestamptz[], ${array(merged.map((p) => p.acquisitionChannel ?? null))}::text[],
        ${array(merged.map((p) => JSON.stringify(setOf(p))))}::text[], ${array(merged.map((p) => JSON.stringify(removedOf(p))))}::text[])
        as u(id, name, created_at, acquisition_channel, set_attributes, removed)
    ), previous as (
      select c.id, c.name, c.acquisition_channel, c.attributes from customers c join u on u.id = c.id
    ), updated as (
    update customers c set
      name = coalesce(u.name, c.name),
      created_at = coalesce(u.created_at, c.created_at),
      acquisition_channel = coalesce(u.acquisition_channel, c.acquisition_channel),
      attributes = (c.attributes || u.set_attributes::jsonb) - array(select jsonb_array_elements_text(u.removed::jsonb)),
      updated_at = now()
    from u
    where c.id = u.id
      and (c.name, c.created_at, c.acquisition_channel, c.attributes) is distinct from
        (coalesce(u.name, c.name), coalesce(u.created_at, c.created_at), coalesce(u.acquisition_channel, c.acquisition_channel),
         (c.attributes || u.set_attributes::jsonb) - array(select jsonb_array_elements_text(u.removed::jsonb)))
    returning c.id, c.name, c.acquisition_channel, c.attributes
    )
    select updated.id, jsonb_build_object('before', previous.name, 'after', updated.name) as name,
      jsonb_build_object('before', previous.acquisition_channel, 'after', updated.acquisition_channel) as channel,
      jsonb_build_object('before', previous.attributes, 'after', updated.attributes) as attributes
    from updated join previous on previous.id = updated.id`,
  );
  const noteOf = new Map(merged.map((p) => [p.customerId, p.edit]));
  const edits = changed.flatMap((row) => {
    const note = noteOf.get(Number(row.id));
    const side = (which: 'before' | 'after') => ({
      name: row.name[which] as string | null,
      acquisitionChannel: row.channel[which] as string | null,
      attributes: (row.attributes[which] ?? {}) as Record<string, unknown>,
    });
    return note ? profileEdits(Number(row.id), side('before'), side('after')).map((e) => ({ ...e, note })) : [];
  });
  // A person's new address is an edit too (who and why); the address history keeps the rest.
  const byPerson = profiles.filter((p) => p.address && p.edit?.byPerson);
  const replaced = await currentAddresses(
    db,
    byPerson.map((p) => ({ customerId: p.customerId, kind: p.address!.kind })),
  );
  const opened = await writeAddresses(
    db,
    profiles.filter((p) => p.address).map((p) => ({ customerId: p.customerId, ...p.address! })),
  );
  for (const p of byPerson) {
    if (!opened.some((a) => a.customerId === p.customerId && a.at.getTime() === p.address!.at.getTime())) continue;
    const { kind, at, source, ...after } = p.address!;
    edits.push({
      customerId: p.customerId,
      field: `address.${kind}`,
      before: replaced.get(`${p.customerId}|${kind}`) ?? null,
      after: Object.fromEntries(Object.entries(after).filter(([, v]) => v !== undefined && v !== null)),
      note: { ...p.edit!, at: p.edit!.at ?? now },
    });
  }
  await recordEdits(db, edits, now);
  const ids = [...new Set([...changed.map((r) => r.id), ...opened.map((a) => a.customerId)])];
  const addressed = opened.filter((a) => a.current).map(({ customerId, at }) => ({ customerId, at }));
  return { inserted: 0, updated: ids.length, unchanged: merged.length - ids.length, changed: ids, addressed };
}

const addressFields = ['line1', 'line2', 'city', 'region', 'postalCode', 'country'] as const;

async function writeAddresses(
  db: Db,
  addresses: (AddressInput & { customerId: number; at: Date; source: string })[],
): Promise<{ customerId: number; at: Date; current: boolean }[]> {
  if (addresses.length === 0) return [];
  const current = await queryRows<{
    customer_id: number;
    id: number;
    kind: string;
    line1: string | null;
    line2: string | null;
    city: string | null;
    region: string | null;
    postal_code: string | null;
    country: string | null;
  }>(
    db,
    sql`
    select customer_id, id, kind, line1, line2, city, region, postal_code, country from addresses
    where customer_id = any(${array(addresses.map((a) => a.customerId))}::bigint[]) and valid_to is null`,
  );
  const open = new Map(
    current.map((row) => [
      `${row.customer_id}|${row.kind}`,
      {
        id: row.id,
        line1: row.line1,
        line2: row.line2,
        city: row.city,
        region: row.region,
        postalCode: row.postal_code,
        country: row.country,
      },
    ]),
  );
  const toClose: { customerId: number; id: number; at: Date }[] = [];
  const toOpen: typeof addresses = [];
  for (const address of [...addresses].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const key = `${address.customerId}|${address.kind}`;
    const existing = open.get(key);
    if (existing && addressFields.every((f) => (existing[f] ?? null) === (address[f] ?? null))) continue;
    if (existing && existing.id > 0) toClose.push({ customerId: address.customerId, id: existing.id, at: address.at });
    // An address opened and replaced within this same batch is closed where it is inserted.
    const replaced = toOpen.findIndex((a) => `${a.customerId}|${a.kind}` === key);
    if (replaced >= 0) toOpen[replaced] = { ...toOpen[replaced], validTo: address.at } as (typeof toOpen)[number];
    toOpen.push(address);
    open.set(key, { id: -1, ...Object.fromEntries(addressFields.map((f) => [f, address[f] ?? null])) } as never);
  }
  if (toClose.length > 0) {
    await db.execute(sql`
      update addresses a set valid_to = u.at
      from unnest(${array(toClose.map((c) => c.customerId))}::bigint[], ${array(toClose.map((c) => c.id))}::bigint[], ${array(toClose.map((c) => c.at.toISOString()))}::timestamptz[]) as u(customer_id, id, at)
      where a.customer_id = u.customer_id and a.id = u.id`);
  }
  if (toOpen.length > 0) {
    const column = (f: (typeof addressFields)[number]) => array(toOpen.map((a) => a[f] ?? null));
    await db.execute(sql`
      insert into addresses (customer_id, kind, line1, line2, city, region, postal_code, country, valid_from, valid_to, source)
      select * from unnest(${array(toOpen.map((a) => a.customerId))}::bigint[], ${array(toOpen.map((a) => a.kind))}::text[],
        ${column('line1')}::text[], ${column('line2')}::text[], ${column('city')}::text[], ${column('region')}::text[],
        ${column('postalCode')}::text[], ${column('country')}::text[], ${array(toOpen.map((a) => a.at.toISOString()))}::timestamptz[],
        ${array(toOpen.map((a) => (a as { validTo?: Date }).validTo?.toISOString() ?? null))}::timestamptz[], ${array(toOpen.map((a) => a.source))}::text[])`);
  }
  return toOpen.map((a) => ({
    customerId: a.customerId,
    at: a.at,
    current: (a as { validTo?: Date }).validTo === undefined,
  }));
}

/**
 * Appends to the flag history and updates the current flags, only where a flag really changes.
 * `applied`: per change, in the order given, whether it changed a flag (else it was already so).
 */
export async function setStatusFlags(
  db: Db,
  changes: StatusFlagInput[],
): Promise<{ changed: number[]; applied: boolean[] }> {
  if (changes.length === 0) return { changed: [], applied: [] };
  const rows = await queryRows<{ id: number; flags: string[] }>(
    db,
    sql`select id, flags from customers where id = any(${array(changes.map((c) => c.customerId))}::bigint[])`,
  );
  const flags = new Map(rows.map((row) => [row.id, new Set(row.flags)]));
  const history: StatusFlagInput[] = [];
  for (const change of [...changes].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const current = flags.get(change.customerId);
    if (!current || current.has(change.flag) === change.active) continue;
    if (change.active) current.add(change.flag);
    else current.delete(change.flag);
    history.push(change);
  }
  const kept = new Set(history);
  const applied = changes.map((c) => kept.has(c));
  if (history.length === 0) return { changed: [], applied };
  await db.execute(sql`
    insert into status_changes (customer_id, flag, active, at, source, note)
    select * from unnest(${array(history.map((h) => h.customerId))}::bigint[], ${array(history.map((h) => h.flag))}::text[],
      ${array(history.map((h) => h.active))}::boolean[], ${array(history.map((h) => h.at.toISOString()))}::timestamptz[],
      ${array(history.map((h) => h.source))}::text[], ${array(history.map((h) => h.note))}::text[])`);
  const changed = [...new Set(history.map((h) => h.customerId))];
  await db.execute(sql`
    update customers c set flags = array(select jsonb_array_elements_text(u.flags::jsonb) order by 1), updated_at = now()
    from unnest(${array(changed)}::bigint[], ${array(changed.map((id) => JSON.stringify([...flags.get(id)!])))}::text[]) as u(id, flags)
    where c.id = u.id`);
  return { changed, applied };
}

export function upsertNotes(db: Db, notes: NoteInput[]): Promise<WriteCounts> {
  return upsertRows(db, noteTable, notes, {
    key: ['customerId', 'externalId'],
    values: {
      customerId: (n) => n.customerId,
      externalId: (n) => n.externalId,
      at: (n) => n.at,
      body: (n) => n.body,
      author: (n) => n.author,
      channel: (n) => n.channel,
      feeling: (n) => n.feeling,
    },
  });
}
