import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { startSmtpSink, type SmtpSink } from '../../test/smtp-sink.ts';
import { loadConfig } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { analyze } from '../analytics/analyze.service.ts';
import { runJourneys } from './journey.service.ts';

let t: TestApp;
let sink: SmtpSink;
let clock = new Date('2026-06-01T08:00:00Z');
const minutes = (n: number) => {
  clock = new Date(clock.getTime() + n * 60_000);
};
const days = (n: number) => minutes(n * 1440);

before(async () => {
  sink = await startSmtpSink();
  const base = loadConfig({}, { NODE_ENV: 'test' });
  t = await createTestApp('admin', {
    publicUrl: 'https://kept.example.com',
    mail: { ...base.mail, smtpUrl: sink.url, sendRate: 1000, leaseSeconds: 1 },
  });
  (t.deps.clock as { now: () => Date }).now = () => clock;
});
// Each test's journeys stop with it, so the next test's orders start only its own.
afterEach(() => t.deps.db.execute(sql`update journeys set status = 'paused'`));
after(async () => {
  await t.close();
  await sink.close();
});

const ok = expectJson;
const ingest = async (events: Record<string, unknown>[]) => {
  const stored = await ingestEvents(t.deps, events, { source: 'test' });
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
};
/** Customers with an email and, unless told otherwise, marketing consent. */
const customers = (prefix: string, n: number, consent = true) =>
  ingest(
    Array.from({ length: n }, (_, i) => [
      {
        id: `${prefix}u${i + 1}`,
        type: 'customer.upsert',
        customer: { externalId: `${prefix}${i + 1}`, email: `${prefix}${i + 1}@example.com`.toLowerCase() },
        name: `${prefix}${i + 1} Person`,
      },
      ...(consent
        ? [
            {
              id: `${prefix}k${i + 1}`,
              type: 'consent',
              customer: { externalId: `${prefix}${i + 1}` },
              at: '2026-01-01T00:00:00Z',
              granted: true,
            },
          ]
        : []),
    ]).flat(),
  );
const order = (customer: string, id: string, at = clock) => ({
  id: `order-${id}`,
  type: 'order',
  customer: { externalId: customer },
  orderId: id,
  at: at.toISOString(),
  lines: [{ product: 'Bath towel', category: 'towels', quantity: 2, amount: '40.00' }],
});
const mailTo = (address: string) => sink.messages.filter((m) => m.to === address.toLowerCase());
const journeyBody = (j: Record<string, unknown>, change: Record<string, unknown> = {}) => {
  const { name, description, trigger, entry, steps, exitOnOrder, exit, holdoutShare, consentList } = j;
  return { name, description, trigger, entry, steps, exitOnOrder, exit, holdoutShare, consentList, ...change };
};
const passes = (journeyId: number) =>
  queryRows<{ external_id: string; arm: string; status: string; reason: string | null; step: number }>(
    t.deps.db,
    sql`
  select c.external_id, e.arm, e.status, e.reason, e.step from journey_enrolments e join customers c on c.id = e.customer_id where e.journey_id = ${journeyId} order by e.id`,
  );
const stepsOf = (journeyId: number, customer: string) =>
  queryRows<{ step: number; outcome: string; reason: string | null }>(
    t.deps.db,
    sql`
  select s.step, s.outcome, s.reason from journey_steps s join customers c on c.id = s.customer_id where s.journey_id = ${journeyId} and c.external_id = ${customer} order by s.enrolment_id, s.step`,
  );
const header = (mail: { headerLines: readonly { key: string; line: string }[] }, name: string) =>
  mail.headerLines.find((h) => h.key === name)?.line.replace(/^[^:]+:\s*/, '');
const linkIn = (html: string, path: string) =>
  html.match(new RegExp(`https://kept\\.example\\.com(/${path}/[A-Za-z0-9_.-]+)`))?.[1];

