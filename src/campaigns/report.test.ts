import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { settleJobs } from '../jobs/job.service.ts';
import { wallTimeToInstant } from '../shared/time.ts';

let t: TestApp;
let clock = new Date('2026-05-01T09:00:00Z');
const at = (days: number) => new Date(Date.parse('2026-05-01T09:00:00Z') + days * 86_400_000).toISOString();

before(async () => {
  t = await createTestApp('admin');
  (t.deps.clock as { now: () => Date }).now = () => clock;
  const events: Record<string, unknown>[] = [];
  for (let i = 1; i <= 100; i++) {
    const customer = { externalId: `R${i}`, email: `r${i}@example.com` };
    events.push({ id: `u${i}`, type: 'customer.upsert', customer, name: `Reader ${i}` });
    events.push({
      id: `o${i}`,
      type: 'order',
      customer,
      orderId: `first-${i}`,
      at: '2026-01-10T10:00:00Z',
      lines: [{ product: 'Mug', amount: '10.00' }],
    });
    events.push({ id: `k${i}`, type: 'consent', customer, at: '2026-01-10T10:00:00Z', granted: true });
  }
  assert.equal((await ingestEvents(t.deps, events, { source: 'test' })).rejected, 0);
});
after(async () => {
  await settleJobs();
  await t.close();
});

const call = async (method: string, path: string, body?: unknown, status = 200) => {
  const response = await t.call(method, path, body);
  const json = await response.json();
  assert.equal(response.status, status, JSON.stringify(json));
  return json;
};

test('wall-clock schedules follow the zone through daylight-saving changes', () => {
  assert.equal(wallTimeToInstant('2026-07-01T09:00', 'Europe/Berlin').toISOString(), '2026-07-01T07:00:00.000Z');
  assert.equal(wallTimeToInstant('2026-01-15T09:00', 'America/New_York').toISOString(), '2026-01-15T14:00:00.000Z');
  assert.equal(
    wallTimeToInstant('2026-03-29T09:00', 'Europe/Berlin').toISOString(),
    '2026-03-29T07:00:00.000Z',
    'the morning after the change',
  );
  assert.equal(
    wallTimeToInstant('2026-03-29T02:30', 'Europe/Berlin').toISOString(),
    '2026-03-29T01:30:00.000Z',
    'a skipped time moves forward by the gap: 03:30 CEST',
  );
  assert.equal(
    wallTimeToInstant('2026-10-25T02:30', 'Europe/Berlin').toISOString(),
    '2026-10-25T00:30:00.000Z',
    'a repeated time is the first of the two',
  );
  assert.equal(wallTimeToInstant('2026-11-01T01:30', 'America/New_York').toISOString(), '2026-11-01T05:30:00.000Z');
  assert.equal(wallTimeToInstant('2026-07-01T09:00', 'Asia/Kolkata').toISOString(), '2026-07-01T03:30:00.000Z');
});

