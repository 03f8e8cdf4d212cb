// Why customers leave, in a real Chromium: a store whose late deliveries cost customers (unless
// someone followed up), an exit answer from one who left; after an analysis an admin reads the heat
// map and a cell's customers, approves a proposed rule, opens the post-mortem of the one who
// answered, and sees the worklist ranked by expected incremental value.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { analyze } from '../src/analytics/analyze.service.ts';
import { createUser } from '../src/auth/auth.service.ts';
import type { Deps } from '../src/deps.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';
import { steadyCustomerOrders } from './steady-customers.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;

const day = 86_400_000;
const names = ['Sam Lee', 'Alex Berg', 'Kim Noor', 'Jo Marsh', 'Robin Hale', 'Chris Dale'];
const cities = ['Leeds', 'York', 'Bath', 'Hull', 'Derby'];

/**
 * 300 customers ordering every 20 days through 2025, the first 100 stopping after their 8th order
 * in May. A late delivery three days after the 8th order for half of those who stop and a quarter
 * of those who go on; an agent's note the next day for everyone who goes on and a fifth of those
 * who stop. C4 (Ada Exit) stops, had a late delivery nobody followed up, and says why in August.
 */
function store(): unknown[] {
  const events = steadyCustomerOrders(300, 100);
  for (let c = 1; c <= 300; c++) {
    events.push({
      id: `profile${c}`,
      type: 'customer.upsert',
      customer: { externalId: `C${c}` },
      name: c === 4 ? 'Ada Exit' : names[c % names.length],
      address: { city: cities[c % cities.length], country: 'GB' },
    });
    const stopping = c <= 100;
    if (stopping ? c % 2 !== 0 : c % 4 !== 0) continue;
    const ordered = Date.UTC(2025, 0, 1) + (7 * 20 + (c % 5)) * day;
    events.push({
      id: `late${c}`,
      type: 'incident',
      customer: { externalId: `C${c}` },
      at: new Date(ordered + 3 * day).toISOString(),
      kind: 'late_delivery',
      orderId: `O${c}-7`,
    });
    if (!stopping || c % 10 === 0)
      events.push({
        id: `note${c}`,
        type: 'note',
        customer: { externalId: `C${c}` },
        at: new Date(ordered + 4 * day).toISOString(),
        body: 'Called about the late parcel and apologised',
        author: 'Agent Ann',
      });
  }
  events.push({
    id: 'exit4',
    type: 'survey.response',
    customer: { externalId: 'C4' },
    at: '2025-08-01T10:00:00Z',
    survey: 'exit',
    question: 'Why did you stop ordering?',
    answer: 'Nobody answered my emails',
  });
  return events;
}

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-insights-web-'));
  deps = await createTestDeps({ dataDir: work });
  assert.equal((await ingestEvents(deps, store(), { source: 'test' })).rejected, 0);
  // Analysed as of early 2026, then the real clock again (sessions expire in real time in the browser).
  const clock = deps.clock as { now: () => Date };
  const realNow = clock.now;
  clock.now = () => new Date('2026-01-10T12:00:00Z');
  await analyze(deps);
  clock.now = realNow;
  const admin = await createUser(deps, 'admin@example.com', 'admin');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(page, `${server.url}/insights`, admin);
});
after(() => stopAll({ browser, server, deps, work }));

test('the heat map shows late deliveries by customer type, and a cell opens onto its figures and customers', async () => {
  const heatmap = page.locator('table.heatmap');
  await heatmap.waitFor();
  const headers = await heatmap.locator('thead th').allInnerTexts();
  assert.ok(headers.includes('Late delivery'), `a late delivery column: ${headers.join(', ')}`);
  const cell = heatmap.locator('tbody tr', { hasText: 'Repeat customer' }).first().locator('button.heat-cell');
  assert.match(await cell.innerText(), /^\d+ %\s+[+−]\d+ pts\s+n = \d+/);
  await page.locator('figure.chart', { hasText: 'Hazard ratio of leaving in a month' }).waitFor();
  await page.locator('.uplift-banner', { hasText: "Where the worklist's uplift comes from: assumed" }).waitFor();
  await page.screenshot({ path: screenshotPath('insights-heatmap'), fullPage: true });

  await cell.click();
  const drill = page.locator('section.drill');
  await drill.waitFor();
  const words = await drill.innerText();
  assert.match(words, /It happened \d+ times to a customer of this type\. \d+ % of them bought again within 90 days/);
  assert.match(words, /points \(between [+−]\d+ and [+−]\d+ points with 95 % confidence\)/);
  assert.match(words, /Followed up within 2 days: \d+ % bought again/);
  const rows = drill.locator('table.cell-customers tbody tr');
  await rows.first().waitFor();
  assert.ok((await rows.count()) > 0);
  assert.match((await rows.first().locator('a').getAttribute('href')) ?? '', /^\/customers\/\d+$/);
  await drill.screenshot({ path: screenshotPath('insights-drill-down') });
});

