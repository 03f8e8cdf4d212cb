import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtp-sink.ts';
import { createApiKey } from '../auth/auth.service.ts';
import { loadConfig } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { settleJobs } from '../jobs/job.service.ts';
import { runJourneys } from '../journeys/journey.service.ts';
import { suggest, type WorklistFacts } from '../worklist/worklist.ts';
import { flagFromText, flagReason, flagsStopping } from './flags.ts';

let t: TestApp;
let sink: SmtpSink;
let clock = new Date('2026-06-01T08:00:00Z');
const minutes = (n: number) => {
  clock = new Date(clock.getTime() + n * 60_000);
};
const ok = expectJson;

before(async () => {
  sink = await startSmtpSink();
  const base = loadConfig({}, { NODE_ENV: 'test' });
  t = await createTestApp('admin', {
    publicUrl: 'https://kept.example.com',
    mail: { ...base.mail, smtpUrl: sink.url, sendRate: 1000, frequencyCap: 10 },
  });
  (t.deps.clock as { now: () => Date }).now = () => clock;
});
after(async () => {
  await settleJobs();
  await t.close();
  await sink.close();
});

const ingest = async (events: Record<string, unknown>[]) => {
  const stored = await ingestEvents(t.deps, events, { source: 'test' });
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
};
const customers = (prefix: string, n: number) =>
  ingest(
    Array.from({ length: n }, (_, i) => [
      {
        id: `${prefix}u${i + 1}`,
        type: 'customer.upsert',
        customer: { externalId: `${prefix}${i + 1}`, email: `${prefix}${i + 1}@example.com`.toLowerCase() },
        name: `${prefix}${i + 1} Person`,
      },
      {
        id: `${prefix}k${i + 1}`,
        type: 'consent',
        customer: { externalId: `${prefix}${i + 1}` },
        at: '2026-01-01T00:00:00Z',
        granted: true,
      },
    ]).flat(),
  );
