// Journeys in a real Chromium: a marketer starts the win-back recipe, sets its holdout and
// activates it; a round takes at-risk customers in; the journey page shows what each step did and
// how an earlier journey did against its holdout; an agent finishes a service-recovery task.
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
import { journeyFromRecipe, runJourneys, saveJourney, setJourneyStatus } from '../src/journeys/journey.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let page: Page;
let work: string;
const marketer = { kind: 'key' as const, id: 0, name: 'setup', role: 'marketer' as const };

/** What an analysis writes when customers' activity drops. */
const becomeAtRisk = (ids: string[], at: Date) =>
  deps.db.execute(sql`insert into lifecycle_changes (customer_id, from_stage, to_stage, at, cause)
  select id, 'customer', 'at_risk', ${at.toISOString()}::timestamptz, 'probability still active fell' from customers where external_id = any(${`{${ids.join(',')}}`}::text[])`);

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-journeys-web-'));
  deps = await createTestDeps({ dataDir: work });
  const events: Record<string, unknown>[] = [];
  for (let i = 1; i <= 120; i++) {
    const customer = { externalId: `J${i}`, email: `j${i}@example.com` };
    events.push({ id: `u${i}`, type: 'customer.upsert', customer, name: `Jonas ${i}` });
    events.push({
      id: `o${i}`,
      type: 'order',
      customer,
      orderId: `J${i}-1`,
      at: '2026-05-01T10:00:00Z',
      lines: [{ product: 'Linen sheet', category: 'bedding', amount: '59.00' }],
    });
    events.push({ id: `k${i}`, type: 'consent', customer, at: '2026-05-01T10:00:00Z', granted: true });
  }
  assert.equal((await ingestEvents(deps, events, { source: 'test' })).rejected, 0);
  // An earlier journey, active since 1 October: J61-J120 became at risk then; the treated came back more often.
  const clock = deps.clock as { now: () => Date };
  const realNow = clock.now;
  clock.now = () => new Date('2026-10-01T08:00:00Z');
  const earlier = await journeyFromRecipe(deps, marketer, 'exit_survey');
  await saveJourney(
    deps,
    marketer,
    { ...earlier, name: 'Autumn check-in', trigger: { type: 'stage', stage: 'at_risk' }, holdoutShare: 0.4 },
    earlier.id,
  );
  await setJourneyStatus(deps, earlier.id, 'active');
  await becomeAtRisk(
    Array.from({ length: 60 }, (_, i) => `J${61 + i}`),
    new Date('2026-10-01T08:01:00Z'),
  );
  clock.now = () => new Date('2026-10-01T08:05:00Z');
  await runJourneys(deps);
  await setJourneyStatus(deps, earlier.id, 'paused');
  clock.now = realNow;
  const passes = await queryRows<{ external_id: string; arm: string }>(
    deps.db,
    sql`
    select c.external_id, e.arm from journey_enrolments e join customers c on c.id = e.customer_id where e.journey_id = ${earlier.id} order by c.id`,
  );
  const orders = passes
    .filter((p, i) => (p.arm === 'journey' ? i % 2 === 0 : i % 6 === 0))
    .map((p, i) => ({
      id: `back-${p.external_id}`,
      type: 'order',
      customer: { externalId: p.external_id },
      orderId: `${p.external_id}-2`,
      at: new Date(Date.parse('2026-10-01T08:00:00Z') + (1 + (i % 20)) * 86_400_000).toISOString(),
      lines: [{ product: 'Pillow', category: 'bedding', amount: '35.00' }],
    }));
  assert.equal((await ingestEvents(deps, orders, { source: 'test' })).rejected, 0);
  const user = await createUser(deps, 'marketer@example.com', 'marketer');
  server = await serveApp(deps);
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await signIn(page, server.url, user);
});
after(() => stopAll({ browser, server, deps, work }));

