// The page audit: every page each role's navigation offers, plus one of each detail page, at phone,
// tablet and desk widths, on the demo store after an analysis. It fails on console errors, failed
// requests, text overflowing its box and charts without labelled axes, and saves a screenshot of
// each page under test-results/audit/ so a person can look at them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { analyze } from '../src/analytics/analyze.service.ts';
import { createUser } from '../src/auth/auth.service.ts';
import type { Role } from '../src/auth/auth.ts';
import { demoDefaults } from '../src/demo/demo.ts';
import { loadDemo } from '../src/demo/generate.ts';
import { journeyFromRecipe } from '../src/journeys/journey.service.ts';
import { recipes } from '../src/journeys/journey.ts';
import type { Deps } from '../src/deps.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

const roles: Role[] = ['admin', 'marketer', 'agent', 'analyst'];
const widths = [375, 768, 1366];
// One of each detail page, found from the links on the list pages the navigation opens.
const details: [name: string, pattern: RegExp][] = [
  ['customer', /^\/customers\/\d+$/],
  ['ticket', /^\/tickets\/\d+\/\d+$/],
  ['campaign', /^\/campaigns\/\d+$/],
  ['journey', /^\/journeys\/\d+$/],
  ['quality-problem', /^\/quality\/[a-z_]+$/],
];

let deps: Deps;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveApp>>;
let work: string;
const logins = new Map<Role, { email: string; password: string }>();

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-page-audit-'));
  deps = await createTestDeps({ dataDir: work });
  await loadDemo(deps, { ...demoDefaults, end: new Date('2026-11-30T23:59:59Z') });
  // The six journeys npm start creates with the demo (src/demo/demo.service.ts), as drafts.
  const demo = { kind: 'key', id: 0, name: 'demo', role: 'admin' } as const;
  for (const recipe of recipes) await journeyFromRecipe(deps, demo, recipe.key);
  await analyze(deps, { asOf: '2026-11-30' });
  for (const role of roles) {
    const user = await createUser(deps, `${role}@example.com`, role);
    logins.set(role, { email: user.email, password: user.password });
  }
  server = await serveApp(deps);
  browser = await launchBrowser();
  fs.mkdirSync(screenshotPath('audit/x').replace(/\/x\.png$/, ''), { recursive: true });
});
after(() => stopAll({ browser, server, deps, work }));

/** What is wrong on the page as shown: horizontal scroll, overflowing text, charts without axis labels. */
function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth)
      found.push(`the page scrolls sideways (${root.scrollWidth} px wide in ${window.innerWidth})`);
    for (const element of Array.from(document.querySelectorAll('body *'))) {
      if (!(element instanceof HTMLElement) || element.closest('figure.chart svg')) continue;
      const style = getComputedStyle(element);
      if (style.display === 'none' || style.display === 'inline' || style.overflowX !== 'visible') continue;
      const ownText = Array.from(element.childNodes).some((n) => n.nodeType === 3 && n.textContent!.trim() !== '');
      if (!ownText || element.scrollWidth <= element.clientWidth + 1 || element.clientWidth === 0) continue;
      // Inside a container that scrolls sideways on purpose (a .table-wrap), wide text is fine.
      let scrolls = false;
      for (let at = element.parentElement; at && !scrolls; at = at.parentElement)
        scrolls = ['auto', 'scroll'].includes(getComputedStyle(at).overflowX);
      if (scrolls) continue;
      const text = element.textContent!.trim().replace(/\s+/g, ' ').slice(0, 40);
      found.push(
        `text overflows its box: <${element.tagName.toLowerCase()}> "${text}" (${element.scrollWidth} > ${element.clientWidth})`,
      );
    }
    for (const chart of Array.from(document.querySelectorAll('figure.chart'))) {
      if (chart.getAttribute('data-axes') === 'none') continue;
      const x = chart.getAttribute('data-x-axis')?.trim();
      const y = chart.getAttribute('data-y-axis')?.trim();
      if (!x || !y) {
        const title = (chart.querySelector('figcaption')?.textContent ?? chart.textContent ?? '').trim().slice(0, 40);
        found.push(`chart "${title}" has no ${!x ? 'x' : 'y'}-axis label (data-x-axis / data-y-axis)`);
      }
    }
    return found;
  });
}

/** Audits one role at one width, in its own browser page; answers the failures and the detail links it saw. */
async function auditRole(role: Role, width: number, failures: string[]) {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  let where = 'sign-in';
  const fail = (what: string) => failures.push(`${where} · ${role} · ${width} px: ${what}`);
  page.on('console', (message) => {
    if (message.type() === 'error') fail(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => fail(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // A navigation away cancels what the last page still had in flight; that is not a failure.
    if (request.failure()?.errorText !== 'net::ERR_ABORTED')
      fail(`request failed: ${request.method()} ${request.url()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400)
      fail(`${response.status()} on ${response.request().method()} ${new URL(response.url()).pathname}`);
  });
  await signIn(page, server.url, logins.get(role)!);
  await page.locator('header.top nav').waitFor({ state: 'attached' });
  await page.waitForLoadState('networkidle');
  const navLinks = await page.$$eval('header.top nav a', (links) => links.map((a) => a.getAttribute('href')!));
  assert.ok(navLinks.length > 0, `${role} has no navigation`);
  const visit = async (to: string, name: string) => {
    where = to;
    await page.evaluate((url) => {
      window.history.pushState(null, '', url);
      window.dispatchEvent(new PopStateEvent('popstate'));
    }, to);
    await page.waitForLoadState('networkidle');
    await page
      .waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…'), null, {
        timeout: 10_000,
      })
      .catch(() => fail('still loading after 10 s'));
    for (const problem of await layoutProblems(page)) fail(problem);
    await page.screenshot({ path: screenshotPath(`audit/${role}-${width}-${name}`), fullPage: true });
  };
  const found = new Map<string, string>();
  for (const to of navLinks) {
    await visit(to, to.slice(1).replace(/\//g, '-'));
    const hrefs = await page.$$eval('main a[href^="/"]', (links) => links.map((a) => a.getAttribute('href')!));
    for (const [name, pattern] of details)
      if (!found.has(name)) {
        const href = hrefs.find((h) => pattern.test(h));
        if (href) found.set(name, href);
      }
  }
  for (const [name, href] of found) await visit(href, name);
  await context.close();
  return [...found.keys()];
}

test('every page, as each role, at 375, 768 and 1366 px: no errors, no failed requests, no overflow, labelled axes', async () => {
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const role of roles) {
    const visited = await Promise.all(
      widths.map((width) =>
        auditRole(role, width, failures).catch((error: Error) => {
          failures.push(`${role} · ${width} px: the audit stopped: ${error.message.split('\n')[0]}`);
          return [];
        }),
      ),
    );
    for (const names of visited) for (const name of names) seen.add(name);
  }
  assert.equal(failures.length, 0, `${failures.length} problems:\n${[...new Set(failures)].join('\n')}`);
  // The admin opens every list page, so each kind of detail page is audited at least once.
  assert.deepEqual([...seen].sort(), details.map(([name]) => name).sort());
});
