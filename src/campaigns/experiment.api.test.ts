// Experiments recorded by API: created, filled in pages (one sent twice, one refused whole), finished,
// and reported with each arm's figures equal to a direct computation from the members sent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { random } from '../shared/random.ts';

let t: TestApp;
const n = 300;
type Member = {
  customer: { externalId?: string; email?: string };
  arm: string;
  at?: string;
  converted?: boolean;
  revenue?: number | string;
  engaged?: boolean;
};
const sent: Member[] = [];

before(async () => {
  t = await createTestApp('marketer');
  const events = Array.from({ length: n + 20 }, (_, i) => ({
    id: `c${i + 1}`,
    type: 'customer.upsert',
    customer: { externalId: `E${i + 1}`, email: `e${i + 1}@example.com` },
  }));
  assert.equal((await ingestEvents(t.deps, events, { source: 'test' })).rejected, 0);
  const rng = random(5);
  for (let i = 1; i <= n; i++) {
    const arm = ['A', 'B', 'Holdout'][Math.floor(rng() * 3)];
    const p = arm === 'A' ? 0.3 : arm === 'B' ? 0.2 : 0.15;
    const converted = rng() < p;
    sent.push({
      // Every tenth by email (the control's name in any case), the rest by external id, as the CSV import resolves them.
      customer: i % 10 === 0 ? { email: `E${i}@Example.com` } : { externalId: `E${i}` },
      arm: arm === 'Holdout' && i % 2 ? 'holdout' : arm,
      at: `2026-03-0${1 + (i % 3)}`,
      converted,
      revenue: converted ? (i % 4 === 0 ? `${i}.50` : i) : 0,
      engaged: rng() < 0.5,
    });
  }
});
after(() => t.close());

const memberCount = async (campaignId: number) =>
  (
    await queryRows<{ n: number }>(
      t.deps.db,
      sql`select count(*)::int as n from campaign_members where campaign_id = ${campaignId}`,
    )
  )[0].n;

/** Each arm's members, conversion and revenue per member, straight from what was sent. */
function expected(arm: string) {
  const members = sent.filter((m) => (arm === 'control' ? m.arm.toLowerCase() === 'holdout' : m.arm === arm));
  return {
    n: members.length,
    conversion: members.filter((m) => m.converted).length / members.length,
    revenue: members.reduce((s, m) => s + Number(m.revenue), 0) / members.length,
  };
}

test('an experiment uploaded in pages, one sent twice and one refused whole, then finished and reported', async () => {
  const created = await expectJson(
    t.call('POST', '/api/v1/campaigns/experiments', { name: 'Paged test', control: 'Holdout', channel: 'email' }),
    201,
  );
  assert.equal(created.state, 'uploading');
  const id: number = created.id;
  const path = `/api/v1/campaigns/${id}/members`;

  for (let page = 0; page < 3; page++) {
    const result = await expectJson(t.call('POST', path, { members: sent.slice(page * 100, page * 100 + 100) }));
    assert.deepEqual([result.added, result.unchanged, result.members], [100, 0, (page + 1) * 100]);
  }
  assert.equal(await memberCount(id), 300);

  const again = await expectJson(t.call('POST', path, { members: sent.slice(100, 200) }));
  assert.deepEqual([again.added, again.unchanged, again.members], [0, 100, 300], 'a page sent again changes nothing');
  assert.equal(await memberCount(id), 300);

  // Not reported while pages are still coming; the campaign says why.
  const early = await expectJson(t.call('GET', `/api/v1/campaigns/${id}/experiment`), 409);
  assert.match(early.error.message, /still being uploaded \(300 members so far\)/);
  const uploading = await expectJson(t.call('GET', `/api/v1/campaigns/${id}`));
  assert.equal(uploading.campaign.finishedAt, null);
  assert.match(uploading.campaign.statusReason, /being uploaded/);

  const bad: Member[] = [
    { customer: { externalId: 'E301' }, arm: 'A', converted: true },
    { customer: { externalId: 'E302' }, arm: 'B' },
    { customer: { externalId: 'E303' }, arm: 'A', revenue: 1 },
    { customer: { externalId: 'NOPE' }, arm: 'A' },
    { customer: {}, arm: 'A' },
    { customer: { externalId: 'E305' }, arm: 'B', revenue: 'ten' },
    { customer: { externalId: 'E306' }, arm: 'A', at: 'soon' },
    { ...sent[0], arm: sent[0].arm === 'A' ? 'B' : 'A' },
    { customer: { externalId: 'E301' }, arm: 'A' },
    { customer: { externalId: 'E309' }, arm: '' },
    { customer: { externalId: 'E310' }, arm: 'control' },
    { ...sent[1] },
  ];
  const refused = await expectJson(t.call('POST', path, { members: bad }), 400);
  const issues: { path: string; message: string }[] = refused.error.details.issues;
  assert.deepEqual(
    issues.map((i) => i.path).sort(),
    [
      'members.10.arm',
      'members.3.customer',
      'members.4.customer',
      'members.5.revenue',
      'members.6.at',
      'members.7.customer',
      'members.8.customer',
      'members.9.arm',
    ].sort(),
  );
  const say = (p: string) => issues.find((i) => i.path === p)!.message;
  assert.equal(say('members.3.customer'), 'no customer "NOPE"', 'as the CSV import says it');
  assert.equal(say('members.4.customer'), 'empty: expected an external id or an email');
  assert.equal(say('members.5.revenue'), '"ten": expected an amount like 12.50');
  assert.match(say('members.6.at'), /^"soon": expected a date like 2026-11-02/);
  assert.match(say('members.7.customer'), /already in the experiment with another arm/);
  assert.match(say('members.8.customer'), /is in the page twice/);
  assert.match(say('members.10.arm'), /calls "Holdout"/);
  assert.match(refused.error.message, /^8 problems in the page; nothing from it was stored/);
  assert.equal(await memberCount(id), 300, 'nothing from the refused page is stored');
  const [kept] = await queryRows<{ arm: string }>(
    t.deps.db,
    sql`select m.arm from campaign_members m join customers c on c.id = m.customer_id where m.campaign_id = ${id} and c.external_id = 'E1'`,
  );
  assert.equal(kept.arm, sent[0].arm.toLowerCase() === 'holdout' ? 'control' : sent[0].arm);

  const finished = await expectJson(t.call('POST', `${path}/done`));
  assert.equal(finished.state, 'finished');
  assert.deepEqual(finished.arms, {
    A: expected('A').n,
    B: expected('B').n,
    control: expected('control').n,
  });

  const report = await expectJson(t.call('GET', `/api/v1/campaigns/${id}/experiment`));
  assert.equal(report.control.members, expected('control').n);
  assert.deepEqual(report.sources, { conversion: 'file', revenue: 'file', engagement: 'file' });
  const control = expected('control');
  for (const arm of ['A', 'B']) {
    const want = expected(arm);
    const got = report.arms.find((a: { arm: string }) => a.arm === arm);
    assert.equal(got.members, want.n);
    const outcome = (name: string) => got.outcomes.find((o: { outcome: string }) => o.outcome === name);
    assert.equal(outcome('conversion').treated, want.conversion);
    assert.equal(outcome('conversion').control, control.conversion);
    assert.ok(Math.abs(outcome('conversion').difference - (want.conversion - control.conversion)) < 1e-12);
    assert.ok(Math.abs(outcome('revenue').treated - want.revenue) < 1e-9);
    assert.ok(Math.abs(outcome('revenue').control - control.revenue) < 1e-9);
  }
  const campaign = (await expectJson(t.call('GET', `/api/v1/campaigns/${id}`))).campaign;
  assert.equal(campaign.statusReason, null);
  assert.equal(campaign.members, 300);
  assert.equal(campaign.startedAt, '2026-03-01T00:00:00.000Z', 'the first send');
  assert.deepEqual(campaign.arms.map((a: { name: string }) => a.name).sort(), ['A', 'B']);
  assert.ok(Math.abs(campaign.holdoutShare - control.n / 300) < 1e-12);

  const late = await expectJson(
    t.call('POST', path, { members: [{ customer: { externalId: 'E320' }, arm: 'A' }] }),
    409,
  );
  assert.match(late.error.message, /was finished at .* with 300 members; no more members can be added/);
  assert.equal(await memberCount(id), 300);
  await expectJson(t.call('POST', `${path}/done`), 409);

  const log = await queryRows<{ action: string; actor: string }>(
    t.deps.db,
    sql`select action, actor from audit_log where target = ${`campaign #${id} Paged test`} order by id`,
  );
  assert.deepEqual(
    log.map((e) => e.action),
    ['campaign.experiment_created', 'campaign.experiment_finished'],
  );
});

