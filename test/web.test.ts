// The web UI in a real Chromium: sign in, find a customer, read the record and its timeline,
// upload a file and watch it import, read the API page.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/auth.service.ts';
import type { Deps } from '../src/deps.ts';
import { queryRows, sql } from '../src/db/connection.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;
let login: { email: string; password: string };

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-web-'));
  deps = await createTestDeps({ dataDir: work, webhookAllow: ['127.0.0.1'] });
  const who = { email: 'rosa@example.com', externalId: 'R-1' };
  const stored = await ingestEvents(
    deps,
    [
      {
        id: 'c1',
        type: 'customer.upsert',
        customer: who,
        at: '2025-01-01T00:00:00Z',
        name: 'Rosa Diaz',
        acquisitionChannel: 'social',
        attributes: { loyalty_tier: 'gold' },
      },
      {
        id: 'c2',
        type: 'customer.upsert',
        customer: { externalId: 'B-2', email: 'ben@example.com' },
        name: 'Ben Okafor',
        acquisitionChannel: 'web',
      },
      {
        id: 'o1',
        type: 'order',
        customer: who,
        orderId: 'O-1',
        at: '2025-01-02T10:00:00Z',
        channel: 'web',
        lines: [{ product: 'Bath towel', quantity: 2, unitPrice: '19.00' }],
      },
      {
        id: 'o2',
        type: 'order',
        customer: who,
        orderId: 'O-2',
        at: '2025-03-02T10:00:00Z',
        channel: 'store',
        lines: [{ product: 'Candle', amount: '12.50' }],
      },
      {
        id: 'r1',
        type: 'return',
        customer: who,
        returnId: 'RT-1',
        orderId: 'O-1',
        at: '2025-01-05T10:00:00Z',
        amount: '19.00',
        reasonCode: 'wrong_item',
        reason: 'towel came in the wrong shade of blue',
      },
      {
        id: 'n1',
        type: 'note',
        customer: who,
        at: '2025-01-06T12:05:00Z',
        body: 'Relieved after the replacement',
        feeling: 1,
        author: 'sam',
        channel: 'phone',
      },
    ],
    { source: 'test' },
  );
  assert.equal(stored.rejected, 0);
  const user = await createUser(deps, 'marketer@example.com', 'marketer');
  login = { email: user.email, password: user.password };
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
});
after(() => stopAll({ browser, server, deps, work }));

test("sign in: a wrong password is refused with a message, the right one opens a marketer's first page (Campaigns); Customers lists them", async () => {
  await page.goto(server.url);
  await page.fill('input[name=email]', login.email);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('button[type=submit]');
  await page
    .getByRole('alert')
    .filter({ hasText: /password/i })
    .waitFor();
  await page.fill('input[name=password]', login.password);
  await page.click('button[type=submit]');
  await page.waitForURL('**/campaigns');
  await page.getByRole('navigation').getByRole('link', { name: 'Customers' }).click();
  await page.getByText('2 customers', { exact: true }).waitFor();
  const cookies = await page.context().cookies();
  assert.equal(cookies.find((c) => c.name === 'kept_session')?.httpOnly, true);
  assert.match(await page.locator('figure.chart').innerText(), /2 customers by stage[\s\S]*prospect[\s\S]*customer/);
});

test('the UI runs only its own scripts: a content security policy on every page, and an injected inline script does not run', async () => {
  const response = await page.goto(`${server.url}/customers`);
  const policy = response!.headers()['content-security-policy'];
  assert.match(policy, /script-src 'self';/);
  assert.match(policy, /frame-ancestors 'none'/);
  assert.equal(response!.headers()['x-content-type-options'], 'nosniff');
  await page.getByText('2 customers', { exact: true }).waitFor();
  const ran = await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.injected = true';
    document.body.append(script);
    return (window as unknown as { injected?: boolean }).injected === true;
  });
  assert.equal(ran, false, 'an inline script was blocked');
});

