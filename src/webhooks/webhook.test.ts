// P14 and P24: webhooks are signed, delivered at least once with a stable event id, retried with
// backoff for 4 hours, then dead until replayed; and they never reach an internal address unless
// it is allow-listed, checked again when each connection is made.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { post, reachable, refuseDestination } from './destination.ts';
import { deliverWebhooks } from './webhook.service.ts';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}
let t: TestApp;
let receiver: http.Server;
let url: string;
const received: Received[] = [];
let answer = 200;
// Starts at the real time: deliveries are queued with the database's now().
let now = new Date(Date.now() + 60_000);

before(async () => {
  receiver = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      received.push({ headers: request.headers, body });
      response.statusCode = answer;
      response.end(answer === 200 ? 'ok' : 'try later');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/kept`;
  t = await createTestApp('admin', { webhookAllow: ['127.0.0.1'] });
  (t.deps.clock as { now: () => Date }).now = () => now;
});
after(async () => {
  await t.close();
  await new Promise((resolve) => receiver.close(resolve));
});

const later = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};
const consent = (id: string, granted: boolean) =>
  ingestEvents(
    t.deps,
    [
      {
        id,
        type: 'consent',
        customer: { externalId: 'W-1', email: 'wen@example.com' },
        at: now.toISOString(),
        granted,
        wording: 'News',
      },
    ],
    { source: 'test' },
  );
const deliveries = () =>
  queryRows<{ event_id: string; type: string; status: string; attempts: number; last_error: string | null }>(
    t.deps.db,
    sql`
  select event_id, type, status, attempts, last_error from webhook_deliveries order by id`,
  );

test('an internal address is refused when the webhook is saved, unless allow-listed, and again when the connection is made', async () => {
  // IPv4-compatible IPv6 (::/96): ::127.0.0.1 and ::7f00:1 are 127.0.0.1, ::a9fe:a9fe the cloud metadata address; :: and ::1 are in it too.
  for (const target of [
    'http://169.254.169.254/latest/meta-data',
    'http://10.1.2.3/hook',
    'http://[::1]:8080/',
    'http://[::ffff:127.0.0.1]:8080/',
    'http://[::ffff:a00:1]/',
    'http://[::127.0.0.1]/',
    'http://[::7f00:1]:8080/',
    'http://[::a9fe:a9fe]/latest/meta-data',
    'http://[::]/',
    'http://[::ffff:0:7f00:1]/',
    'http://[64:ff9b:1::a9fe:a9fe]/',
    'http://[2002:a9fe:a9fe::1]/',
  ]) {
    const refused = await t.call('POST', '/api/v1/webhooks', { url: target, events: ['consent.changed'] });
    assert.equal(refused.status, 400, target);
    assert.match((await refused.json()).error.message, /internal address .* KEPT_WEBHOOK_ALLOW/, target);
  }
  assert.match((await refuseDestination('ftp://example.com/x', []))!, /https:\/\//);
  assert.match((await refuseDestination('https://user:pw@example.com/x', []))!, /user name or password/);
  assert.ok(
    reachable('10.9.8.7', 'crm.internal', ['10.0.0.0/8']) && !reachable('10.9.8.7', 'crm.internal', ['192.168.0.0/16']),
  );
  assert.ok(
    reachable('93.184.215.14', 'example.com', []) &&
      !reachable('::ffff:127.0.0.1', 'x', []) &&
      !reachable('fd00::1', 'x', []),
  );
  assert.deepEqual(
    ['::', '::1', '::7f00:1', '::127.0.0.1', '::a9fe:a9fe', '::a00:1', '::808:808'].filter((a) =>
      reachable(a, 'x', []),
    ),
    [],
    'all of ::/96',
  );
  assert.ok(
    reachable('2606:4700:4700::1111', 'one.one.one.one', []) && reachable('::1:0:0:1', 'x', []),
    'public IPv6 outside ::/96 stays reachable',
  );
  // A name that resolves to an internal address at send time (DNS rebinding) is not sent to.
  await assert.rejects(
    post(url.replace('127.0.0.1', 'localhost'), '{}', {}, []),
    /resolved to an internal address \(127\.0\.0\.1\); not sent/,
  );
  await assert.rejects(post(url, '{}', {}, []), /internal address; not sent/);
  assert.equal(received.length, 0);
  // A name that resolves to an allowed address is sent to; a pooled connection never skips the check for the next one.
  assert.equal((await post(url.replace('127.0.0.1', 'localhost'), '{}', {}, ['127.0.0.1'])).status, 200);
  await assert.rejects(post(url.replace('127.0.0.1', 'localhost'), '{}', {}, []), /resolved to an internal address/);
  assert.equal(received.length, 1);
  received.length = 0;
});

test('an event is posted once, signed with the secret over the timestamp and the body, with its own id', async () => {
  const hook = await expectJson(
    t.call('POST', '/api/v1/webhooks', { url, events: ['consent.changed', 'customer.erased'] }),
    201,
  );
  assert.match(hook.secret, /^whsec_[\w-]{32}$/);
  await consent('k1', true);
  assert.deepEqual(await deliverWebhooks(t.deps), { delivered: 1, retrying: 0, dead: 0 });
  assert.deepEqual(await deliverWebhooks(t.deps), { delivered: 0, retrying: 0, dead: 0 }, 'delivered once');
  const [one] = received;
  const body = JSON.parse(one.body);
  assert.deepEqual(
    [body.type, body.data.list, body.data.granted, body.data.externalId, body.data.email],
    ['consent.changed', 'marketing', true, 'W-1', 'wen@example.com'],
  );
  assert.equal(one.headers['kept-event-id'], body.id);
  const [, unix, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(one.headers['kept-signature']))!;
  assert.equal(Number(unix), Math.floor(now.getTime() / 1000));
  assert.equal(
    mac,
    createHmac('sha256', hook.secret).update(`${unix}.${one.body}`).digest('hex'),
    'the signature checks out with the secret',
  );
  const listed = (await expectJson(t.call('GET', '/api/v1/webhooks'))).webhooks[0];
  assert.deepEqual(
    [listed.counts.delivered, listed.secretHint.endsWith('…'), JSON.stringify(listed).includes(hook.secret)],
    [1, true, false],
  );
});

test('a failing receiver is retried with growing waits for 4 hours, then the delivery is dead; a replay sends the same event id again', async () => {
  received.length = 0;
  answer = 503;
  await consent('k2', false);
  await deliverWebhooks(t.deps);
  let [, pending] = await deliveries();
  assert.deepEqual([pending.status, pending.attempts, pending.last_error], ['pending', 1, 'HTTP 503: try later']);
  assert.deepEqual(
    await deliverWebhooks(t.deps),
    { delivered: 0, retrying: 0, dead: 0 },
    'not before its wait is over',
  );
  const waits = [30, 120, 600, 1800, 3600, 3600, 3600];
  let attempts = 1;
  for (const wait of waits) {
    later(wait);
    const round = await deliverWebhooks(t.deps);
    attempts++;
    [, pending] = await deliveries();
    if (round.dead) break;
    assert.equal(round.retrying, 1);
  }
  assert.deepEqual([pending.status, pending.attempts], ['dead', attempts]);
  assert.ok(attempts >= 6 && attempts <= 8, `${attempts} attempts in 4 hours`);
  assert.equal(
    new Set(received.map((r) => r.headers['kept-event-id'])).size,
    1,
    'every attempt carries the same event id',
  );

  answer = 200;
  const [webhook] = (await expectJson(t.call('GET', '/api/v1/webhooks'))).webhooks;
  const [dead] = (await expectJson(t.call('GET', `/api/v1/webhooks/${webhook.id}/deliveries?status=dead`))).deliveries;
  await expectJson(t.call('POST', `/api/v1/webhooks/${webhook.id}/deliveries/${dead.id}/replay`), 202);
  assert.deepEqual(await deliverWebhooks(t.deps), { delivered: 1, retrying: 0, dead: 0 });
  assert.equal(received.at(-1)!.headers['kept-event-id'], dead.eventId);
  const [entry] = (await expectJson(t.call('GET', '/api/v1/audit?action=webhook.replayed'))).entries;
  assert.equal(entry.detail.eventId, dead.eventId);
});

test('a delivery a crashed worker left half-sent goes again (at least once)', async () => {
  received.length = 0;
  await consent('k3', true);
  await t.deps.db.execute(
    sql`update webhook_deliveries set status = 'sending', claimed_at = ${new Date(now.getTime() - 3 * 60_000).toISOString()}::timestamptz where status = 'pending'`,
  );
  assert.deepEqual(await deliverWebhooks(t.deps), { delivered: 1, retrying: 0, dead: 0 });
  assert.equal(received.length, 1);
});

test('an erasure tells the receiver, and removes what earlier deliveries carried about the person; a removed webhook gets nothing more', async () => {
  received.length = 0;
  const [{ id }] = await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = 'W-1'`);
  await expectJson(t.call('POST', `/api/v1/customers/${id}/erase`, { confirm: 'erase' }));
  assert.deepEqual(
    (await deliveries()).map((d) => d.type),
    ['customer.erased'],
  );
  await deliverWebhooks(t.deps);
  assert.deepEqual(JSON.parse(received[0].body).data, {
    customerId: Number(id),
    externalId: 'W-1',
    at: now.toISOString(),
  });

  const [webhook] = (await expectJson(t.call('GET', '/api/v1/webhooks'))).webhooks;
  assert.equal((await t.call('DELETE', `/api/v1/webhooks/${webhook.id}`)).status, 204);
  await ingestEvents(
    t.deps,
    [{ id: 'k9', type: 'consent', customer: { externalId: 'W-2' }, at: now.toISOString(), granted: true }],
    { source: 'test' },
  );
  assert.equal((await deliveries()).length, 1, 'nothing queued for a removed webhook');
  assert.deepEqual((await expectJson(t.call('GET', '/api/v1/webhooks'))).webhooks, []);
});

