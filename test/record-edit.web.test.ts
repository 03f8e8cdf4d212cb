// Editing a record in a real Chromium: a marketer opens a customer whose name is in lower case and
// whose email has a typo domain, fixes both, adds the address they moved to and marks them do not
// contact, each with a reason; the timeline shows each change with who and why.
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
let customerId = 0;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-record-edit-web-'));
  deps = await createTestDeps({ dataDir: work, timeZone: 'UTC' });
  const who = { externalId: 'R-1', email: 'audit.one@exmaple.com' };
  const stored = await ingestEvents(
    deps,
    [
      {
        id: 'r1',
        type: 'customer.upsert',
        customer: who,
        name: 'audit one',
        address: { line1: 'Alte Str. 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
        at: '2025-05-01T10:00:00Z',
      },
      {
        id: 'r2',
        type: 'order',
        customer: who,
        orderId: 'R-O1',
        at: '2025-06-01T10:00:00Z',
        lines: [{ product: 'Mug', amount: '12.00' }],
      },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.map((r) => r.status),
    ['accepted', 'accepted'],
  );
  customerId = stored.results[0].customerId!;
  const marketer = await createUser(deps, 'ana@shop.example', 'marketer');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
  await signIn(page, `${server.url}/customers/${customerId}`, marketer);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer fixes a name and an email typo, adds a new address and sets do not contact, each with a reason', async () => {
  await page.getByRole('heading', { name: 'audit one' }).waitFor();
  await page.getByRole('button', { name: 'Edit record…' }).click();
  const editor = page.getByRole('region', { name: 'Edit this record' });
  const profile = editor.getByRole('form', { name: 'Profile and contact' });

  // A broken email is refused next to its field, in words; nothing changes.
  await profile.getByLabel('Email', { exact: true }).fill('audit.one@example');
  await profile.getByLabel('Why (kept on the timeline)').fill('typo fixed');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  const problem = profile.locator('.field-error[data-field=email]');
  await problem.waitFor();
  assert.match(await problem.innerText(), /not an email address/);

  await profile.getByLabel('Name', { exact: true }).fill('Audit One');
  await profile.getByLabel('Email', { exact: true }).fill('audit.one@example.com');
  await profile.getByLabel('Why (kept on the timeline)').fill('typo fixed');
  await profile.getByRole('button', { name: 'Save profile' }).click();
  await page.getByRole('heading', { name: 'Audit One' }).waitFor();
  await editor.getByRole('status').filter({ hasText: 'The record is changed.' }).waitFor();

  const address = editor.getByRole('form', { name: 'New address' });
  await address.getByLabel('Street and number').fill('Neue Str. 2');
  await address.getByLabel('Postcode').fill('20095');
  await address.getByLabel('City', { exact: true }).fill('Hamburg');
  await address.getByLabel('Country').fill('DE');
  await address.getByLabel('Why (kept on the timeline)').fill('moved, told us on the phone');
  await address.getByRole('button', { name: 'Add address' }).click();
  await editor.getByRole('status').filter({ hasText: 'The new address is on record.' }).waitFor();
  await page.getByRole('heading', { name: 'Address history' }).waitFor();

  const flags = editor.getByRole('region', { name: 'Status flags' });
  assert.match(
    await flags.innerText(),
    /Moved: they left the address on record: no post or list mailings until a new address arrives/,
  );
  assert.equal(await flags.getByRole('button', { name: 'Clear deceased' }).count(), 0);
  await flags.getByLabel('Why (kept on the timeline)').fill('asked on the phone not to be contacted');
  await flags.getByRole('button', { name: 'Set do not contact' }).click();
  await editor.getByRole('status').filter({ hasText: 'Do not contact is set.' }).waitFor();
  await page.locator('header.record-head .flag', { hasText: 'do not contact' }).waitFor();

  const timeline = page.locator('section.timeline ol');
  await timeline.locator('.title', { hasText: 'Marked do not contact' }).waitFor();
  const titles = await timeline.locator('.title').allInnerTexts();
  for (const title of [
    'Name changed by ana@shop.example: typo fixed',
    'Email changed by ana@shop.example: typo fixed',
    'Postal address changed by ana@shop.example: moved, told us on the phone',
    'Marked do not contact: asked on the phone not to be contacted',
  ])
    assert.ok(titles.includes(title), `${title} in ${JSON.stringify(titles)}`);
  const email = timeline.locator('li', { hasText: 'Email changed by ana@shop.example' });
  assert.match(await email.innerText(), /audit\.one@exmaple\.com → audit\.one@example\.com/);
  await page.screenshot({ path: screenshotPath('record-edit'), fullPage: true });
});
