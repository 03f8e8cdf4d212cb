// Outbound webhooks (P14): events go into an outbox in the transaction that made them, a worker
// posts them signed (HMAC-SHA256 over the timestamp and the body), retries with backoff for 4 hours,
// then leaves them dead until someone replays them. Every delivery of one event has the same id.
import { createHmac, randomBytes } from 'node:crypto';
import { audit } from '../audit/index.ts';
import { heldScopes } from '../auth/access.ts';
import { actorName, type Actor } from '../auth/auth.ts';
import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { every } from '../jobs/job.service.ts';
import { AppError } from '../shared/errors.ts';
import { post, refuseDestination } from './destination.ts';
import {
  claimDueDeliveries,
  deactivateWebhook,
  finishedDeliveryType,
  insertWebhook,
  listActiveWebhooks,
  listDeliveries as listDeliveryRows,
  markDelivered,
  markFailed,
  requeueDelivery,
  type ClaimedDelivery,
  type DeliveryStatus,
} from './webhook.repository.ts';
import { webhookEvents, type WebhookEvent } from './webhook.ts';

export { webhookEvents, type WebhookEvent };

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
    throw new AppError(
      'forbidden',
      `This key is limited to ${held.join(', ')}; ${what} sends out data that needs ${needed.join(' and ')} to read, and the key lacks ${lacking.join(', ')}`,
    );
  }
}

/** Waits after the 1st, 2nd, ... failure; then hourly until the 4 hours are over. */
const backoffSeconds = [30, 120, 600, 1800, 3600];
const stuckAfterMs = 2 * 60_000;
const concurrency = 5;

export interface WebhookView {
  id: number;
  url: string;
  events: string[];
  secretHint: string;
  active: boolean;
  createdBy: string;
  createdAt: string;
  counts: { pending: number; delivered: number; dead: number };
}

export async function listWebhooks(db: Db): Promise<WebhookView[]> {
  return (await listActiveWebhooks(db)).map((r) => ({
    id: r.id,
    url: r.url,
    events: r.events,
    secretHint: `${r.secret.slice(0, 10)}…`,
    active: r.active,
    createdBy: r.createdBy,
    createdAt: r.createdAt.toISOString(),
    counts: { pending: r.pending, delivered: r.delivered, dead: r.dead },
  }));
}

/** Saves a webhook after checking who asks and where it points; the secret is in the answer, once. */
export async function createWebhook(
  deps: Deps,
  body: { url: string; events: WebhookEvent[] },
  by: Actor,
): Promise<{ id: number; url: string; events: string[]; secret: string }> {
  refuseSendingOut(by, body.events, `a webhook for ${[...new Set(body.events)].join(', ')}`);
  const actor = actorName(by);
  const refused = await refuseDestination(body.url, deps.config.webhookAllow);
  if (refused)
    throw new AppError('validation_failed', `The webhook URL is refused: ${refused}`, {
      issues: [{ path: 'url', message: refused }],
    });
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  const id = await insertWebhook(deps.db, {
    url: body.url,
    events: [...new Set(body.events)],
    secret,
    createdBy: actor,
  });
  await audit(deps.db, { actor, action: 'webhook.created', target: body.url, detail: { id, events: body.events } });
  return { id, url: body.url, events: body.events, secret };
}

/** Stops a webhook at once: nothing more is queued or sent to it. */
export async function removeWebhook(deps: Deps, id: number, by: Actor): Promise<void> {
  const actor = actorName(by);
  const url = await deactivateWebhook(deps.db, id);
  if (url === undefined) throw new AppError('not_found', `No webhook ${id}`);
  await audit(deps.db, { actor, action: 'webhook.removed', target: url, detail: { id } });
}

export interface DeliveryView {
  id: number;
  eventId: string;
  type: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string;
  deliveredAt: string | null;
}

