// The route matrix (P19): built from the guards on the app's own routes, it must equal the table in
// docs/security.md, and every route is called as every role, signed out and with scoped keys.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { settleJobs } from '../jobs/job.service.ts';
import { scopeOf, type Access } from './access.ts';
import { createApiKey } from './auth.service.ts';
import { roles, type Role } from './auth.ts';

let t: TestApp;
const keys = new Map<Role, string>();
before(async () => {
  t = await createTestApp('admin');
  keys.set('admin', t.key);
  for (const role of roles.filter((r) => r !== 'admin'))
    keys.set(role, (await createApiKey(t.deps, `as ${role}`, role)).key);
});
after(async () => {
  // POST /analytics/runs started analyses in the background: let them end before the database closes.
  await settleJobs();
  await t.close();
});

interface Route {
  method: string;
  path: string;
  access: Access | undefined;
}

/** Every route of the app with its guard. `ALL` entries are middleware and the /api 404, not routes. */
function routes(): Route[] {
  const found = new Map<string, Route>();
  for (const r of t.app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    const route = found.get(key) ?? { method: r.method, path: r.path, access: undefined };
    route.access ??= (r.handler as { access?: Access }).access;
    found.set(key, route);
  }
  return [...found.values()];
}

const allowed = (route: Route, role: Role | 'signed out') =>
  route.access!.public || (role !== 'signed out' && route.access!.roles.includes(role));

function matrix(all: Route[]): string {
  const columns = [...roles, 'signed out'] as const;
  const lines = [`| route | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`];
  for (const route of [...all].sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method))) {
    lines.push(
      `| \`${route.method} ${route.path}\` | ${columns.map((c) => (allowed(route, c) ? 'yes' : '-')).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

test('every route has a guard, and the matrix they make is the one in docs/security.md', () => {
  const all = routes();
  assert.deepEqual(
    all.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`),
    [],
    'routes without a guard (src/auth/access.ts)',
  );
  const doc = fs.readFileSync(path.join(import.meta.dirname, '../../docs/security.md'), 'utf8');
  const documented = doc.match(/<!-- route matrix -->\n([\s\S]*?)\n<!-- end route matrix -->/)?.[1];
  const expected = matrix(all);
  if (documented !== expected) {
    fs.mkdirSync('test-results', { recursive: true });
    fs.writeFileSync('test-results/route-matrix.md', `${expected}\n`);
  }
  assert.equal(
    documented,
    expected,
    'docs/security.md differs from the routes: the table they make is in test-results/route-matrix.md',
  );
});

const request = (route: Route, bearer?: string, body: unknown = {}) => {
  // An id no record has: a route that changes or removes things answers 404, and the keys the test calls with stay.
  const url = route.path.replace(/:\w+/g, '999999').replace('/*', '/somewhere');
  const write = route.method !== 'GET';
  return t.app.request(url, {
    method: route.method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      ...(write ? { 'content-type': 'application/json' } : {}),
    },
    body: write ? JSON.stringify(body) : undefined,
  });
};

test('every route answers every role as the matrix says: 401 signed out, 403 for a role it does not name', async () => {
  const wrong: string[] = [];
  let calls = 0;
  for (const route of routes()) {
    for (const who of [...roles, 'signed out'] as const) {
      const response = await request(route, who === 'signed out' ? undefined : keys.get(who));
      calls++;
      const expected = allowed(route, who) ? 'allowed' : who === 'signed out' ? 401 : 403;
      const got = response.status === 401 || response.status === 403 ? response.status : 'allowed';
      if (got !== expected)
        wrong.push(
          `${route.method} ${route.path} as ${who}: expected ${expected}, got ${response.status} ${(await response.text()).slice(0, 120)}`,
        );
    }
  }
  assert.deepEqual(wrong, []);
  assert.ok(calls > 400, `${calls} calls`);
});

