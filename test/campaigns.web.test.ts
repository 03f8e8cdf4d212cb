// A marketer's day in a real Chromium: build a segment with a live count, write a template and
// preview it as a customer, create a campaign with a holdout and start it, and read how an earlier
// campaign did against its holdout, as numbers and as a chart.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/auth.service.ts';
import { createCampaign, saveTemplate, startCampaign } from '../src/campaigns/campaign.service.ts';
import { queryRows, sql } from '../src/db/connection.ts';
import type { Deps } from '../src/deps.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { settleJobs } from '../src/jobs/job.service.ts';
import { saveSegment } from '../src/segments/segment.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;
let login: { email: string; password: string };
let earlier: number;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-campaigns-web-'));
  // The universal control group as shipped (5 %), so the start confirmation shows it left out.
  deps = await createTestDeps({
    dataDir: work,
    programme: { universalControl: 0.05, holdoutDays: 30, waitForProblems: true, problemDays: 14 },
  });
  const events: Record<string, unknown>[] = [];
  for (let i = 1; i <= 200; i++) {
    const customer = { externalId: `M${i}`, email: `m${i}@example.com` };
    events.push({ id: `u${i}`, type: 'customer.upsert', customer, name: `Maria ${i}` });
    events.push({
      id: `o${i}`,
      type: 'order',
      customer,
      orderId: `M${i}-1`,
      at: '2026-06-01T10:00:00Z',
      lines: [{ product: 'Wool throw', category: i % 3 ? 'bedding' : 'candles', amount: '89.00' }],
    });
    if (i % 4 !== 0) events.push({ id: `k${i}`, type: 'consent', customer, at: '2026-06-01T10:00:00Z', granted: true });
  }
  assert.equal((await ingestEvents(deps, events, { source: 'test' })).rejected, 0);
  // An earlier campaign, run on 1 October: the treated bought more in the weeks after.
  const clock = deps.clock as { now: () => Date };
  const realNow = clock.now;
  clock.now = () => new Date('2026-10-01T08:00:00Z');
  const marketer = { kind: 'key' as const, id: 0, name: 'setup', role: 'marketer' as const };
  const segment = await saveSegment(deps, marketer, {
    name: 'Everyone opted in',
    kind: 'dynamic',
    rule: { match: 'all', conditions: [{ field: 'consent', op: 'granted' }] },
  });
  const template = await saveTemplate(deps, marketer, {
    name: 'Autumn',
    subject: 'Autumn is here, {{ customer.first_name }}',
    body: '<p>New throws and candles.</p>',
  });
  const campaign = await createCampaign(deps, marketer, {
    name: 'Autumn news',
    kind: 'newsletter',
    channel: 'email',
    segmentId: segment.id,
    holdoutShare: 0.3,
    consentList: 'marketing',
    arms: [{ name: 'A', templateId: template.id, share: 1 }],
  });
  earlier = campaign.id;
  await startCampaign(deps, campaign.id);
  await settleJobs();
  clock.now = realNow;
  const members = await queryRows<{ external_id: string; arm: string }>(
    deps.db,
    sql`
    select c.external_id, m.arm from campaign_members m join customers c on c.id = m.customer_id where m.campaign_id = ${campaign.id} order by c.id`,
  );
  const orders = members
    .filter((m, i) => (m.arm === 'A' ? i % 3 === 0 : i % 7 === 0))
    .map((m, i) => ({
      id: `after-${m.external_id}`,
      type: 'order',
      customer: { externalId: m.external_id },
      orderId: `${m.external_id}-2`,
      at: new Date(Date.parse('2026-10-01T08:00:00Z') + (1 + (i % 25)) * 86_400_000).toISOString(),
      lines: [{ product: 'Candle, fig', category: 'candles', amount: '28.00' }],
    }));
  assert.equal((await ingestEvents(deps, orders, { source: 'test' })).rejected, 0);
  const user = await createUser(deps, 'marketer@example.com', 'marketer');
  login = { email: user.email, password: user.password };
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(page, server.url, login);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer builds a segment with a live count and saves it', async () => {
  await page.getByRole('link', { name: 'Segments' }).click();
  await page.locator('p.count').waitFor();
  // Replace the starting condition by "bought from category candles".
  const condition = page.locator('.condition').first();
  await condition.getByLabel('field').selectOption('category_bought');
  await condition.getByLabel('value').selectOption('candles');
  const [{ candles, opted }] = await queryRows<{ candles: number; opted: number }>(
    deps.db,
    sql`
    select count(distinct customer_id)::int as candles,
      count(distinct customer_id) filter (where exists (select 1 from consent_ledger k where k.customer_id = l.customer_id and k.granted))::int as opted
    from order_lines l where category = 'candles'`,
  );
  await page
    .locator('p.count')
    .filter({ hasText: new RegExp(`^${candles} customers match now$`) })
    .waitFor();
  await page.getByRole('button', { name: '+ condition' }).click();
  await page.locator('.condition').nth(1).getByLabel('field').selectOption('consent');
  await page
    .locator('p.count')
    .filter({ hasText: new RegExp(`^${opted} customers match now$`) })
    .waitFor();
  assert.ok(opted < candles);
  await page.getByLabel('segment name').fill('Candle lovers who opted in');
  await page.getByRole('button', { name: 'Save segment' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved “Candle lovers who opted in”' }).waitFor();
  await page.locator('.segment-list').getByText('Candle lovers who opted in').waitFor();
  await page.screenshot({ path: screenshotPath('campaigns-segment'), fullPage: true });
});

