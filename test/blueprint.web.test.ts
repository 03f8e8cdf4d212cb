// The journey blueprint in a real Chromium: twelve trial users ordered 20 days ago, eight got their
// order confirmation within ten minutes and four never did; three customers have heard nothing from
// us for 120 days. A marketer opens Journeys, reads the trial funnel and the gaps, and opens the
// customers behind a gap and behind a step.
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
const silent = ['Hugo Brandt', 'Ines Moreau', 'Kofi Mensah'];

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-blueprint-web-'));
  deps = await createTestDeps({ dataDir: work, timeZone: 'UTC' });
  // Real time: the browser's session expires in it.
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const events: Record<string, unknown>[] = [];
  const add = (event: Record<string, unknown>) => events.push({ id: `e${events.length}`, ...event });
  const who = (externalId: string) => ({ externalId, email: `${externalId.toLowerCase()}@example.com` });
  const mail = (customer: string, at: number, transactional: boolean) =>
    add({
      type: 'touchpoint',
      customer: who(customer),
      at: iso(at),
      channel: 'email',
      direction: 'out',
      kind: 'email_sent',
      campaign: transactional ? 'Order follow-up' : 'Spring news',
      detail: transactional ? { transactional: true } : {},
    });
  const order = (customer: string, orderId: string, at: number) =>
    add({ type: 'order', customer: who(customer), orderId, at: iso(at), lines: [{ product: 'Mug', amount: '12.00' }] });
  for (let i = 1; i <= 12; i++) {
    const at = now - 20 * day + i * 3_600_000;
    add({ type: 'customer.upsert', customer: who(`T${i}`), name: `Trial buyer ${i}` });
    order(`T${i}`, `T${i}-1`, at);
    if (i <= 8) mail(`T${i}`, at + 10 * 60_000, true);
  }
  silent.forEach((name, i) => {
    add({ type: 'customer.upsert', customer: who(`S${i}`), name });
    order(`S${i}`, `S${i}-1`, now - 400 * day);
    order(`S${i}`, `S${i}-2`, now - 380 * day);
    mail(`S${i}`, now - 120 * day, false);
  });
  const stored = await ingestEvents(deps, events, { source: 'test' });
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  const marketer = await createUser(deps, 'marketer@example.com', 'marketer');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(page, `${server.url}/journeys`, marketer);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer sees the trial funnel and the gaps on Journeys, and opens the customers behind them', async () => {
  const section = page.locator('section.blueprint');
  await section.getByRole('heading', { name: 'Designed path and what customers got' }).waitFor();
  const chart = section.locator('figure.chart', {
    hasText: 'Trial users: each designed step, reached on time, late or never',
  });
  await chart.waitFor();
  assert.equal(
    await chart.locator('table.chart-data tbody tr').count(),
    12,
    'four steps, each on time, late and never',
  );
  assert.match(await section.getByRole('tab', { selected: true }).innerText(), /^Trial users · 12$/);
  const rows = await section.locator('table.blueprint-funnel tbody tr').allInnerTexts();
  assert.deepEqual(
    rows.map((r) => r.split('\t').slice(0, 8)),
    [
      ['Order confirmation', 'within 1 hour', '8', '0', '4', '0', '0', '67 %'],
      ['Asked how it went (a survey)', 'by day 8', '0', '0', '12', '0', '0', '0 %'],
      ['A nudge to buy again (a marketing mail)', 'by day 45', '0', '0', '0', '0', '12', '—'],
      ['Second order', 'by day 90', '0', '0', '0', '0', '12', '—'],
    ],
  );
  assert.equal(rows[0].split('\t')[8], '10 minutes');

  const gaps = await section.locator('table.blueprint-gaps tbody tr').allInnerTexts();
  assert.deepEqual(
    gaps.slice(0, 2).map((r) => r.split('\t').slice(0, 2)),
    [
      ['No contact from us for 90 days', '3'],
      ['Orders whose confirmation never went out', '4'],
    ],
  );
  await section.getByRole('button', { name: 'No contact from us for 90 days: 3' }).click();
  const drill = section.getByRole('region', { name: 'Customers' });
  await drill.getByRole('heading', { name: 'No contact from us for 90 days: 3' }).waitFor();
  assert.deepEqual(await drill.locator('li a').allInnerTexts(), silent);
  assert.match((await drill.locator('li').first().innerText()) ?? '', /^Hugo Brandt last contact \d{4}-\d{2}-\d{2}$/);
  assert.match((await drill.locator('li a').first().getAttribute('href')) ?? '', /^\/customers\/\d+$/);
  await section.screenshot({ path: screenshotPath('journeys-blueprint') });

  // The step's "never": the four trial buyers whose confirmation did not go out.
  await section.locator('table.blueprint-funnel tbody tr').first().getByRole('button', { name: '4' }).click();
  await drill.getByRole('heading', { name: 'Trial users: Order confirmation, never got it: 4' }).waitFor();
  assert.deepEqual(await drill.locator('li a').allInnerTexts(), [
    'Trial buyer 9',
    'Trial buyer 10',
    'Trial buyer 11',
    'Trial buyer 12',
  ]);
  await drill.locator('li a').first().click();
  await page.getByRole('heading', { name: 'Trial buyer 9' }).waitFor();
  assert.match(page.url(), /\/customers\/\d+$/);
});
