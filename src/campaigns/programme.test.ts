// The programme's rules at a campaign's start: the universal control group is never drawn, other
// programmes' holdouts stay clean (or the contamination is counted when a person overrides), an
// open problem holds marketing back, lists leave a trace and count against the cap, and the start
// preview says all of it before anything happens.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { loadConfig } from '../config.ts';
import { array, queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { settleJobs } from '../jobs/job.service.ts';
import { nextOccurrence } from './campaign.service.ts';
import { inUniversalControl } from './programme.ts';
import { sendCampaign } from './send.service.ts';

let t: TestApp;
let clock = new Date('2026-06-01T08:00:00Z');
const days = (n: number) => {
  clock = new Date(clock.getTime() + n * 86_400_000);
};
const share = 0.1;
const n = 300;

before(async () => {
  const base = loadConfig({}, { NODE_ENV: 'test' });
  t = await createTestApp('admin', {
    publicUrl: 'https://kept.example.com',
    mail: { ...base.mail, frequencyCap: 2 },
    programme: { ...base.programme, universalControl: share, holdoutDays: 30, waitForProblems: true, problemDays: 14 },
  });
  (t.deps.clock as { now: () => Date }).now = () => clock;
  const events: Record<string, unknown>[] = [];
  for (let i = 1; i <= n; i++) {
    const customer = { externalId: `P${i}`, email: `p${i}@example.com` };
    events.push(
      {
        id: `u${i}`,
        type: 'customer.upsert',
        customer,
        name: `Person ${i}`,
        phone: `+4930123${String(i).padStart(4, '0')}`,
      },
      { id: `k${i}`, type: 'consent', customer, at: '2026-01-01T00:00:00Z', granted: true },
      {
        id: `o${i}`,
        type: 'order',
        customer,
        orderId: `O${i}`,
        at: '2026-03-01T10:00:00Z',
        lines: [{ product: 'Towel', amount: '20.00' }],
      },
    );
  }
  const stored = await ingestEvents(t.deps, events, { source: 'test' });
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
});
after(async () => {
  await settleJobs();
  await t.close();
});

const ok = expectJson;
const ids = async () =>
  (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers order by id`)).map((r) => Number(r.id));
const segment = (name: string, rule: unknown = { match: 'all', conditions: [] }) =>
  ok(t.call('POST', '/api/v1/segments', { name, rule }), 201);
const template = () =>
  ok(
    t.call('POST', '/api/v1/templates', {
      name: 'Hello',
      subject: 'Hello {{ customer.first_name }}',
      body: '<p>Hi {{ customer.first_name }}</p>',
    }),
    201,
  );
const campaign = async (name: string, extra: Record<string, unknown> = {}) => {
  const s = await segment(`${name} audience`);
  const tpl = await template();
  return ok(
    t.call('POST', '/api/v1/campaigns', {
      name,
      kind: 'newsletter',
      segmentId: s.id,
      holdoutShare: 0.2,
      arms: [{ name: 'A', templateId: tpl.id }],
      ...extra,
    }),
    201,
  );
};
const members = (campaignId: number) =>
  queryRows<{ customer_id: number; arm: string; status: string; reason: string | null }>(
    t.deps.db,
    sql`select customer_id::int, arm, status, reason from campaign_members where campaign_id = ${campaignId} order by customer_id`,
  );
const cancelAll = () =>
  t.deps.db.execute(sql`update campaigns set status = 'cancelled' where status in ('draft', 'scheduled')`);

test('the universal control group is the same hash in SQL and in code, about its share, and never drawn into a campaign', async () => {
  const all = await ids();
  const control = all.filter((id) => inUniversalControl(id, share));
  assert.ok(control.length > 15 && control.length < 50, `about 10 % of ${n}: ${control.length}`);
  const c = await campaign('Everyone');
  const preview = await ok(t.call('GET', `/api/v1/campaigns/${c.id}/preview`));
  assert.equal(preview.audience, n);
  assert.deepEqual(preview.leftOut, [{ reason: 'universal control group', n: control.length, overridden: false }]);
  assert.equal(preview.drawn, n - control.length);
  assert.equal(preview.holdout, Math.round((n - control.length) * 0.2));
  assert.equal(preview.arms[0].members, preview.drawn - preview.holdout);
  assert.match(preview.arms[0].sample.mail.subject, /^Hello Person$/, 'a sample mail rendered for a member of the arm');
  const started = await ok(t.call('POST', `/api/v1/campaigns/${c.id}/start`));
  assert.deepEqual(started.exclusions, { 'universal control group': control.length });
  const drawn = await members(c.id);
  assert.equal(drawn.length, n - control.length);
  assert.deepEqual(
    drawn.filter((m) => control.includes(m.customer_id)),
    [],
    'nobody in the universal control group is a member, not even in the holdout',
  );
  await settleJobs();
  await sendCampaign(t.deps, c.id);
  assert.equal((await members(c.id)).filter((m) => m.status === 'sent').length, preview.arms[0].members);
  // Growing the share keeps everyone already in: the draw is nested.
  assert.ok(control.every((id) => inUniversalControl(id, 0.2)));
});

test("a campaign started on another campaign's holdout leaves them out, by name; overriding counts the contamination in both reports", async () => {
  await cancelAll();
  days(2);
  const [first] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`select id::int from campaigns where name = 'Everyone'`,
  );
  const held = (await members(first.id)).filter((m) => m.arm === 'control').map((m) => m.customer_id);
  assert.ok(held.length > 40);
  const second = await campaign('We miss you');
  const preview = await ok(t.call('GET', `/api/v1/campaigns/${second.id}/preview`));
  const byReason = Object.fromEntries(preview.leftOut.map((l: { reason: string; n: number }) => [l.reason, l.n]));
  assert.equal(byReason['held out of campaign "Everyone"'], held.length);
  assert.ok(preview.warnings.some((w: string) => /another programme is measuring them/.test(w)));
  assert.ok(
    preview.overlap.some((o: { programme: string; n: number }) => o.programme === 'campaign "Everyone"' && o.n > 0),
    'the overlap with the campaign mailed two days ago is shown',
  );
  await ok(t.call('POST', `/api/v1/campaigns/${second.id}/start`));
  const drawn = await members(second.id);
  assert.deepEqual(
    drawn.filter((m) => held.includes(m.customer_id)),
    [],
    'nobody held out of the first campaign is in the second',
  );
  await settleJobs();
  await sendCampaign(t.deps, second.id);
  const firstReport = await ok(t.call('GET', `/api/v1/campaigns/${first.id}/report`));
  assert.deepEqual(firstReport.contamination, { holdoutTreated: 0, byProgramme: [], treatedFromHoldouts: 0 });

  // A person overrides: the held-out customers are included and both reports say so.
  days(1);
  const third = await campaign('Flash sale', { holdoutShare: 0 });
  const overridden = await ok(t.call('GET', `/api/v1/campaigns/${third.id}/preview?overrideHoldouts=true`));
  assert.ok(overridden.leftOut.some((l: { overridden: boolean }) => l.overridden));
  assert.ok(overridden.warnings.some((w: string) => /contaminated/.test(w)));
  const started = await ok(t.call('POST', `/api/v1/campaigns/${third.id}/start`, { overrideHoldouts: true }));
  assert.equal(started.overrideHoldouts, true);
  await settleJobs();
  // The cap (2 in 7 days) would stop third mails; lift it for this send.
  await t.deps.db.execute(
    sql`update campaign_members set sent_at = sent_at - interval '8 days' where campaign_id <> ${third.id}`,
  );
  await sendCampaign(t.deps, third.id);
  const reached = (await members(third.id)).filter((m) => m.status === 'sent').map((m) => m.customer_id);
  const contaminated = held.filter((id) => reached.includes(id)).length;
  assert.ok(contaminated > 0);
  const after = await ok(t.call('GET', `/api/v1/campaigns/${first.id}/report?days=30`));
  assert.equal(after.contamination.holdoutTreated, contaminated);
  assert.deepEqual(after.contamination.byProgramme, [{ programme: 'campaign "Flash sale"', n: contaminated }]);
  const thirdReport = await ok(t.call('GET', `/api/v1/campaigns/${third.id}/report`));
  assert.ok(
    thirdReport.contamination.treatedFromHoldouts >= contaminated,
    'the overriding campaign says how many of its treated came from other holdouts',
  );
  const [audit] = await queryRows<{ action: string }>(
    t.deps.db,
    sql`select action from audit_log where action = 'campaign.override_holdouts'`,
  );
  assert.ok(audit, 'the override is audited');
});

test('marketing waits while a customer has an open problem: an open ticket or an incident nobody followed up', async () => {
  await cancelAll();
  days(40); // past every holdout window above
  const [a, b, c] = (await ids()).filter((id) => !inUniversalControl(id, share)).slice(0, 3);
  const ext = async (id: number) =>
    (await queryRows<{ external_id: string }>(t.deps.db, sql`select external_id from customers where id = ${id}`))[0]
      .external_id;
  const at = new Date(clock.getTime() - 86_400_000).toISOString();
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'tk1',
        type: 'ticket.opened',
        customer: { externalId: await ext(a) },
        ticketId: 'T1',
        at,
        subject: 'Where is my order?',
      },
      {
        id: 'in1',
        type: 'incident',
        customer: { externalId: await ext(b) },

        at,
        kind: 'late_delivery',
      },
      { id: 'in2', type: 'incident', customer: { externalId: await ext(c) }, at, kind: 'damaged' },
      {
        id: 'tp1',
        type: 'touchpoint',
        customer: { externalId: await ext(c) },
        at: new Date(clock.getTime() - 3_600_000).toISOString(),
        channel: 'phone',
        direction: 'out',
        kind: 'call',
      },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  const x = await campaign('Autumn');
  const preview = await ok(t.call('GET', `/api/v1/campaigns/${x.id}/preview`));
  assert.equal(preview.leftOut.find((l: { reason: string }) => l.reason === 'open problem')?.n, 2, 'c was called back');
  await ok(t.call('POST', `/api/v1/campaigns/${x.id}/start`));
  const drawn = (await members(x.id)).map((m) => m.customer_id);
  assert.ok(!drawn.includes(a) && !drawn.includes(b) && drawn.includes(c));
  const [row] = await queryRows<{ exclusions: Record<string, number> }>(
    t.deps.db,
    sql`select exclusions from campaigns where id = ${x.id}`,
  );
  assert.equal(row.exclusions['open problem'], 2, 'the campaign says how many waited');
});

test('a call list leaves a trace: exporting it writes a touchpoint per listed customer, once, and they count against the frequency cap', async () => {
  await cancelAll();
  days(40);
  const s = await segment('First five', {
    match: 'any',
    conditions: (await ids())
      .filter((id) => !inUniversalControl(id, share))
      .slice(0, 5)
      .map((id) => ({ field: 'external_id', op: 'is', value: `P${id}` })),
  });
  // external ids are P1..Pn in id order here
  const list = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Call our best',
      kind: 'offer',
      channel: 'phone',
      segmentId: s.id,
      holdoutShare: 0,
      arms: [{ name: 'call' }],
    }),
    201,
  );
  await ok(t.call('POST', `/api/v1/campaigns/${list.id}/start`));
  const listed = (await members(list.id)).filter((m) => m.status === 'listed');
  assert.ok(listed.length > 0);
  for (let i = 0; i < 2; i++) {
    const csv = await t.call('GET', `/api/v1/campaigns/${list.id}/list.csv`);
    assert.equal(csv.status, 200);
  }
  const traces = await queryRows<{ customer_id: number; channel: string; kind: string; campaign: string }>(
    t.deps.db,
    sql`select customer_id::int, channel, kind, campaign from touchpoints where external_id = ${`campaign:${list.id}:listed`} order by customer_id`,
  );
  assert.deepEqual(
    traces.map((r) => r.customer_id),
    listed.map((m) => m.customer_id),
    'one touchpoint per listed customer, however often the list is exported',
  );
  assert.deepEqual(
    [...new Set(traces.map((r) => `${r.channel}/${r.kind}/${r.campaign}`))],
    ['phone/phone_listed/Call our best'],
  );
  const report = await ok(t.call('GET', `/api/v1/campaigns/${list.id}/report`));
  assert.equal(report.arms[0].sent, listed.length, 'measured like mail');
  // Two more marketing touches reach the cap of 2: a second list campaign the same day counts the first.
  const again = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Call again',
      kind: 'offer',
      channel: 'phone',
      segmentId: s.id,
      holdoutShare: 0,
      arms: [{ name: 'call' }],
    }),
    201,
  );
  await ok(t.call('POST', `/api/v1/campaigns/${again.id}/start`));
  await ok(t.call('POST', `/api/v1/campaigns/${again.id}/list/done`));
  const third = await ok(
    t.call('POST', '/api/v1/campaigns', {
      name: 'Call a third time',
      kind: 'offer',
      channel: 'phone',
      segmentId: s.id,
      holdoutShare: 0,
      arms: [{ name: 'call' }],
    }),
    201,
  );
  await ok(t.call('POST', `/api/v1/campaigns/${third.id}/start`));
  const capped = await members(third.id);
  assert.ok(capped.length > 0);
  for (const m of capped) assert.equal(m.reason, 'frequency cap: 2 marketing messages in the last 7 days');
});

test('a recurring campaign schedules its next occurrence at the same wall-clock time, each with a holdout of its own', async () => {
  await cancelAll();
  assert.equal(
    nextOccurrence(new Date('2027-01-31T09:00:00Z'), 'month', 'UTC').toISOString(),
    '2027-02-28T09:00:00.000Z',
  );
  assert.equal(
    nextOccurrence(new Date('2027-03-24T08:00:00Z'), 'week', 'Europe/Berlin').toISOString(),
    '2027-03-31T07:00:00.000Z',
    '09:00 in Berlin before and after the clocks change',
  );
  const monthly = await campaign('Monthly newsletter', { repeatEvery: 'month' });
  await ok(t.call('POST', `/api/v1/campaigns/${monthly.id}/start`));
  const series = await queryRows<{ id: number; status: string; scheduled_at: string | null; series_id: number }>(
    t.deps.db,
    sql`select id::int, status, scheduled_at::text, series_id::int from campaigns where name = 'Monthly newsletter' order by id`,
  );
  assert.equal(series.length, 2);
  assert.equal(series[0].series_id, monthly.id);
  assert.equal(series[1].series_id, monthly.id);
  assert.equal(series[1].status, 'scheduled');
  assert.equal(new Date(series[1].scheduled_at!).toISOString(), nextOccurrence(clock, 'month', 'UTC').toISOString());
});

test('a journey confirms every order, also to the universal control group, and sends its marketing to nobody in it', async () => {
  await cancelAll();
  days(40);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/order_follow_up'), 201);
  const { name, description, trigger, entry, steps, exitOnOrder, exit, consentList } = recipe;
  const [confirmation] = steps;
  // A confirmation, then at once a marketing mail: the one the universal control group must not get.
  const journey = await ok(
    t.call('PUT', `/api/v1/journeys/${recipe.id}`, {
      name,
      description,
      trigger,
      entry,
      exitOnOrder,
      exit,
      consentList,
      holdoutShare: 0,
      steps: [confirmation, { ...confirmation, transactional: false, problemLink: false }],
    }),
  );
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  days(0.01);
  const all = await ids();
  const control = all.filter((id) => inUniversalControl(id, share)).slice(0, 3);
  const others = all.filter((id) => !inUniversalControl(id, share)).slice(10, 13);
  const [troubled] = all.filter((id) => !inUniversalControl(id, share)).slice(13, 14);
  const events = [...control, ...others, troubled].map((id) => ({
    id: `jo${id}`,
    type: 'order',
    customer: { externalId: `P${id}` },
    orderId: `J${id}`,
    at: clock.toISOString(),
    lines: [{ product: 'Towel', amount: '20.00' }],
  }));
  // external ids are P<n> with n the id order; look them up rather than assume
  const refs = await queryRows<{ id: number; external_id: string }>(
    t.deps.db,
    sql`select id::int, external_id from customers where id = any(${array([...control, ...others, troubled])}::bigint[])`,
  );
  for (const e of events) e.customer.externalId = refs.find((r) => `jo${r.id}` === e.id)!.external_id;
  const troubledRef = { externalId: refs.find((r) => r.id === troubled)!.external_id };
  const ticket = {
    id: 'jt1',
    type: 'ticket.opened',
    customer: troubledRef,
    ticketId: 'JT1',
    at: new Date(clock.getTime() - 3_600_000).toISOString(),
    subject: 'The towel is torn',
  };
  assert.equal((await ingestEvents(t.deps, [...events, ticket], { source: 'test' })).rejected, 0);
  days(0.001);
  const { runJourneys } = await import('../journeys/journey.service.ts');
  await runJourneys(t.deps);
  const steps2 = await queryRows<{ customer_id: number; step: number; outcome: string; reason: string | null }>(
    t.deps.db,
    sql`select customer_id::int, step, outcome, reason from journey_steps where journey_id = ${journey.id} order by customer_id, step`,
  );
  for (const id of control)
    assert.deepEqual(
      steps2.filter((s) => s.customer_id === id).map((s) => [s.step, s.outcome, s.reason]),
      [
        [0, 'sent', null],
        [1, 'held out', 'universal control group'],
      ],
      'the confirmation goes out; the marketing mail does not',
    );
  for (const id of others)
    assert.deepEqual(
      steps2.filter((s) => s.customer_id === id).map((s) => s.outcome),
      ['sent', 'sent'],
    );

  // An open ticket holds the marketing mail back (not the confirmation) until it is answered; the report counts it.
  const outcomes = async () =>
    (
      await queryRows<{ outcome: string }>(
        t.deps.db,
        sql`select outcome from journey_steps where journey_id = ${journey.id} and customer_id = ${troubled} order by step`,
      )
    ).map((s) => s.outcome);
  assert.deepEqual(await outcomes(), ['sent'], 'the confirmation goes out; the marketing mail waits');
  const waits = async () =>
    (await ok(t.call('GET', `/api/v1/journeys/${journey.id}/report?days=30`))).waitedForProblems;
  assert.deepEqual(await waits(), { passes: 1, now: 1, days: 1 });
  days(1.01);
  await runJourneys(t.deps);
  assert.deepEqual(await outcomes(), ['sent'], 'still open a day later: still waiting');
  const answered = {
    id: 'jt2',
    type: 'ticket.resolved',
    customer: troubledRef,
    ticketId: 'JT1',
    at: clock.toISOString(),
    outcome: 'replaced',
  };
  assert.equal((await ingestEvents(t.deps, [answered], { source: 'test' })).rejected, 0);
  days(1.01);
  await runJourneys(t.deps);
  assert.deepEqual(await outcomes(), ['sent', 'sent'], 'answered: the marketing mail goes out');
  assert.deepEqual(await waits(), { passes: 1, now: 0, days: 2 });
});
