// No route answers 500 to a malformed id: every route of the app with a path parameter is called,
// as an admin, with the parameter replaced by values that are not ids, and must refuse them in
// words (400 or 404, with a JSON error from the API), never fail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { settleJobs } from '../src/jobs/job.service.ts';
import { createTestApp, type TestApp } from './app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(async () => {
  await settleJobs();
  await t.close();
});

const malformed = ['abc', '-1', '1.5', '0', '99999999999999999999', '%20', '1e3', '0x10'];

test('every route with a path parameter refuses malformed values without a 500', async () => {
  const routes = new Map<string, { method: string; path: string }>();
  for (const r of t.app.routes) if (r.method !== 'ALL' && r.path.includes('/:')) routes.set(`${r.method} ${r.path}`, r);
  assert.ok(routes.size > 40, `${routes.size} routes with parameters`);
  const failures: string[] = [];
  for (const { method, path } of routes.values()) {
    for (const value of malformed) {
      const url = path.replace(/:[A-Za-z]+/g, value);
      const response = await t.call(method, url, method === 'GET' || method === 'DELETE' ? undefined : {});
      const text = await response.text();
      if (response.status >= 500) failures.push(`${method} ${url}: ${response.status} ${text.slice(0, 120)}`);
      // The API answers in JSON; the pages customers reach from a link (/s, /u, /p) answer in HTML.
      else if (
        path.startsWith('/api/') &&
        response.status >= 400 &&
        !response.headers.get('content-type')?.includes('json')
      )
        failures.push(`${method} ${url}: ${response.status} without a JSON error`);
    }
  }
  assert.deepEqual(failures, []);
});
