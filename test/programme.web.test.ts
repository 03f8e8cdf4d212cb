// Is marketing working overall, in a real Chromium: a store of 3,000 customers whose universal
// control group (10 %) bought less often over the last twelve months than everyone else; a marketer
// opens Campaigns and reads the headline, the chart of both groups month by month, the table of the
// three measures and that the control group stayed untouched.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/auth.service.ts';
import { inUniversalControl } from '../src/campaigns/index.ts';
import { loadConfig } from '../src/config.ts';
import { refreshLifecycle } from '../src/customers/index.ts';
import { array, queryRows, sql } from '../src/db/connection.ts';
import type { Deps } from '../src/deps.ts';
import { random } from '../src/shared/random.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;
let controlMember: number;

const share = 0.1;
const customers = 3_000;
const day = 86_400_000;

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-programme-web-'));
  const base = loadConfig({}, { NODE_ENV: 'test' });
  deps = await createTestDeps({
    dataDir: work,
    timeZone: 'UTC',
    programme: { ...base.programme, universalControl: share },
  });
  // Customers since more than a year ago; each month of the last twelve (the current one up to now)
  // the control group buys with probability 0.08 and everyone else 0.12, and a newsletter goes to
  // half of those we market to. Real time: the browser's session expires in it.
  const now = Date.now();
  const ids = (
    await queryRows<{ id: number }>(
      deps.db,
      sql`insert into customers (external_id, name, created_at)
        select 'W' || g, 'Wren ' || g, ${new Date(now - 400 * day).toISOString()}::timestamptz
        from generate_series(1, ${customers}) g returning id`,
    )
  ).map((r) => Number(r.id));
  const next = random(7);
  const orders: { customerId: number; at: string; total: string }[] = [];
  const today = new Date(now);
  // Four in ten bought before the twelve months, so retention has customers to measure.
  for (const id of ids)
    if (next() < 0.4)
      orders.push({
        customerId: id,
        at: new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 11, 1) - 10 * day).toISOString(),
        total: '30.00',
      });
  for (let k = 0; k < 12; k++) {
    const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - k, 1);
    const end = Math.min(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - k + 1, 1), now - 60_000);
    for (const id of ids)
      if (next() < (inUniversalControl(id, share) ? 0.08 : 0.12))
        orders.push({
          customerId: id,
          at: new Date(start + Math.floor(next() * (end - start))).toISOString(),
          total: (20 + Math.floor(next() * 60)).toFixed(2),
        });
    const [{ id: campaignId }] = await queryRows<{ id: number }>(
      deps.db,
      sql`insert into campaigns (name, kind, channel, arms, holdout_share, consent_list, time_zone, status, created_by, created_at)
        values (${`Newsletter ${k}`}, 'newsletter', 'email', '[]'::jsonb, 0, 'marketing', 'UTC', 'done', 'test', ${new Date(start).toISOString()}::timestamptz)
        returning id`,
    );
    const reached = ids.filter((id) => !inUniversalControl(id, share) && next() < 0.5);
    const sentAt = new Date(Math.min(start + 2 * day, now - 60_000)).toISOString();
    await deps.db.execute(sql`
      insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at)
      select ${campaignId}, u.id, 'A', 'sent', ${sentAt}::timestamptz, ${sentAt}::timestamptz
      from unnest(${array(reached)}::bigint[]) as u(id)`);
  }
  await deps.db.execute(sql`
    insert into orders (customer_id, external_id, ordered_at, total, source)
    select u.customer_id, 'WO' || u.k, u.at, u.total, 'test'
    from unnest(${array(orders.map((o) => o.customerId))}::bigint[], ${array(orders.map((_, k) => k))}::int[],
      ${array(orders.map((o) => o.at))}::timestamptz[], ${array(orders.map((o) => o.total))}::numeric[]) as u(customer_id, k, at, total)`);
  await deps.db.transaction((tx) => refreshLifecycle(tx, ids, { timeZone: 'UTC' }));
  controlMember = ids.find((id) => inUniversalControl(id, share))!;
  const marketer = await createUser(deps, 'marketer@example.com', 'marketer');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(page, `${server.url}/campaigns`, marketer);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer sees on Campaigns whether marketing is working overall', async () => {
  const section = page.locator('section.programme');
  await section.getByRole('heading', { name: 'Is marketing working overall?' }).waitFor();
  const headline = section.locator('.programme-headline');
  await headline.locator('b').waitFor();
  assert.match(
    await headline.innerText(),
    /^Customers we market to bought \d+\.\d % more often than the 10 % we never market to \[\+\d+\.\d, \+\d+\.\d\]\./,
  );
  // The chart of both groups' buying by month, the lift with its interval, the messages sent.
  const chart = section.locator('figure.chart', { hasText: 'Share who bought each month' });
  await chart.waitFor();
  const series = await chart.locator('table.chart-data tbody tr td:first-child').allInnerTexts();
  assert.deepEqual([...new Set(series)], ['customers we market to', 'control group (never marketed to)']);
  const lift = section.locator('figure.chart', { hasText: 'Lift each month' });
  assert.equal(await lift.locator('table.chart-data tbody tr').count(), 12, 'twelve months, each with an interval');
  const volume = section.locator('figure.chart', { hasText: 'Marketing messages sent each month' });
  const months = volume.locator('table.chart-data tbody tr');
  assert.equal(await months.count(), 12);
  assert.match(await months.first().innerText(), /^\w{3} \d{2}\t1,\d{3}/);
  const rows = await section.locator('table.programme-measures tbody tr').allInnerTexts();
  assert.deepEqual(
    rows.map((r) => r.split('\t')[0]),
    ['Bought', 'Revenue per customer', 'Bought again (of those who had bought before)'],
  );
  assert.match(
    rows[0],
    /^Bought\t\d+\.\d % of 2,\d{3}\t\d+\.\d % of \d{3}\t\+\d+\.\d pts \(\+\d+\.\d to \+\d+\.\d\)\t\+\d+\.\d %\tunlikely \(p /,
  );
  assert.match(
    rows[1],
    /^Revenue per customer\t\d+\.\d{2}\t\d+\.\d{2}\t\+\d+\.\d{2} \([+−]\d+\.\d{2} to \+\d+\.\d{2}\)/,
  );
  assert.match(
    rows[2],
    /^Bought again \(of those who had bought before\)\t\d+\.\d % of 1,\d{3}\t\d+\.\d % of \d{3}\t[+−]\d+\.\d pts/,
  );
  const health = await section.locator('.programme-health').innerText();
  assert.match(
    health,
    /^Control group: \d{3} of 3,000 customers \(10 %\)\. Untouched by every programme since \d{4}-\d{2}\./,
  );
  await section.locator('details.what summary').click();
  assert.match(await section.locator('details.what').innerText(), /KEPT_UNIVERSAL_CONTROL setting sets its share/);
  await section.screenshot({ path: screenshotPath('programme-lift') });
});

test('a campaign recorded from elsewhere that mailed a control member shows as contamination', async () => {
  const [{ id }] = await queryRows<{ id: number }>(
    deps.db,
    sql`insert into campaigns (name, kind, channel, arms, holdout_share, consent_list, time_zone, status, created_by, created_at, external)
      values ('Mailing house winter', 'offer', 'direct_mail', '[]'::jsonb, 0, 'marketing', 'UTC', 'done', 'test', now(), 'imported')
      returning id`,
  );
  await deps.db.execute(sql`insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at)
    values (${id}, ${controlMember}, 'A', 'external', now() - interval '1 day', now() - interval '1 day')`);
  await page.reload();
  const section = page.locator('section.programme');
  const health = section.locator('.programme-health.warnings');
  await health.waitFor();
  assert.match(
    await health.innerText(),
    /Contaminated: 1 of its members got marketing since \d{4}-\d{2} \(campaign "Mailing house winter": 1\)/,
  );
  assert.equal(await health.getAttribute('role'), 'alert');
  assert.deepEqual(await section.locator('.programme-contamination li').allInnerTexts(), [
    'campaign "Mailing house winter": 1 of the control group reached',
  ]);
  await section.screenshot({ path: screenshotPath('programme-lift-contaminated') });
});