/** A webhook's deliveries, newest first, with attempts and the last answer. */
export async function listDeliveries(
  db: Db,
  webhookId: number,
  status: DeliveryStatus | undefined,
  limit: number,
): Promise<DeliveryView[]> {
  return (await listDeliveryRows(db, webhookId, status, limit)).map((r) => ({
    ...r,
    createdAt: r.createdAt.toISOString(),
    nextAttemptAt: r.nextAttemptAt.toISOString(),
    deliveredAt: r.deliveredAt?.toISOString() ?? null,
  }));
}

/** Sends a delivery again from now, with 4 more hours of retries; the event id stays, so a receiver can ignore it if it already has it. */
export async function replayDelivery(deps: Deps, webhookId: number, deliveryId: number, by: Actor): Promise<void> {
  const type = await finishedDeliveryType(deps.db, webhookId, deliveryId);
  if (!type) throw new AppError('not_found', `No finished delivery ${deliveryId} of webhook ${webhookId}`);
  refuseSendingOut(by, [type], `replaying a ${type} delivery`);
  const now = deps.clock.now();
  const eventId = await requeueDelivery(deps.db, webhookId, deliveryId, now, new Date(now.getTime() + 4 * 3600_000));
  if (eventId === undefined)
    throw new AppError('not_found', `No finished delivery ${deliveryId} of webhook ${webhookId}`);
  const target = `webhook #${webhookId}`;
  await audit(deps.db, { actor: actorName(by), action: 'webhook.replayed', target, detail: { deliveryId, eventId } });
}

/** `t=UNIX,v1=HEX`: HMAC-SHA256 with the webhook's secret over `UNIX.BODY`. */
export const signature = (secret: string, unix: number, body: string) =>
  `t=${unix},v1=${createHmac('sha256', secret).update(`${unix}.${body}`).digest('hex')}`;

/** Sends what is due (and what a crashed worker left half-sent); returns what happened. */
export async function deliverWebhooks(deps: Deps): Promise<{ delivered: number; retrying: number; dead: number }> {
  const now = deps.clock.now();
  const due = await claimDueDeliveries(deps.db, now, new Date(now.getTime() - stuckAfterMs));
  const outcome = { delivered: 0, retrying: 0, dead: 0 };
  const send = async (d: ClaimedDelivery) => {
    const body = JSON.stringify({
      id: d.eventId,
      type: d.type,
      createdAt: new Date(d.createdAt).toISOString(),
      data: d.payload,
    });
    const unix = Math.floor(deps.clock.now().getTime() / 1000);
    let status: number | null = null;
    let error: string | null = null;
    try {
      const answer = await post(
        d.url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'Kept-Webhooks/1',
          'kept-event-id': d.eventId,
          'kept-event-type': d.type,
          'kept-delivery-attempt': String(d.attempts),
          'kept-signature': signature(d.secret, unix, body),
        },
        deps.config.webhookAllow,
      );
      status = answer.status;
      if (status < 200 || status >= 300) error = `HTTP ${status}${answer.body ? `: ${answer.body.slice(0, 200)}` : ''}`;
    } catch (e) {
      error = (e as Error).message.slice(0, 300);
    }
    const at = deps.clock.now();
    if (!error) {
      outcome.delivered++;
      await markDelivered(deps.db, d.id, at, status);
      return;
    }
    const next = new Date(at.getTime() + (backoffSeconds[d.attempts - 1] ?? 3600) * 1000);
    const dead = next > new Date(d.retryUntil);
    outcome[dead ? 'dead' : 'retrying']++;
    await markFailed(deps.db, d.id, { dead, nextAttemptAt: next, lastStatus: status, lastError: error });
  };
  for (let i = 0; i < due.length; i += concurrency) await Promise.all(due.slice(i, i + concurrency).map(send));
  return outcome;
}

/** Sends due deliveries every 5 seconds while the server runs. */
export const scheduleWebhooks = (deps: Deps) => every(deps, 5_000, 'webhook round', () => deliverWebhooks(deps));