test('search finds a customer; the record shows profile, history and one timeline that filters by kind', async () => {
  await page.fill('input[type=search]', 'diaz');
  await page.waitForFunction(() => document.querySelectorAll('table.list tbody tr').length === 1);
  await page.click('text=Rosa Diaz');
  await page.locator('h1', { hasText: 'Rosa Diaz' }).waitFor();
  const tiles = await page.locator('.tiles').innerText();
  assert.match(tiles, /2\s*orders/);
  assert.match(tiles, /50\.50\s*spent/);
  assert.match(await page.locator('.record').innerText(), /loyalty tier[\s\S]*gold/);
  const timeline = page.locator('.timeline ol');
  await timeline.getByText('towel came in the wrong shade of blue').first().waitFor();
  assert.match(await timeline.innerText(), /felt pleased/);
  assert.ok((await page.locator('.chart svg rect').count()) > 0, 'the spend chart is drawn');
  await page.screenshot({ path: screenshotPath('customer-record'), fullPage: true });
  await page.click('.chips >> text=Orders');
  await page.waitForFunction(() => document.querySelectorAll('.timeline li.entry').length === 2);
  assert.deepEqual(await page.locator('.timeline li.entry .title').allInnerTexts(), [
    'Order O-2: 12.50',
    'Order O-1: 38.00',
  ]);
});

test('an uploaded CSV imports in the background with progress and its counts', async () => {
  const file = path.join(work, 'orders.csv');
  fs.writeFileSync(
    file,
    'customer,order,at,amount\nben@example.com,B-1,2025-04-01,30.00\nben@example.com,B-2,2025-05-01,not money\n',
  );
  await page.click('nav >> text=Imports');
  await page.setInputFiles('input[type=file]', file);
  await page.click('button[type=submit]');
  const row = page.locator('table.list tbody tr', { hasText: 'orders.csv' });
  await row.locator('.progress', { hasText: 'done' }).waitFor({ timeout: 30_000 });
  assert.match(await row.innerText(), /orders\.csv\s+orders[\s\S]*done\s+2\s+1\s+0\s+0\s+1 \(CSV\)/);
  await page.screenshot({ path: screenshotPath('imports'), fullPage: true });
});

test('the analytics page runs an analysis with progress and shows its charts and warnings', async () => {
  await page.click('nav >> text=Analytics');
  await page.getByText('No analysis yet').waitFor();
  await page.click('text=Run analysis now');
  await page.locator('.warnings', { hasText: 'repeat buyers' }).waitFor({ timeout: 60_000 });
  const text = await page.locator('.analytics').innerText();
  assert.match(text, /Latest analysis as of \d{4}-\d{2}-\d{2} \(2 customers, 1 repeat buyers, scored by BG\/NBD\)/);
  const lines = await page
    .locator('.analytics figure.chart table.chart-data')
    .evaluateAll((tables) =>
      tables.flatMap((t) =>
        t.querySelector('th')?.textContent === 'Series'
          ? [...new Set([...t.querySelectorAll('tbody tr td:first-child')].map((td) => td.textContent))]
          : [],
      ),
    );
  assert.ok(lines.length >= 3, 'conversion and model-fit lines are drawn');
  await page.screenshot({ path: screenshotPath('analytics'), fullPage: true });
});

test('the API page lists the documented routes', async () => {
  await page.click('nav >> text=API');
  await page.getByText('/api/v1/events').first().waitFor();
  assert.match(await page.locator('.apidoc').innerText(), /\/api\/v1\/customers\/\{id\}\/timeline/);
});

/** A page of its own (a new browser context, so its own session) signed in as this user at `path`. */
async function signedIn(user: { email: string; password: string }, path: string, height = 1000) {
  const context = await browser.newContext({ viewport: { width: 1400, height }, acceptDownloads: true });
  const own = await context.newPage();
  await signIn(own, `${server.url}${path}`, user);
  return { context, own };
}

test('an analyst gets the pages of aggregates only: the first is Analytics, and the customer list by its address says the role does not open it', async () => {
  const analyst = await createUser(deps, 'ana@example.com', 'analyst');
  const { context, own } = await signedIn(analyst, '/', 900);
  await own.waitForURL(`${server.url}/analytics`);
  assert.deepEqual(await own.locator('header.top nav a').allTextContents(), [
    'Overview',
    'Analytics',
    'Why they leave',
    'Channels',
    'Rules',
    'Segments',
    'Campaigns',
    'Journeys',
    'Surveys',
    'API',
  ]);
  await own.goto(`${server.url}/customers`);
  await own.getByText('The analyst role does not open this page').waitFor();
  assert.equal(await own.getByText('Rosa Diaz').count(), 0);
  await own.screenshot({ path: screenshotPath('analyst-no-customers') });
  await context.close();
});

