import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { identitiesOf, identityKey, type NormalisedRef } from './identity.ts';

interface IdentityRow {
  kind: string;
  value: string;
  customer_id: number;
}
type Identity = { kind: string; value: string };

async function findIdentities(db: Db, keys: Identity[]): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  if (keys.length === 0) return found;
  const rows = await queryRows<IdentityRow>(
    db,
    sql`
    select i.kind, i.value, i.customer_id
    from identities i
    join unnest(${array(keys.map((k) => k.kind))}::text[], ${array(keys.map((k) => k.value))}::text[]) as wanted(kind, value)
      on i.kind = wanted.kind and i.value = wanted.value`,
  );
  for (const row of rows) found.set(identityKey(row), row.customer_id);
  return found;
}

/** Groups identity keys that appear together in one reference (union-find). */
function clusters(refs: NormalisedRef[]): (key: string) => string {
  const parent = new Map<string, string>();
  const root = (key: string): string => {
    let node = key;
    while (parent.get(node) !== node) node = parent.get(node) ?? (parent.set(node, node), node);
    parent.set(key, node);
    return node;
  };
  for (const ref of refs) {
    const keys = identitiesOf(ref).map(identityKey);
    for (const key of keys) if (!parent.has(key)) parent.set(key, key);
    for (const key of keys.slice(1)) parent.set(root(key), root(keys[0]));
  }
  return root;
}

/**
 * One person, one customer: finds the customer behind each reference by external id, then email,
 * then phone; references in one call that share an identity are the same person; identities a
 * customer did not have yet are attached; with createMissing, unknown people are created.
 * Returns customer ids in the order of `refs` (null where none exists and none was created) and
 * the ids of the customers it created.
 */
