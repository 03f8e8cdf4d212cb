// The duplicate review queue in a real Chromium: three planted pairs among seven customers (and a
// namesake who is someone else). A marketer finds them, sees both records side by side with the
// evidence in words, merges one pair keeping the record chosen, and marks another as two people.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/auth.service.ts';
import { queryRows, sql } from '../src/db/connection.ts';
import type { Deps } from '../src/deps.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;

const people = [
  ['K1', 'Anna Keller', 'anna.keller@example.com', '+493012345678', 'Hauptstrasse 5', '10115'],
  ['K2', 'Keller Anna', 'anna.keller+shop@example.com', undefined, 'Hauptstrasse 5', '10115'],
  ['K3', 'Ben Brandt', 'ben.brandt@example.com', '+494012345679', 'Gartenweg 9', '20095'],
  ['K4', 'Ben Brandt', 'ben.brandt@exmaple.com', '040 12345679', 'Gartenweg 9', '20095'],
  ['K5', 'Clara Vogel', 'clara@example.com', '+498912345670', 'Am Markt 1', '80331'],
  ['K6', 'C. Vogel', undefined, '0049 89 12345670', 'Am Markt 1', '80331'],
  ['K7', 'Clara Vogel', 'clara.v@post.example', '+493099999999', 'Am Markt 3', '80331'],
] as const;
const customers = async () =>
  (await queryRows<{ n: number }>(deps.db, sql`select count(*)::int as n from customers`))[0].n;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-duplicates-web-'));
  deps = await createTestDeps({ dataDir: work });
  const stored = await ingestEvents(
    deps,
    people.map(([externalId, name, email, phone, line1, postalCode]) => ({
      id: `u-${externalId}`,
      type: 'customer.upsert',
      customer: { externalId, ...(email ? { email } : {}), ...(phone ? { phone } : {}) },
      name,
      address: { line1, postalCode, city: 'Berlin', country: 'DE' },
    })),
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  const marketer = await createUser(deps, 'marketer@example.com', 'marketer');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  await signIn(page, `${server.url}/duplicates`, marketer);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer finds the planted pairs, merges one from the page and marks another as two people, and puts the last off for later', async () => {
  await page.getByRole('heading', { name: /Duplicates/ }).waitFor();
  await page.getByRole('button', { name: 'Find duplicates' }).click();
  await page.getByRole('status').filter({ hasText: '3 possible duplicates' }).waitFor();
  const cards = page.locator('section.dup-pair');
  await cards.nth(2).waitFor();
  assert.equal(await cards.count(), 3);
  const text = await page.locator('main, body').first().innerText();
  assert.match(text, /same name with first and last swapped/);
  assert.match(text, /email domain looks like a typo of the other's/);
  assert.match(text, /same surname, first name given as an initial/);
  // The namesake at another address is not proposed.
  assert.equal(await page.locator('section.dup-pair', { hasText: 'clara.v@post.example' }).count(), 0);
  await page.screenshot({ path: screenshotPath('duplicates-queue'), fullPage: true });

  const before = await customers();
  const vogel = page.locator('section.dup-pair', { hasText: 'C. Vogel' });
  const [k5] = await queryRows<{ id: number }>(deps.db, sql`select id from customers where external_id = 'K5'`);
  await vogel.getByRole('radio', { name: `Keep #${k5.id}` }).check();
  await vogel.getByRole('button', { name: `Merge (keep #${k5.id})` }).click();
  await page.getByRole('status').filter({ hasText: 'Merged' }).waitFor();
  await page.locator('section.dup-pair', { hasText: 'C. Vogel' }).waitFor({ state: 'detached' });
  assert.equal(await customers(), before - 1);
  const [kept] = await queryRows<{ n: number }>(
    deps.db,
    sql`select count(*)::int as n from customers where external_id in ('K5', 'K6')`,
  );
  assert.equal(kept.n, 1);

  const brandt = page.locator('section.dup-pair', { hasText: 'Ben Brandt' });
  await brandt.getByRole('button', { name: 'Not the same person' }).click();
  await page.getByRole('status').filter({ hasText: 'different people' }).waitFor();
  await page.locator('section.dup-pair', { hasText: 'Ben Brandt' }).waitFor({ state: 'detached' });
  assert.equal(await page.locator('section.dup-pair').count(), 1);
  const [distinct] = await queryRows<{ n: number }>(
    deps.db,
    sql`select count(*)::int as n from duplicate_pairs where status = 'distinct'`,
  );
  assert.equal(distinct.n, 1);

  // Later: out of the queue, listed under "put off for later".
  await page.locator('section.dup-pair', { hasText: 'Keller Anna' }).getByRole('button', { name: 'Later' }).click();
  await page.getByText('No possible duplicates to review.').waitFor();
  await page.getByRole('combobox').selectOption('later');
  await page.locator('section.dup-pair', { hasText: 'Keller Anna' }).waitFor();
  assert.equal(await page.locator('.error').count(), 0);

  // The merge is listed under "Recent merges"; undoing it brings the duplicate back with its own record.
  await page.getByRole('combobox').selectOption('open');
  const merge = page.getByRole('region', { name: 'Recent merges' }).locator('tr', { hasText: 'C. Vogel' });
  await merge.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('status').filter({ hasText: 'undone: both records are back' }).waitFor();
  await merge.getByText(/undone/).waitFor();
  assert.equal(await customers(), before);
  const [back] = await queryRows<{ n: number }>(
    deps.db,
    sql`select count(*)::int as n from customers where external_id in ('K5', 'K6')`,
  );
  assert.equal(back.n, 2);
});