test('a marketer starts the win-back recipe, sets its holdout, activates it, and sees what each step did', async () => {
  await page.getByRole('link', { name: 'Journeys', exact: true }).click();
  await page.locator('.recipes section').filter({ hasText: 'Win-back' }).getByRole('button').click();
  await page.getByRole('heading', { name: /Win-back draft/ }).waitFor();
  await page.getByText('1. Email "We miss you"').waitFor();
  await page.getByLabel('Holdout').fill('25');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('25 % of customers are its holdout').waitFor();
  await page.getByRole('button', { name: 'Activate' }).click();
  await page.getByRole('heading', { name: /Win-back active/ }).waitFor();
  await becomeAtRisk(
    Array.from({ length: 40 }, (_, i) => `J${i + 1}`),
    new Date(),
  );
  await page.getByRole('link', { name: '← Journeys' }).click();
  await page.getByRole('button', { name: 'Run a round now' }).click();
  const status = await page.getByRole('status').innerText();
  const [{ treated, held }] = await queryRows<{ treated: number; held: number }>(
    deps.db,
    sql`
    select count(*) filter (where e.arm = 'journey')::int as treated, count(*) filter (where e.arm = 'control')::int as held
    from journey_enrolments e join journeys j on j.id = e.journey_id where j.name = 'Win-back'`,
  );
  assert.equal(treated + held, 40);
  assert.ok(held > 0 && treated > held, `${treated} treated, ${held} held out`);
  assert.match(status, new RegExp(`^40 entered, 0 skipped, \\d+ steps, ${treated} mails sent$`));
  await page.getByRole('link', { name: 'Win-back' }).click();
  await page.getByText(`${held} held out · ${treated} sent`).waitFor();
  await page
    .getByText(/step 3, due/)
    .first()
    .waitFor();
  await page.screenshot({ path: screenshotPath('journeys-win-back'), fullPage: true });
});

test('an earlier journey against its holdout, as numbers and as a chart', async () => {
  await page.getByRole('link', { name: 'Journeys', exact: true }).click();
  await page.getByRole('link', { name: 'Autumn check-in' }).click();
  await page.getByRole('heading', { name: /Against the holdout/ }).waitFor();
  const [{ treated, held }] = await queryRows<{ treated: number; held: number }>(
    deps.db,
    sql`
    select count(*) filter (where e.arm = 'journey')::int as treated, count(*) filter (where e.arm = 'control')::int as held
    from journey_enrolments e join journeys j on j.id = e.journey_id where j.name = 'Autumn check-in'`,
  );
  const rows = page.locator('table.list').first().locator('tbody tr');
  assert.match(await rows.nth(0).innerText(), new RegExp(`^journey\\s+${treated}\\s`));
  assert.match(await rows.nth(1).innerText(), new RegExp(`^holdout\\s+${held}\\s`));
  await page
    .getByRole('figure', { name: /Cumulative lift/ })
    .or(page.getByText(/Cumulative lift/))
    .first()
    .waitFor();
  await page.screenshot({ path: screenshotPath('journeys-report'), fullPage: true });
});

test('an agent finds the task a service-recovery journey made and marks it done with what was done', async () => {
  const recovery = await journeyFromRecipe(deps, marketer, 'service_recovery');
  await saveJourney(deps, marketer, { ...recovery, holdoutShare: 0 }, recovery.id);
  await setJourneyStatus(deps, recovery.id, 'active');
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(
    (
      await ingestEvents(
        deps,
        [
          {
            id: 'wrong-J5',
            type: 'incident',
            customer: { externalId: 'J5' },
            at: new Date().toISOString(),
            kind: 'wrong_item',
            orderId: 'J5-1',
          },
        ],
        { source: 'test' },
      )
    ).rejected,
    0,
  );
  await runJourneys(deps);
  await page.getByRole('link', { name: 'Worklist' }).click();
  const task = page.locator('.tasks li').filter({ hasText: 'Jonas 5' });
  await task.getByText('Put it right and apologise (apology replacement, order J5-1).').waitFor();
  await task.getByText('Service recovery: wrong item').waitFor();
  await task.getByPlaceholder('What did you do?').fill('Called; sent the right sheet');
  await page.screenshot({ path: screenshotPath('journeys-tasks'), fullPage: true });
  await task.getByRole('button', { name: 'Done' }).click();
  await task.waitFor({ state: 'detached' });
  const [done] = await queryRows<{ outcome: string; done_by: string }>(
    deps.db,
    sql`select outcome, done_by from tasks where status = 'done'`,
  );
  assert.deepEqual(done, { outcome: 'Called; sent the right sheet', done_by: 'marketer@example.com' });
});
