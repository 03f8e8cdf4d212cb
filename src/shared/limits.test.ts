// P26: every list, export and bulk action has a limit. Built from the OpenAPI document, like the
// route matrix: a list answer needs a `limit` or `pageSize` parameter with a maximum, or a line
// below saying what bounds it; every array a request sends needs a maximum length. A new route
// that has neither fails here until it is given a limit or a reason.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';

/** Lists without a limit parameter, and what bounds them. */
const boundedBy: Record<string, string> = {
  'GET /api/v1/dead-letters': 'the newest 500 (SQL limit)',
  'GET /api/v1/merges': 'the newest 200 (SQL limit)',
  'GET /api/v1/customers/facets': 'one row per stage, channel and flag: fixed vocabularies',
  'GET /api/v1/customers/{id}': 'one customer: addresses, identities, flags and stages of that person',
  'GET /api/v1/imports': 'the newest 100 uploads (SQL limit)',
  'GET /api/v1/quality': 'eleven problems and at most 365 days of score history (SQL limit)',
  'GET /api/v1/analytics': 'one analysis report: charts by month, frequency bin and stage',
  'GET /api/v1/customers/{id}/scores': "one customer's latest 100 scores (SQL limit)",
  'GET /api/v1/surveys': 'at most 1,000 surveys (listLimit)',
  'GET /api/v1/satisfaction': 'aggregates by month and driver',
  'GET /api/v1/customers/{id}/satisfaction': "one customer's index by month",
  'GET /api/v1/worklist/approvals': 'the oldest 200 waiting decisions (SQL limit)',
  'GET /api/v1/worklist/outcomes': 'aggregates by suggestion and decision',
  'GET /api/v1/recovery/outcomes': 'aggregates by kind of problem',
  'GET /api/v1/glitches': 'aggregates by week and kind, for at most 104 weeks (weeks has a maximum)',
  'GET /api/v1/customers/{customerId}/tickets/{ticketId}': 'one ticket and its conversation',
  'GET /api/v1/webhooks': 'at most 1,000 webhooks (listLimit)',
  'GET /api/v1/segments/fields': 'the field catalogue',
  'GET /api/v1/segments': 'at most 1,000 segments (listLimit)',
  'GET /api/v1/segments/{id}': 'one segment with a sample of 10 members',
  'GET /api/v1/templates': 'at most 1,000 templates (listLimit)',
  'GET /api/v1/campaigns': 'the newest 500 campaigns (SQL limit)',
  'GET /api/v1/campaigns/{id}': 'one campaign: counts by arm and status',
  'GET /api/v1/customers/{id}/pace': "one customer's touches in 12 weeks, by week",
  'GET /api/v1/journeys': 'at most 1,000 journeys (listLimit)',
  'GET /api/v1/journeys/{id}': 'one journey: its steps and counts, the latest 50 passes',
  'GET /api/v1/blueprint':
    'six stages with at most 12 designed steps each; at most eight gaps with their first 50 customers (SQL limit)',
  'GET /api/v1/users': 'at most 1,000 people (listLimit)',
  'GET /api/v1/keys': 'at most 1,000 keys (listLimit)',
  'GET /api/v1/retention': 'one row per data class and the latest 30 sweeps',
  'GET /api/v1/analytics/outcomes':
    "one analysis's cells: customer types (3 stages x 4 value bands x the acquisition channels, with margins) x experience kinds x 9; filters narrow it",
  'GET /api/v1/analytics/drivers':
    "one model's terms (experience kinds, channels, categories), 24 months of causes, the exit causes with 5 answers each",
  'GET /api/v1/analytics/uplift': 'one report: effects by four fixed groupings, 51 Qini points, four top shares',
  'GET /api/v1/analytics/experiences': 'the catalogue and the incident kinds the data holds (at most 200, SQL limit)',
  'GET /api/v1/customers/{customerId}/post-mortem':
    'one customer: the latest 12 experiences, 12 unresolved problems, 20 contacts (SQL limits)',
  'GET /api/v1/rules': 'one rule per stage, value band, experience kind and comparison: at most 20 new a run',
  'GET /api/v1/campaigns/{id}/experiment':
    'one campaign: its arms (at most 20) x three outcomes, x the values of one attribute',
  'GET /api/v1/campaigns/{id}/preview':
    'one campaign: its arms (at most 6), the reasons left out and the programmes it overlaps',
  'GET /api/v1/channels/economics': 'three kinds x the nine channels (and unknown), the movement matrix between them',
  'GET /api/v1/channels/costs': 'one cost per kind and channel: at most 27',
  'GET /api/v1/auth/me': 'may lists the routes of the app, a fixed set',
  'GET /api/v1/overview': 'the stages (a fixed set), at most 8 moves, 5 reasons and 5 campaigns',
  'GET /api/v1/programme/lift':
    'one report: at most 36 months (months has a maximum), the 50 programmes that reached the control group most (SQL limit)',
};
/** Request arrays without a maximum in the schema, and what bounds them. */
const bodiesBoundedBy: Record<string, string> = {
  'POST /api/v1/events .events':
    'checked in code before parsing: 2,500 events and 500 KB a batch, 413 beyond (docs/api.md)',
};
const largestPage = 1000;