test('the report compares each arm with the holdout: exact counts, lift with intervals, unsubscribes, lift by day', async () => {
  clock = new Date(at(0));
  const segment = await call(
    'POST',
    '/api/v1/segments',
    { name: 'Readers', rule: { match: 'all', conditions: [] } },
    201,
  );
  const template = await call(
    'POST',
    '/api/v1/templates',
    { name: 'Offer', subject: 'A little extra for you', body: '<p>Hello {{ customer.first_name }}</p>' },
    201,
  );
  const scheduled = await call(
    'POST',
    '/api/v1/campaigns',
    {
      name: 'Little extra',
      kind: 'offer',
      segmentId: segment.id,
      holdoutShare: 0.2,
      arms: [{ name: 'offer', templateId: template.id }],
      scheduledAt: '2026-05-01T11:00',
      timeZone: 'Europe/Berlin',
    },
    201,
  );
  assert.deepEqual([scheduled.status, scheduled.scheduledAt], ['scheduled', '2026-05-01T09:00:00.000Z']);
  const started = await call('POST', `/api/v1/campaigns/${scheduled.id}/start`);
  assert.equal(started.members, 100);
  await settleJobs();
  // No SMTP server configured: the mail is captured, readable through the API.
  const captured = await call('GET', '/api/v1/mail/captured?limit=200');
  assert.deepEqual([captured.smtp, captured.messages.length], [false, 80]);
  assert.match(captured.messages[0].headers['List-Unsubscribe'], /^<http:\/\/127\.0\.0\.1:\d+\/u\//);

  const members = await queryRows<{ external_id: string; arm: string }>(
    t.deps.db,
    sql`
    select c.external_id, m.arm from campaign_members m join customers c on c.id = m.customer_id where m.campaign_id = ${scheduled.id} order by c.id`,
  );
  const treated = members.filter((m) => m.arm === 'offer');
  const control = members.filter((m) => m.arm === 'control');
  assert.deepEqual([treated.length, control.length], [80, 20]);
  // Planted: 40 of the 80 treated buy (30.00 each) on day 3, 10 more on day 20; 4 of the 20 held out buy (20.00) on day 3; 2 treated unsubscribe.
  const events: Record<string, unknown>[] = [];
  treated.slice(0, 50).forEach((m, i) =>
    events.push({
      id: `p-${m.external_id}`,
      type: 'order',
      customer: { externalId: m.external_id },
      orderId: `after-${m.external_id}`,
      at: at(i < 40 ? 2.5 : 19.5),
      lines: [{ product: 'Towel', amount: '30.00' }],
    }),
  );
  control.slice(0, 4).forEach((m) =>
    events.push({
      id: `p-${m.external_id}`,
      type: 'order',
      customer: { externalId: m.external_id },
      orderId: `after-${m.external_id}`,
      at: at(2.5),
      lines: [{ product: 'Towel', amount: '20.00' }],
    }),
  );
  treated.slice(70, 72).forEach((m) =>
    events.push({
      id: `x-${m.external_id}`,
      type: 'consent',
      customer: { externalId: m.external_id },
      at: at(1),
      granted: false,
    }),
  );
  assert.equal((await ingestEvents(t.deps, events, { source: 'test' })).rejected, 0);

  clock = new Date(at(45));
  const report = await call('GET', `/api/v1/campaigns/${scheduled.id}/report?days=30`);
  assert.deepEqual(
    [report.days, report.observedDays, report.holdout],
    [30, 30, { members: 20, buyers: 4, revenue: 80, unsubscribed: 0 }],
  );
  const [arm] = report.arms;
  assert.deepEqual([arm.arm, arm.members, arm.sent], ['offer', 80, 80]);
  assert.deepEqual([arm.purchase.treated, arm.purchase.control, arm.purchase.difference], [0.625, 0.2, 0.425]);
  // Agresti-Caffo: one buyer and one non-buyer added to each group: 51 of 82 against 5 of 22.
  const [q1, q2] = [51 / 82, 5 / 22];
  const halfWidth = 1.959964 * Math.sqrt((q1 * (1 - q1)) / 82 + (q2 * (1 - q2)) / 22);
  assert.ok(Math.abs(arm.purchase.low - (q1 - q2 - halfWidth)) < 1e-5, JSON.stringify(arm.purchase));
  assert.ok(Math.abs(arm.purchase.high - (q1 - q2 + halfWidth)) < 1e-5, JSON.stringify(arm.purchase));
  assert.ok(arm.purchase.p < 0.001);
  assert.ok(Math.abs(arm.purchase.relative - 2.125) < 1e-9);
  assert.deepEqual(
    [arm.revenuePerCustomer.treated, arm.revenuePerCustomer.control, arm.revenuePerCustomer.difference],
    [18.75, 4, 14.75],
  );
  assert.deepEqual([arm.unsubscribes.treated, arm.unsubscribes.control], [0.025, 0]);
  assert.match(
    arm.warning,
    /too small to measure anything: 20 in the holdout, 80 treated/,
    'a holdout of 20 is said to be too small, even with a clear difference',
  );
  assert.deepEqual([arm.stillActive30, arm.stillActive90], [null, null], 'no analysis after the campaign yet');
  const lift = report.cumulativeLift[0].points;
  assert.equal(lift.length, 30);
  assert.deepEqual(
    [lift[0].lift, lift[2].lift, lift[19].lift, lift[29].lift],
    [0, 0.5 - 0.2, 0.625 - 0.2, 0.625 - 0.2],
  );

  // A shorter window sees only the first wave.
  const week = await call('GET', `/api/v1/campaigns/${scheduled.id}/report?days=7`);
  assert.deepEqual([week.arms[0].purchase.treated, week.arms[0].purchase.control], [0.5, 0.2]);
});

test('a campaign run elsewhere is recorded with its arms and measured the same way; unknown customers are refused, nothing half-written', async () => {
  const refused = await call(
    'POST',
    '/api/v1/campaigns/external',
    {
      name: 'Mailing house',
      kind: 'offer',
      channel: 'direct_mail',
      members: [
        { customer: { externalId: 'R1' }, arm: 'catalogue', sentAt: at(50) },
        { customer: { externalId: 'NOPE' }, arm: 'control', sentAt: at(50) },
      ],
    },
    400,
  );
  assert.deepEqual(refused.error.details.issues, [{ path: 'members.1.customer', message: 'no customer NOPE' }]);
  const before = (await call('GET', '/api/v1/campaigns')).campaigns.length;
  const members = Array.from({ length: 100 }, (_, i) => ({
    customer: { externalId: `R${i + 1}` },
    arm: i < 60 ? 'catalogue' : 'control',
    sentAt: at(50),
  }));
  const { id } = await call(
    'POST',
    '/api/v1/campaigns/external',
    { name: 'Mailing house', kind: 'offer', channel: 'direct_mail', members },
    201,
  );
  assert.equal((await call('GET', '/api/v1/campaigns')).campaigns.length, before + 1);
  const events = members.slice(0, 30).map((m) => ({
    id: `ext-${m.customer.externalId}`,
    type: 'order',
    customer: m.customer,
    orderId: `ext-${m.customer.externalId}`,
    at: at(55),
    lines: [{ product: 'Rug', amount: '50.00' }],
  }));
  assert.equal((await ingestEvents(t.deps, events, { source: 'test' })).rejected, 0);
  clock = new Date(at(100));
  const report = await call('GET', `/api/v1/campaigns/${id}/report`);
  assert.equal(report.campaign.status, 'external');
  assert.deepEqual(
    [report.arms[0].arm, report.arms[0].members, report.arms[0].purchase.treated, report.arms[0].purchase.control],
    ['catalogue', 60, 0.5, 0],
  );
  assert.equal(report.holdout.members, 40);
});

test('a campaign whose segment is empty when it starts is done at once, with nobody in it', async () => {
  const nobody = await call(
    'POST',
    '/api/v1/segments',
    { name: 'Nobody', rule: { match: 'any', conditions: [] } },
    201,
  );
  const template = await call('POST', '/api/v1/templates', { name: 'Empty', subject: 'x', body: '<p>x</p>' }, 201);
  const created = await call(
    'POST',
    '/api/v1/campaigns',
    { name: 'To nobody', kind: 'announcement', segmentId: nobody.id, arms: [{ name: 'A', templateId: template.id }] },
    201,
  );
  const started = await call('POST', `/api/v1/campaigns/${created.id}/start`);
  assert.deepEqual([started.status, started.members], ['done', 0]);
});
