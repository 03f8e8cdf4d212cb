import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { roleCovers, scopeAreas, scopeOf, type Access } from './access.ts';
import { createUser } from './auth.service.ts';
import { roles } from './auth.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await t.close();
});

test('health answers without signing in and names the database kind', async () => {
  const response = await t.app.request('/api/health');
  assert.equal(response.status, 200);
  const body = await response.json();
  assert.equal(body.status, 'ok');
  assert.ok(['pglite', 'postgres'].includes(body.database));
});

test('the API refuses callers without credentials or with a wrong key', async () => {
  for (const headers of [{}, { authorization: 'Bearer kept_wrong' }] as Record<string, string>[]) {
    const response = await t.app.request('/api/v1/auth/me', { headers });
    assert.equal(response.status, 401);
    assert.equal((await response.json()).error.code, 'unauthenticated');
  }
  assert.equal((await t.app.request('/api/openapi.json')).status, 401);
});

test('an API key authenticates as its role; the OpenAPI document is served to it', async () => {
  const me = await (await t.call('GET', '/api/v1/auth/me')).json();
  assert.deepEqual({ kind: me.user.kind, role: me.user.role }, { kind: 'key', role: 'admin' });
  const doc = await (await t.call('GET', '/api/openapi.json')).json();
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/api/v1/auth/login']);
});

test('a user signs in with the generated password, gets an HttpOnly cookie, and signs out on the server', async () => {
  const user = await createUser(t.deps, ' Agent@Shop.example ', 'agent');
  assert.equal(user.password.length, 24);
  const wrong = await t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'agent@shop.example', password: 'nope' }),
  });
  assert.equal(wrong.status, 401);
  const ok = await t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'AGENT@shop.example', password: user.password }),
  });
  assert.equal(ok.status, 200);
  const cookie = ok.headers.get('set-cookie') ?? '';
  assert.match(cookie, /kept_session=[\w-]{40,}/);
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Lax/i);
  const session = cookie.split(';')[0];
  const me = await (await t.app.request('/api/v1/auth/me', { headers: { cookie: session } })).json();
  assert.deepEqual({ email: me.user.email, role: me.user.role }, { email: 'agent@shop.example', role: 'agent' });
  // Signed in by cookie, a change must come from Kept's own pages (src/auth/csrf.ts): the sign-out sends its Origin.
  assert.equal(
    (
      await t.app.request('/api/v1/auth/logout', {
        method: 'POST',
        headers: { cookie: session, origin: 'http://localhost' },
      })
    ).status,
    204,
  );
  assert.equal((await t.app.request('/api/v1/auth/me', { headers: { cookie: session } })).status, 401);
});

test('a malformed login body is a validation error naming the field', async () => {
  const response = await t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'x@y.z' }),
  });
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.error.code, 'validation_failed');
  assert.equal(body.error.details.issues[0].path, 'password');
});

test('repeated wrong passwords are throttled with Retry-After', async () => {
  await createUser(t.deps, 'target@shop.example', 'analyst');
  let last: Response | undefined;
  for (let i = 0; i < 11; i++) {
    last = await t.app.request('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'target@shop.example', password: `guess${i}` }),
    });
  }
  assert.equal(last!.status, 429);
  assert.ok(Number(last!.headers.get('retry-after')) > 0);
});

test('the areas key scopes may name are exactly those of the signed-in routes the app has', () => {
  const signedIn = t.app.routes.filter(
    (r) => r.method !== 'ALL' && (r.handler as { access?: Access }).access?.public === false,
  );
  const areas = new Set(signedIn.map((r) => scopeOf(r.method, r.path).split(':')[0]));
  assert.ok(areas.has('customers') && areas.has('openapi'), [...areas].join(', '));
  assert.deepEqual([...areas].sort(), [...scopeAreas].sort(), 'src/auth/access.ts scopeAreas differs from the routes');
});

test('a role covers another when it may call every route the other may: admin all, marketer agent and analyst, agent and analyst only themselves', () => {
  const covered = Object.fromEntries(roles.map((holder) => [holder, roles.filter((role) => roleCovers(holder, role))]));
  assert.deepEqual(covered, {
    admin: ['admin', 'marketer', 'agent', 'analyst'],
    marketer: ['marketer', 'agent', 'analyst'],
    agent: ['agent'],
    analyst: ['analyst'],
  });
});