test('an admin reads the audit log: sign-ins by day, the failed one, the upload, filtered by action, exported as CSV', async () => {
  const admin = await createUser(deps, 'owner@example.com', 'admin');
  const { context, own } = await signedIn(admin, '/audit');
  await own.getByRole('heading', { name: 'Audit log' }).waitFor();
  const table = own.getByRole('table', { name: 'Audit entries' });
  await table.getByText('login.failed').first().waitFor();
  const rows = await table.locator('tbody tr').allTextContents();
  assert.ok(
    rows.some((r) => r.includes('marketer@example.com') && r.includes('import.uploaded')),
    'the upload of the test before',
  );
  assert.ok(
    rows.some((r) => r.includes('ana@example.com') && /login(?!\.)/.test(r)),
    'the analyst signed in',
  );
  const marked = await own.locator('figure.chart table.chart-data tbody tr td:nth-child(3)').allInnerTexts();
  assert.ok(
    marked.some((m) => m.trim() !== ''),
    'a day with a failed sign-in is marked',
  );
  await own.screenshot({ path: screenshotPath('audit-log') });

  await own.selectOption('select', 'import');
  await own.waitForFunction(() =>
    [...document.querySelectorAll('table[aria-label="Audit entries"] tbody tr')].every((r) =>
      r.textContent!.includes('import.'),
    ),
  );
  const [download] = await Promise.all([own.waitForEvent('download'), own.getByText('Export CSV').click()]);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  assert.match(csv.split('\n')[0], /^id,at,actor,action,target,detail,ip/);
  assert.ok(
    csv
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .every((line) => line.includes(',import.')),
    csv,
  );

  const retention = own.getByRole('region', { name: 'Retention' });
  assert.match(await retention.getByRole('row', { name: /captured mail/ }).innerText(), /90 days/);
  await retention.getByRole('button', { name: 'Sweep now' }).click();
  await retention.getByText(/Deleted by the last sweep \(/).waitFor();
  assert.equal(await retention.locator('figure.chart rect').count(), 1, 'one sweep, one column');
  await retention.screenshot({ path: screenshotPath('retention') });
  await context.close();
});

test('an admin manages the team: adds a person and sees the password once, changes a role, creates a scoped key and revokes it', async () => {
  const admin = await createUser(deps, 'chief@example.com', 'admin');
  const { context, own } = await signedIn(admin, '/team', 1100);
  await own.getByRole('heading', { name: 'Team and keys' }).waitFor();

  await own.getByLabel('email').fill('lena@example.com');
  await own.getByLabel("new person's role").selectOption('agent');
  await own.getByRole('button', { name: 'Add', exact: true }).click();
  const shown = await own.getByRole('status').filter({ hasText: 'Password for lena' }).textContent();
  const password = shown!.match(/Password for lena@example.com: (\S+)/)![1];
  await own.getByLabel('role of lena@example.com').selectOption('marketer');
  await own.waitForFunction(
    () =>
      (document.querySelector('select[aria-label="role of lena@example.com"]') as HTMLSelectElement).value ===
      'marketer',
  );

  await own.getByLabel('key name').fill('shop');
  await own.getByLabel('key scopes').fill('events:write');
  await own.getByRole('button', { name: 'Create key' }).click();
  const key = (await own.getByRole('status').filter({ hasText: 'Key "shop"' }).textContent())!.match(
    /Key "shop": (kept_\S+)/,
  )![1];
  await own.getByRole('row', { name: /shop/ }).getByText('events:write').waitFor();
  await own.screenshot({ path: screenshotPath('team') });

  const lena = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'lena@example.com', password }),
  });
  assert.equal((await lena.json()).user.role, 'marketer');
  const asKey = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal((await asKey('/api/v1/customers')).status, 403, 'the key is limited to events:write');
  await own.getByRole('row', { name: /shop/ }).getByRole('button', { name: 'Revoke' }).click();
  await own
    .getByRole('row', { name: /shop/ })
    .getByText(/revoked/)
    .waitFor();
  assert.equal((await asKey('/api/v1/customers')).status, 401);
  await context.close();
});

test('an admin erases a customer after typing the word, and the customer is gone from the list', async () => {
  const admin = await createUser(deps, 'dpo@example.com', 'admin');
  const [{ id }] = await queryRows<{ id: number }>(
    deps.db,
    sql`select id from customers where email = 'ben@example.com'`,
  );
  const { context, own } = await signedIn(admin, `/customers/${id}`, 900);
  await own.getByRole('heading', { name: 'Ben Okafor' }).waitFor();
  await own.getByRole('button', { name: 'Erase this customer…' }).click();
  const erase = own.getByRole('button', { name: 'Erase for good' });
  assert.equal(await erase.isDisabled(), true, 'not before the word is typed');
  await own.getByLabel('Type erase to confirm').fill('erase');
  await own.screenshot({ path: screenshotPath('erase-customer') });
  await erase.click();
  await own
    .getByRole('status')
    .filter({ hasText: `Customer #${id} is erased` })
    .waitFor();
  await own.getByRole('link', { name: 'Back to customers' }).click();
  await own.getByText('Rosa Diaz').waitFor();
  assert.equal(await own.getByText('Ben Okafor').count(), 0);
  await context.close();
});