test('an admin approves a proposed rule', async () => {
  await page.getByRole('link', { name: 'Rules', exact: true }).click();
  await page.getByRole('heading', { name: 'Rules' }).waitFor();
  await page.locator('.rule, .empty').first().waitFor();
  const proposed = page.locator('.rule', { has: page.locator('.stage', { hasText: /^proposed$/ }) });
  if ((await proposed.count()) === 0) {
    assert.match(await page.locator('.empty').innerText(), /No rules yet/);
  } else {
    const rule = proposed.first();
    const id = await rule.getAttribute('id');
    assert.match(await rule.innerText(), /late delivery/);
    assert.match(await rule.innerText(), /Evidence \(analysis as of .+\): .*95 % interval/);
    await rule.getByRole('button', { name: 'Approve' }).click();
    const approved = page.locator(`#${id} .stage`);
    await approved.filter({ hasText: /^approved$/ }).waitFor();
    assert.match(await page.locator(`#${id}`).innerText(), /Approved by admin@example\.com/);
  }
  await page.screenshot({ path: screenshotPath('insights-rules'), fullPage: true });
});

test("a lapsed customer's page says why they left: their exit answer", async () => {
  const found = await page.request.get(`${server.url}/api/v1/customers?q=Ada%20Exit`);
  const { customers } = (await found.json()) as { customers: { id: number }[] };
  assert.equal(customers.length, 1);
  await page.goto(`${server.url}/customers/${customers[0].id}`);
  const section = page.locator('section.post-mortem');
  await section.waitFor();
  const text = await section.innerText();
  assert.match(text, /Likely cause: service: nobody answered or helped \(from what they answered in the exit survey\)/);
  assert.match(text, /Their exit answer on .+: .?Nobody answered my emails/);
  assert.match(text, /late delivery — late delivery on order O4-7 · nobody followed up/);
  await section.screenshot({ path: screenshotPath('insights-post-mortem') });

  await page.getByRole('button', { name: 'Give a gesture…' }).click();
  const gesture = page.getByRole('form', { name: 'Give a gesture' });
  await gesture.locator('input[name=reason]').fill('Sorry nobody answered your emails');
  await gesture.getByRole('button', { name: 'Give it' }).click();
  assert.match(
    await gesture.getByRole('status').innerText(),
    /^Recorded: gift worth 10\.00\. Within your allowance: no approval needed\./,
  );
});

test('the worklist is ranked by expected incremental value, each card says who and what it is worth', async () => {
  await page.getByRole('link', { name: 'Worklist' }).click();
  const banner = page.locator('.ranking-banner');
  await banner.waitFor();
  assert.match(await banner.innerText(), /Ranked by expected incremental value/);
  assert.match(await banner.innerText(), /The uplift is assumed: no holdout has measured it yet/);
  assert.match(await banner.innerText(), /\d+ customers of this analysis \(10 %\) are held out at random/);
  // Nobody here is worth a call on the assumed uplift: everyone at risk is listed on asking.
  await banner.getByLabel('Show them too').check();
  const item = page.locator('.work-item').first();
  await item.getByText(/^Suggested: /).waitFor();
  assert.match(
    await item.innerText(),
    /Expected incremental value [-−]?[\d,]+\.\d\d · uplift \+\d+\.\d points \(assumed\)/,
  );
  assert.match(await item.locator('.work-who').innerText(), /^id C\d+ · (Leeds|York|Bath|Hull|Derby)$/);
  await page.screenshot({ path: screenshotPath('insights-worklist') });

  await banner.getByLabel('Show the held-out customers').check();
  const held = page.locator('.work-item.held-out').first();
  await held.waitFor();
  assert.match(await held.innerText(), /held out at random/);
  await held.getByRole('button', { name: 'Act anyway (override)…' }).click();
  await held.getByRole('button', { name: 'Act anyway', exact: true }).waitFor();
  await held.screenshot({ path: screenshotPath('insights-worklist-held-out') });
});
