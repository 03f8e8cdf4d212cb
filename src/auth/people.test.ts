import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { scopeAreas } from './access.ts';
import { changeUser, createApiKey, createUser, resetPassword } from './auth.service.ts';
import type { Principal } from './auth.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp('admin');
});
after(async () => {
  await t.close();
});

const signIn = async (email: string, password: string) => {
  const response = await t.app.request('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  return { status: response.status, cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '' };
};
const asCookie = (cookie: string, path: string) => t.app.request(path, { headers: { cookie } });
/** A request with another key than the test's own. */
const as = (key: string, method: string, path: string, body?: unknown) =>
  t.app.request(path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const people = () =>
  queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select id, email, role, disabled_at, password_hash from users order by id`,
  );
const keyRows = () =>
  queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`select id, name, role, scopes, revoked_at from api_keys order by id`,
  );
const auditedBy = async (actor: string) =>
  (
    await queryRows<{ action: string }>(t.deps.db, sql`select action from audit_log where actor = ${actor} order by id`)
  ).map((r) => r.action);
const audited = async (action: string) =>
  (await expectJson(t.call('GET', `/api/v1/audit?action=${action}`))).entries.map(
    (e: { action: string; target: string; detail: object }) => [e.target, e.detail, e.action],
  );

test('an admin adds a person, changes their role and disables them: each takes effect on their open session at once', async () => {
  const added = await expectJson(t.call('POST', '/api/v1/users', { email: 'Mia@Shop.example', role: 'marketer' }), 201);
  assert.deepEqual([added.user.email, added.user.role, added.user.disabledAt], ['mia@shop.example', 'marketer', null]);
  const mia = await signIn('mia@shop.example', added.password);
  assert.equal(mia.status, 200);
  assert.equal((await asCookie(mia.cookie, '/api/v1/customers')).status, 200);

  await expectJson(t.call('PUT', `/api/v1/users/${added.user.id}`, { role: 'analyst' }));
  assert.equal((await asCookie(mia.cookie, '/api/v1/customers')).status, 403, 'an analyst now, in the same session');
  assert.deepEqual(await audited('user.role_changed'), [
    ['mia@shop.example', { from: 'marketer', to: 'analyst' }, 'user.role_changed'],
  ]);

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
  assert.deepEqual(
    (await audited('user')).map(([target, , action]: string[]) => `${action} ${target}`),
    ['password_reset', 'enabled', 'disabled', 'role_changed', 'created'].map((a) => `user.${a} mia@shop.example`),
  );

  assert.equal((await t.call('POST', '/api/v1/users', { email: 'mia@shop.example', role: 'agent' })).status, 409);
  assert.equal((await t.call('PUT', '/api/v1/users/9999', { role: 'agent' })).status, 404);
});

test('there is always an active admin: the only one can be neither demoted nor disabled', async () => {
  const first = await expectJson(t.call('POST', '/api/v1/users', { email: 'owner@shop.example', role: 'admin' }), 201);
  const refused = await t.call('PUT', `/api/v1/users/${first.user.id}`, { role: 'agent' });
  assert.equal(refused.status, 409);
  assert.equal(
    (await refused.json()).error.message,
    'owner@shop.example is the only active admin; make someone else an admin first',
  );
  assert.equal((await t.call('PUT', `/api/v1/users/${first.user.id}`, { disabled: true })).status, 409);
  const second = await expectJson(
    t.call('POST', '/api/v1/users', { email: 'deputy@shop.example', role: 'admin' }),
    201,
  );
  assert.equal((await expectJson(t.call('PUT', `/api/v1/users/${first.user.id}`, { role: 'agent' }))).role, 'agent');
  assert.equal((await t.call('PUT', `/api/v1/users/${second.user.id}`, { disabled: true })).status, 409);
});

test('keys: created with scopes and shown once, listed without the key, revoked at once', async () => {
  const created = await expectJson(
    t.call('POST', '/api/v1/keys', { name: 'shop', role: 'marketer', scopes: ['events:write', 'customers:read'] }),
    201,
  );
  assert.match(created.key, /^kept_[\w-]{43}$/);
  assert.deepEqual(created.scopes, ['customers:read', 'events:write']);
  const bearer = (path: string) => t.app.request(path, { headers: { authorization: `Bearer ${created.key}` } });
  assert.equal((await bearer('/api/v1/customers')).status, 200);
  assert.equal((await bearer('/api/v1/segments')).status, 403);
  const { keys } = await expectJson(t.call('GET', '/api/v1/keys'));
  const listed = keys.find((k: { id: number }) => k.id === created.id);
  assert.deepEqual(
    [listed.name, listed.prefix, listed.revokedAt, 'key' in listed],
    ['shop', created.key.slice(0, 12), null, false],
  );
  assert.equal(
    (await t.call('POST', '/api/v1/keys', { name: 'bad', role: 'marketer', scopes: ['everything'] })).status,
    400,
  );

  assert.equal((await t.call('DELETE', `/api/v1/keys/${created.id}`)).status, 204);
  assert.equal((await bearer('/api/v1/customers')).status, 401);
  assert.equal((await t.call('DELETE', `/api/v1/keys/${created.id}`)).status, 404);
  assert.deepEqual(
    (await audited('key')).map(([target]: [string]) => target),
    [`key #${created.id}`, `key #${created.id} shop`, 'key #1 test'],
  );
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
    assert.equal(
      (await limited.app.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${other.key}` } })).status,
      200,
      'another key is not held back',
    );
    const { keys } = await expectJson(
      limited.app.request('/api/v1/keys', { headers: { authorization: `Bearer ${other.key}` } }),
    );
    assert.ok(
      keys.every((k: { lastUsedAt: string | null }) => k.lastUsedAt !== null),
      'both keys were used',
    );
  } finally {
    await limited.close();
  }
});

test('a key limited to users:write may not add a person, change a role, disable or enable anyone, or reset a password; an unscoped admin key may', async () => {
  const { key: scoped } = await createApiKey(t.deps, 'people only', 'admin', ['users:write', 'users:read']);
  const noor = await expectJson(t.call('POST', '/api/v1/users', { email: 'noor@shop.example', role: 'agent' }), 201);
  const before = await people();
  const attempts: [string, string, unknown, string][] = [
    ['POST', '/api/v1/users', { email: 'ghost@shop.example', role: 'admin' }, 'add a person'],
    ['PUT', `/api/v1/users/${noor.user.id}`, { role: 'admin' }, "change a person's role"],
    ['PUT', `/api/v1/users/${noor.user.id}`, { disabled: true }, 'disable or enable a person'],
    ['POST', `/api/v1/users/${noor.user.id}/password`, undefined, "reset a person's password"],
  ];
  for (const [method, path, body, what] of attempts) {
    const refused = await as(scoped, method, path, body);
    assert.equal(refused.status, 403, `${method} ${path}`);
    assert.equal(
      (await refused.json()).error.message,
      `This key is limited to users:read, users:write and may not ${what}: a person holds all their role may, more than this key; use a key without scopes, or sign in`,
    );
  }
  assert.deepEqual(await people(), before, 'no one added, no role, state or password changed');
  assert.equal((await signIn('noor@shop.example', noor.password)).status, 200, 'the password still signs in');
  assert.deepEqual(await auditedBy('key:people only'), []);
  assert.equal((await as(scoped, 'GET', '/api/v1/users')).status, 200, 'reading people stays within its scopes');

  // An unscoped admin key holds admin, so it may do all of it.
  assert.equal(
    (await expectJson(t.call('PUT', `/api/v1/users/${noor.user.id}`, { role: 'marketer' }))).role,
    'marketer',
  );
  assert.match((await expectJson(t.call('POST', `/api/v1/users/${noor.user.id}/password`))).password, /^.{24}$/);
});

test('in the service too (the CLI and the API share it), a principal acts only on people of roles whose routes it may call itself', async () => {
  const marketer: Principal = { kind: 'key', id: 99, name: 'campaigns', role: 'marketer', scopes: null };
  await assert.rejects(createUser(t.deps, 'boss@shop.example', 'admin', marketer), {
    message:
      'This key has the role marketer and may act only on people of the roles marketer, agent, analyst, whose routes it may call itself; not admin',
  });
  const agent = await createUser(t.deps, 'ali@shop.example', 'agent', marketer);
  await assert.rejects(
    changeUser(t.deps, agent.id, { role: 'admin' }, marketer),
    /may act only on people of the roles marketer, agent, analyst, whose routes it may call itself; not admin/,
  );
  const owner = await createUser(t.deps, 'own@shop.example', 'admin');
  await assert.rejects(
    resetPassword(t.deps, owner.email, { kind: 'user', id: 1, email: 'ma@shop.example', role: 'marketer' }),
    {
      message:
        'You have the role marketer and may act only on people of the roles marketer, agent, analyst, whose routes it may call itself; not admin',
    },
  );
  await assert.rejects(
    resetPassword(t.deps, owner.email, { ...marketer, role: 'admin', scopes: ['users:write'] }),
    /This key is limited to users:write and may not reset a person's password/,
  );
  assert.deepEqual(
    (await people()).filter((p) => String(p.email).startsWith('boss')),
    [],
  );
  assert.equal((await people()).find((p) => p.email === 'ali@shop.example')!.role, 'agent');
  // The operator at the console (a name) holds the database: not limited.
  assert.equal((await changeUser(t.deps, agent.id, { role: 'admin' }, 'cli:ops')).role, 'admin');
});

test('a key limited to keys:write creates and revokes only keys within its own scopes: never an unscoped one, never a wider one', async () => {
  const limited = await createApiKey(t.deps, 'key maker', 'admin', ['keys:write', 'keys:read', 'events:write']);
  const before = await keyRows();
  const held = 'This key is limited to events:write, keys:read, keys:write';
  const refusals: [unknown, string][] = [
    [
      { name: 'root', role: 'admin' },
      `${held}; it may create only keys limited to some of those scopes (a key without scopes may call all its role may)`,
    ],
    [
      { name: 'root', role: 'admin', scopes: [] },
      `${held}; it may create only keys limited to some of those scopes (a key without scopes may call all its role may)`,
    ],
    [
      { name: 'reader', role: 'marketer', scopes: ['events:write', 'customers:read', 'users:write'] },
      `${held}; it may not create a key with customers:read, users:write`,
    ],
  ];
  for (const [body, message] of refusals) {
    const refused = await as(limited.key, 'POST', '/api/v1/keys', body);
    assert.equal(refused.status, 403, JSON.stringify(body));
    assert.equal((await refused.json()).error.message, message);
  }
  assert.deepEqual(await keyRows(), before, 'no key was created');

  // Within its scopes, of any role its own covers, it may: the new key holds no more than it does.
  const shop = await expectJson(
    as(limited.key, 'POST', '/api/v1/keys', { name: 'shop', role: 'marketer', scopes: ['events:write'] }),
    201,
  );
  assert.deepEqual([shop.role, shop.scopes], ['marketer', ['events:write']]);
  assert.equal((await as(shop.key, 'GET', '/api/v1/keys')).status, 403);

  // Revoking: only keys it could have created, so it cannot lock out a wider key (the test's own, #1).
  const refused = await as(limited.key, 'DELETE', '/api/v1/keys/1');
  assert.equal(refused.status, 403);
  assert.equal(
    (await refused.json()).error.message,
    `${held}; it may revoke only keys limited to some of those scopes (a key without scopes may call all its role may)`,
  );
  assert.equal((await t.call('GET', '/api/v1/auth/me')).status, 200, 'the unscoped key still works');
  assert.equal((await as(limited.key, 'DELETE', `/api/v1/keys/${shop.id}`)).status, 204);
  assert.equal((await as(limited.key, 'DELETE', `/api/v1/keys/${limited.id}`)).status, 204, 'itself');
  assert.deepEqual(await auditedBy('key:key maker'), ['key.created', 'key.revoked', 'key.revoked']);

  // A role is handed on only to roles it covers: a marketer may not make an admin key (checked in the service, so the CLI is held too).
  const marketer: Principal = { kind: 'key', id: 98, name: 'm', role: 'marketer', scopes: null };
  await assert.rejects(createApiKey(t.deps, 'boss', 'admin', null, marketer), {
    message:
      'This key has the role marketer and may create only keys of the roles marketer, agent, analyst, whose routes it may call itself; not admin',
  });
  await assert.rejects(
    createApiKey(t.deps, 'an', 'analyst', null, { ...marketer, role: 'agent' }),
    /may create only keys of the roles agent, whose routes it may call itself; not analyst/,
  );
});

test('a scope must name an area the app has: refused with its place and the list of areas, through the API and the service the CLI calls', async () => {
  const before = await keyRows();
  const response = await t.call('POST', '/api/v1/keys', {
    name: 'typo',
    role: 'marketer',
    scopes: ['events:write', 'custmers:read', 'everything'],
  });
  assert.equal(response.status, 400);
  const { error } = await response.json();
  const areas = scopeAreas.join(', ');
  assert.deepEqual(error.details.issues, [
    { path: 'scopes.1', message: `there is no area custmers; the areas are ${areas}` },
    {
      path: 'scopes.2',
      message: 'a scope is an area and read or write, e.g. events:write or customers:read; found everything',
    },
  ]);
  assert.match(
    error.message,
    /^scopes\.1: there is no area custmers; the areas are alerts, analytics, .*worklist; scopes\.2: .*found everything$/,
  );
  await assert.rejects(createApiKey(t.deps, 'cli', 'admin', ['webhook:write'], 'cli:ops'), {
    message: `scopes.0: there is no area webhook; the areas are ${areas}`,
  });
  assert.deepEqual(await keyRows(), before, 'no key was created');
});

test('a change to a person names role, disabled or both: an empty body or an unknown field is refused and nothing changes', async () => {
  const [person] = (await people()).filter((p) => p.email === 'noor@shop.example');
  for (const [body, message] of [
    [{}, 'names no change; send role, disabled or both'],
    [{ rol: 'admin' }, 'unknown field rol; a change takes role, disabled or both'],
    [{ role: 'admin', isAdmin: true }, 'unknown field isAdmin; a change takes role, disabled or both'],
  ] as const) {
    const refused = await t.call('PUT', `/api/v1/users/${person.id}`, body);
    assert.equal(refused.status, 400, JSON.stringify(body));
    assert.deepEqual((await refused.json()).error.details.issues, [{ path: 'body', message }]);
  }
  assert.deepEqual(
    (await people()).find((p) => p.id === person.id),
    person,
  );
  const doc = await expectJson(t.call('GET', '/api/openapi.json'));
  assert.equal(
    doc.paths['/api/v1/users/{id}'].put.requestBody.content['application/json'].schema.additionalProperties,
    false,
  );
});