test('an admin adds a webhook (an internal address is refused, the secret shown once) and replays a dead delivery', async () => {
  const admin = await createUser(deps, 'integrator@example.com', 'admin');
  const { context, own } = await signedIn(admin, '/team', 1300);
  const hooks = own.getByRole('region', { name: 'Webhooks' });
  await hooks.getByText('No webhooks yet.').waitFor();
  await hooks.getByLabel('webhook URL').fill('http://10.0.0.7/kept');
  await hooks.getByLabel('consent.changed').check();
  await hooks.getByRole('button', { name: 'Add webhook' }).click();
  await hooks
    .getByRole('alert')
    .filter({ hasText: 'internal address (10.0.0.7); allow it with KEPT_WEBHOOK_ALLOW' })
    .waitFor();
  await hooks.getByLabel('webhook URL').fill(`${server.url}/hook`);
  await hooks.getByRole('button', { name: 'Add webhook' }).click();
  const secret = (await own.getByRole('status').filter({ hasText: 'Signing secret' }).textContent())!.match(
    /(whsec_\S+)/,
  )![1];
  const [{ id, secret: stored }] = await queryRows<{ id: number; secret: string }>(
    deps.db,
    sql`select id, secret from webhooks`,
  );
  assert.equal(secret, stored);

  await ingestEvents(
    deps,
    [
      {
        id: 'consent-web',
        type: 'consent',
        customer: { externalId: 'R-1' },
        at: new Date().toISOString(),
        granted: false,
      },
    ],
    { source: 'test' },
  );
  await deps.db.execute(
    sql`update webhook_deliveries set status = 'dead', attempts = 7, last_error = 'HTTP 404' where webhook_id = ${id}`,
  );
  await own.reload();
  await hooks
    .getByRole('row', { name: /\/hook/ })
    .getByRole('button', { name: '1' })
    .click();
  const dead = own.getByRole('table', { name: 'Dead deliveries' });
  await dead.getByText('HTTP 404').waitFor();
  await own.screenshot({ path: screenshotPath('webhooks'), fullPage: true });
  await dead.getByRole('button', { name: 'Replay' }).click();
  await dead.getByText('HTTP 404').waitFor({ state: 'detached' });
  const [{ status }] = await queryRows<{ status: string }>(
    deps.db,
    sql`select status from webhook_deliveries where webhook_id = ${id}`,
  );
  assert.equal(status, 'pending');
  await context.close();
});

test('an agent merges a duplicate into a customer from the record: found by email, its orders move, the duplicate is gone', async () => {
  const agent = await createUser(deps, 'merger@example.com', 'agent');
  await ingestEvents(
    deps,
    [
      { id: 'dup', type: 'customer.upsert', customer: { email: 'rosa.d@example.com' }, name: 'Rosa D.' },
      {
        id: 'dup-o',
        type: 'order',
        customer: { email: 'rosa.d@example.com' },
        orderId: 'GUEST-1',
        at: '2025-05-02T10:00:00Z',
        lines: [{ product: 'Vase', amount: '40.00' }],
      },
    ],
    { source: 'test' },
  );
  const [{ id }] = await queryRows<{ id: number }>(
    deps.db,
    sql`select id from customers where email = 'rosa@example.com'`,
  );
  const { context, own } = await signedIn(agent, `/customers/${id}`, 1000);
  await own.getByRole('heading', { name: 'Rosa Diaz' }).waitFor();
  await own.getByRole('button', { name: 'Merge a duplicate into this customer…' }).click();
  await own.getByLabel('duplicate to find').fill('rosa.d@');
  await own.getByRole('button', { name: 'Find' }).click();
  const merge = own.getByRole('button', { name: /^Merge #\d+ into this customer$/ });
  await merge.waitFor();
  await own.screenshot({ path: screenshotPath('merge-duplicate') });
  await merge.click();
  await own.getByRole('status').filter({ hasText: 'is merged into this one' }).waitFor();
  await own.getByText('Vase').first().waitFor();
  const [{ n }] = await queryRows<{ n: number }>(
    deps.db,
    sql`select count(*)::int as n from customers where email = 'rosa.d@example.com'`,
  );
  assert.equal(n, 0);
  await context.close();
});
