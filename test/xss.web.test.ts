// P22: stored content cannot execute. A corpus of script injections goes into every free-text field
// a person or an integration can fill (by event, by import, through the API, at sign-in), then a
// real Chromium opens every page that shows them, the mail preview and the public pages. On each
// page the payload must be on screen as text, no element it would have made may exist (in any
// frame), no dialog may open and the content security policy must not have had to block anything:
// escaping, not the policy, is what stops it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApiKey, createUser } from '../src/auth/auth.service.ts';
import { mailLinks } from '../src/campaigns/send.service.ts';
import type { Deps } from '../src/deps.ts';
import { ingestEvents } from '../src/ingest/ingest.service.ts';
import { settleJobs } from '../src/jobs/job.service.ts';
import { inviteToSurvey } from '../src/surveys/survey.service.ts';
import { launchBrowser, screenshotPath, serveApp, signIn, stopAll } from './browser.ts';
import { createTestDeps } from './database.ts';

/** Each would make an element carrying data-xss, or run alert(), if it reached the page as markup. */
const corpus = [
  '<img src=x onerror=alert(1) data-xss>',
  '<script data-xss>alert(1)</script>',
  '"><svg data-xss onload=alert(1)>',
  '\'><a data-xss href="javascript:alert(1)">go</a>',
  '</textarea></title><iframe data-xss srcdoc="<script>alert(1)</script>"></iframe>',
  '<math><mtext><table><mglyph><style><img data-xss src=x onerror=alert(1)>',
  '{{ 7 | plus: 7 }}{% raw %}<b data-xss>raw</b>',
];
const short = corpus[0];
const all = corpus.join(' ');

