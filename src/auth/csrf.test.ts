// Issue 16, finding 8: a change signed in by the session cookie must come from Kept's own pages (a
// same-origin Origin or Sec-Fetch-Site) with a JSON body; SameSite alone let a foreign page send
// events as text/plain, sign a person out and refresh a segment. API keys are not held to it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { createUser } from './auth.service.ts';

let t: TestApp;
let cookie: string;
let segmentId: number;
before(async () => {
  t = await createTestApp('admin');
  const { password } = await createUser(t.deps, 'marketer@shop.example', 'marketer', 'test');
  const login = await t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'marketer@shop.example', password }),
  });
  cookie = login.headers.get('set-cookie')!.split(';')[0];
  segmentId = (
    await (
      await t.call('POST', '/api/v1/segments', {
        name: 'Snap',
        kind: 'snapshot',
        rule: { match: 'all', conditions: [] },
      })
    ).json()
  ).id;
});
after(async () => {
  await t.close();
});

const event = (id: string) =>
  JSON.stringify({ events: [{ id, type: 'customer.upsert', customer: { externalId: id } }] });
const stored = async (id: string) =>
  (
    await queryRows<{ n: number }>(
      t.deps.db,
      sql`select count(*)::int as n from ingested_events where event_id = ${id}`,
    )
  )[0].n;
const asCookie = (method: string, path: string, headers: Record<string, string>, body?: string) =>
  t.app.request(path, { method, headers: { cookie, ...headers }, body });

test('a cookie-signed change from another origin, without an origin, or as a form type is refused and changes nothing', async () => {
  const refused: [string, string, Record<string, string>, string?][] = [
    ['POST', '/api/v1/events', { origin: 'https://evil.example', 'content-type': 'text/plain' }, event('csrf-1')],
    ['POST', '/api/v1/events', { origin: 'https://evil.example', 'content-type': 'application/json' }, event('csrf-2')],
    ['POST', '/api/v1/events', { 'content-type': 'application/json' }, event('csrf-3')],
    [
      'POST',
      '/api/v1/events',
      { 'sec-fetch-site': 'cross-site', origin: 'http://localhost', 'content-type': 'application/json' },
      event('csrf-4'),
    ],
    ['POST', '/api/v1/events', { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' }, event('csrf-5')],
    ['POST', '/api/v1/events', { origin: 'http://localhost', 'content-type': 'text/plain' }, event('csrf-6')],
    ['POST', '/api/v1/events', { origin: 'null', 'content-type': 'application/json' }, event('csrf-7')],
    ['POST', `/api/v1/segments/${segmentId}/refresh`, { origin: 'https://evil.example' }],
    ['POST', '/api/v1/auth/logout', { origin: 'https://evil.example' }],
    ['DELETE', `/api/v1/segments/${segmentId}`, { 'sec-fetch-site': 'cross-site' }],
  ];
  for (const [method, path, headers, body] of refused) {
    const response = await asCookie(method, path, headers, body);
    assert.equal(response.status, 403, `${method} ${path} ${JSON.stringify(headers)}`);
    assert.match((await response.json()).error.message, /own pages|Origin header|application\/json/);
  }
  for (let i = 1; i <= 7; i++) assert.equal(await stored(`csrf-${i}`), 0);
  assert.equal((await asCookie('GET', '/api/v1/auth/me', {})).status, 200, 'the session survived the foreign sign-out');
  assert.equal(
    (await asCookie('GET', `/api/v1/segments/${segmentId}`, { origin: 'https://evil.example' })).status,
    200,
    'reading is not a change',
  );
});

test("the same changes from Kept's own pages go through, and an API key is not held to the rule", async () => {
  const own = await asCookie(
    'POST',
    '/api/v1/events',
    { origin: 'http://localhost', 'content-type': 'application/json' },
    event('own-1'),
  );
  assert.equal(own.status, 200);
  const fetched = await asCookie(
    'POST',
    '/api/v1/events',
    { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
    event('own-2'),
  );
  assert.equal(fetched.status, 200);
  assert.equal(
    (await asCookie('POST', `/api/v1/segments/${segmentId}/refresh`, { origin: 'http://localhost' })).status,
    200,
  );
  const keyed = await t.app.request('/api/v1/events', {
    method: 'POST',
    headers: { authorization: `Bearer ${t.key}`, origin: 'https://elsewhere.example', 'content-type': 'text/plain' },
    body: event('key-1'),
  });
  assert.equal(keyed.status, 200);
  assert.deepEqual([await stored('own-1'), await stored('own-2'), await stored('key-1')], [1, 1, 1]);
  assert.equal((await asCookie('POST', '/api/v1/auth/logout', { origin: 'http://localhost' })).status, 204);
  assert.equal((await asCookie('GET', '/api/v1/auth/me', {})).status, 401);
});