export async function resolveCustomers(
  db: Db,
  refs: NormalisedRef[],
  options: { source: string; createMissing: boolean; createdAt?: (index: number) => Date | undefined },
): Promise<{ ids: (number | null)[]; created: Set<number> }> {
  const wanted = new Map<string, Identity>();
  for (const ref of refs) for (const identity of identitiesOf(ref)) wanted.set(identityKey(identity), identity);
  let known = await findIdentities(db, [...wanted.values()]);
  const rootOf = clusters(refs);
  const firstKey = (ref: NormalisedRef) => identityKey(identitiesOf(ref)[0]);

  const customerOf = (ref: NormalisedRef): number | null => {
    for (const identity of identitiesOf(ref)) {
      const id = known.get(identityKey(identity));
      if (id !== undefined) return id;
    }
    return null;
  };
  const clusterCustomer = () => {
    const byRoot = new Map<string, number>();
    for (const ref of refs) {
      const id = customerOf(ref);
      if (id !== null && identitiesOf(ref).length > 0 && !byRoot.has(rootOf(firstKey(ref))))
        byRoot.set(rootOf(firstKey(ref)), id);
    }
    return byRoot;
  };
  let byRoot = clusterCustomer();
  const created = new Set<number>();

  if (options.createMissing) {
    const toCreate = new Map<string, { ref: NormalisedRef; index: number }>();
    refs.forEach((ref, index) => {
      if (identitiesOf(ref).length === 0) return;
      const root = rootOf(firstKey(ref));
      if (byRoot.has(root)) return;
      const person = toCreate.get(root);
      if (!person) toCreate.set(root, { ref: { ...ref }, index });
      else {
        person.ref.externalId ??= ref.externalId;
        person.ref.email ??= ref.email;
        person.ref.phone ??= ref.phone;
      }
    });
    if (toCreate.size > 0) {
      const people = [...toCreate.values()];
      const inserted = await queryRows<{ id: number; ord: number }>(
        db,
        sql`
        with input as (
          select * from unnest(
            ${array(people.map((p) => p.ref.externalId))}::text[], ${array(people.map((p) => p.ref.email))}::text[],
            ${array(people.map((p) => p.ref.phone))}::text[],
            ${array(people.map((p) => options.createdAt?.(p.index)?.toISOString() ?? null))}::timestamptz[]
          ) with ordinality as t(external_id, email, phone, created_at, ord)
        ), inserted as (
          insert into customers (external_id, email, phone, created_at)
          select external_id, email, phone, coalesce(created_at, now()) from input order by ord
          on conflict (external_id) do nothing
          returning id, external_id, email, phone
        )
        select inserted.id, input.ord::int as ord
        from inserted join input
          -- equality on coalesced values (not IS NOT DISTINCT FROM) so the join can hash
          on coalesce(inserted.external_id, '') = coalesce(input.external_id, '')
         and coalesce(inserted.email, '') = coalesce(input.email, '')
         and coalesce(inserted.phone, '') = coalesce(input.phone, '')`,
      );
      const claims = inserted.flatMap((row) =>
        identitiesOf(people[row.ord - 1].ref).map((identity) => ({ ...identity, customerId: row.id })),
      );
      const claimed = await insertIdentities(db, claims, options.source);
      // A new customer none of whose identities it could claim lost a race to another writer.
      const losers = inserted.filter(
        (row) => !claims.some((c) => c.customerId === row.id && claimed.has(`${identityKey(c)}#${row.id}`)),
      );
      if (losers.length > 0) {
        await db.execute(sql`delete from customers where id = any(${array(losers.map((row) => row.id))}::bigint[])`);
      }
      for (const row of inserted) if (!losers.some((loser) => loser.id === row.id)) created.add(row.id);
      known = await findIdentities(db, [...wanted.values()]);
      byRoot = clusterCustomer();
    }
  }

  const resolved = refs.map(
    (ref) => customerOf(ref) ?? (identitiesOf(ref).length > 0 ? (byRoot.get(rootOf(firstKey(ref))) ?? null) : null),
  );

  // Attach identities a known customer did not have yet (a new email for an external id, ...).
  const attach: (Identity & { customerId: number })[] = [];
  const seen = new Set<string>();
  refs.forEach((ref, index) => {
    const id = resolved[index];
    if (id === null) return;
    for (const identity of identitiesOf(ref)) {
      const key = identityKey(identity);
      if (!known.has(key) && !seen.has(key)) {
        seen.add(key);
        attach.push({ ...identity, customerId: id });
      }
    }
  });
  if (attach.length > 0) {
    const claimed = await insertIdentities(db, attach, options.source);
    const added = attach.filter((row) => claimed.has(`${identityKey(row)}#${row.customerId}`));
    // The profile shows the first email, phone and external id a customer was known by.
    await db.execute(sql`
      update customers c set
        email = coalesce(c.email, a.email), phone = coalesce(c.phone, a.phone),
        external_id = coalesce(c.external_id, a.external_id), updated_at = now()
      from (
        select customer_id,
          min(value) filter (where kind = 'email') as email,
          min(value) filter (where kind = 'phone') as phone,
          min(value) filter (where kind = 'external') as external_id
        from unnest(${array(added.map((r) => r.customerId))}::bigint[], ${array(added.map((r) => r.kind))}::text[], ${array(added.map((r) => r.value))}::text[])
          as t(customer_id, kind, value)
        group by customer_id
      ) a
      where c.id = a.customer_id
        and ((c.email is null and a.email is not null) or (c.phone is null and a.phone is not null)
          or (c.external_id is null and a.external_id is not null))`);
  }
  return { ids: resolved, created };
}

async function insertIdentities(
  db: Db,
  rows: (Identity & { customerId: number })[],
  source: string,
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const inserted = await queryRows<IdentityRow>(
    db,
    sql`
    insert into identities (kind, value, customer_id, source)
    select kind, value, customer_id, ${source}
    from unnest(${array(rows.map((r) => r.kind))}::text[], ${array(rows.map((r) => r.value))}::text[], ${array(rows.map((r) => r.customerId))}::bigint[])
      as t(kind, value, customer_id)
    on conflict (kind, value) do nothing
    returning kind, value, customer_id`,
  );
  return new Set(inserted.map((row) => `${identityKey(row)}#${row.customer_id}`));
}
