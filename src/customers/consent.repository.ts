import { audit } from '../audit/index.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import { queueWebhookEvents } from '../webhooks/index.ts';
import type { InsertOf } from '../db/upsert.ts';
import type { consentLedger } from './customer.schema.ts';

/** The list a marketing campaign needs consent for, unless it names another. */
export const marketingList = 'marketing';

export type ConsentInput = InsertOf<
  typeof consentLedger,
  'customerId' | 'list' | 'granted' | 'at' | 'source' | 'wording'
>;

/**
 * Appends to the consent ledger: nothing is ever updated or deleted; the latest entry per list
 * counts, and is copied to the customer row (`consent`) for segments to test.
 */
export async function recordConsent(db: Db, rows: ConsentInput[]): Promise<void> {
  if (rows.length === 0) return;
  // The row lock makes a concurrent writer's entries visible to the copy below (or ours to theirs).
  const customerIds = [...new Set(rows.map((r) => r.customerId))].sort((a, b) => a - b);
  await db.execute(
    sql`select id from customers where id = any(${array(customerIds)}::bigint[]) order by id for update`,
  );
  const entries = await queryRows<{ id: number }>(
    db,
    sql`
    insert into consent_ledger (customer_id, list, granted, at, source, wording)
    select * from unnest(${array(rows.map((r) => r.customerId))}::bigint[], ${array(rows.map((r) => r.list))}::text[], ${array(rows.map((r) => r.granted))}::boolean[],
      ${array(rows.map((r) => r.at.toISOString()))}::timestamptz[], ${array(rows.map((r) => r.source))}::text[], ${array(rows.map((r) => r.wording))}::text[])
    returning id`,
  );
  await queueWebhookEvents(
    db,
    'consent.changed',
    sql`
    select 'consent-' || k.id, jsonb_build_object('customerId', k.customer_id, 'externalId', c.external_id, 'email', c.email, 'list', k.list,
      'granted', k.granted, 'at', k.at, 'source', k.source, 'wording', k.wording)
    from consent_ledger k join customers c on c.id = k.customer_id where k.id = any(${array(entries.map((e) => e.id))}::bigint[])`,
  );
  await db.execute(sql`
    update customers c set consent = c.consent || latest.state
    from (
      select customer_id, jsonb_object_agg(list, granted) as state from (
        select distinct on (k.customer_id, k.list) k.customer_id, k.list, k.granted
        from consent_ledger k join (select distinct * from unnest(${array(rows.map((r) => r.customerId))}::bigint[], ${array(rows.map((r) => r.list))}::text[])
          as t(customer_id, list)) t on t.customer_id = k.customer_id and t.list = k.list
        order by k.customer_id, k.list, k.at desc, k.id desc) l
      group by customer_id) latest
    where c.id = latest.customer_id`);
  // One audit entry per call (an import chunk is one); the ledger holds each entry.
  const granted = rows.filter((r) => r.granted).length;
  await audit(db, {
    actor: [...new Set(rows.map((r) => r.source))].join(', '),
    action: granted === rows.length ? 'consent.granted' : granted === 0 ? 'consent.withdrawn' : 'consent.changed',
    target: customerIds.length === 1 ? `customer #${customerIds[0]}` : `${customerIds.length} customers`,
    detail: {
      granted,
      withdrawn: rows.length - granted,
      lists: [...new Set(rows.map((r) => r.list))],
      customers: customerIds.slice(0, 100),
    },
  });
}