test('a scoped key reaches only its areas, and only within its role', async () => {
  const protectedRoutes = routes().filter((r) => !r.access!.public);
  const wrong: string[] = [];
  const keyFor = new Map<string, string>();
  for (const route of protectedRoutes) {
    const scope = scopeOf(route.method, route.path);
    if (!keyFor.has(scope)) keyFor.set(scope, (await createApiKey(t.deps, `only ${scope}`, 'admin', [scope])).key);
    const own = await request(route, keyFor.get(scope));
    if (own.status === 401 || own.status === 403)
      wrong.push(`${route.method} ${route.path} with ${scope}: ${own.status}`);
  }
  const eventsOnly = keyFor.get('events:write')!;
  for (const route of protectedRoutes.filter((r) => scopeOf(r.method, r.path) !== 'events:write')) {
    const other = await request(route, eventsOnly);
    if (other.status !== 403) wrong.push(`${route.method} ${route.path} with events:write only: ${other.status}`);
  }
  assert.deepEqual(wrong, []);
  const refused = await (
    await request({ method: 'GET', path: '/api/v1/customers', access: undefined }, eventsOnly)
  ).json();
  assert.equal(refused.error.message, 'This key is limited to events:write; this needs customers:read');

  // The role still bounds a scoped key: an agent key scoped to segments cannot save one.
  const agentSegments = (await createApiKey(t.deps, 'agent segments', 'agent', ['segments:read', 'segments:write']))
    .key;
  assert.equal(
    (await request({ method: 'GET', path: '/api/v1/segments', access: undefined }, agentSegments)).status,
    200,
  );
  assert.equal(
    (await request({ method: 'POST', path: '/api/v1/segments', access: undefined }, agentSegments)).status,
    403,
  );
  await assert.rejects(createApiKey(t.deps, 'bad', 'admin', ['customers']), /found customers/);
});

test('an analyst counts and lists by customer number only, and may not filter on what names a person', async () => {
  const { ingestEvents } = await import('../ingest/ingest.service.ts');
  await ingestEvents(
    t.deps,
    [
      {
        id: 'p1',
        type: 'customer.upsert',
        customer: { externalId: 'P-1', email: 'pia@example.com' },
        name: 'Pia Lind',
      },
    ],
    { source: 'test' },
  );
  const preview = async (role: Role, rule: unknown) =>
    t.app.request('/api/v1/segments/preview', {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.get(role)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ rule }),
    });
  const everyone = { match: 'all', conditions: [] };
  const asAdmin = await (await preview('admin', everyone)).json();
  const asAnalyst = await (await preview('analyst', everyone)).json();
  assert.deepEqual(
    asAdmin.sample.map((m: { name: string }) => m.name),
    ['Pia Lind'],
  );
  assert.deepEqual(
    asAnalyst.sample.map((m: object) => m),
    [{ ...asAdmin.sample[0], name: null, email: null, externalId: null }],
  );
  assert.equal(asAnalyst.customers, 1);

  const byEmail = {
    match: 'all',
    conditions: [
      { field: 'stage', op: 'is', value: 'prospect' },
      { match: 'any', conditions: [{ field: 'email', op: 'is', value: 'pia@example.com' }] },
    ],
  };
  const refused = await preview('analyst', byEmail);
  assert.equal(refused.status, 403);
  assert.equal(
    (await refused.json()).error.message,
    'An analyst may not filter on name, email, phone or external id (rule.conditions.1.conditions.0)',
  );
  assert.equal((await (await preview('marketer', byEmail)).json()).customers, 1);
});