const idOf = async (externalId: string) =>
  Number(
    (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = ${externalId}`))[0].id,
  );
const externalIdOf = async (id: number) =>
  (await queryRows<{ external_id: string }>(t.deps.db, sql`select external_id from customers where id = ${id}`))[0]
    .external_id;
const segmentOf = (prefix: string) =>
  ok(
    t.call('POST', '/api/v1/segments', {
      name: `Prefix ${prefix}`,
      rule: { match: 'all', conditions: [{ field: 'external_id', op: 'starts_with', value: prefix }] },
    }),
    201,
  );
const template = (name: string) =>
  ok(
    t.call('POST', '/api/v1/templates', { name, subject: `${name} {{ customer.first_name }}`, body: '<p>Hi</p>' }),
    201,
  );
const campaign = async (name: string, segmentId: number, channel = 'email') => {
  const arm = channel === 'email' ? { name: 'A', templateId: (await template(`${name} mail`)).id } : { name: 'A' };
  return ok(
    t.call('POST', '/api/v1/campaigns', { name, kind: 'offer', channel, segmentId, holdoutShare: 0, arms: [arm] }),
    201,
  );
};
const member = async (campaignId: number, externalId: string) =>
  (
    await queryRows<{ status: string; reason: string | null }>(
      t.deps.db,
      sql`
    select m.status, m.reason from campaign_members m join customers c on c.id = m.customer_id
    where m.campaign_id = ${campaignId} and c.external_id = ${externalId}`,
    )
  )[0];
const mailTo = (address: string) => sink.messages.filter((m) => m.to === address.toLowerCase());
const flag = (customerId: number, body: Record<string, unknown>, key?: string) =>
  t.call('POST', `/api/v1/customers/${customerId}/flags`, body, key ? { authorization: `Bearer ${key}` } : {});

test('a deceased flag set mid-send stops every queued message and list entry', async () => {
  await customers('D', 30);
  // N asked not to be contacted: their order is still confirmed, the survey question is not sent.
  await ingest([
    {
      id: 'D-dnc',
      type: 'status.change',
      customer: { externalId: 'D30' },
      at: '2026-05-01T00:00:00Z',
      flag: 'do_not_contact',
      active: true,
    },
  ]);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/order_follow_up'), 201);
  const { name, description, trigger, entry, steps, exitOnOrder, exit, consentList } = recipe;
  const body = { name, description, trigger, entry, steps, exitOnOrder, exit, consentList, holdoutShare: 0 };
  const journey = await ok(t.call('PUT', `/api/v1/journeys/${recipe.id}`, body));
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  await ingest(
    Array.from({ length: 30 }, (_, i) => ({
      id: `D-order-${i + 1}`,
      type: 'order',
      customer: { externalId: `D${i + 1}` },
      orderId: `DO${i + 1}`,
      at: clock.toISOString(),
      lines: [{ product: 'Bath towel', category: 'towels', amount: '20.00' }],
    })),
  );
  minutes(2);
  const confirmed = await runJourneys(t.deps);
  assert.equal(confirmed.sent, 30, 'every order confirmed, the do-not-contact customer too (transactional)');
  assert.equal(mailTo('D30@example.com').length, 1);

  // The lists are made now; the flag comes later.
  const segment = await segmentOf('D');
  const post = await campaign('Catalogue', segment.id, 'direct_mail');
  const calls = await campaign('Calls', segment.id, 'phone');
  for (const list of [post, calls]) await ok(t.call('POST', `/api/v1/campaigns/${list.id}/start`));
  assert.equal((await member(post.id, 'D30')).reason, 'flag do not contact', 'flagged before: never listed');

  // While the mail campaign sends, at its first message, a customer still queued is flagged deceased.
  const mail = await campaign('Summer', segment.id);
  const n = await idOf('D30');
  let deceased: number | undefined;
  const send = t.deps.mailer.send.bind(t.deps.mailer);
  t.deps.mailer.send = async (message) => {
    if (deceased === undefined) {
      const [queued] = await queryRows<{ customer_id: number }>(
        t.deps.db,
        sql`select customer_id from campaign_members where campaign_id = ${mail.id} and status = 'queued' and customer_id <> ${n} order by customer_id desc limit 1`,
      );
      deceased = Number(queued.customer_id);
      await ok(flag(deceased, { flag: 'deceased', active: true, reason: 'Told by a relative on the phone' }));
    }
    return send(message);
  };
  await ok(t.call('POST', `/api/v1/campaigns/${mail.id}/start`));
  await settleJobs();
  t.deps.mailer.send = send;
  assert.ok(deceased !== undefined, 'the flag was set while the campaign was sending');
  const gone = await externalIdOf(deceased!);
  assert.deepEqual(await member(mail.id, gone), { status: 'suppressed', reason: 'flag deceased' });
  assert.deepEqual(
    mailTo(`${gone}@example.com`).map((m) => m.to),
    [`${gone}@example.com`.toLowerCase()],
    'only the order confirmation sent before the flag',
  );
  const counts = await queryRows<{ status: string; n: number }>(
    t.deps.db,
    sql`select status, count(*)::int as n from campaign_members where campaign_id = ${mail.id} group by 1 order by 1`,
  );
  assert.deepEqual(
    counts.map((c) => [c.status, c.n]),
    [
      ['sent', 28],
      ['suppressed', 2],
    ],
  );

  // The mailing file exported now leaves them out and says so.
  const file = await t.call('GET', `/api/v1/campaigns/${post.id}/list.csv`);
  assert.equal(file.status, 200);
  const rows = (await file.text()).trim().split('\n').slice(1);
  assert.equal(rows.length, 28);
  assert.ok(!rows.some((r) => r.startsWith(`${gone},`)), `${gone} is not on the mailing file`);
  assert.deepEqual([file.headers.get('x-kept-rows'), file.headers.get('x-kept-left-out')], ['28', '1']);
  assert.deepEqual(await member(post.id, gone), { status: 'suppressed', reason: 'flag deceased' });
  const [exported] = await queryRows<{ detail: { rows: number; leftOut: Record<string, number> } }>(
    t.deps.db,
    sql`select detail from audit_log where action = 'export.call_list' order by id desc limit 1`,
  );
  assert.deepEqual([exported.detail.rows, exported.detail.leftOut], [28, { 'flag deceased': 1 }]);
  // Exported again: still left out, nothing more to leave out.
  const again = await t.call('GET', `/api/v1/campaigns/${post.id}/list.csv`);
  assert.deepEqual([again.headers.get('x-kept-rows'), again.headers.get('x-kept-left-out')], ['28', '0']);

  // The call list marked done: the same.
  assert.deepEqual(await ok(t.call('POST', `/api/v1/campaigns/${calls.id}/list/done`)), {
    reached: 28,
    leftOut: { 'flag deceased': 1 },
  });
  assert.deepEqual(await member(calls.id, gone), { status: 'suppressed', reason: 'flag deceased' });

  // The journey's question a week later: not to the deceased, not to the do-not-contact customer.
  minutes(8 * 1440);
  await runJourneys(t.deps);
  const question = await queryRows<{ external_id: string; outcome: string; reason: string | null }>(
    t.deps.db,
    sql`
    select c.external_id, s.outcome, s.reason from journey_steps s join customers c on c.id = s.customer_id
    where s.journey_id = ${journey.id} and s.step = 2 order by c.id`,
  );
  const of = (externalId: string) => question.find((q) => q.external_id === externalId);
  assert.equal(question.filter((q) => q.outcome === 'sent').length, 28);
  assert.deepEqual(of(gone), { external_id: gone, outcome: 'suppressed', reason: 'flag deceased' });
  assert.deepEqual(of('D30'), { external_id: 'D30', outcome: 'suppressed', reason: 'flag do not contact' });
  assert.equal(mailTo(`${gone}@example.com`).length, 1, 'still only the confirmation');

  // A gift is refused too, with the flag named.
  const gift = await ok(
    t.call('POST', `/api/v1/customers/${deceased}/gestures`, { action: 'gift', giftValue: 10, reason: 'a thank-you' }),
    409,
  );
  assert.match(gift.error.message, /flagged deceased/);
  // And a survey invitation asked for by API: none, naming the flag.
  const invited = await ok(
    t.call('POST', '/api/v1/surveys/order/invitations', {
      invitations: [{ customerId: await idOf('D1') }, { customerId: deceased }],
    }),
    409,
  );
  assert.deepEqual(invited.error.details.issues, [
    { path: 'invitations.1.customerId', message: 'customer is flagged: deceased; no survey invitation' },
  ]);
});

test('a new address clears moved and the customer is mailable again; an older address does not', async () => {
  await customers('M', 2);
  const address = (id: string, customer: string, at: string, line1: string) => ({
    id,
    type: 'address.change',
    customer: { externalId: customer },
    at,
    address: { kind: 'postal', line1, city: 'Berlin', postalCode: '10115', country: 'DE' },
  });
  await ingest([
    address('M1-a1', 'M1', '2026-01-01T00:00:00Z', 'Alte Strasse 1'),
    address('M2-a1', 'M2', '2026-01-01T00:00:00Z', 'Alte Strasse 2'),
    ...['M1', 'M2'].map((c) => ({
      id: `${c}-moved`,
      type: 'status.change',
      customer: { externalId: c },
      at: '2026-03-01T00:00:00Z',
      flag: 'moved',
      active: true,
    })),
  ]);
  const segment = await segmentOf('M');
  const before = await campaign('Before the move', segment.id);
  await ok(t.call('POST', `/api/v1/campaigns/${before.id}/start`));
  await settleJobs();
  assert.deepEqual(await member(before.id, 'M1'), { status: 'suppressed', reason: 'flag moved' });

  await ingest([
    address('M1-a2', 'M1', '2026-05-20T00:00:00Z', 'Neue Strasse 5'),
    // M2's address correction dates from before the move was reported: older news, the flag stays.
    address('M2-a2', 'M2', '2026-02-01T00:00:00Z', 'Alte Strasse 2a'),
  ]);
  const m1 = await ok(t.call('GET', `/api/v1/customers/${await idOf('M1')}`));
  const m2 = await ok(t.call('GET', `/api/v1/customers/${await idOf('M2')}`));
  assert.deepEqual([m1.flags, m2.flags], [[], ['moved']]);
  const timeline = await ok(t.call('GET', `/api/v1/customers/${await idOf('M1')}/timeline?kind=status`));
  const cleared = timeline.entries.find((e: { title: string }) => e.title.startsWith('No longer moved'));
  assert.ok(cleared, JSON.stringify(timeline.entries));
  assert.equal(cleared.title, 'No longer moved: cleared by a new address (test)');
  assert.equal(cleared.detail.note, 'cleared by a new address (test)');
  assert.equal(cleared.at, '2026-05-20T00:00:00.000Z');

  minutes(1);
  const after = await campaign('After the move', segment.id);
  await ok(t.call('POST', `/api/v1/campaigns/${after.id}/start`));
  await settleJobs();
  assert.deepEqual(await member(after.id, 'M1'), { status: 'sent', reason: null });
  assert.deepEqual(await member(after.id, 'M2'), { status: 'suppressed', reason: 'flag moved' });
  assert.equal(mailTo('M1@example.com').length, 1);
});

test('with KEPT_NEW_ADDRESS_CLEARS=ask a new address keeps the flag and warns on the record', async () => {
  const base = loadConfig({}, { NODE_ENV: 'test', KEPT_NEW_ADDRESS_CLEARS: 'ask' });
  assert.equal(base.newAddressClears, 'ask');
  assert.throws(() => loadConfig({}, { NODE_ENV: 'test', KEPT_NEW_ADDRESS_CLEARS: 'maybe' }), /clear or ask/);
  // The same store, with the pipeline configured to ask.
  const asking = { deps: { ...t.deps, config: { ...t.deps.config, newAddressClears: 'ask' as const } } };
  const stored = await ingestEvents(
    asking.deps,
    [
      { id: 'a1', type: 'customer.upsert', customer: { externalId: 'A1' }, name: 'Ask Me' },
      {
        id: 'a2',
        type: 'status.change',
        customer: { externalId: 'A1' },
        at: '2026-03-01T00:00:00Z',
        flag: 'undeliverable',
        active: true,
      },
      {
        id: 'a3',
        type: 'address.change',
        customer: { externalId: 'A1' },
        at: '2026-04-01T00:00:00Z',
        address: { kind: 'postal', line1: 'Neue Strasse 9', city: 'Köln', country: 'DE' },
      },
    ],
    { source: 'test' },
  );
  assert.equal(stored.accepted, 3);
  const rows = await queryRows<{ flags: string[]; field: string; code: string; message: string; suggestion: null }>(
    asking.deps.db,
    sql`select c.flags, w.field, w.code, w.message, w.suggestion from customers c join record_warnings w on w.customer_id = c.id where c.external_id = 'A1' and w.code = 'address_review'`,
  );
  assert.deepEqual(rows, [
    {
      flags: ['undeliverable'],
      field: 'address',
      code: 'address_review',
      message: 'A new address arrived while the customer is marked undeliverable: check it and clear the flag',
      suggestion: null,
    },
  ]);
});

test('deceased is final: an event or file cannot clear it; in the record only an admin can, with a reason, audited', async () => {
  await customers('X', 1);
  const id = await idOf('X1');
  const agent = (await createApiKey(t.deps, 'agent', 'agent')).key;
  const set = await ok(flag(id, { flag: 'deceased', active: true, reason: 'Letter from the family' }, agent));
  assert.deepEqual(set, { flags: ['deceased'], changed: true });
  assert.deepEqual(await ok(flag(id, { flag: 'deceased', active: true, reason: 'again' }, agent)), {
    flags: ['deceased'],
    changed: false,
  });
  const stored = await ingestEvents(
    t.deps,
    [
      {
        id: 'x-undo',
        type: 'status.change',
        customer: { externalId: 'X1' },
        at: clock.toISOString(),
        flag: 'deceased',
        active: false,
      },
    ],
    { source: 'test' },
  );
  assert.equal(stored.results[0].status, 'rejected');
  assert.deepEqual(stored.results[0].errors, [
    { field: 'active', message: 'deceased is final: an admin clears it in the record, with a reason' },
  ]);
  const refused = await ok(flag(id, { flag: 'deceased', active: false, reason: 'a mistake' }, agent), 403);
  assert.match(refused.error.message, /deceased is final: only an admin clears it/);
  await ok(flag(id, { flag: 'deceased', active: false }), 400);
  await ok(flag(id, { flag: 'deceased', active: false, reason: '' }), 400);
  await ok(flag(id, { flag: 'gone', active: true, reason: 'x' }), 400);
  await ok(flag(999_999, { flag: 'moved', active: true, reason: 'x' }), 404);
  assert.ok([400, 404].includes((await t.call('POST', '/api/v1/customers/abc/flags', { flag: 'moved' })).status));

  const cleared = await ok(flag(id, { flag: 'deceased', active: false, reason: 'Wrong person: the namesake died' }));
  assert.deepEqual(cleared, { flags: [], changed: true });
  const record = await ok(t.call('GET', `/api/v1/customers/${id}`));
  assert.notEqual(record.stage, 'suppressed');
  assert.deepEqual(
    record.statusHistory.map((s: { flag: string; active: boolean; source: string; note: string }) => [
      s.active,
      s.source,
      s.note,
    ]),
    [
      [false, 'api', 'Wrong person: the namesake died'],
      [true, 'api', 'Letter from the family'],
    ],
  );
  const audited = await queryRows<{ actor: string; action: string; target: string; detail: unknown }>(
    t.deps.db,
    sql`select actor, action, target, detail from audit_log where action like 'customer.flag%' and target = ${`customer #${id}`} order by id`,
  );
  assert.deepEqual(audited, [
    {
      actor: 'key:agent',
      action: 'customer.flag_set',
      target: `customer #${id}`,
      detail: { flag: 'deceased', reason: 'Letter from the family' },
    },
    {
      actor: 'key:test',
      action: 'customer.flag_cleared',
      target: `customer #${id}`,
      detail: { flag: 'deceased', reason: 'Wrong person: the namesake died' },
    },
  ]);
});

