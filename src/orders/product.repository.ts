// The catalogue: what a SKU is called, its category, price and cost. Not a customer's fact: order
// lines name a SKU in `product`, and what reads lines takes the category (and the cost, for the
// margin) from here when the SKU is catalogued.
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { WriteCounts } from '../db/upsert.ts';

/** A product as a file row or a `product.upsert` event states it; a field left out (undefined or null) keeps what is stored. */
export interface ProductInput {
  sku: string;
  name?: string | null;
  category?: string | null;
  price?: string | null;
  cost?: string | null;
  currency?: string | null;
}

const fields = ['name', 'category', 'price', 'cost', 'currency'] as const;

/**
 * Products keyed by SKU: a given field replaces the stored one, a field not given keeps it (so a
 * file of prices alone leaves names and categories); `updated_at` moves only when something
 * changed, and writing the same again counts as unchanged. Within one call later rows win field by field.
 */
export async function upsertProducts(db: Db, items: ProductInput[], at: Date): Promise<WriteCounts> {
  if (items.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const bySku = new Map<string, ProductInput>();
  for (const item of items) {
    const merged: ProductInput = { ...bySku.get(item.sku), sku: item.sku };
    const earlier = bySku.get(item.sku);
    for (const field of fields) merged[field] = item[field] ?? earlier?.[field] ?? null;
    bySku.set(item.sku, merged);
  }
  const unique = [...bySku.values()];
  const column = (field: (typeof fields)[number]) => array(unique.map((p) => p[field] ?? null));
  const kept = (field: string) => sql.raw(`coalesce(excluded.${field}, products.${field})`);
  const changed = await queryRows<{ inserted: boolean }>(
    db,
    sql`
    insert into products (sku, name, category, price, cost, currency, updated_at)
    select sku, name, category, price, cost, currency, ${at.toISOString()}::timestamptz
    from unnest(${array(unique.map((p) => p.sku))}::text[], ${column('name')}::text[], ${column('category')}::text[],
      ${column('price')}::numeric[], ${column('cost')}::numeric[], ${column('currency')}::text[])
      as input(sku, name, category, price, cost, currency)
    on conflict (sku) do update
      set name = ${kept('name')}, category = ${kept('category')}, price = ${kept('price')}, cost = ${kept('cost')},
        currency = ${kept('currency')}, updated_at = excluded.updated_at
      where (products.name, products.category, products.price, products.cost, products.currency)
        is distinct from (${kept('name')}, ${kept('category')}, ${kept('price')}, ${kept('cost')}, ${kept('currency')})
    returning (xmax = 0) as inserted`,
  );
  const inserted = changed.filter((row) => row.inserted).length;
  const updated = changed.length - inserted;
  return { inserted, updated, unchanged: items.length - inserted - updated };
}

/** How many products the catalogue holds. */
export async function productCount(db: Db): Promise<number> {
  const [row] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from products`);
  return row.n;
}
