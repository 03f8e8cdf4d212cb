// The API fuzz suite (issue 16; docs/security.md, "Input rules"). Every route of /api/openapi.json
// and every public page gets generated requests (test/fuzz-requests.ts) against a store with real
// records, on the database the suite runs on. Each answer must be: never a 5xx; a 400, 413 or 415
// that names the field; a 2xx whose record reads back as it was answered. Nothing may reject or
// throw outside a request. Seeded: KEPT_FUZZ_SEED replays a run, KEPT_FUZZ_RUNS sets the requests
// per route (default 40); a failure prints the request to send again. KEPT_FUZZ_STATS=FILE writes the
// answers' statuses per route, to see which routes the generated requests get through to.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { array, queryRows, sql } from '../src/db/connection.ts';
import { createApiKey, createUser } from '../src/auth/auth.service.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { mailLinks, track } from '../src/campaigns/send.service.ts';
import { settleJobs } from '../src/jobs/job.service.ts';
import { createTestApp, expectJson, type TestApp } from './app.ts';
import {
  publicRequests,
  requestsFor,
  type FuzzRequest,
  type Known,
  type Operation,
  type Schema,
} from './fuzz-requests.ts';

const seed = Number(process.env.KEPT_FUZZ_SEED ?? 20261204);
const runs = Number(process.env.KEPT_FUZZ_RUNS ?? 40);
// Routes that start heavy background work or undo the store the others need get fewer requests, and run last.
const few: Record<string, number> = {
  'POST /api/v1/analytics/runs': 6,
  'POST /api/v1/retention/sweep': 3,
  'POST /api/v1/journeys/run': 5,
  'POST /api/v1/campaigns/{id}/start': 8,
};
const last = /erase|merge|^DELETE /;

let t: TestApp;
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
const known: Known = { ids: {}, keys: {}, words: [] };
const crashes: unknown[] = [];
const onCrash = (error: unknown) => {
  crashes.push(error);
};