test('a scoped key adds a webhook only for events whose data it may read, and replays only such deliveries', async () => {
  received.length = 0;
  const as = (key: string, method: string, path: string, body?: unknown) =>
    t.app.request(path, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const active = () =>
    queryRows<{ id: number; events: string[] }>(
      t.deps.db,
      sql`select id, events from webhooks where active order by id`,
    );
  const { key: hooksOnly } = await createApiKey(t.deps, 'hooks only', 'admin', ['webhooks:read', 'webhooks:write']);
  const { key: withCustomers } = await createApiKey(t.deps, 'hooks and customers', 'admin', [
    'webhooks:write',
    'customers:read',
  ]);
  const refusals: [string, string[], string][] = [
    [
      hooksOnly,
      ['consent.changed'],
      'This key is limited to webhooks:read, webhooks:write; a webhook for consent.changed sends out data that needs customers:read to read, and the key lacks customers:read',
    ],
    [
      withCustomers,
      ['customer.erased', 'alert.raised'],
      'This key is limited to customers:read, webhooks:write; a webhook for customer.erased, alert.raised sends out data that needs alerts:read and customers:read to read, and the key lacks alerts:read',
    ],
  ];
  for (const [key, events, message] of refusals) {
    const refused = await as(key, 'POST', '/api/v1/webhooks', { url, events });
    assert.equal(refused.status, 403, events.join());
    assert.equal((await refused.json()).error.message, message);
  }
  assert.deepEqual(await active(), [], 'no webhook was added');

  const hook = await expectJson(
    as(withCustomers, 'POST', '/api/v1/webhooks', { url, events: ['consent.changed'] }),
    201,
  );
  await ingestEvents(
    t.deps,
    [
      {
        id: 'k10',
        type: 'consent',
        customer: { externalId: 'W-3', email: 'wim@example.com' },
        at: now.toISOString(),
        granted: true,
      },
    ],
    { source: 'test' },
  );
  assert.deepEqual(await deliverWebhooks(t.deps), { delivered: 1, retrying: 0, dead: 0 });
  const [sent] = (await expectJson(t.call('GET', `/api/v1/webhooks/${hook.id}/deliveries`))).deliveries;
  const replay = `/api/v1/webhooks/${hook.id}/deliveries/${sent.id}/replay`;
  const refused = await as(hooksOnly, 'POST', replay);
  assert.equal(refused.status, 403);
  assert.equal(
    (await refused.json()).error.message,
    'This key is limited to webhooks:read, webhooks:write; replaying a consent.changed delivery sends out data that needs customers:read to read, and the key lacks customers:read',
  );
  assert.equal((await deliveries()).at(-1)!.status, 'delivered', 'not queued again');
  assert.equal((await as(hooksOnly, 'POST', `/api/v1/webhooks/${hook.id}/deliveries/999999/replay`)).status, 404);
  assert.equal((await as(withCustomers, 'POST', replay)).status, 202);
  assert.deepEqual(await deliverWebhooks(t.deps), { delivered: 1, retrying: 0, dead: 0 });
  assert.equal(received.length, 2);
});
