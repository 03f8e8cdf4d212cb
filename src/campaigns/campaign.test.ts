import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtp-sink.ts';
import { loadConfig } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { settleJobs } from '../jobs/job.service.ts';
import { random } from '../shared/random.ts';
import { sendCampaign } from './send.service.ts';

let t: TestApp;
let sink: SmtpSink;
const now = new Date('2026-06-01T08:00:00Z');
const email = (i: number) => `c${i}@example.com`;
// Which sends the crash rounds kill comes from this seed; a failing run prints it, KEPT_TEST_SEED=<seed> replays it.
const seed = Number(process.env.KEPT_TEST_SEED ?? 20_261_204);
/** How far a test moved time ahead of the running clock (the crash rounds run on a clock of their own). */
let skew = 0;

before(async () => {
  sink = await startSmtpSink();
  const base = loadConfig({}, { NODE_ENV: 'test' });
  t = await createTestApp('admin', {
    publicUrl: 'https://kept.example.com',
    mail: { ...base.mail, smtpUrl: sink.url, sendRate: 1000, leaseSeconds: 1 },
  });
  // Time runs from a fixed morning, so leases expire as they would.
  const started = Date.now();
  (t.deps.clock as { now: () => Date }).now = () => new Date(now.getTime() + Date.now() - started + skew);
  const events: Record<string, unknown>[] = [];
  for (let i = 1; i <= 60; i++) {
    const customer = { externalId: `C${i}`, email: email(i) };
    events.push({
      id: `u${i}`,
      type: 'customer.upsert',
      customer,
      name: i === 1 ? '<b>Zoë</b> & "Co"' : `Person${i} Lastname`,
      attributes: { tier: i % 5 === 0 ? 'gold' : 'bronze' },
    });
    events.push({
      id: `o${i}`,
      type: 'order',
      customer,
      orderId: `O${i}`,
      at: '2026-03-01T10:00:00Z',
      lines: [{ product: 'Bath towel', category: i % 2 ? 'towels' : 'candles', amount: '20.00' }],
    });
    // 55 opted in; 56 opted in then out; 57-60 never opted in
    if (i <= 56) events.push({ id: `k${i}`, type: 'consent', customer, at: '2026-01-01T00:00:00Z', granted: true });
  }
  events.push({
    id: 'k56b',
    type: 'consent',
    customer: { externalId: 'C56' },
    at: '2026-02-01T00:00:00Z',
    granted: false,
  });
  events.push({
    id: 'f3',
    type: 'status.change',
    customer: { externalId: 'C3' },
    at: '2026-02-01T00:00:00Z',
    flag: 'deceased',
    active: true,
  });
  events.push({
    id: 'f4',
    type: 'status.change',
    customer: { externalId: 'C4' },
    at: '2026-02-01T00:00:00Z',
    flag: 'do_not_contact',
    active: true,
  });
  const stored = await ingestEvents(t.deps, events, { source: 'test' });
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
});
after(async () => {
  await settleJobs();
  await t.close();
  await sink.close();
});

const ok = expectJson;
const everyone = async (name: string) =>
  ok(t.call('POST', '/api/v1/segments', { name, rule: { match: 'all', conditions: [] } }), 201);
const template = (name: string, subject = 'Hello {{ customer.first_name }}') =>
  ok(
    t.call('POST', '/api/v1/templates', {
      name,
      subject,
      body: `<p>Hi {{ customer.first_name }},</p>{% if customer.stage == "trial" %}<p>Welcome, first-timer.</p>{% else %}<p>Good to see you again.</p>{% endif %}
<p>You like {{ customer.interests | join: ", " }}.</p><p><a href="https://shop.example.com/new?utm=kept&x=1">See what is new</a></p>`,
    }),
    201,
  );
const ledger = async (campaignId: number) =>
  queryRows<{ customer_id: number; external_id: string; arm: string; status: string; reason: string | null }>(
    t.deps.db,
    sql`
  select m.customer_id, c.external_id, m.arm, m.status, m.reason from campaign_members m join customers c on c.id = m.customer_id where m.campaign_id = ${campaignId} order by m.customer_id`,
  );

