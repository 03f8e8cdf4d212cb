// Outbound webhooks (P14): events go into an outbox in the transaction that made them, a worker
// posts them signed (HMAC-SHA256 over the timestamp and the body), retries with backoff for 4 hours,
// then leaves them dead until someone replays them. Every delivery of one event has the same id.
import { listLimit } from '../shared/http.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { audit } from '../audit/index.ts';
import { heldScopes } from '../auth/access.ts';
import { actorName, type Actor } from '../auth/auth.ts';
import { array, queryRows, sql, type Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { every } from '../jobs/job.service.ts';
import { AppError } from '../shared/errors.ts';
import { post, refuseDestination } from './destination.ts';

export const webhookEvents = ['alert.raised', 'consent.changed', 'customer.erased'] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

/**
 * The read scopes that show through the API what each event's data carries (docs/webhooks.md): a
 * webhook sends that data out, so a scoped key may subscribe to (or replay) an event only with them.
 * An alert names the customer by external id, which only the customer record shows.
 */
export const webhookEventScopes: Record<WebhookEvent, readonly string[]> = {
  'alert.raised': ['alerts:read', 'customers:read'],
  'consent.changed': ['customers:read'],
  'customer.erased': ['customers:read'],
};

/** Refuses a scoped key sending out data of these events that it may not read itself. */
function refuseSendingOut(by: Actor, events: readonly WebhookEvent[], what: string) {
  const held = heldScopes(by);
  if (!held) return;
  const needed = [...new Set(events.flatMap((event) => webhookEventScopes[event]))].sort();
  const lacking = needed.filter((scope) => !held.includes(scope));
  if (lacking.length > 0) {
    throw new AppError('forbidden', `This key is limited to ${held.join(', ')}; ${what} sends out data that needs ${needed.join(' and ')} to read, and the key lacks ${lacking.join(', ')}`);
  }
}

/** Waits after the 1st, 2nd, ... failure; then hourly until the 4 hours are over. */
const backoffSeconds = [30, 120, 600, 1800, 3600];
const stuckAfterMs = 2 * 60_000;
const concurrency = 5;

export interface WebhookView {
  id: number; url: string; events: string[]; secretHint: string; active: boolean; createdBy: string; createdAt: string;
  counts: { pending: number; delivered: number; dead: number };
}

export async function listWebhooks(db: Db): Promise<WebhookView[]> {
  const rows = await queryRows<{ id: number; url: string; events: string[]; secret: string; active: boolean; created_by: string; created_at: Date; pending: number; delivered: number; dead: number }>(db, sql`
    select w.id, w.url, w.events, w.secret, w.active, w.created_by, w.created_at,
      count(d.id) filter (where d.status in ('pending', 'sending'))::int as pending, count(d.id) filter (where d.status = 'delivered')::int as delivered,
      count(d.id) filter (where d.status = 'dead')::int as dead
    from webhooks w left join webhook_deliveries d on d.webhook_id = w.id where w.active group by w.id order by w.id limit ${listLimit}`);
  return rows.map((r) => ({
    id: Number(r.id), url: r.url, events: r.events, secretHint: `${r.secret.slice(0, 10)}…`, active: r.active, createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(), counts: { pending: r.pending, delivered: r.delivered, dead: r.dead },
  }));
}

/** Saves a webhook after checking who asks and where it points; the secret is in the answer, once. */
export async function createWebhook(deps: Deps, body: { url: string; events: WebhookEvent[] }, by: Actor): Promise<{ id: number; url: string; events: string[]; secret: string }> {
  refuseSendingOut(by, body.events, `a webhook for ${[...new Set(body.events)].join(', ')}`);
  const actor = actorName(by);
  const refused = await refuseDestination(body.url, deps.config.webhookAllow);
  if (refused) throw new AppError('validation_failed', `The webhook URL is refused: ${refused}`, { issues: [{ path: 'url', message: refused }] });
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  const [row] = await queryRows<{ id: number }>(deps.db, sql`
    insert into webhooks (url, events, secret, created_by) values (${body.url}, ${array([...new Set(body.events)])}::text[], ${secret}, ${actor}) returning id`);
  await audit(deps.db, { actor, action: 'webhook.created', target: body.url, detail: { id: Number(row.id), events: body.events } });
  return { id: Number(row.id), url: body.url, events: body.events, secret };
}

/** Stops a webhook at once: nothing more is queued or sent to it. */
export async function removeWebhook(deps: Deps, id: number, by: Actor): Promise<void> {
  const actor = actorName(by);
  const [row] = await queryRows<{ url: string }>(deps.db, sql`update webhooks set active = false where id = ${id} and active returning url`);
  if (!row) throw new AppError('not_found', `No webhook ${id}`);
  await deps.db.execute(sql`delete from webhook_deliveries where webhook_id = ${id} and status in ('pending', 'sending')`);
  await audit(deps.db, { actor, action: 'webhook.removed', target: row.url, detail: { id } });
}

/**
 * Queues one delivery per event for every active webhook that wants this type, in the caller's
 * transaction. `events` selects (event_id text, payload jsonb); an event queued twice is one delivery.
 */
export async function queueEvents(db: Db, type: WebhookEvent, events: ReturnType<typeof sql>): Promise<void> {
  await db.execute(sql`
    insert into webhook_deliveries (webhook_id, event_id, type, payload)
    select w.id, e.event_id, ${type}, e.payload from webhooks w cross join (${events}) as e(event_id, payload)
    where w.active and ${type} = any(w.events)
    on conflict (webhook_id, event_id) do nothing`);
}

export interface DeliveryRow {
  id: number; event_id: string; type: string; status: string; attempts: number; last_status: number | null; last_error: string | null;
  created_at: Date; next_attempt_at: Date; delivered_at: Date | null;
}

export async function listDeliveries(db: Db, webhookId: number, status: string | undefined, limit: number): Promise<DeliveryRow[]> {
  return queryRows<DeliveryRow>(db, sql`
    select id, event_id, type, status, attempts, last_status, last_error, created_at, next_attempt_at, delivered_at from webhook_deliveries
    where webhook_id = ${webhookId} and ${status ? sql`status = ${status}` : sql`true`} order by id desc limit ${limit}`);
}

/** Sends a delivery again from now, with 4 more hours of retries; the event id stays, so a receiver can ignore it if it already has it. */
export async function replayDelivery(deps: Deps, webhookId: number, deliveryId: number, by: Actor): Promise<void> {
  const finished = sql`id = ${deliveryId} and webhook_id = ${webhookId} and status in ('dead', 'delivered')`;
  const [delivery] = await queryRows<{ type: WebhookEvent }>(deps.db, sql`select type from webhook_deliveries where ${finished}`);
  if (!delivery) throw new AppError('not_found', `No finished delivery ${deliveryId} of webhook ${webhookId}`);
  refuseSendingOut(by, [delivery.type], `replaying a ${delivery.type} delivery`);
  const now = deps.clock.now();
  const [row] = await queryRows<{ event_id: string }>(deps.db, sql`
    update webhook_deliveries set status = 'pending', next_attempt_at = ${now.toISOString()}::timestamptz,
      retry_until = ${new Date(now.getTime() + 4 * 3600_000).toISOString()}::timestamptz
    where ${finished} returning event_id`);
  if (!row) throw new AppError('not_found', `No finished delivery ${deliveryId} of webhook ${webhookId}`);
  await audit(deps.db, { actor: actorName(by), action: 'webhook.replayed', target: `webhook #${webhookId}`, detail: { deliveryId, eventId: row.event_id } });
}

/** `t=UNIX,v1=HEX`: HMAC-SHA256 with the webhook's secret over `UNIX.BODY`. */
export const signature = (secret: string, unix: number, body: string) => `t=${unix},v1=${createHmac('sha256', secret).update(`${unix}.${body}`).digest('hex')}`;

/** Sends what is due (and what a crashed worker left half-sent); returns what happened. */
export async function deliverWebhooks(deps: Deps): Promise<{ delivered: number; retrying: number; dead: number }> {
  const now = deps.clock.now();
  const due = await queryRows<{ id: number; webhook_id: number; event_id: string; type: string; payload: Record<string, unknown>; attempts: number; created_at: Date; retry_until: Date; url: string; secret: string }>(deps.db, sql`
    with claimed as (
      update webhook_deliveries d set status = 'sending', claimed_at = ${now.toISOString()}::timestamptz, attempts = d.attempts + 1
      where d.id in (
        select id from webhook_deliveries
        where (status = 'pending' and next_attempt_at <= ${now.toISOString()}::timestamptz)
           or (status = 'sending' and claimed_at < ${new Date(now.getTime() - stuckAfterMs).toISOString()}::timestamptz)
        order by id limit 100 for update skip locked)
      returning d.*)
    select c.id, c.webhook_id, c.event_id, c.type, c.payload, c.attempts, c.created_at, c.retry_until, w.url, w.secret
    from claimed c join webhooks w on w.id = c.webhook_id order by c.id`);
  const outcome = { delivered: 0, retrying: 0, dead: 0 };
  const send = async (d: (typeof due)[number]) => {
    const body = JSON.stringify({ id: d.event_id, type: d.type, createdAt: new Date(d.created_at).toISOString(), data: d.payload });
    const unix = Math.floor(deps.clock.now().getTime() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const answer = await post(d.url, body, {
        'content-type': 'application/json', 'user-agent': 'Kept-Webhooks/1', 'kept-event-id': d.event_id, 'kept-event-type': d.type,
        'kept-delivery-attempt': String(d.attempts), 'kept-signature': signature(d.secret, unix, body),
      }, deps.config.webhookAllow);
      status = answer.status;
      if (status < 200 || status >= 300) error = `HTTP ${status}${answer.body ? `: ${answer.body.slice(0, 200)}` : ''}`;
    } catch (e) {
      error = (e as Error).message.slice(0, 300);
    }
    const at = deps.clock.now();
    if (!error) {
      outcome.delivered++;
      await deps.db.execute(sql`update webhook_deliveries set status = 'delivered', delivered_at = ${at.toISOString()}::timestamptz, last_status = ${status}, last_error = null where id = ${d.id}`);
      return;
    }
    const next = new Date(at.getTime() + (backoffSeconds[d.attempts - 1] ?? 3600) * 1000);
    const dead = next > new Date(d.retry_until);
    outcome[dead ? 'dead' : 'retrying']++;
    await deps.db.execute(sql`update webhook_deliveries set status = ${dead ? 'dead' : 'pending'}, next_attempt_at = ${next.toISOString()}::timestamptz,
      last_status = ${status}, last_error = ${error} where id = ${d.id}`);
  };
  for (let i = 0; i < due.length; i += concurrency) await Promise.all(due.slice(i, i + concurrency).map(send));
  return outcome;
}

/** Sends due deliveries every 5 seconds while the server runs. */
export const scheduleWebhooks = (deps: Deps) => every(deps, 5_000, 'webhook round', () => deliverWebhooks(deps));
