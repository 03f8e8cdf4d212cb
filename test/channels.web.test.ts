// Channel economics in a real Chromium: a store whose social customers come back 45 % of the time
// and display customers 20 %; a marketer reads the tables, the charts and the recommendations, sets
// a cost and sees the margin appear; an analyst reads the same page without the form.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/auth.service.ts';
import type { Deps } from '../src/deps.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;

const day = 86_400_000;

/**
 * 80 social customers (36 buy again 40 days after their first order), 80 display customers (16 do,
 * and 10 of those second orders in store have an incident naming no channel), 10 direct-mail
 * customers (5 do). First orders between 400 and 320 days ago, all in euros.
 */
function store(): unknown[] {
  const events: unknown[] = [];
  const start = Date.now() - 400 * day;
  const groups = [
    { prefix: 'S', channel: 'social', size: 80, second: 36 },
    { prefix: 'D', channel: 'display', size: 80, second: 16 },
    { prefix: 'M', channel: 'direct_mail', size: 10, second: 5 },
  ];
  for (const g of groups)
    for (let i = 1; i <= g.size; i++) {
      const who = `${g.prefix}${i}`;
      const first = start + i * day;
      events.push({
        id: `u-${who}`,
        type: 'customer.upsert',
        customer: { externalId: who },
        acquisitionChannel: g.channel,
      });
      const order = (n: number, at: number, channel: string, amount: string) => ({
        id: `o-${who}-${n}`,
        type: 'order',
        customer: { externalId: who },
        orderId: `${who}-${n}`,
        at: new Date(at).toISOString(),
        channel,
        currency: 'EUR',
        lines: [{ product: 'Towel', amount }],
      });
      events.push(order(1, first, 'web', '50.00'));
      if (i <= g.second) events.push(order(2, first + 40 * day, 'store', '30.00'));
      if (g.prefix === 'D' && i <= 10)
        events.push({
          id: `inc-${who}`,
          type: 'incident',
          customer: { externalId: who },
          at: new Date(first + 42 * day).toISOString(),
          kind: 'damaged',
          orderId: `${who}-2`,
        });
    }
  return events;
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-channels-web-'));
  deps = await createTestDeps({ dataDir: work });
  assert.equal((await ingestEvents(deps, store(), { source: 'test' })).rejected, 0);
  const marketer = await createUser(deps, 'marketer@example.com', 'marketer');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(page, `${server.url}/channels`, marketer);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer reads the channels: a table per kind, the charts, the recommendations with their evidence', async () => {
  const table = page.getByRole('table', { name: 'Channels by acquisition' });
  await table.waitFor();
  const social = table.locator('tbody tr', { hasText: /^social/ });
  const cells = await social.locator('td').allInnerTexts();
  assert.deepEqual(cells.slice(0, 4), ['social', '80', '116', '€5,080.00'], '80 first orders of 50 and 36 of 30');
  assert.match(cells[8], /^45 % \(\d+ % to \d+ %\), n = 80$/);
  await page.getByRole('table', { name: 'Channels by order' }).waitFor();
  await page.getByRole('table', { name: 'Channels by contact' }).waitFor();
  // Ten incidents on 57 store orders, placed there by their order.
  const store = page.getByRole('table', { name: 'Channels by order' }).locator('tbody tr', { hasText: /^store/ });
  assert.equal((await store.locator('td').allInnerTexts())[6], '175.44');
  assert.match(
    await page.locator('section', { hasText: 'Where they ordered (order channel)' }).last().innerText(),
    /10 named no channel and were placed by their order’s channel/,
  );

  const revenue = page.locator('figure.chart', { hasText: 'Revenue (EUR)' }).first();
  assert.ok((await revenue.locator('table.chart-data tbody tr').count()) >= 3, 'a bar per acquisition channel');
  assert.ok(
    (await page
      .locator('figure.chart', { hasText: 'Second purchase within 90 days' })
      .first()
      .locator('table.chart-data tbody tr')
      .count()) >= 3,
    'an interval per acquisition channel',
  );
  assert.ok((await page.getByRole('table', { name: 'Later orders by channel' }).locator('td').count()) > 0);

  const recommendations = page.locator('.recommendation');
  assert.match(
    await recommendations.filter({ hasText: 'social: Emphasise' }).innerText(),
    /Customers from social come back 45 % of the time against 23 % for the others \[\+\d+, \+\d+ points\]; no analysis yet to predict their value: emphasise/,
  );
  assert.match(await recommendations.filter({ hasText: 'display:' }).innerText(), /De-emphasise/);
  assert.match(
    await recommendations.filter({ hasText: 'direct mail:' }).innerText(),
    /Too small to say\s+Too few customers to say \(n = 10\)/,
  );
  await page.screenshot({ path: screenshotPath('channels'), fullPage: true });
});

test('a marketer sets a cost: it is saved, listed with who set it, and the margin appears', async () => {
  const margin = () =>
    page
      .getByRole('table', { name: 'Channels by acquisition' })
      .locator('tbody tr', { hasText: /^social/ })
      .locator('td')
      .nth(5)
      .innerText();
  assert.equal(await margin(), '—', 'no cost yet');
  const form = page.getByRole('form', { name: 'Set a cost' });
  await form.locator('select[name=kind]').selectOption('acquisition');
  await form.locator('select[name=channel]').selectOption('social');
  await form.locator('select[name=per]').selectOption('customer');
  await form.locator('input[name=amount]').fill('12.50');
  await form.getByRole('button', { name: 'Save cost' }).click();
  const costs = page.getByRole('table', { name: 'Channel costs' });
  await costs.waitFor();
  assert.match(await costs.innerText(), /acquisition\s+social\s+€12\.50 per customer\s+marketer@example\.com/);
  // 5,080.00 of orders less 80 customers at 12.50.
  await page.waitForFunction(() =>
    [...document.querySelectorAll('table[aria-label="Channels by acquisition"] tbody tr')].some((tr) =>
      tr.textContent?.includes('€4,080.00'),
    ),
  );
  assert.equal(await margin(), '€4,080.00');
  await page.locator('section.channel-costs').screenshot({ path: screenshotPath('channels-costs') });
});

test('an analyst reads the page without the cost form', async () => {
  const analyst = await createUser(deps, 'analyst@example.com', 'analyst');
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const own = await context.newPage();
  await signIn(own, `${server.url}/channels`, analyst);
  await own.getByRole('table', { name: 'Channel costs' }).waitFor();
  assert.equal(await own.getByRole('form', { name: 'Set a cost' }).count(), 0);
  assert.equal(await own.getByRole('button', { name: 'Remove' }).count(), 0);
  await context.close();
});