test('templates escape what they print, personalise by stage and interests, and preview as a chosen customer with a plain-text part', async () => {
  const saved = await template('Welcome');
  const [{ id: zoe }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`select id from customers where external_id = 'C1'`,
  );
  const preview = await ok(
    t.call('POST', '/api/v1/templates/preview', { subject: saved.subject, body: saved.body, customerId: zoe }),
  );
  assert.equal(preview.subject, 'Hello <b>Zoë</b>', 'the subject is a header: no HTML entities');
  assert.match(preview.html, /<p>Hi &lt;b&gt;Zoë&lt;\/b&gt;,<\/p>/);
  assert.match(preview.html, /Welcome, first-timer\./);
  assert.match(preview.html, /You like towels\./);
  assert.match(preview.html, /Unsubscribe<\/a>/, 'a way out is added when the template has none');
  assert.match(preview.text, /Hi <b>Zoë<\/b>,/);
  assert.match(preview.text, /SEE WHAT IS NEW|See what is new \[https:\/\/shop\.example\.com\/new\?utm=kept&x=1\]/);
  const raw = await ok(
    t.call('POST', '/api/v1/templates/preview', { subject: 'x', body: '{{ customer.name | raw }}', customerId: zoe }),
  );
  assert.match(raw.html, /^&lt;b&gt;Zoë&lt;\/b&gt; &amp; &#34;Co&#34;/, 'raw does not bypass escaping');
  const include = await t.call('POST', '/api/v1/templates', {
    name: 'x',
    subject: 'x',
    body: "{% include '/etc/passwd' %}",
  });
  assert.equal(include.status, 201, 'parses');
  const reading = await t.call('POST', '/api/v1/templates/preview', {
    subject: 'x',
    body: "{% include '/etc/passwd' %}",
    customerId: zoe,
  });
  assert.equal(reading.status, 400, 'but cannot read a file');
  const broken = await ok(
    t.call('POST', '/api/v1/templates', { name: 'broken', subject: 'x', body: '{% if customer.stage %}never closed' }),
    400,
  );
  assert.equal(broken.error.details.issues[0].path, 'body');
});

test('a campaign draws its holdout first, sends each treated customer one personalised MIME message with one-click unsubscribe, and suppresses at send time', async () => {
  const segment = await everyone('Everyone');
  const a = await template('Arm A', 'A: hello {{ customer.first_name }}');
  const b = await template('Arm B', 'B: hello {{ customer.first_name }}');
  const created = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Spring news',
      kind: 'newsletter',
      segmentId: segment.id,
      holdoutShare: 0.2,
      arms: [
        { name: 'A', templateId: a.id },
        { name: 'B', templateId: b.id },
      ],
    }),
    201,
  );
  assert.equal(created.status, 'draft');
  // C5 bounced hard before the campaign: the address is suppressed.
  await ok(t.call('POST', '/api/v1/mail/feedback', { events: [{ kind: 'hard_bounce', email: email(5) }] }));
  const started = await ok(t.call('POST', `/api/v1/campaigns/${created.id}/start`));
  assert.deepEqual([started.status, started.members], ['sending', 60]);
  await settleJobs();
  const rows = await ledger(created.id);
  const byArm = (arm: string) => rows.filter((r) => r.arm === arm).length;
  assert.deepEqual(
    [byArm('control'), byArm('A'), byArm('B')],
    [12, 24, 24],
    'exact shares: 20 % of 60 held out, the rest split evenly',
  );
  const treated = rows.filter((r) => r.arm !== 'control');
  const expectedReason: Record<string, string> = {
    C3: 'flag deceased',
    C4: 'flag do not contact',
    C5: 'address suppressed after a hard bounce',
    C56: 'unsubscribed',
    C57: 'no consent on record',
    C58: 'no consent on record',
    C59: 'no consent on record',
    C60: 'no consent on record',
  };
  for (const r of treated) {
    if (expectedReason[r.external_id])
      assert.deepEqual([r.status, r.reason], ['suppressed', expectedReason[r.external_id]], r.external_id);
    else assert.equal(r.status, 'sent', r.external_id);
  }
  for (const r of rows.filter((r) => r.arm === 'control')) assert.equal(r.status, 'holdout');
  const sent = treated.filter((r) => r.status === 'sent');
  const received = sink.messages.filter((m) => sent.some((r) => email(Number(r.external_id.slice(1))) === m.to));
  assert.equal(received.length, sent.length, 'one message per sent row');
  assert.equal(new Set(sink.messages.map((m) => m.to)).size, sink.messages.length, 'nobody got two');
  assert.ok(
    !sink.messages.some((m) => rows.some((r) => r.status !== 'sent' && email(Number(r.external_id.slice(1))) === m.to)),
    'no mail to the held out or suppressed',
  );

  const someone = sent.find((r) => r.external_id !== 'C1')!;
  const number = Number(someone.external_id.slice(1));
  const mail = await sink.messages.find((m) => m.to === email(number))!.parse();
  assert.equal(mail.subject, `${someone.arm}: hello Person${number}`);
  const header = (name: string) => mail.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');
  const unsubscribe = header('list-unsubscribe')!;
  assert.match(unsubscribe, /^<https:\/\/kept\.example\.com\/u\/\d+\.\d+\.[\w-]+>$/);
  assert.equal(header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
  assert.match(mail.text!, new RegExp(`Hi Person${number},`));
  assert.match(
    mail.html as string,
    /href="https:\/\/kept\.example\.com\/t\/c\/[\w.-]+"/,
    'links go through the click redirect',
  );
  assert.ok(!(mail.html as string).includes('shop.example.com'), 'no untracked copy of the link');

  // The timeline shows the send; GET on the unsubscribe link only asks; the one-click POST unsubscribes without a cookie or redirect.
  const [{ n: touches }] = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select count(*)::int as n from touchpoints where kind = 'email_sent' and campaign = 'Spring news'`,
  );
  assert.equal(touches, sent.length);
  const path = new URL(unsubscribe.slice(1, -1)).pathname;
  const asked = await t.app.request(path);
  assert.equal(asked.status, 200);
  assert.match(await asked.text(), /<form method="post">/);
  const consent = async () =>
    (
      await queryRows<{ granted: boolean; source: string }>(
        t.deps.db,
        sql`
    select granted, source from consent_ledger where customer_id = ${someone.customer_id} order by at desc, id desc limit 1`,
      )
    )[0];
  assert.deepEqual(await consent(), { granted: true, source: 'test' });
  const posted = await t.app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'List-Unsubscribe=One-Click',
  });
  assert.equal(posted.status, 200);
  assert.deepEqual(await consent(), { granted: false, source: 'unsubscribe' });
  assert.equal(
    (await t.app.request(`${path.slice(0, -3)}xyz`, { method: 'POST' })).status,
    404,
    'a forged token does nothing',
  );

  // Opens and clicks land on the timeline; the click goes where the mail pointed.
  const pixel = (mail.html as string).match(/src="https:\/\/kept\.example\.com(\/t\/o\/[\w.-]+)"/)![1];
  assert.equal((await t.app.request(pixel)).headers.get('content-type'), 'image/gif');
  const click = (mail.html as string).match(/href="https:\/\/kept\.example\.com(\/t\/c\/[\w.-]+)"/)![1];
  const redirect = await t.app.request(click);
  assert.deepEqual(
    [redirect.status, redirect.headers.get('location')],
    [302, 'https://shop.example.com/new?utm=kept&x=1'],
  );
  const kinds = await queryRows<{ kind: string }>(
    t.deps.db,
    sql`select kind from touchpoints where customer_id = ${someone.customer_id} and campaign = 'Spring news' order by kind`,
  );
  assert.deepEqual(
    kinds.map((k) => k.kind),
    ['email_clicked', 'email_opened', 'email_sent'],
  );
  const report = await ok(t.call('GET', `/api/v1/campaigns/${created.id}/report`));
  const arm = report.arms.find((x: { arm: string }) => x.arm === someone.arm);
  assert.deepEqual([arm.opened, arm.clicked], [1, 1]);

  // The preference page (P17): every list, ticked where the ledger says yes; only changes are recorded, with the words shown; one press stops all.
  const preferences = (mail.html as string).match(/href="https:\/\/kept\.example\.com(\/p\/[\w.-]+)"/)![1];
  await ingestEvents(
    t.deps,
    [
      {
        id: 'recipes-yes',
        type: 'consent',
        customer: { externalId: someone.external_id },
        list: 'recipes',
        at: '2026-01-01T00:00:00Z',
        granted: true,
        wording: 'Yes to recipes',
      },
    ],
    { source: 'test' },
  );
  const ticked = async () =>
    [
      ...(await (await t.app.request(preferences)).text()).matchAll(
        /<input type="checkbox" name="list" value="([^"]+)"( checked)?>/g,
      ),
    ].map((m) => `${m[1]}${m[2] ? ' yes' : ''}`);
  assert.deepEqual(await ticked(), ['marketing', 'recipes yes']);
  const choose = (body: string) =>
    t.app.request(preferences, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  const saved = await choose('list=marketing&list=recipes&do=save');
  assert.deepEqual([saved.status, saved.headers.get('location')], [303, `${preferences}?saved`]);
  assert.match(await (await t.app.request(`${preferences}?saved`)).text(), /Saved\./);
  assert.deepEqual(await ticked(), ['marketing yes', 'recipes yes']);
  const entries = async () =>
    queryRows<{ list: string; granted: boolean; wording: string }>(
      t.deps.db,
      sql`
    select list, granted, wording from consent_ledger where customer_id = ${someone.customer_id} and source = 'preference page' order by id`,
    );
  assert.deepEqual(await entries(), [
    { list: 'marketing', granted: true, wording: 'Ticked "Emails about news and offers" on their preference page' },
  ]);
  await choose('do=none');
  assert.deepEqual(await ticked(), ['marketing', 'recipes']);
  assert.deepEqual(
    (await entries()).slice(1).map((e) => [e.list, e.granted, e.wording]),
    [
      ['marketing', false, 'Pressed "Stop all emails" on their preference page'],
      ['recipes', false, 'Pressed "Stop all emails" on their preference page'],
    ],
  );
  assert.equal((await t.app.request(`${preferences.slice(0, -3)}xyz`)).status, 404, 'a forged token shows nothing');
  const page = await (await t.app.request(preferences)).text();
  assert.ok(
    !page.includes(email(number)) && !page.includes(`Person${number}`),
    'the page shows the choices, nothing about the person',
  );
});

test('at most one copy per recipient when workers crash between SMTP and the ledger, two at a time', async (context) => {
  context.diagnostic(`KEPT_TEST_SEED=${seed}`);
  const segment = await ok(
    t.call('POST', '/api/v1/segments', {
      name: 'Opted in',
      rule: { match: 'all', conditions: [{ field: 'consent', op: 'granted' }] },
    }),
    201,
  );
  const arm = await template('Crash test');
  const created = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Crashy',
      kind: 'offer',
      segmentId: segment.id,
      holdoutShare: 0,
      arms: [{ name: 'A', templateId: arm.id }],
    }),
    201,
  );
  // Start without the background job: the workers below do the sending.
  await t.deps.db.execute(sql`update campaigns set status = 'sending', started_at = now() where id = ${created.id}`);
  const { assignMembers } = await import('./campaign.repository.ts');
  await assignMembers(
    t.deps.db,
    { id: created.id, arms: [{ name: 'A', templateId: arm.id, share: 1 }], holdoutShare: 0 },
    sql`select id from customers`,
    now,
    'queued',
  );
  // A claim takes exactly the batch asked for, whatever the plan.
  const { claimBatch } = await import('./campaign.repository.ts');
  const claimed = await t.deps.db.transaction((tx) => claimBatch(tx, created.id, 'probe', 4, now));
  const [{ sending }] = await queryRows<{ sending: number }>(
    t.deps.db,
    sql`select count(*)::int as sending from campaign_members where campaign_id = ${created.id} and status = 'sending'`,
  );
  assert.deepEqual([claimed.length, sending], [4, 4]);
  await t.deps.db.execute(
    sql`update campaign_members set status = 'queued', claimed_by = null, claimed_at = null where campaign_id = ${created.id}`,
  );
  const before = sink.messages.length;
  // A worker is killed right after SMTP accepted the message of about one customer in seven, drawn
  // from the seed per customer (so the same customers whichever worker sends them).
  const rng = random(seed);
  const killedAfter = new Set(
    (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers order by id`))
      .filter(() => rng() < 0.15)
      .map((c) => c.id),
  );
  // Time stands still but for the lease running out: claims left by a killed worker expire after the
  // lease (1 s here) and become unknown, when the other worker looks again or the next round starts.
  let clockAt = t.deps.clock.now().getTime();
  const crashy = { ...t.deps, clock: { now: () => new Date(clockAt) } };
  const leaseRunsOut = () => {
    clockAt += 1100;
  };
  let crashes = 0;
  let rounds = 0;
  for (;;) {
    const [{ left }] = await queryRows<{ left: number }>(
      t.deps.db,
      sql`select count(*)::int as left from campaign_members where campaign_id = ${created.id} and status in ('queued', 'sending')`,
    );
    if (left === 0 || rounds++ > 60) break;
    const worker = (name: string) =>
      sendCampaign(crashy, created.id, {
        worker: name,
        batchSize: 3,
        afterAccept: (customerId) => {
          if (killedAfter.has(customerId)) {
            crashes++;
            throw new Error('killed');
          }
        },
      }).catch((error: Error) => {
        if (error.message !== 'killed') throw error;
        leaseRunsOut();
      });
    await Promise.all([worker(`w${rounds}a`), worker(`w${rounds}b`)]);
    leaseRunsOut();
  }
  // The tests after this one see time go on from where these rounds left it.
  skew += Math.max(0, clockAt - t.deps.clock.now().getTime());
  context.diagnostic(`${crashes} workers killed in ${rounds} rounds`);
  assert.ok(crashes > 0, 'the workers were killed at least once');
  const rows = await ledger(created.id);
  const got = new Map<string, number>();
  for (const m of sink.messages.slice(before)) got.set(m.to, (got.get(m.to) ?? 0) + 1);
  assert.ok(
    [...got.values()].every((n) => n === 1),
    'nobody got two copies',
  );
  for (const r of rows) {
    const copies = got.get(email(Number(r.external_id.slice(1)))) ?? 0;
    if (r.status === 'sent') assert.equal(copies, 1, `${r.external_id} sent once`);
    else if (r.status === 'unknown') assert.ok(copies <= 1);
    else assert.deepEqual([r.status, copies], ['suppressed', 0], r.external_id);
  }
  assert.ok(
    rows.some((r) => r.status === 'unknown'),
    'a crash after SMTP accepted leaves unknown, not a resend',
  );
  assert.equal(rows.filter((r) => r.status === 'queued' || r.status === 'sending').length, 0);
});