// What each role sees, not only whether it may call: a person planted in every identity field is
// found by the roles that work with people, and in no body any route gives an analyst, whatever
// the analyst reads (lists, records by number, saved segments and their rules, journeys,
// campaigns, the analysis), with the real ids of everything made for that person.
test('an analyst finds no personal data in any body, through any route; the other roles see the person', async () => {
  const { ingestEvents } = await import('../ingest/ingest.service.ts');
  const planted = {
    name: 'Zelda Quux',
    email: 'zelda.quux@planted.example',
    phone: '+49 30 7654321',
    externalId: 'EXT-ZQ-77',
    line1: '77 Quuxweg',
  };
  const traces = [/zelda/i, /quux/i, /EXT-ZQ-77/i, /7654321/, /planted\.example/i];
  const who = { email: planted.email, externalId: planted.externalId, phone: planted.phone };
  const at = (day: number) => new Date(Date.UTC(2025, 0, day)).toISOString();
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'z1',
        type: 'customer.upsert',
        customer: who,
        name: planted.name,
        address: { line1: planted.line1, city: 'Berlin', country: 'DE' },
      },
      {
        id: 'z2',
        type: 'order',
        customer: who,
        orderId: 'Z-1',
        at: at(2),
        lines: [{ product: 'kettle', amount: '40.00' }],
      },
      {
        id: 'z3',
        type: 'order',
        customer: who,
        orderId: 'Z-2',
        at: at(40),
        lines: [{ product: 'tea', amount: '12.00' }],
      },
      {
        id: 'z4',
        type: 'ticket.opened',
        customer: who,
        ticketId: 'ZT-1',
        at: at(41),
        category: 'late',
        subject: 'Where is it',
      },
      {
        id: 'z5',
        type: 'survey.response',
        customer: who,
        at: at(42),
        survey: 'nps',
        question: 'Recommend us?',
        score: 3,
      },
      { id: 'z6', type: 'incident', customer: who, at: at(41), kind: 'late_delivery', orderId: 'Z-2' },
    ],
    { source: 'test' },
  );
  assert.equal(stored.accepted, 6);
  const customerId = stored.results[0].customerId!;
  const admin = (method: string, path: string, body?: unknown) =>
    request({ method, path, access: undefined }, keys.get('admin'), body);
  const made = async (method: string, path: string, body: unknown) => {
    const response = await admin(method, path, body);
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
    return response.json();
  };
  const byEmail = { match: 'all', conditions: [{ field: 'email', op: 'is', value: planted.email }] };
  const segment = await made('POST', '/api/v1/segments', { name: 'One person', rule: byEmail });
  await made('POST', '/api/v1/segments', {
    name: 'By phone',
    kind: 'snapshot',
    rule: {
      match: 'any',
      conditions: [
        { field: 'phone', op: 'contains', value: '7654321' },
        { field: 'name', op: 'starts_with', value: 'Zelda' },
      ],
    },
  });
  const template = await made('POST', '/api/v1/templates', {
    name: 'Hello',
    subject: 'Hello',
    body: '<p>Hi {{ customer.first_name }}</p>',
  });
  const campaign = await made('POST', '/api/v1/campaigns', {
    name: 'To one',
    kind: 'newsletter',
    segmentId: segment.id,
    arms: [{ name: 'mail', templateId: template.id }],
  });
  const journey = await made('POST', '/api/v1/journeys', {
    name: 'Watch',
    trigger: { type: 'order' },
    entry: { match: 'all', conditions: [{ field: 'external_id', op: 'is', value: planted.externalId }] },
    exit: byEmail,
    steps: [
      { type: 'condition', rule: { match: 'all', conditions: [{ field: 'name', op: 'contains', value: 'Quux' }] } },
      { type: 'wait', days: 1 },
    ],
  });
  const run = await made('POST', '/api/v1/analytics/runs', {});
  await settleJobs();
  const ids: [RegExp, number][] = [
    [/^\/api\/v1\/customers\/:\w+/, customerId],
    [/^\/api\/v1\/segments\/:\w+/, segment.id],
    [/^\/api\/v1\/campaigns\/:\w+/, campaign.id],
    [/^\/api\/v1\/templates\/:\w+/, template.id],
    [/^\/api\/v1\/journeys\/:\w+/, journey.id],
    [/^\/api\/v1\/jobs\/:\w+/, run.jobId],
  ];
  const urlOf = (path: string) => {
    const found = ids.find(([pattern]) => pattern.test(path));
    return found ? path.replace(/:\w+/, String(found[1])).replace(/:\w+/g, '1') : path.replace(/:\w+/g, '1');
  };
  const leaks: string[] = [];
  let read = 0;
  for (const route of routes().filter((r) => !r.access!.public && allowed(r, 'analyst') && r.method === 'GET')) {
    const response = await t.app.request(urlOf(route.path), {
      headers: { authorization: `Bearer ${keys.get('analyst')}` },
    });
    const text = await response.text();
    if (response.status === 200) read++;
    for (const trace of traces)
      if (trace.test(text))
        leaks.push(
          `${route.path} (${response.status}) shows ${trace}: ${text.slice(Math.max(0, text.search(trace) - 80), text.search(trace) + 40)}`,
        );
  }
  const preview = await t.app.request('/api/v1/segments/preview', {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.get('analyst')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rule: { match: 'all', conditions: [] } }),
  });
  const previewText = await preview.text();
  for (const trace of traces) if (trace.test(previewText)) leaks.push(`segment preview shows ${trace}`);
  assert.deepEqual(leaks, []);
  assert.ok(read >= 20, `${read} routes read with 200`);

  // The roles that work with people see the person the analyst never does.
  for (const role of ['admin', 'marketer', 'agent'] as const) {
    const record = await (
      await t.app.request(`/api/v1/customers/${customerId}`, { headers: { authorization: `Bearer ${keys.get(role)}` } })
    ).text();
    for (const trace of traces) assert.match(record, trace, `${role} sees ${trace}`);
  }
});
