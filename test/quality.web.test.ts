// The data-quality page in a real Chromium: a store with planted problems (an exmaple.com email, an
// impossible phone, a bad postcode, an ALL CAPS name, a moved customer) and one clean customer. An
// agent opens Data quality, reads the score and each count, opens the customers behind the email
// typos, and on the record reads the warning with its suggestion.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/auth.service.ts';
import type { Deps } from '../src/deps.ts';
import { sql } from '../src/db/connection.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-quality-web-'));
  deps = await createTestDeps({ dataDir: work, timeZone: 'UTC', defaultCountry: 'DE' });
  const at = '2026-01-01T00:00:00Z';
  const home = (postalCode: string) => ({ line1: 'Hauptstraße 1', postalCode, city: 'Berlin', country: 'DE' });
  const consent = (externalId: string) => ({
    id: `${externalId}-consent`,
    type: 'consent',
    customer: { externalId },
    at,
    granted: true,
  });
  const stored = await ingestEvents(
    deps,
    [
      {
        id: 'typo',
        type: 'customer.upsert',
        customer: { externalId: 'K-1', email: 'anna@exmaple.com' },
        name: 'Anna Keller',
        address: home('10115'),
      },
      {
        id: 'phone',
        type: 'customer.upsert',
        customer: { externalId: 'K-2', email: 'ben@example.com', phone: '030 12' },
        name: 'Ben Fischer',
        address: home('10115'),
      },
      {
        id: 'postcode',
        type: 'customer.upsert',
        customer: { externalId: 'K-3', email: 'cleo@example.com' },
        name: 'Cleo Wagner',
        address: home('10 115'),
      },
      {
        id: 'caps',
        type: 'customer.upsert',
        customer: { externalId: 'K-4', email: 'dora@example.com' },
        name: 'DORA SCHULZ',
        address: home('10115'),
      },
      {
        id: 'moved',
        type: 'customer.upsert',
        // The address is older than the flag: the flag says they left it.
        at,
        customer: { externalId: 'K-5', email: 'emil@example.com' },
        name: 'Emil Braun',
        address: home('10115'),
      },
      {
        id: 'moved-flag',
        type: 'status.change',
        customer: { externalId: 'K-5' },
        at: new Date().toISOString(),
        flag: 'moved',
        active: true,
      },
      {
        id: 'clean',
        type: 'customer.upsert',
        customer: { externalId: 'K-6', email: 'fritz@example.com', phone: '+49 30 901820' },
        name: 'Fritz Vogel',
        address: home('10117'),
      },
      ...['K-1', 'K-2', 'K-3', 'K-4', 'K-5', 'K-6'].map(consent),
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  // Earlier days' scores, as the nightly analysis took them.
  for (const [daysAgo, score] of [
    [3, 0],
    [2, 5.5],
    [1, 12.25],
  ])
    await deps.db.execute(sql`insert into quality_snapshots (day, customers, score, counts)
      values (${new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10)}, 6, ${score}, '{}'::jsonb)`);
  const agent = await createUser(deps, 'agent@example.com', 'agent');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  await signIn(page, `${server.url}/quality`, agent);
});
after(() => stopAll({ browser, server, deps, work }));

test('an agent reads the score and each count on Data quality, and the warning with its suggestion on the record', async () => {
  await page.getByRole('heading', { name: 'Data quality' }).waitFor();
  // One of six customers has no problem.
  assert.equal(await page.getByTestId('quality-score').innerText(), '16.7');
  assert.match(await page.locator('section.quality-score').innerText(), /1 of 6 customers have none of the problems/);
  const rows = await page.locator('table.quality-problems tbody tr').allInnerTexts();
  const counts = Object.fromEntries(rows.map((r) => r.split('\t').slice(0, 2)));
  assert.equal(counts['Email typos'], '1');
  assert.equal(counts['Invalid phone numbers'], '1');
  assert.equal(counts['Postcode problems'], '1');
  assert.equal(counts['Names in capitals or lower case'], '1');
  assert.equal(counts['Stale addresses'], '1');
  assert.equal(counts['Possible duplicates'], '0');
  assert.equal(counts['Missing marketing consent'], '0');
  // Three earlier days and today's, taken by this first look: 0, 5.5, 12.25, 16.67.
  const line = page.locator('figure.chart', { hasText: 'Score per day' }).locator('table.chart-data tbody tr');
  assert.deepEqual(
    (await line.allInnerTexts()).filter((r) => r.startsWith('Score')).map((r) => r.split('\t')[2]),
    ['0 %', '6 %', '12 %', '17 %'],
  );
  assert.equal(
    await page
      .locator('figure.chart', { hasText: 'Customers per problem' })
      .locator('table.chart-data tbody tr')
      .count(),
    11,
  );
  await page.screenshot({ path: screenshotPath('data-quality'), fullPage: true });

  await page.locator('table.quality-problems').getByRole('link', { name: 'Email typos' }).click();
  await page.getByRole('heading', { name: /^Email typos/ }).waitFor();
  const listed = await page.locator('table.list tbody tr').allInnerTexts();
  assert.deepEqual(
    listed.map((r) => r.split('\t')),
    [['Anna Keller K-1', 'anna@exmaple.com', 'exmaple.com looks like a typo of example.com', 'anna@example.com']],
  );
  await page.getByRole('link', { name: 'Anna Keller' }).click();
  await page.getByRole('heading', { name: 'Anna Keller' }).waitFor();
  const panel = page.getByRole('region', { name: 'Checks on this record' });
  assert.match(await panel.innerText(), /One thing looks wrong in this record/);
  assert.match(
    await panel.locator('li').innerText(),
    /^Email: exmaple\.com looks like a typo of example\.com — probably anna@example\.com$/,
  );
  await panel.screenshot({ path: screenshotPath('data-quality-record') });

  // The customer with the ALL CAPS name gets the name in its usual case suggested.
  await page.goto(`${server.url}/quality/name_case`);
  await page.getByRole('link', { name: 'DORA SCHULZ' }).click();
  await page.getByRole('heading', { name: 'DORA SCHULZ' }).waitFor();
  assert.match(
    await page.getByRole('region', { name: 'Checks on this record' }).innerText(),
    /The name DORA SCHULZ is all capitals — probably Dora Schulz/,
  );
});