test('an unsubscribe in the middle of a send stops mail to that customer; a fourth campaign in a week is capped', async () => {
  const segment = await everyone('Everyone again');
  const arm = await template('Slow');
  const slow = { ...t.deps, config: { ...t.deps.config, mail: { ...t.deps.config.mail, sendRate: 20 } } };
  const created = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Slow news',
      kind: 'newsletter',
      segmentId: segment.id,
      holdoutShare: 0,
      arms: [{ name: 'A', templateId: arm.id }],
    }),
    201,
  );
  await t.deps.db.execute(sql`update campaigns set status = 'sending', started_at = now() where id = ${created.id}`);
  const { assignMembers } = await import('./campaign.repository.ts');
  await assignMembers(
    t.deps.db,
    { id: created.id, arms: [{ name: 'A', templateId: arm.id, share: 1 }], holdoutShare: 0 },
    sql`select id from customers`,
    now,
    'queued',
  );
  const [{ id: late }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`select id from customers where external_id = 'C55'`,
  );
  const before = sink.messages.length;
  let unsubscribed = false;
  sink.onMessage = () => {
    if (unsubscribed) return;
    unsubscribed = true;
    void ingestEvents(
      t.deps,
      [{ id: 'stop-c55', type: 'consent', customer: { externalId: 'C55' }, at: now.toISOString(), granted: false }],
      { source: 'test' },
    );
  };
  await sendCampaign(slow, created.id, { batchSize: 5 });
  sink.onMessage = undefined;
  assert.ok(!sink.messages.slice(before).some((m) => m.to === email(55)), 'C55 got nothing after unsubscribing');
  const [row] = (await ledger(created.id)).filter((r) => r.customer_id === late);
  assert.deepEqual([row.status, row.reason], ['suppressed', 'unsubscribed']);

  // Whoever has had three marketing mails this week (Spring news, Crashy, Slow news) gets no fourth.
  const fourth = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Fourth',
      kind: 'offer',
      segmentId: segment.id,
      holdoutShare: 0,
      arms: [{ name: 'A', templateId: arm.id }],
    }),
    201,
  );
  const sentBefore = new Map(
    (
      await queryRows<{ customer_id: number; n: number }>(
        t.deps.db,
        sql`
    select customer_id, count(*)::int as n from campaign_members where status = 'sent' group by 1`,
      )
    ).map((r) => [r.customer_id, r.n]),
  );
  await ok(t.call('POST', `/api/v1/campaigns/${fourth.id}/start`));
  await settleJobs();
  let capped = 0;
  for (const r of await ledger(fourth.id)) {
    if ((sentBefore.get(r.customer_id) ?? 0) >= 3) {
      assert.deepEqual(
        [r.status, r.reason],
        ['suppressed', `frequency cap: ${sentBefore.get(r.customer_id)} marketing messages in the last 7 days`],
        r.external_id,
      );
      capped++;
    } else if (r.reason === null) assert.equal(r.status, 'sent', r.external_id);
  }
  assert.ok(capped > 0, `${capped} capped`);
  // The pace on the customer's record says so.
  const [cappedOne] = [...sentBefore.entries()].find(([, n]) => n >= 3)!;
  const pace = await ok(t.call('GET', `/api/v1/customers/${cappedOne}/pace`));
  assert.deepEqual(
    [pace.weeks.length, pace.marketing],
    [12, { sent: sentBefore.get(cappedOne), cap: 3, days: 7, capped: true }],
  );
  assert.equal(pace.weeks.at(-1).byChannel.email, sentBefore.get(cappedOne), 'this week: the campaign mails');
});