test('a marketer writes a template, previews it as a customer, creates a campaign with a holdout and starts it', async () => {
  await page.getByRole('link', { name: 'Campaigns' }).click();
  await page.getByRole('link', { name: 'Autumn news' }).waitFor();
  await page.getByLabel('template name').fill('Candle offer');
  const [{ id: someone }] = await queryRows<{ id: number }>(
    deps.db,
    sql`select id from customers where external_id = 'M3'`,
  );
  await page.getByLabel('preview customer').fill(String(someone));
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.locator('.mail-preview').getByText('Subject: A little something for you, Maria').waitFor();
  assert.match(await page.getByLabel('text part').innerText(), /You seem to like candles/);
  await page.getByRole('button', { name: 'Save template' }).click();
  await page.getByText('Templates: Autumn, Candle offer').waitFor();
  await page.screenshot({ path: screenshotPath('campaigns-template'), fullPage: true });

  await page.getByLabel('campaign name').fill('Candle week');
  await page.getByLabel('kind').selectOption('offer');
  await page.getByLabel('segment').selectOption({ label: 'Candle lovers who opted in' });
  await page.getByLabel('holdout percent').fill('20');
  await page.getByLabel('arm 1 template').selectOption({ label: 'Candle offer' });
  await page.getByRole('button', { name: 'Create campaign' }).click();
  await page.getByRole('heading', { name: /Candle week/ }).waitFor();
  // Nothing happens until the confirmation has said what would.
  await page.getByRole('button', { name: 'Start now…' }).click();
  const confirmation = page.getByRole('region', { name: 'start confirmation' });
  const button = confirmation.getByRole('button', { name: /^Confirm and start: \d+ customers$/ });
  await button.waitFor();
  const text = await confirmation.innerText();
  const [, audience] = text.match(/The segment has (\d+) customers/)!;
  const [, drawn, held] = text.match(/(\d+) are drawn: (\d+) into the holdout/)!;
  assert.equal(Number(held), Math.round(Number(drawn) * 0.2));
  const [, control] = text.match(/universal control group\t(\d+)\tleft out/)!;
  assert.equal(Number(drawn), Number(audience) - Number(control));
  assert.match(text, /Arm A: \d+ customers · sample for customer \d+/);
  // The sample mail, rendered for a member of the arm.
  assert.match(
    (await confirmation.locator('iframe[title="sample of arm A"]').getAttribute('srcdoc')) ?? '',
    /You seem to like ([a-z]+, )*candles/,
  );
  assert.equal(
    (
      await queryRows<{ n: number }>(
        deps.db,
        sql`select count(*)::int as n from campaign_members m join campaigns c on c.id = m.campaign_id where c.name = 'Candle week'`,
      )
    )[0].n,
    0,
    'nothing is drawn before the confirmation',
  );
  await page.screenshot({ path: screenshotPath('campaigns-start-confirmation'), fullPage: true });
  await button.click();
  await page.getByRole('heading', { name: /Candle week .* done/ }).waitFor();
  const progress = await page.locator('section.card').first().innerText();
  const [, done, total] = progress.match(/(\d+) of (\d+) done/)!;
  assert.equal(done, total);
  const [{ holdout, treated }] = await queryRows<{ holdout: number; treated: number }>(
    deps.db,
    sql`
    select count(*) filter (where arm = 'control')::int as holdout, count(*) filter (where arm <> 'control')::int as treated
    from campaign_members m join campaigns c on c.id = m.campaign_id where c.name = 'Candle week'`,
  );
  assert.equal(holdout, Math.round((holdout + treated) * 0.2));
  await page.screenshot({ path: screenshotPath('campaigns-sent'), fullPage: true });
});

test('the earlier campaign against its holdout: numbers with intervals and the cumulative lift as a chart', async () => {
  await page.goto(`${server.url}/campaigns/${earlier}`);
  await page.getByRole('heading', { name: 'Against the holdout' }).waitFor();
  const row = page.locator('table.list tbody tr').first();
  assert.match(await row.innerText(), /^A\t\d+\t\d+ · 0 · 0\t[\d.]+ % vs [\d.]+ %/);
  await page
    .getByRole('figure', { name: /Cumulative lift/ })
    .locator('svg')
    .first()
    .waitFor();
  assert.match(await page.getByText(/^Latest: A [+-][\d.]+ pts$/).innerText(), /Latest: A \+/);
  await page.screenshot({ path: screenshotPath('campaigns-report'), fullPage: true });
});