let deps: Deps;
let server: Awaited<ReturnType<typeof serveApp>>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let work: string;
let customerId: number;
let publicPages: Record<string, string>;
let detail: Record<'campaign' | 'journey' | 'ticket', string>;
const api = async (method: string, url: string, body?: unknown, key?: string) => {
  const response = await fetch(`${server.url}/api/v1${url}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined
        ? {}
        : typeof body === 'string'
          ? { 'content-type': 'text/csv' }
          : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const json = await response.json();
  assert.ok(response.ok, `${method} ${url}: ${JSON.stringify(json)}`);
  return json;
};

before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-xss-'));
  deps = await createTestDeps({ dataDir: work });
  server = await serveApp(deps);
  const { key } = await createApiKey(deps, short, 'admin');
  const who = { externalId: 'X-1', email: 'xss@example.com' };
  const at = (day: number) => `2026-0${1 + Math.floor(day / 28)}-${String(1 + (day % 28)).padStart(2, '0')}T10:00:00Z`;
  const stored = await ingestEvents(
    deps,
    [
      {
        id: 'u',
        type: 'customer.upsert',
        customer: who,
        name: `Eve ${short}`,
        acquisitionChannel: 'web',
        attributes: { motto: all },
        address: { kind: 'postal', line1: all.slice(0, 200), city: short, country: 'GB' },
      },
      {
        id: 'o1',
        type: 'order',
        customer: who,
        orderId: 'O-1',
        at: at(1),
        lines: [{ product: short, category: short, amount: '10.00' }],
      },
      {
        id: 'o2',
        type: 'order',
        customer: who,
        orderId: 'O-2',
        at: at(30),
        lines: [{ product: 'Mug', amount: '5.00' }],
      },
      {
        id: 'r',
        type: 'return',
        customer: who,
        returnId: 'R-1',
        orderId: 'O-1',
        at: at(3),
        quantity: '1',
        amount: '10.00',
        reasonCode: 'damaged',
        reason: all,
      },
      { id: 'n', type: 'note', customer: who, at: at(4), body: all, author: short, feeling: -1 },
      {
        id: 't',
        type: 'ticket.opened',
        customer: who,
        ticketId: 'T-1',
        at: at(5),
        subject: short,
        category: 'delivery',
      },
      { id: 'tu', type: 'ticket.updated', customer: who, ticketId: 'T-1', at: at(6), status: 'open', note: all },
      { id: 'i', type: 'incident', customer: who, at: at(7), kind: 'damaged', detail: { what: all } },
      {
        id: 's',
        type: 'survey.response',
        customer: who,
        at: at(8),
        survey: 'nps',
        question: short,
        score: 2,
        answer: all,
      },
      {
        id: 'p',
        type: 'touchpoint',
        customer: who,
        at: at(9),
        channel: 'phone',
        direction: 'in',
        kind: 'call',
        campaign: short,
        detail: { said: all },
      },
      { id: 'f', type: 'status.change', customer: who, at: at(10), flag: 'moved', active: true, note: all },
      { id: 'k', type: 'consent', customer: who, list: short, at: at(0), granted: true, wording: all },
      { id: 'k2', type: 'consent', customer: who, at: at(0), granted: true, wording: all },
    ],
    { source: short },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  customerId = stored.results[0].customerId!;

  // Imported fields: a name and an unmapped column become the profile and a custom attribute; the file name shows on the Imports and Audit pages.
  await api(
    'POST',
    `/imports?kind=customers&fileName=${encodeURIComponent(`${short}.csv`)}`,
    `email,name,remark\nimported@example.com,"Ivo ${short.replace(/"/g, '""')}","${all.replace(/"/g, '""')}"\n`,
    key,
  );
  await settleJobs();

  const segment = await api(
    'POST',
    '/segments',
    { name: short, description: all, rule: { match: 'all', conditions: [] } },
    key,
  );
  const template = await api(
    'POST',
    '/templates',
    {
      name: short,
      subject: `Hi {{ customer.name }} ${short}`,
      body: `<p>Dear {{ customer.name }}, {{ customer.attributes.motto }}</p>`,
    },
    key,
  );
  const campaign = await api(
    'POST',
    '/campaigns',
    {
      name: short,
      kind: 'offer',
      segmentId: segment.id,
      holdoutShare: 0.1,
      consentList: short,
      arms: [{ name: 'A', templateId: template.id }],
    },
    key,
  );
  const journey = await api(
    'POST',
    '/journeys',
    {
      name: short,
      trigger: { type: 'order' },
      holdoutShare: 0,
      entry: { match: 'all', conditions: [] },
      steps: [{ type: 'email', templateId: template.id }],
    },
    key,
  );
  await api(
    'POST',
    '/surveys',
    {
      key: 'xss',
      title: short,
      intro: all.slice(0, 1000),
      questions: [
        { id: 'q', kind: 'text', text: all.slice(0, 300) },
        { id: 'n', kind: 'nps', text: short },
      ],
    },
    key,
  );
  await api(
    'POST',
    `/customers/${customerId}/contacts`,
    { channel: 'phone', direction: 'out', summary: all, feeling: 1 },
    key,
  );
  // A sign-in attempt with markup for an email lands on the Audit page.
  await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: short, password: 'x' }),
  });

  const [{ url: survey }] = await inviteToSurvey(deps, 'xss', [{ customerId, channel: 'email' }]);
  const links = await mailLinks(deps, 1, customerId);
  const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, server.url);
  publicPages = { survey: local(survey), preferences: local(links.preferences), unsubscribe: local(links.unsubscribe) };
  const [{ ticketId }] = (await api('GET', '/tickets', undefined, key)).tickets;
  detail = {
    campaign: `/campaigns/${campaign.id}`,
    journey: `/journeys/${journey.id}`,
    ticket: `/tickets/${customerId}/${ticketId}`,
  };

  browser = await launchBrowser();
  const admin = await createUser(deps, 'admin@example.com', 'admin');
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  // Playwright's own script (not subject to the page's policy) notes dialogs and policy violations.
  await context.addInitScript(() => {
    const seen: string[] = ((window as unknown as { __blocked: string[] }).__blocked = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page = await context.newPage();
  await signIn(page, `${server.url}/customers`, admin);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
});
after(() => stopAll({ browser, server, deps, work }));

const dialogs: string[] = [];
/** Opens a page and checks it: the payload is on screen as text (at least `shown` times), and nothing of it ran. */
async function check(on: Page, url: string, ready: string | RegExp, shown = 1) {
  on.on('dialog', (d) => {
    dialogs.push(`${url}: ${d.message()}`);
    void d.dismiss();
  });
  await on.goto(url.startsWith('http') ? url : `${server.url}${url}`);
  await on.getByText(ready).first().waitFor();
  if (shown > 0) await on.waitForFunction((payload) => document.body.innerText.includes(payload), short);
  // Time for anything that would run late (an image error, a frame loading).
  await on.waitForTimeout(300);
  const text = await on.evaluate(() => document.body.innerText);
  const times = text.split(short).length - 1;
  assert.ok(times >= shown, `${url}: the payload is shown as text ${times} times, expected at least ${shown}`);
  for (const frame of on.frames()) {
    assert.equal(
      await frame.evaluate(() => document.querySelectorAll('[data-xss]').length),
      0,
      `${url}: markup from the payload in frame ${frame.url()}`,
    );
  }
  assert.deepEqual(
    await on.evaluate(() => (window as unknown as { __blocked?: string[] }).__blocked ?? []),
    [],
    `${url}: the policy had to block something`,
  );
  assert.deepEqual(dialogs, []);
  return text;
}

test('the staff pages show every stored free text as text: record, timeline, lists, tickets, segments, campaigns, journeys, surveys, imports, audit, team', async () => {
  const record = await check(page, `/customers/${customerId}`, 'Timeline', 6);
  assert.ok(record.includes('{{ 7 | plus: 7 }}'), 'template syntax in data is not evaluated');
  await page.screenshot({ path: screenshotPath('xss-customer'), fullPage: false });
  await check(page, `/customers?q=${encodeURIComponent('Eve')}`, 'Eve', 1);
  await check(page, '/customers?q=Ivo', 'Ivo', 1);
  await check(page, '/tickets', 'Tickets', 1);
  await check(page, detail.ticket, 'Tickets', 2);
  await check(page, '/segments', /Segments/, 1);
  await check(page, '/campaigns', /Campaigns/, 1);
  await check(page, detail.campaign, 'Campaigns', 1);
  await check(page, '/journeys', /Journeys/, 1);
  await check(page, detail.journey, 'Journeys', 1);
  await check(page, '/surveys', /Surveys/, 1);
  await check(page, '/imports', /Imports/, 1);
  await check(page, '/audit', 'Audit log', 1);
  await check(page, '/team', 'Team and keys', 1);
});

test('the mail preview renders customer data escaped inside a sandboxed frame, and a subject cannot carry a header', async () => {
  await check(page, '/campaigns', /Campaigns/, 1);
  const preview = await page.request.post(`${server.url}/api/v1/templates/preview`, {
    headers: { origin: server.url },
    data: {
      subject: 'Hi {{ customer.name }}\r\nBcc: evil@example.com',
      body: '<p>{{ customer.name }}</p>',
      customerId,
    },
  });
  const rendered = await preview.json();
  assert.ok(!/[\r\n]/.test(rendered.subject), rendered.subject);
  assert.ok(rendered.html.includes('&lt;img src=x onerror=alert(1) data-xss&gt;'), rendered.html);
});

test('the public pages (survey, preferences, unsubscribe) show what was stored as text and run nothing', async () => {
  const visitor = await browser.newContext({ viewport: { width: 800, height: 1000 } });
  await visitor.addInitScript(() => {
    const seen: string[] = ((window as unknown as { __blocked: string[] }).__blocked = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const own = await visitor.newPage();
  await check(own, publicPages.survey, /Send|Submit/, 2);
  await own.screenshot({ path: screenshotPath('xss-survey'), fullPage: true });
  await check(own, publicPages.preferences, 'Which emails do you want?', 1);
  await check(own, publicPages.unsubscribe, 'Unsubscribe', 0);
  await visitor.close();
});