test('complaints at 0.3 % refuse a start; a mailing file for direct mail carries the same suppression', async () => {
  const segment = await everyone('All for post');
  const post = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Catalogue',
      kind: 'offer',
      channel: 'direct_mail',
      segmentId: segment.id,
      holdoutShare: 0.1,
      arms: [{ name: 'Catalogue' }],
    }),
    201,
  );
  const started = await ok(t.call('POST', `/api/v1/campaigns/${post.id}/start`));
  assert.equal(started.status, 'done');
  const file = await t.call('GET', `/api/v1/campaigns/${post.id}/list.csv`);
  const lines = (await file.text()).trim().split('\n');
  assert.equal(lines[0], 'customer,name,email,phone,line1,line2,postal_code,city,region,country,arm');
  const listed = lines.slice(1).map((l) => l.split(',')[0]);
  for (const gone of ['C3', 'C4', 'C56', 'C57'])
    assert.ok(!listed.includes(gone), `${gone} is not on the mailing file`);
  assert.equal(listed.length, (await ledger(post.id)).filter((r) => r.status === 'listed').length);

  // Complaints on 1 of the messages sent so far is far above 0.3 %.
  await ok(t.call('POST', '/api/v1/mail/feedback', { events: [{ kind: 'complaint', email: email(8) }] }));
  const arm = await template('Refused');
  const refused = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Refused',
      kind: 'offer',
      segmentId: segment.id,
      arms: [{ name: 'A', templateId: arm.id }],
    }),
    201,
  );
  const answer = await ok(t.call('POST', `/api/v1/campaigns/${refused.id}/start`), 409);
  assert.match(answer.error.message, /Not starting: 1 complaints in \d+ messages over 30 days/);
  const [complainer] = await queryRows<{ granted: boolean; source: string }>(
    t.deps.db,
    sql`
    select k.granted, k.source from consent_ledger k join customers c on c.id = k.customer_id where c.external_id = 'C8' order by k.at desc, k.id desc limit 1`,
  );
  assert.deepEqual(complainer, { granted: false, source: 'complaint' });

  // A campaign already sending pauses at the next batch, saying why; nothing more goes out.
  await t.deps.db.execute(sql`update campaigns set status = 'sending', started_at = now() where id = ${refused.id}`);
  const { assignMembers } = await import('./campaign.repository.ts');
  await assignMembers(
    t.deps.db,
    { id: refused.id, arms: [{ name: 'A', templateId: arm.id, share: 1 }], holdoutShare: 0 },
    sql`select id from customers`,
    now,
    'queued',
  );
  const before = sink.messages.length;
  const outcome = await sendCampaign(t.deps, refused.id);
  assert.match(outcome.paused!, /^complaint rate [\d.]+ % over 30 days \(1 of \d+\) reached 0.1 %$/);
  assert.equal(sink.messages.length, before);
  const paused = await ok(t.call('GET', `/api/v1/campaigns/${refused.id}`));
  assert.deepEqual(
    [paused.campaign.status, paused.campaign.statusReason, paused.counts.queued],
    ['paused', outcome.paused, 60],
  );
  assert.equal(
    (await t.call('POST', `/api/v1/campaigns/${refused.id}/resume`)).status,
    409,
    'no resuming while complaints are this high',
  );
});