let t: TestApp;
let doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };
interface Schema {
  $ref?: string;
  type?: string;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
  oneOf?: Schema[];
  maximum?: number;
}
interface Operation {
  parameters?: { name: string; in: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
before(async () => {
  t = await createTestApp('admin');
  doc = await (await t.call('GET', '/api/openapi.json')).json();
});
after(async () => {
  await t.close();
});

const resolve = (s: Schema | undefined): Schema | undefined =>
  s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()!] : s;
const answersWithArray = (s: Schema | undefined, depth = 0): boolean => {
  const schema = resolve(s);
  if (!schema || depth > 3) return false;
  return schema.type === 'array' || Object.values(schema.properties ?? {}).some((p) => answersWithArray(p, depth + 1));
};
function unboundedArrays(s: Schema | undefined, at: string, found: string[], depth = 0): string[] {
  const schema = resolve(s);
  if (!schema || depth > 8) return found;
  if (schema.type === 'array') {
    if (schema.maxItems === undefined) found.push(at);
    unboundedArrays(schema.items, `${at}[]`, found, depth + 1);
  }
  for (const [key, value] of Object.entries(schema.properties ?? {}))
    unboundedArrays(value, `${at}.${key}`, found, depth + 1);
  for (const value of [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])]) unboundedArrays(value, at, found, depth + 1);
  return found;
}

test('every list has a limit parameter with a maximum, or a stated bound', () => {
  const unbounded: string[] = [];
  const listed = new Set<string>();
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const answer = operation.responses?.['200']?.content?.['application/json']?.schema;
      if (method !== 'get' || !answersWithArray(answer)) continue;
      const name = `GET ${path}`;
      listed.add(name);
      const limit = operation.parameters?.find(
        (p) => p.in === 'query' && (p.name === 'limit' || p.name === 'pageSize'),
      );
      if (limit)
        assert.ok(
          (limit.schema?.maximum ?? Infinity) <= largestPage,
          `${name}: ${limit.name} has no maximum of at most ${largestPage}`,
        );
      else if (!(name in boundedBy)) unbounded.push(name);
    }
  }
  assert.deepEqual(unbounded, [], 'give these a limit parameter, or say in boundedBy what bounds them');
  assert.deepEqual(
    Object.keys(boundedBy).filter((name) => !listed.has(name)),
    [],
    'boundedBy names routes that are no longer lists',
  );
  assert.ok(listed.size >= 40, `${listed.size} lists`);
});

test('every array a request sends has a maximum length, or a stated bound', () => {
  const unbounded: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const body = operation.requestBody?.content?.['application/json']?.schema;
      for (const at of unboundedArrays(body, '', [])) {
        const name = `${method.toUpperCase()} ${path} ${at}`;
        if (!(name in bodiesBoundedBy)) unbounded.push(name);
      }
    }
  }
  assert.deepEqual(unbounded, []);
});

test('a limit above the maximum is refused with the field named, not served', async () => {
  for (const path of [
    '/api/v1/audit?limit=100000',
    '/api/v1/customers?pageSize=100000',
    '/api/v1/tickets?limit=100000',
    '/api/v1/alerts?limit=100000',
  ]) {
    const response = await t.call('GET', path);
    assert.equal(response.status, 400, path);
    assert.match(JSON.stringify(await response.json()), /limit|pageSize/, path);
  }
});
