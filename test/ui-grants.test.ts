// The UI shows a control only when the signed-in role may call the route behind it (src/web/session.tsx).
// Every route the UI names must exist, or a typo would hide a control from everyone; and the answer
// to /auth/me must say what each role may call, from the same guards the server enforces.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createApiKey } from '../src/auth/auth.service.ts';
import { createTestApp, expectJson, type TestApp } from './app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

function webFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? webFiles(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : [],
    );
}

test('every route the UI asks about is a route of the app', async () => {
  const { user } = await expectJson(t.call('GET', '/api/v1/auth/me'));
  const all = new Set<string>(user.may);
  const named = new Set<string>();
  for (const file of webFiles('src/web')) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/'((?:GET|POST|PUT|PATCH|DELETE) \/api\/[^']+)'/g)) named.add(m[1]);
  }
  assert.ok(named.size > 30, `the UI names ${named.size} routes`);
  assert.deepEqual(
    [...named].filter((r) => !all.has(r)),
    [],
    'routes the UI names that the app does not have (or an admin may not call)',
  );
});

test('what each role may call, as /auth/me says, follows the guards', async () => {
  const may = async (role: 'agent' | 'analyst' | 'marketer') => {
    const { key } = await createApiKey(t.deps, `as ${role}`, role);
    const r = await t.app.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${key}` } });
    return new Set<string>((await r.json()).user.may);
  };
  const [agent, analyst, marketer] = [await may('agent'), await may('analyst'), await may('marketer')];
  assert.ok(!agent.has('POST /api/v1/analytics/runs'), 'an agent does not run the analysis');
  assert.ok(!agent.has('POST /api/v1/campaigns'), 'nor create campaigns');
  assert.ok(agent.has('POST /api/v1/worklist/:customerId/decisions'));
  assert.ok(analyst.has('POST /api/v1/analytics/runs'));
  assert.ok(!analyst.has('GET /api/v1/customers'), 'an analyst does not open the customer list');
  assert.ok(marketer.has('POST /api/v1/campaigns'));
  assert.ok(!marketer.has('GET /api/v1/users'));
  // A key limited by scope may call only what its scopes allow.
  const { key } = await createApiKey(t.deps, 'events only', 'marketer', ['events:write']);
  const r = await t.app.request('/api/v1/auth/me', { headers: { authorization: `Bearer ${key}` } });
  assert.equal(r.status, 403, 'a key limited to events:write may not even ask who it is');
});