before(async () => {
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
  t = await createTestApp('admin', { keyRequestsPerMinute: 1_000_000, webhookAllow: ['127.0.0.1'] });
  doc = await (await t.call('GET', '/api/openapi.json')).json();
  const people = ['ana@fuzz.example', 'ben@fuzz.example', 'cem@fuzz.example', 'dina@fuzz.example', 'eli@fuzz.example'];
  const events = people.flatMap((email, i) => [
    {
      id: `c${i}`,
      type: 'customer.upsert',
      customer: { email, externalId: `F-${i}` },
      name: `Fuzz ${i}`,
      attributes: { shoe_size: 40 + i, vip: i % 2 === 0 },
    },
    {
      id: `o${i}`,
      type: 'order',
      customer: { email },
      orderId: `FO-${i}`,
      at: `2025-0${i + 1}-03T10:00:00Z`,
      lines: [{ product: 'mug', category: 'kitchen', amount: '12.50' }],
    },
    {
      id: `p${i}`,
      type: 'order',
      customer: { email },
      orderId: `FP-${i}`,
      at: `2025-0${i + 2}-03T10:00:00Z`,
      lines: [{ product: 'tea', quantity: 2, unitPrice: '4.00' }],
    },
    {
      id: `t${i}`,
      type: 'ticket.opened',
      customer: { email },
      ticketId: `FT-${i}`,
      at: `2025-0${i + 2}-04T10:00:00Z`,
      category: 'late',
    },
    {
      id: `s${i}`,
      type: 'survey.response',
      customer: { email },
      at: `2025-0${i + 2}-05T10:00:00Z`,
      survey: 'nps',
      question: 'Recommend us?',
      score: i * 2,
    },
    { id: `n${i}`, type: 'consent', customer: { email }, at: '2025-01-01T00:00:00Z', granted: true },
  ]);
  const stored = await ingestEvents(t.deps, events, { source: 'fuzz' });
  assert.equal(stored.rejected, 0, JSON.stringify(stored.results.filter((r) => r.errors)));
  const customers = [...new Set(stored.results.map((r) => r.customerId!))];
  const call = (method: string, path: string, body?: unknown) =>
    expectJson(
      t.call(method, path, body),
      method === 'POST' && !/\/(start|runs|preview)$/.test(path) ? 201 : undefined,
    );
  const segment = await call('POST', '/api/v1/segments', {
    name: 'Kitchen',
    rule: { match: 'all', conditions: [{ field: 'category_bought', op: 'is', value: 'kitchen' }] },
  });
  const template = await call('POST', '/api/v1/templates', {
    name: 'Hello',
    subject: 'Hello {{ customer.first_name }}',
    body: '<p>Hi</p><a href="https://shop.example/">shop</a>',
  });
  const campaign = await call('POST', '/api/v1/campaigns', {
    name: 'Fuzz',
    kind: 'newsletter',
    segmentId: segment.id,
    arms: [{ name: 'A', templateId: template.id }],
  });
  const journey = await call('POST', '/api/v1/journeys/recipes/order_follow_up');
  const survey = await call('POST', '/api/v1/surveys', {
    key: 'fuzz',
    title: 'How was it?',
    questions: [
      { id: 'q1', kind: 'csat', text: 'Happy?', required: true },
      { id: 'q2', kind: 'text', text: 'Why?' },
    ],
  });
  const invitations = await call('POST', '/api/v1/surveys/fuzz/invitations', {
    invitations: customers.map((customerId) => ({ customerId })),
  });
  const user = await createUser(t.deps, 'agent@fuzz.example', 'agent', 'fuzz');
  const spare = await createApiKey(t.deps, 'spare', 'marketer');
  const webhook = await call('POST', '/api/v1/webhooks', { url: 'http://127.0.0.1:9/kept', events: ['alert.raised'] });
  const [ticket] = await queryRows<{ id: number }>(t.deps.db, sql`select id from tickets order by id limit 1`);
  const links = await Promise.all(customers.map((customerId) => mailLinks(t.deps, campaign.id, customerId)));
  const tracked = await track(t.deps, '<a href="https://shop.example/a">a</a>', campaign.id, customers[0]);
  const tokenOf = (url: string) => url.split('/').pop()!;
  known.ids = {
    customers,
    segments: [segment.id],
    templates: [template.id],
    campaigns: [campaign.id],
    journeys: [journey.id],
    users: [user.id],
    keys: [spare.id],
    webhooks: [webhook.id],
    ticketId: [ticket.id],
    jobs: [1],
    imports: [1],
  };
  known.keys = {
    surveys: [survey.key],
    journeys: ['order_follow_up', 'service_recovery'],
    s: invitations.invitations.map((i: { token: string }) => i.token),
    u: links.map((l) => tokenOf(l.unsubscribe)),
    p: links.map((l) => tokenOf(l.preferences)),
    t: [...tracked.matchAll(/\/t\/[oc]\/([^"&]+)/g)].map((m) => m[1]),
  };
  known.words = [
    ...people,
    'kitchen',
    'mug',
    'late',
    'nps',
    'marketing',
    'web',
    'email',
    'at_risk',
    'customer',
    'p_alive',
    'recency_score',
    'shoe_size',
    'vip',
    'is',
    'contains',
    'at_least',
    'gt',
    'before',
    'in_last_days',
    'all',
    'any',
    'F-1',
    '2025-03-01',
    '2025-03-01T10:00',
    'Europe/Berlin',
    'A',
    'order',
    'wait',
    'alert.raised',
    'erase',
  ];
});

after(async () => {
  await settleJobs();
  await t.close();
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
});

interface ErrorBody {
  error?: { code: string; details?: { issues?: { path: unknown }[]; results?: { errors?: { field: unknown }[] }[] } };
}
const namesField = (body: ErrorBody) => {
  const details = body.error?.details;
  const fields = [
    ...(details?.issues ?? []).map((i) => i.path),
    ...(details?.results ?? []).flatMap((r) => (r.errors ?? []).map((e) => e.field)),
  ];
  return fields.length > 0 && fields.every((f) => typeof f === 'string' && f.length > 0);
};
const replay = (r: FuzzRequest) =>
  `${r.method} ${r.url}${r.body === undefined ? '' : ` ${r.contentType}: ${r.body.slice(0, 300)}`}`;

async function send(request: FuzzRequest, bearer = true): Promise<Response> {
  return t.app.request(request.url, {
    method: request.method,
    headers: {
      ...(bearer ? { authorization: `Bearer ${t.key}` } : {}),
      ...(request.contentType ? { 'content-type': request.contentType } : {}),
    },
    body: request.body,
  });
}

/** What a 2xx said was stored: read back through the route's own GET, and the events by their ids. */
async function storedAsAnswered(request: FuzzRequest, answer: Record<string, unknown>): Promise<string | undefined> {
  const path = request.url.split('?')[0];
  if (path === '/api/v1/events') {
    const accepted = ((answer.results ?? []) as { id: string; status: string }[])
      .filter((r) => r.status === 'accepted')
      .map((r) => r.id);
    const [{ n }] = await queryRows<{ n: number }>(
      t.deps.db,
      sql`select count(*)::int as n from ingested_events where event_id = any(${array(accepted)}::text[])`,
    );
    return n === accepted.length ? undefined : `${accepted.length} accepted, ${n} in the ledger`;
  }
  const resource = (
    typeof answer.id === 'number'
      ? answer
      : Object.values(answer).find(
          (v) => typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'number',
        )
  ) as Record<string, unknown> | undefined;
  if (!resource) return undefined;
  const base = request.method === 'PUT' ? path : `${path}/${resource.id}`;
  if (!doc.paths[base.replace(/\/\d+$/, '/{id}')]?.get) return undefined;
  const read = await send({ method: 'GET', url: base });
  if (read.status !== 200) return `GET ${base} answered ${read.status}`;
  const body = (await read.json()) as Record<string, unknown>;
  const back = (
    body.id === resource.id
      ? body
      : Object.values(body).find(
          (v) => typeof v === 'object' && v !== null && (v as { id?: unknown }).id === resource.id,
        )
  ) as Record<string, unknown> | undefined;
  if (!back) return `GET ${base} does not hold ${resource.id}`;
  const differing = Object.entries(resource)
    .filter(([key, value]) => key in back && JSON.stringify(back[key]) !== JSON.stringify(value))
    .map(([key]) => key);
  return differing.length > 0 ? `read back differs in ${differing.join(', ')}` : undefined;
}

test('every route, with generated path ids, queries and bodies: no 5xx, every 400 names a field, every 2xx reads back as answered', async () => {
  const operations = Object.entries(doc.paths)
    .flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    )
    .sort((a, b) => Number(last.test(`${a.method} ${a.path}`)) - Number(last.test(`${b.method} ${b.path}`)));
  const failures: string[] = [];
  const stats: Record<string, Record<number, number>> = {};
  let sent = 0;
  for (const [index, { method, path, operation }] of operations.entries()) {
    const requests = fc.sample(requestsFor(method, path, operation, doc.components.schemas, known), {
      seed: seed + index,
      numRuns: few[`${method} ${path}`] ?? runs,
    });
    for (const request of requests) {
      sent++;
      const response = await send(request);
      const text = await response.text();
      if (process.env.KEPT_FUZZ_STATS)
        (stats[`${method} ${path}`] ??= {})[response.status] =
          ((stats[`${method} ${path}`] ?? {})[response.status] ?? 0) + 1;
      let body: ErrorBody & Record<string, unknown> = {};
      try {
        body = JSON.parse(text);
      } catch {
        /* CSV or HTML answers */
      }
      if (response.status >= 500) failures.push(`${response.status} ${text.slice(0, 200)} <- ${replay(request)}`);
      else if ([400, 413, 415].includes(response.status) && !namesField(body))
        failures.push(`${response.status} without a field: ${text.slice(0, 200)} <- ${replay(request)}`);
      else if (
        response.status >= 200 &&
        response.status < 300 &&
        request.method !== 'GET' &&
        response.headers.get('content-type')?.includes('json')
      ) {
        const wrong = await storedAsAnswered(request, body);
        if (wrong) failures.push(`2xx not stored as answered (${wrong}) <- ${replay(request)}`);
      }
    }
  }
  await settleJobs();
  if (process.env.KEPT_FUZZ_STATS)
    fs.writeFileSync(process.env.KEPT_FUZZ_STATS, JSON.stringify(stats, null, 0).replace(/\},/g, '},\n'));
  assert.deepEqual(failures.slice(0, 40), [], `seed ${seed}: ${failures.length} of ${sent} requests failed`);
  assert.ok(operations.length >= 95, `${operations.length} routes`);
  assert.deepEqual(crashes, []);
});

test('the public pages, with real, forged and malformed tokens and any form values: no 5xx, nothing thrown', async () => {
  const failures: string[] = [];
  for (const request of fc.sample(publicRequests(known), { seed, numRuns: runs * 8 })) {
    const response = await send(request, false);
    const text = await response.text();
    if (response.status >= 500) failures.push(`${response.status} ${text.slice(0, 200)} <- ${replay(request)}`);
  }
  assert.deepEqual(failures, [], `seed ${seed}`);
  assert.deepEqual(crashes, []);
});
