// Each role in a real Chromium: it starts on its own page and never meets a control that would
// answer 403; the owner's Overview shows the store's figures, each a link to its detail.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { analyze } from '../src/analytics/analyze.service.ts';
import { createUser } from '../src/auth/auth.service.ts';
import type { Role } from '../src/auth/auth.ts';
import type { Deps } from '../src/deps.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';
import { steadyCustomerOrders } from './steady-customers.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let work: string;
const logins = new Map<Role, { email: string; password: string }>();

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-roles-web-'));
  deps = await createTestDeps({ dataDir: work });
  assert.equal((await ingestEvents(deps, steadyCustomerOrders(60, 20), { source: 'test' })).rejected, 0);
  const clock = deps.clock as { now: () => Date };
  const realNow = clock.now;
  clock.now = () => new Date('2026-01-10T12:00:00Z');
  await analyze(deps);
  clock.now = realNow;
  for (const role of ['admin', 'marketer', 'agent', 'analyst'] as const) {
    const user = await createUser(deps, `${role}@example.com`, role);
    logins.set(role, { email: user.email, password: user.password });
  }
  server = await serveApp(deps);
  browser = await launchBrowser();
});
after(() => stopAll({ browser, server, deps, work }));

/** Signs in as the role in a fresh context; answers 403 seen while the test runs are collected. */
async function as(role: Role) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  const refused: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 403) refused.push(`${r.request().method()} ${new URL(r.url()).pathname}`);
  });
  await signIn(page, server.url, logins.get(role)!);
  return { page, refused, close: () => context.close() };
}

test('each role starts on its own page', async () => {
  const firsts: Record<Role, [string, RegExp]> = {
    admin: ['/overview', /Overview/],
    marketer: ['/campaigns', /Campaigns/],
    agent: ['/worklist', /Worklist|Who to call/],
    analyst: ['/analytics', /Who is slipping away/],
  };
  for (const [role, [url, heading]] of Object.entries(firsts) as [Role, [string, RegExp]][]) {
    const { page, close } = await as(role);
    await page.waitForURL(`**${url}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
    await close();
  }
});

test('an agent sees no control its role cannot use, and no page answers 403', async () => {
  const { page, refused, close } = await as('agent');
  await page.waitForURL('**/worklist');
  const nav = page.getByRole('navigation');
  for (const hidden of ['Imports', 'Team', 'Audit'])
    assert.equal(await nav.getByRole('link', { name: hidden }).count(), 0);
  await nav.getByRole('link', { name: 'Analytics' }).click();
  await page.getByRole('heading', { name: 'Who is slipping away' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Run analysis now' }).count(), 0);
  await nav.getByRole('link', { name: 'Campaigns' }).click();
  await page.getByRole('heading', { level: 1, name: 'Campaigns' }).waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByRole('button', { name: 'Create campaign' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Save template' }).count(), 0);
  await nav.getByRole('link', { name: 'Journeys' }).click();
  await page.getByRole('heading', { level: 1, name: 'Journeys' }).waitFor();
  await page.waitForLoadState('networkidle');
  assert.equal(await page.getByRole('button', { name: 'Run a round now' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /Start (as a draft|another)/ }).count(), 0);
  assert.deepEqual(refused, []);
  await close();
});

test('an analyst runs the analysis but opens no customer by name', async () => {
  const { page, refused, close } = await as('analyst');
  await page.getByRole('button', { name: 'Run analysis now' }).waitFor();
  const nav = page.getByRole('navigation');
  for (const hidden of ['Customers', 'Worklist', 'Tickets'])
    assert.equal(await nav.getByRole('link', { name: hidden }).count(), 0);
  assert.deepEqual(refused, []);
  await close();
});

test("the owner's overview: stages with this month's moves, risk, the programme, each a link to its detail", async () => {
  const { page, refused, close } = await as('admin');
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  const text = await page.locator('main').innerText();
  assert.match(text, /Customers by stage/);
  assert.match(text, /How the stages moved this month/);
  assert.match(text, /at risk of leaving/);
  assert.match(text, /Is marketing paying\?/);
  assert.match(text, /What was tried and what it returned/);
  await page.screenshot({ path: screenshotPath('overview-admin'), fullPage: true });
  await page.getByRole('link', { name: 'Why customers left' }).click();
  await page.waitForURL('**/insights');
  assert.deepEqual(refused, []);
  await close();
});

test('a chart answers a hover with the value and the date, and every chart titles its axes', async () => {
  const { page, close } = await as('analyst');
  const chart = page.getByRole('figure', { name: /Customers by stage over time/ });
  await chart.locator('svg').waitFor();
  const box = (await chart.locator('.echart').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.5);
  const tip = chart.locator('.chart-tooltip');
  await tip.waitFor();
  // A date (a month and a year) and a count of customers.
  assert.match(await tip.innerText(), /\b(19|20)\d{2}\b[\s\S]*\d/);
  const axes = await page
    .locator('figure.chart')
    .evaluateAll((figures) => figures.map((f) => [f.getAttribute('data-x-axis'), f.getAttribute('data-y-axis')]));
  assert.ok(axes.length > 3);
  assert.deepEqual(
    axes.filter(([x, y]) => !x || !y),
    [],
  );
  await close();
});