test('finishing needs a control arm with members and another arm; pages only go to an uploading experiment', async () => {
  const { id } = await expectJson(t.call('POST', '/api/v1/campaigns/experiments', { name: 'No control' }), 201);
  const empty = await expectJson(t.call('POST', `/api/v1/campaigns/${id}/members/done`), 400);
  assert.match(empty.error.message, /The experiment has no members/);
  await expectJson(
    t.call('POST', `/api/v1/campaigns/${id}/members`, { members: [{ customer: { externalId: 'E1' }, arm: 'A' }] }),
  );
  const noControl = await expectJson(t.call('POST', `/api/v1/campaigns/${id}/members/done`), 400);
  assert.match(noControl.error.message, /No member is in the control arm "control"/);
  await expectJson(
    t.call('POST', `/api/v1/campaigns/${id}/members`, {
      members: [
        { customer: { externalId: 'E1' }, arm: 'A' },
        { customer: { externalId: 'E2' }, arm: 'CONTROL' },
      ],
    }),
  );
  await expectJson(t.call('POST', `/api/v1/campaigns/${id}/members/done`));

  const onlyControl = await expectJson(t.call('POST', '/api/v1/campaigns/experiments', { name: 'Alone' }), 201);
  await expectJson(
    t.call('POST', `/api/v1/campaigns/${onlyControl.id}/members`, {
      members: [{ customer: { externalId: 'E3' }, arm: 'control' }],
    }),
  );
  const alone = await expectJson(t.call('POST', `/api/v1/campaigns/${onlyControl.id}/members/done`), 400);
  assert.match(alone.error.message, /No member is in an arm other than the control/);

  const draft = await expectJson(t.call('POST', '/api/v1/campaigns/999999/members/done'), 404);
  assert.match(draft.error.message, /No campaign 999999/);
  const tooMany = await expectJson(
    t.call('POST', `/api/v1/campaigns/${onlyControl.id}/members`, {
      members: Array.from({ length: 10_001 }, () => ({ customer: { externalId: 'E1' }, arm: 'A' })),
    }),
    400,
  );
  assert.equal(tooMany.error.details.issues[0].path, 'members');

  // An analyst may read reports, not record experiments.
  const { key } = await createApiKey(t.deps, 'reader', 'analyst');
  const denied = await t.app.request('/api/v1/campaigns/experiments', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'x' }),
  });
  assert.equal(denied.status, 403);
});
