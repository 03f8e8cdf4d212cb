import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createUser } from '../src/auth/auth.service.ts';
import { createTestApp, type TestApp } from './app.ts';

// A fresh load of the UI asks who is signed in without a 401, and every UI path reloads to the UI
// while the API still answers unknown paths with a JSON 404.
let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

test('GET /auth/session answers 200 with user null when nobody is signed in, or with a wrong key', async () => {
  for (const headers of [{}, { authorization: 'Bearer kept_wrong' }] as Record<string, string>[]) {
    const response = await t.app.request('/api/v1/auth/session', { headers });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { user: null });
  }
  // /auth/me keeps answering API clients without credentials with 401.
  assert.equal((await t.app.request('/api/v1/auth/me')).status, 401);
});

test('GET /auth/session answers the signed-in caller as /auth/me does, for a key and for a session', async () => {
  const byKey = await (await t.call('GET', '/api/v1/auth/session')).json();
  const me = await (await t.call('GET', '/api/v1/auth/me')).json();
  assert.deepEqual(byKey, me);
  assert.equal(byKey.user.role, 'admin');

  const agent = await createUser(t.deps, 'session-agent@shop.example', 'agent');
  const login = await t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: agent.email, password: agent.password }),
  });
  assert.equal(login.status, 200);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
  const session = await (await t.app.request('/api/v1/auth/session', { headers: { cookie } })).json();
  assert.deepEqual(
    { kind: session.user.kind, email: session.user.email, role: session.user.role },
    {
      kind: 'user',
      email: 'session-agent@shop.example',
      role: 'agent',
    },
  );
  assert.ok(session.user.may.includes('GET /api/v1/worklist'));
});

const uiPaths = [
  '/',
  '/overview',
  '/customers',
  '/customers/1',
  '/tickets',
  '/tickets/1/2',
  '/campaigns',
  '/campaigns/3',
  '/journeys',
  '/journeys/1',
  '/quality',
  '/quality/some_problem',
  '/analytics',
  '/insights',
  '/channels',
  '/rules',
  '/worklist',
  '/segments',
  '/surveys',
  '/support',
  '/imports',
  '/team',
  '/audit',
  '/duplicates',
  '/api',
  '/api/',
];

test('every UI path, /api included, reloads to the UI', async () => {
  for (const path of uiPaths) {
    const response = await t.app.request(path);
    assert.equal(response.status, 200, path);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/, path);
    assert.match(await response.text(), /<div id="root"|<!doctype html>/i, path);
  }
});

test('an unknown API path still answers a JSON 404, signed in or not', async () => {
  for (const path of ['/api/v1/nothing-here', '/api/v1/customers/1/nothing', '/api/v2/customers', '/api/health/x']) {
    const response = await t.call('GET', path);
    assert.equal(response.status, 404, path);
    assert.equal((await response.json()).error.code, 'not_found', path);
  }
  const anonymous = await t.app.request('/api/v1/nothing-here');
  assert.ok([401, 404].includes(anonymous.status));
  assert.ok((await anonymous.json()).error);
});