test('a preview prints a share as a percent, and templates still compare it as a number', async () => {
  const [{ id: zoe }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`select id from customers where external_id = 'C1'`,
  );
  const [run] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`insert into analysis_runs (as_of, model_version, activity_model, status, current, finished_at)
      values ('2026-06-01', 'test', 'bgnbd', 'done', true, now()) returning id`,
  );
  await t.deps.db.execute(sql`
    insert into scores (customer_id, run_id, as_of, model_version, frequency, recency_days, age_days, p_alive,
      churn_probability, expected_30, expected_90, expected_365, historic_value, recency_score, frequency_score,
      monetary_score, stage, reasons)
    values (${zoe}, ${run.id}, '2026-06-01', 'test', 0, 0, 0, 0.882864222476668, 0.117135777523332, 0, 0, 0, 0, 1, 1, 1, 'trial', '{}')`);
  try {
    const preview = await ok(
      t.call('POST', '/api/v1/templates/preview', {
        subject: 'Still with us: {{ customer.p_alive }}',
        body: '<p>{{ customer.p_alive }}</p>{% if customer.p_alive > 0.5 %}<p>likely</p>{% endif %}<p>{{ customer.p_alive | times: 100 | round }}</p>',
        customerId: zoe,
      }),
    );
    assert.equal(preview.subject, 'Still with us: 88 %');
    assert.match(preview.html, /<p>88 %<\/p><p>likely<\/p><p>88<\/p>/);
    assert.doesNotMatch(preview.html, /0\.88/);
  } finally {
    await t.deps.db.execute(sql`delete from scores where run_id = ${run.id}`);
    await t.deps.db.execute(sql`delete from analysis_runs where id = ${run.id}`);
  }
});
