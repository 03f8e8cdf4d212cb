import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from './auth.service.ts';

let t: TestApp;
before(async () => { t = await createTestApp('admin'); });
after(async () => { await t.close(); });

const signIn = async (email: string, password: string) => {
  const response = await t.app.request('/api/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return { status: response.status, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
};
const asCookie = (cookie: string, path: string) => t.app.request(path, { headers: { cookie } });
const audited = async (action: string) => (await expectJson(t.call('GET', `/api/v1/audit?action=${action}`))).entries.map((e: { action: string; target: string; detail: object }) => [e.target, e.detail, e.action]);

test('an admin adds a person, changes their role and disables them: each takes effect on their open session at once', async () => {
  const added = await expectJson(t.call('POST', '/api/v1/users', { email: 'Mia@Shop.example', role: 'marketer' }), 201);
  assert.deepEqual([added.user.email, added.user.role, added.user.disabledAt], ['mia@shop.example', 'marketer', null]);
  const mia = await signIn('mia@shop.example', added.password);
  assert.equal(mia.status, 200);
  assert.equal((await asCookie(mia.cookie, '/api/v1/customers')).status, 200);

  await expectJson(t.call('PUT', `/api/v1/users/${added.user.id}`, { role: 'analyst' }));
  assert.equal((await asCookie(mia.cookie, '/api/v1/customers')).status, 403, 'an analyst now, in the same session');
  assert.deepEqual(await audited('user.role_changed'), [['mia@shop.example', { from: 'marketer', to: 'analyst' }, 'user.role_changed']]);

  const disabled = await expectJson(t.call('PUT', `/api/v1/users/${added.user.id}`, { disabled: true }));
  assert.ok(disabled.disabledAt);
  assert.equal((await asCookie(mia.cookie, '/api/v1/auth/me')).status, 401, 'the session ended');
  assert.equal((await signIn('mia@shop.example', added.password)).status, 401);
  await expectJson(t.call('PUT', `/api/v1/users/${added.user.id}`, { disabled: false }));
  assert.equal((await signIn('mia@shop.example', added.password)).status, 200);

  // A new password ends the sessions opened with the old one.
  const again = await signIn('mia@shop.example', added.password);
  const { password } = await expectJson(t.call('POST', `/api/v1/users/${added.user.id}/password`));
  assert.equal((await asCookie(again.cookie, '/api/v1/auth/me')).status, 401);
  assert.equal((await signIn('mia@shop.example', added.password)).status, 401);
  assert.equal((await signIn('mia@shop.example', password)).status, 200);
  assert.deepEqual((await audited('user')).map(([target, , action]: string[]) => `${action} ${target}`),
    ['password_reset', 'enabled', 'disabled', 'role_changed', 'created'].map((a) => `user.${a} mia@shop.example`));

  assert.equal((await t.call('POST', '/api/v1/users', { email: 'mia@shop.example', role: 'agent' })).status, 409);
  assert.equal((await t.call('PUT', '/api/v1/users/9999', { role: 'agent' })).status, 404);
});

test('there is always an active admin: the only one can be neither demoted nor disabled', async () => {
  const first = await expectJson(t.call('POST', '/api/v1/users', { email: 'owner@shop.example', role: 'admin' }), 201);
  const refused = await t.call('PUT', `/api/v1/users/${first.user.id}`, { role: 'agent' });
  assert.equal(refused.status, 409);
  assert.equal((await refused.json()).error.message, 'owner@shop.example is the only active admin; make someone else an admin first');
  assert.equal((await t.call('PUT', `/api/v1/users/${first.user.id}`, { disabled: true })).status, 409);
  const second = await expectJson(t.call('POST', '/api/v1/users', { email: 'deputy@shop.example', role: 'admin' }), 201);
  assert.equal((await expectJson(t.call('PUT', `/api/v1/users/${first.user.id}`, { role: 'agent' }))).role, 'agent');
  assert.equal((await t.call('PUT', `/api/v1/users/${second.user.id}`, { disabled: true })).status, 409);
});

test('keys: created with scopes and shown once, listed without the key, revoked at once', async () => {
  const created = await expectJson(t.call('POST', '/api/v1/keys', { name: 'shop', role: 'marketer', scopes: ['events:write', 'customers:read'] }), 201);
  assert.match(created.key, /^kept_[\w-]{43}$/);
  assert.deepEqual(created.scopes, ['customers:read', 'events:write']);
  const bearer = (path: string) => t.app.request(path, { headers: { authorization: `Bearer ${created.key}` } });
  assert.equal((await bearer('/api/v1/customers')).status, 200);
  assert.equal((await bearer('/api/v1/segments')).status, 403);
  const { keys } = await expectJson(t.call('GET', '/api/v1/keys'));
  const listed = keys.find((k: { id: number }) => k.id === created.id);
  assert.deepEqual([listed.name, listed.prefix, listed.revokedAt, 'key' in listed], ['shop', created.key.slice(0, 12), null, false]);
  assert.equal((await t.call('POST', '/api/v1/keys', { name: 'bad', role: 'marketer', scopes: ['everything'] })).status, 400);

  assert.equal((await t.call('DELETE', `/api/v1/keys/${created.id}`)).status, 204);
  assert.equal((await bearer('/api/v1/customers')).status, 401);
  assert.equal((await t.call('DELETE', `/api/v1/keys/${created.id}`)).status, 404);
  assert.deepEqual((await audited('key')).map(([target]: [string]) => target), [`key #${created.id}`, `key #${created.id} shop`, 'key #1 test']);
});

test('each key has its own requests per minute: over it, 429 with Retry-After; and its last use is recorded', async () => {
  const limited = await createTestApp('admin', { keyRequestsPerMinute: 5 });
  try {
    const other = await createApiKey(limited.deps, 'other', 'admin');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await limited.call('GET', '/api/v1/auth/me')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const refused = await limited.call('GET', '/api/v1/auth/me');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.match((await refused.json()).error.message, /more than 5 requests in a minute/);
    assert.equal((await limited.app.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${other.key}` } })).status, 200, 'another key is not held back');
    const { keys } = await expectJson(limited.app.request('/api/v1/keys', { headers: { authorization: `Bearer ${other.key}` } }));
    assert.ok(keys.every((k: { lastUsedAt: string | null }) => k.lastUsedAt !== null), 'both keys were used');
  } finally {
    await limited.close();
  }
});