test('order follow-up: a confirmation with a problem link that opens a ticket on the order, a week later one question; the holdout gets its confirmation (the message about the order itself) and no question; once at a time', async () => {
  await customers('F', 12);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/order_follow_up'), 201);
  assert.equal(recipe.status, 'draft');
  const journey = await ok(t.call('PUT', `/api/v1/journeys/${recipe.id}`, journeyBody(recipe, { holdoutShare: 0.5 })));
  await ingest([order('F12', 'OF-old', new Date(clock.getTime() - 3_600_000))]);
  minutes(1);
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  await ingest(Array.from({ length: 11 }, (_, i) => order(`F${i + 1}`, `OF${i + 1}`)));
  minutes(4);
  const round = await runJourneys(t.deps);
  assert.equal(round.entered, 11, 'the order before the journey was activated starts nothing');

  const entered = await passes(journey.id);
  const treated = entered.filter((p) => p.arm === 'journey');
  const held = entered.filter((p) => p.arm === 'control');
  assert.ok(treated.length > 0 && held.length > 0, `both arms: ${treated.length} treated, ${held.length} held out`);
  assert.equal(round.sent, entered.length, 'every order is confirmed, held out or not');
  for (const p of held) {
    const [mail, ...more] = mailTo(`${p.external_id}@example.com`);
    assert.equal(more.length, 0);
    assert.match(
      (await mail.parse()).subject!,
      /^Your order OF\d+ is confirmed$/,
      `${p.external_id} is in the holdout and still confirmed`,
    );
    assert.deepEqual(
      (await stepsOf(journey.id, p.external_id)).map((s) => s.outcome),
      ['sent'],
    );
  }
  const first = treated[0].external_id;
  const [confirmation] = mailTo(`${first}@example.com`);
  const parsed = await confirmation.parse();
  assert.equal(parsed.subject, `Your order O${first} is confirmed`);
  assert.match(parsed.text!, /2 × Bath towel/);
  assert.match(header(parsed, 'list-unsubscribe')!, /^<https:\/\/kept\.example\.com\/u\//);
  assert.equal(header(parsed, 'list-unsubscribe-post'), 'List-Unsubscribe=One-Click');

  // The problem link opens a ticket tied to this order.
  const problem = linkIn(String(parsed.html), 's');
  assert.ok(problem, 'a problem link in the confirmation');
  const form = await t.app.request(problem!);
  assert.equal(form.status, 200);
  assert.match(await form.text(), /What went wrong\?/);
  const sent = await t.app.request(problem!, {
    method: 'POST',
    body: new URLSearchParams({ category: 'wrong_item', details: 'The towels are blue, I ordered white' }),
  });
  assert.equal(sent.status, 200);
  const [ticket] = await queryRows<{ order: string; category: string; status: string }>(
    t.deps.db,
    sql`
    select o.external_id as order, t.category, t.status from tickets t join customers c on c.id = t.customer_id join orders o on o.customer_id = t.customer_id and o.id = t.order_id
    where c.external_id = ${first}`,
  );
  assert.deepEqual(ticket, { order: `O${first}`, category: 'wrong_item', status: 'open' });

  // A second order while the first pass waits: confirmed too (every order is), and nothing more.
  minutes(10);
  await ingest([order(first, `O${first}-2`)]);
  minutes(1);
  const second = await runJourneys(t.deps);
  assert.deepEqual([second.entered, second.skipped, second.sent], [0, 1, 1]);
  const again = (await passes(journey.id)).filter((p) => p.external_id === first);
  assert.deepEqual(
    again.map((p) => [p.status, p.reason, p.step]),
    [
      ['active', null, 2],
      ['skipped', 'already in the journey: confirmed only', 1],
    ],
  );
  assert.equal((await mailTo(`${first}@example.com`)[1].parse()).subject, `Your order O${first}-2 is confirmed`);
  // A held-out customer's second order is confirmed as well.
  const heldFirst = held[0].external_id;
  await ingest([order(heldFirst, `O${heldFirst}-2`)]);
  minutes(1);
  assert.equal((await runJourneys(t.deps)).sent, 1);
  assert.equal(
    (await mailTo(`${heldFirst}@example.com`)[1].parse()).subject,
    `Your order O${heldFirst}-2 is confirmed`,
  );

  // A week later: the one-question survey; a score clicked in the mail arrives chosen.
  days(7);
  const later = await runJourneys(t.deps);
  assert.equal(later.sent, treated.length);
  const survey = await mailTo(`${first}@example.com`)[2].parse();
  assert.equal(survey.subject, `How was your order O${first}?`);
  const scoreLink = String(survey.html).match(/https:\/\/kept\.example\.com(\/s\/[A-Za-z0-9_-]+\?satisfied=4)/)?.[1];
  assert.ok(scoreLink, 'one link per score');
  assert.match(await (await t.app.request(scoreLink!)).text(), /value="4" aria-label="4" checked/);
  const done = await passes(journey.id);
  assert.deepEqual([...new Set(done.filter((p) => p.status !== 'skipped').map((p) => p.status))], ['completed']);
  for (const p of treated)
    assert.equal(
      mailTo(`${p.external_id}@example.com`).length,
      p.external_id === first ? 3 : 2,
      `${p.external_id}: a confirmation per order and one survey`,
    );
  for (const p of held) {
    const twice = p.external_id === heldFirst;
    assert.equal(mailTo(`${p.external_id}@example.com`).length, twice ? 2 : 1, `${p.external_id}: confirmations only`);
    assert.deepEqual(
      (await stepsOf(journey.id, p.external_id)).map((s) => s.outcome),
      twice ? ['sent', 'held out', 'sent'] : ['sent', 'held out'],
    );
  }

  // Measured like a campaign: every pass from when it entered; each arm's second order counts for it.
  const report = await ok(t.call('GET', `/api/v1/journeys/${journey.id}/report?days=30`));
  assert.equal(report.holdout.members, held.length);
  assert.equal(report.arms[0].members, treated.length);
  assert.equal(report.arms[0].sent, treated.length);
  assert.equal(
    report.arms[0].purchase.treated,
    Number((1 / treated.length).toPrecision(6)),
    'one of the treated ordered again',
  );
  assert.equal(report.holdout.buyers, 1, 'one held-out customer ordered again');
  assert.equal(report.observedDays, 7);
});

test('a journey mail is sent at most once through a crash between SMTP and confirmation and two workers at once', async () => {
  await customers('W', 10);
  const [{ id: templateId }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`insert into templates (name, subject, body, created_by, created_at, updated_at)
    values ('Thanks', 'Thank you {{ customer.first_name }}', '<p>Thanks for order {{ order.id }}</p>', 'test', now(), now()) returning id`,
  );
  const journey = await ok(
    t.call('POST', '/api/v1/journeys', {
      name: 'Thank-you',
      trigger: { type: 'order' },
      holdoutShare: 0,
      entry: {
        match: 'all',
        conditions: [
          { field: 'email', op: 'contains', value: '@example.com' },
          { field: 'external_id', op: 'starts_with', value: 'W' },
        ],
      },
      steps: [
        { type: 'email', templateId },
        { type: 'wait', days: 1 },
        { type: 'email', templateId },
      ],
    }),
    201,
  );
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  await ingest(Array.from({ length: 10 }, (_, i) => order(`W${i + 1}`, `OW${i + 1}`)));
  minutes(1);
  const [{ id: w3 }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`select id from customers where external_id = 'W3'`,
  );
  await assert.rejects(
    runJourneys(t.deps, {
      worker: 'crashing',
      afterAccept: (id) => {
        if (id === w3) throw new Error('killed after SMTP accepted');
      },
    }),
    /killed/,
  );
  assert.equal(mailTo('w3@example.com').length, 1, 'SMTP took it before the crash');
  minutes(1);
  await Promise.all([runJourneys(t.deps, { worker: 'one' }), runJourneys(t.deps, { worker: 'two' })]);
  for (let i = 1; i <= 10; i++) assert.equal(mailTo(`w${i}@example.com`).length, 1, `W${i} got the first mail once`);
  assert.deepEqual(
    (await stepsOf(journey.id, 'W3')).map((s) => s.outcome),
    ['unknown'],
  );
  days(1);
  minutes(1);
  await Promise.all([runJourneys(t.deps, { worker: 'one' }), runJourneys(t.deps, { worker: 'two' })]);
  for (let i = 1; i <= 10; i++) assert.equal(mailTo(`w${i}@example.com`).length, 2, `W${i} got the second mail once`);
  assert.deepEqual(
    (await stepsOf(journey.id, 'W3')).map((s) => s.outcome),
    ['unknown', 'sent'],
    'the journey goes on after an unknown step',
  );
});

test('service recovery: a wrong item makes a task for an agent and an apology; done, it counts as a follow-up', async () => {
  await customers('S', 1, false);
  await ingest([order('S1', 'OS1')]);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/service_recovery'), 201);
  const journey = await ok(t.call('PUT', `/api/v1/journeys/${recipe.id}`, journeyBody(recipe, { holdoutShare: 0 })));
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  await ingest([
    {
      id: 'incident-S1',
      type: 'incident',
      customer: { externalId: 'S1' },
      at: clock.toISOString(),
      kind: 'wrong_item',
      orderId: 'OS1',
    },
  ]);
  minutes(1);
  await runJourneys(t.deps);
  const { tasks } = await ok(t.call('GET', '/api/v1/tasks'));
  const task = tasks.find((k: { email: string }) => k.email === 's1@example.com');
  assert.deepEqual(
    [task.action, task.title, task.reason, task.orderId, task.source],
    ['apology_replacement', 'Put it right and apologise', 'Service recovery: wrong item', 'OS1', 'journey'],
  );
  const [apology] = mailTo('s1@example.com');
  assert.ok(apology, 'the apology is about their order: it needs no marketing consent');
  assert.match(String((await apology.parse()).html), /We let you down \(wrong item\)/);
  const missed = async () =>
    (await ok(t.call('GET', '/api/v1/recovery?days=0'))).customers.filter(
      (m: { customerId: number }) => m.customerId === task.customerId,
    ).length;
  assert.equal(await missed(), 1, 'nobody has followed up yet');
  await ok(t.call('POST', `/api/v1/tasks/${task.id}/done`, { outcome: 'Called; a white set is on its way' }));
  await ok(t.call('POST', `/api/v1/tasks/${task.id}/done`, { outcome: 'again' }), 404);
  const { tasks: finished } = await ok(t.call('GET', `/api/v1/tasks?status=done&customerId=${task.customerId}`));
  assert.deepEqual(
    finished.map((k: { outcome: string; doneBy: string }) => k.outcome),
    ['Called; a white set is on its way'],
  );
  assert.equal(await missed(), 0, 'the done task is the follow-up');
});

test('has it arrived?: a day after the carrier delivers, a question about the order with a problem link; a delayed or failed delivery starts service recovery', async () => {
  await customers('D', 3, false);
  const arrived = await ok(t.call('POST', '/api/v1/journeys/recipes/delivery_check'), 201);
  assert.deepEqual(arrived.trigger, { type: 'delivery', statuses: ['delivered'] });
  await ok(t.call('PUT', `/api/v1/journeys/${arrived.id}`, journeyBody(arrived, { holdoutShare: 0 })));
  await ok(t.call('POST', `/api/v1/journeys/${arrived.id}/activate`));
  const recovery = await ok(t.call('POST', '/api/v1/journeys/recipes/service_recovery'), 201);
  assert.ok(recovery.trigger.sources.includes('delivery'));
  await ok(t.call('PUT', `/api/v1/journeys/${recovery.id}`, journeyBody(recovery, { holdoutShare: 0 })));
  await ok(t.call('POST', `/api/v1/journeys/${recovery.id}/activate`));
  minutes(1);
  await ingest([order('D1', 'OD1'), order('D2', 'OD2'), order('D3', 'OD3')]);
  minutes(60);
  const delivery = (customer: string, status: string) => ({
    id: `delivery-${customer}-${status}`,
    type: 'delivery',
    customer: { externalId: customer },
    orderId: `O${customer}`,
    at: clock.toISOString(),
    status,
    carrier: 'DHL',
  });
  await ingest([delivery('D1', 'delivered'), delivery('D2', 'delayed'), delivery('D3', 'failed')]);
  minutes(1);
  await runJourneys(t.deps);
  assert.equal(mailTo('d1@example.com').length, 0, 'the question waits a day');
  const sorry = await mailTo('d2@example.com')[0].parse();
  assert.match(String(sorry.html), /We let you down \(delivery delayed \(DHL\)\)/);
  assert.equal(mailTo('d3@example.com').length, 1, 'a failed delivery: an apology');
  const { tasks } = await ok(t.call('GET', '/api/v1/tasks'));
  assert.deepEqual(
    tasks
      .filter((k: { email: string }) => k.email.startsWith('d'))
      .map((k: { email: string; reason: string; orderId: string }) => [k.email, k.reason, k.orderId])
      .sort(),
    [
      ['d2@example.com', 'Service recovery: delivery delayed (DHL)', 'OD2'],
      ['d3@example.com', 'Service recovery: delivery failed (DHL)', 'OD3'],
    ],
  );
  days(1);
  await runJourneys(t.deps);
  const [question, ...more] = mailTo('d1@example.com');
  assert.equal(more.length, 0);
  const parsed = await question.parse();
  assert.equal(parsed.subject, 'Has your order OD1 arrived?', 'transactional: sent without marketing consent');
  assert.match(parsed.text!, /2 × Bath towel/);
  assert.ok(linkIn(String(parsed.html), 's'), 'a problem link');
  const timeline = await ok(t.call('GET', `/api/v1/customers/${tasks[0].customerId}/timeline?kind=delivery`));
  assert.deepEqual(
    timeline.entries.map((e: { title: string }) => e.title),
    [`Delivery ${tasks[0].email === 'd2@example.com' ? 'delayed' : 'failed'} (DHL)`],
  );
});

test('second-purchase nudge: waits for the expected next order, leaves when the customer orders, respects consent', async () => {
  await customers('N', 2);
  await customers('M', 1, false);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/second_purchase'), 201);
  const journey = await ok(t.call('PUT', `/api/v1/journeys/${recipe.id}`, journeyBody(recipe, { holdoutShare: 0 })));
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  await ingest([order('N1', 'ON1'), order('N2', 'ON2'), order('M1', 'OM1')]);
  minutes(1);
  assert.equal((await runJourneys(t.deps)).entered, 3, 'a first order makes a trial user');
  days(10);
  await ingest([order('N2', 'ON2-b')]);
  days(36);
  await runJourneys(t.deps);
  const result = await passes(journey.id);
  assert.deepEqual(
    result.map((p) => [p.external_id, p.status, p.reason]),
    [
      ['N1', 'completed', null],
      ['N2', 'exited', 'ordered again (order ON2-b)'],
      ['M1', 'completed', null],
    ],
  );
  assert.equal((await mailTo('n1@example.com')[0].parse()).subject, 'N1, something for your next order');
  assert.equal(mailTo('n2@example.com').length, 0);
  assert.deepEqual(
    (await stepsOf(journey.id, 'M1')).map((s) => [s.outcome, s.reason]),
    [
      ['passed', null],
      ['suppressed', 'no consent on record'],
    ],
  );
});

test('second-purchase nudge timed by the latest analysis: the wait ends a week after the expected next order', async () => {
  // Repeat buyers for the models to fit on, then a journey, then a first order, then the analysis.
  await customers('P', 30);
  const history: Record<string, unknown>[] = [];
  for (let i = 2; i <= 30; i++) {
    for (let k = 0; k < 1 + (i % 5); k++)
      history.push(
        order(`P${i}`, `OP${i}-${k}`, new Date(Date.parse('2025-06-01T10:00:00Z') + (k * 40 + i) * 86_400_000)),
      );
  }
  await ingest(history);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/second_purchase'), 201);
  const journey = await ok(t.call('PUT', `/api/v1/journeys/${recipe.id}`, journeyBody(recipe, { holdoutShare: 0 })));
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  await ingest([order('P1', 'OP1')]);
  minutes(1);
  await analyze(t.deps, { asOf: clock.toISOString().slice(0, 10) });
  await runJourneys(t.deps);
  const [row] = await queryRows<{ expected: string | null; next_at: string }>(
    t.deps.db,
    sql`
    select s.next_order_date::text as expected, e.next_at from journey_enrolments e join customers c on c.id = e.customer_id
      join analysis_runs r on r.current and r.status = 'done' join scores s on s.run_id = r.id and s.customer_id = c.id
    where e.journey_id = ${journey.id} and c.external_id = 'P1'`,
  );
  assert.ok(row?.expected, 'the analysis expects a next order');
  assert.equal(
    new Date(row.next_at).toISOString(),
    new Date(Date.parse(`${row.expected}T00:00:00Z`) + 7 * 86_400_000).toISOString(),
  );
  assert.notEqual(new Date(row.next_at).getTime(), clock.getTime() + 45 * 86_400_000, 'not the fallback');
});

test('win-back: an unsubscribe between the two mails stops the second; journey mails count toward the frequency cap', async () => {
  await customers('R', 1);
  await ingest([
    order('R1', 'OR1', new Date('2026-01-05T10:00:00Z')),
    order('R1', 'OR1b', new Date('2026-02-05T10:00:00Z')),
  ]);
  const recipe = await ok(t.call('POST', '/api/v1/journeys/recipes/win_back'), 201);
  const journey = await ok(t.call('PUT', `/api/v1/journeys/${recipe.id}`, journeyBody(recipe, { holdoutShare: 0 })));
  await ok(t.call('POST', `/api/v1/journeys/${journey.id}/activate`));
  minutes(1);
  // What an analysis writes when the customer's activity drops.
  await t.deps.db.execute(sql`insert into lifecycle_changes (customer_id, from_stage, to_stage, at, cause)
    select id, 'customer', 'at_risk', ${clock.toISOString()}::timestamptz, 'probability still active fell to 0.31' from customers where external_id = 'R1'`);
  minutes(1);
  await runJourneys(t.deps);
  const [first] = mailTo('r1@example.com');
  const parsed = await first.parse();
  assert.equal(parsed.subject, 'We miss you, R1');
  const [{ id }] = await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = 'R1'`);
  assert.equal((await ok(t.call('GET', `/api/v1/customers/${id}/pace`))).marketing.sent, 1);
  const unsubscribe = header(parsed, 'list-unsubscribe')!.match(/https:\/\/kept\.example\.com(\/u\/[^>]+)/)![1];
  assert.equal(
    (
      await t.app.request(unsubscribe, {
        method: 'POST',
        body: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
    ).status,
    200,
  );
  days(15);
  await runJourneys(t.deps);
  assert.equal(mailTo('r1@example.com').length, 1);
  assert.deepEqual(
    (await stepsOf(journey.id, 'R1')).map((s) => [s.outcome, s.reason]),
    [
      ['sent', null],
      ['suppressed', 'unsubscribed'],
    ],
  );
});

test('a journey that names what does not exist is refused with the path of each problem', async () => {
  const refused = await ok(
    t.call('POST', '/api/v1/journeys', {
      name: 'Broken',
      trigger: { type: 'stage', stage: 'lapsed' },
      entry: { match: 'all', conditions: [{ field: 'attribute', key: 'shoe_size', op: 'is', value: '9' }] },
      steps: [{ type: 'email', templateId: 999_999, survey: 'nope', problemLink: true }],
    }),
    400,
  );
  const paths = refused.error.details.issues.map((i: { path: string }) => i.path);
  assert.deepEqual(paths, ['entry.conditions.0.key', 'steps.0.templateId', 'steps.0.survey', 'steps.0.problemLink']);
  const unknown = await ok(t.call('POST', '/api/v1/journeys/recipes/nope'), 404);
  assert.match(
    unknown.error.message,
    /order_follow_up, service_recovery, delivery_check, second_purchase, win_back, exit_survey/,
  );
  const { journeys, recipes } = await ok(t.call('GET', '/api/v1/journeys'));
  assert.equal(recipes.length, 6);
  assert.ok(journeys.every((j: { name: string }) => j.name !== 'Broken'));
  assert.ok(
    !(await ok(t.call('GET', '/api/v1/campaigns'))).campaigns.some((c: { kind: string }) => c.kind === 'journey'),
    'journeys are not listed as campaigns',
  );
});