test('one definition: what each flag stops, and a replacement by post becomes a call for a moved customer', async () => {
  assert.deepEqual(flagsStopping('transactional'), ['deceased']);
  assert.deepEqual(flagsStopping('marketing'), ['deceased', 'do_not_contact', 'moved', 'undeliverable']);
  assert.deepEqual(flagsStopping('survey'), ['deceased', 'do_not_contact']);
  assert.deepEqual(flagsStopping('worklist'), ['deceased', 'do_not_contact']);
  assert.equal(flagReason(['moved', 'deceased'], 'marketing'), 'flag deceased', 'the first in precedence names it');
  assert.equal(flagReason(['do_not_contact'], 'transactional'), null);
  assert.deepEqual(['DECEASED', 'Gone away', 'do not contact', 'RTS', 'maybe'].map(flagFromText), [
    'deceased',
    'moved',
    'do_not_contact',
    'undeliverable',
    null,
  ]);
  const facts: WorklistFacts = {
    stage: 'at_risk',
    pAlive: 0.3,
    pBuy90: 0.1,
    valueAtStake: 400,
    expectedOrderValue: 60,
    averageDaysBetween: 20,
    daysSinceOrder: 95,
    flags: ['moved'],
    openTicket: null,
    badExperience: { kind: 'wrong_item', orderId: 'O-3', daysAgo: 20 },
    unhappy: null,
    exitAnswer: null,
    problem: null,
    rule: null,
    uplift: null,
    upliftSource: null,
    incrementalValue: null,
  };
  const suggestion = suggest(facts, 25);
  assert.equal(suggestion.action, 'call');
  assert.match(suggestion.reason, /address flagged moved; call to apologise and confirm where to send the replacement/);
  assert.equal(suggest({ ...facts, flags: [] }, 25).action, 'apology_replacement');
});
