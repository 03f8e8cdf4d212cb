// The experiences catalogue, rebuilt from facts sent through the events pipeline: each definition,
// first and repeated, followed up or not, its thresholds, the timeline, segments and merges.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import type { ExperiencesConfig } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { experienceCatalogue, experienceCounts, incidentKinds, refreshExperiences } from './index.ts';

let t: TestApp;
const now = new Date('2026-03-01T12:00:00Z');
const defaults: ExperiencesConfig = {
  slowResponseHours: 24,
  unresolvedDays: 7,
  lowScore: 2,
  lowNps: 6,
  followUpDays: 2,
};
const who = (externalId: string) => ({ externalId });
const order = (customer: string, orderId: string, at: string) => ({
  id: `o-${orderId}`,
  type: 'order',
  customer: who(customer),
  orderId,
  at,
  lines: [{ product: 'Bath towel', amount: '24.00' }],
});
const idOf = async (externalId: string) =>
  Number(
    (await queryRows<{ id: number }>(t.deps.db, sql`select id from customers where external_id = ${externalId}`))[0].id,
  );

before(async () => {
  t = await createTestApp('admin');
  (t.deps.clock as { now: () => Date }).now = () => now;
  const stored = await ingestEvents(
    t.deps,
    [
      // A: a late delivery followed up by an agent's note a day later, then another nobody followed up.
      order('A', 'OA1', '2026-01-05T10:00:00Z'),
      {
        id: 'a-late-1',
        type: 'incident',
        customer: who('A'),
        at: '2026-01-08T10:00:00Z',
        kind: 'late_delivery',
        orderId: 'OA1',
      },
      {
        id: 'a-note',
        type: 'note',
        customer: who('A'),
        at: '2026-01-09T10:00:00Z',
        body: 'Called about the parcel',
        author: 'sam',
        feeling: 1,
      },
      { id: 'a-late-2', type: 'incident', customer: who('A'), at: '2026-02-10T10:00:00Z', kind: 'late_delivery' },
      // After "now": not yet an experience.
      { id: 'a-late-3', type: 'incident', customer: who('A'), at: '2026-03-05T10:00:00Z', kind: 'late_delivery' },
      // B: a damaged towel, told by an incident and by its return: one experience.
      order('B', 'OB1', '2026-01-10T10:00:00Z'),
      {
        id: 'b-damaged',
        type: 'incident',
        customer: who('B'),
        at: '2026-01-14T10:00:00Z',
        kind: 'damaged',
        orderId: 'OB1',
      },
      {
        id: 'b-return',
        type: 'return',
        customer: who('B'),
        returnId: 'RB1',
        orderId: 'OB1',
        at: '2026-01-15T10:00:00Z',
        product: 'Bath towel',
        amount: '24.00',
        reasonCode: 'damaged',
      },
      {
        id: 'b-return-2',
        type: 'return',
        customer: who('B'),
        returnId: 'RB2',
        at: '2026-02-01T10:00:00Z',
        product: 'Mug',
        amount: '8.00',
        reasonCode: 'not_needed',
      },
      // C: a ticket first answered after 30 hours, resolved on day 2.
      {
        id: 'c-t',
        type: 'ticket.opened',
        customer: who('C'),
        ticketId: 'TC1',
        at: '2026-02-01T09:00:00Z',
        subject: 'Where is it?',
      },
      {
        id: 'c-u',
        type: 'ticket.updated',
        customer: who('C'),
        ticketId: 'TC1',
        at: '2026-02-02T15:00:00Z',
        status: 'pending',
        note: 'Looking into it',
      },
      {
        id: 'c-r',
        type: 'ticket.resolved',
        customer: who('C'),
        ticketId: 'TC1',
        at: '2026-02-03T09:00:00Z',
        outcome: 'resolved',
      },
      // D: a ticket nobody answered, still open after 11 days.
      {
        id: 'd-t',
        type: 'ticket.opened',
        customer: who('D'),
        ticketId: 'TD1',
        at: '2026-02-18T10:00:00Z',
        category: 'billing',
      },
      // E: a CSAT of 1 and an NPS of 3 (low), a CSAT of 3 and an NPS of 8 (not).
      ...(
        [
          ['order', 1, '2026-02-05T10:00:00Z'],
          ['order', 3, '2026-02-06T10:00:00Z'],
          ['nps', 3, '2026-02-20T10:00:00Z'],
          ['nps', 8, '2026-02-21T10:00:00Z'],
        ] as const
      ).map(([survey, score, at], i) => ({
        id: `e-s${i}`,
        type: 'survey.response',
        customer: who('E'),
        at,
        survey,
        question: survey === 'nps' ? 'Recommend us?' : 'How was your order?',
        score,
      })),
      // F: very upset, then a gift (below).
      {
        id: 'f-note',
        type: 'note',
        customer: who('F'),
        at: '2026-02-12T10:00:00Z',
        body: 'Very upset about the delay',
        author: 'sam',
        feeling: -2,
      },
      // G: complained about our mail; an offer by mail; an incident of a kind the catalogue does not name.
      {
        id: 'g-complaint',
        type: 'touchpoint',
        customer: who('G'),
        at: '2026-02-22T10:00:00Z',
        channel: 'email',
        direction: 'in',
        kind: 'email_complaint',
        campaign: 'February news',
      },
      {
        id: 'g-offer',
        type: 'touchpoint',
        customer: who('G'),
        at: '2026-02-25T10:00:00Z',
        channel: 'direct_mail',
        direction: 'out',
        kind: 'offer',
      },
      { id: 'g-pay', type: 'incident', customer: who('G'), at: '2026-02-26T10:00:00Z', kind: 'payment_failed' },
      // H1 and H2: one person twice, each with a late delivery.
      { id: 'h1', type: 'incident', customer: who('H1'), at: '2026-02-02T10:00:00Z', kind: 'late_delivery' },
      { id: 'h2', type: 'incident', customer: who('H2'), at: '2026-02-03T10:00:00Z', kind: 'late_delivery' },
    ],
    { source: 'test' },
  );
  assert.deepEqual(
    stored.results.filter((r) => r.status !== 'accepted'),
    [],
  );
  // Worklist decisions and journey tasks have no event: written as the worklist and journeys write them.
  const [b, f, g, a] = [await idOf('B'), await idOf('F'), await idOf('G'), await idOf('A')];
  await t.deps.db.execute(sql`
    insert into worklist_decisions (customer_id, suggested_action, suggestion_reason, decision, action, gift_value, agent, decided_at, needs_approval, approved_by, approved_at)
    values (${f}, 'call', 'felt very upset', 'changed', 'gift', 10, 'sam', '2026-02-13T10:00:00Z', false, null, null),
      (${b}, 'gift', 'worth a lot', 'accepted', 'gift', 40, 'sam', '2026-01-20T10:00:00Z', true, null, null),
      (${g}, 'gift', 'worth a lot', 'accepted', 'gift', 60, 'kim', '2026-02-26T12:00:00Z', true, 'lee', '2026-02-27T09:00:00Z')`);
  await t.deps.db.execute(sql`
    insert into tasks (customer_id, action, title, reason, source, created_at, due_at, status, done_by, done_at)
    values (${g}, 'gift', 'Send flowers', 'journey', 'journey', '2026-02-27T10:00:00Z', '2026-02-28T10:00:00Z', 'done', 'kim', '2026-02-28T10:00:00Z')`);
  const [{ id: campaign }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`
    insert into campaigns (name, kind, channel, arms, holdout_share, consent_list, time_zone, status, created_by, created_at)
    values ('Spring offer', 'offer', 'email', '[]'::jsonb, 0.1, 'marketing', 'UTC', 'done', 'test', '2026-02-20T00:00:00Z') returning id`,
  );
  await t.deps.db.execute(sql`
    insert into campaign_members (campaign_id, customer_id, arm, status, assigned_at, sent_at)
    values (${campaign}, ${g}, 'a', 'sent', '2026-02-20T00:00:00Z', '2026-02-20T08:00:00Z'),
      (${campaign}, ${a}, 'control', 'holdout', '2026-02-20T00:00:00Z', null)`);
});
after(async () => {
  await t.close();
});

type Row = [
  customer: string,
  kind: string,
  at: string,
  occurrence: number,
  detail: string,
  followedUpAt: string | null,
];
const rows = async (): Promise<Row[]> =>
  (
    await queryRows<{
      customer: string;
      kind: string;
      at: string | Date;
      occurrence: number;
      detail: string;
      followed_up_at: string | Date | null;
    }>(
      t.deps.db,
      sql`
    select c.external_id as customer, e.kind, e.at, e.occurrence, e.detail, e.followed_up_at
    from experiences e join customers c on c.id = e.customer_id order by c.external_id, e.at, e.kind`,
    )
  ).map((r) => [
    r.customer,
    r.kind,
    new Date(r.at).toISOString(),
    r.occurrence,
    r.detail,
    r.followed_up_at === null ? null : new Date(r.followed_up_at).toISOString(),
  ]);

test('each definition yields its dated occurrences, first then repeated, followed up or not', async () => {
  const counts = await refreshExperiences(t.deps.db, now, { experiences: defaults });
  assert.deepEqual(await rows(), [
    ['A', 'late_delivery', '2026-01-08T10:00:00.000Z', 1, 'late delivery on order OA1', '2026-01-09T10:00:00.000Z'],
    ['A', 'late_delivery', '2026-02-10T10:00:00.000Z', 2, 'late delivery', null],
    // The decision about B (a gift waiting for approval, so not yet a gift) is the follow-up.
    ['B', 'wrong_or_damaged_item', '2026-01-14T10:00:00.000Z', 1, 'damaged on order OB1', '2026-01-20T10:00:00.000Z'],
    ['B', 'return', '2026-02-01T10:00:00.000Z', 1, 'returned Mug (not needed)', null],
    ['C', 'ticket_opened', '2026-02-01T09:00:00.000Z', 1, 'ticket TC1 (Where is it?) opened', null],
    [
      'C',
      'slow_first_response',
      '2026-02-02T09:00:00.000Z',
      1,
      'ticket TC1 (Where is it?): no reply within 24 hours (first reply after 30 hours)',
      null,
    ],
    ['D', 'ticket_opened', '2026-02-18T10:00:00.000Z', 1, 'ticket TD1 (billing) opened', null],
    [
      'D',
      'slow_first_response',
      '2026-02-19T10:00:00.000Z',
      1,
      'ticket TD1 (billing): no reply within 24 hours (not answered yet)',
      null,
    ],
    ['D', 'ticket_unresolved', '2026-02-25T10:00:00.000Z', 1, 'ticket TD1 (billing) still open after 7 days', null],
    ['E', 'low_survey_score', '2026-02-05T10:00:00.000Z', 1, 'scored 1 in survey order (How was your order?)', null],
    ['E', 'low_survey_score', '2026-02-20T10:00:00.000Z', 2, 'scored 3 in survey nps (Recommend us?)', null],
    [
      'F',
      'negative_feeling',
      '2026-02-12T10:00:00.000Z',
      1,
      'felt very upset, noted by sam',
      '2026-02-13T10:00:00.000Z',
    ],
    ['F', 'gift_received', '2026-02-13T10:00:00.000Z', 1, 'gift worth 10.00 from sam', null],
    ['G', 'offer_received', '2026-02-20T08:00:00.000Z', 1, 'offer in campaign Spring offer by email', null],
    // The gift decision (decided on the 26th) is its follow-up.
    [
      'G',
      'mail_complaint',
      '2026-02-22T10:00:00.000Z',
      1,
      'complained about our mail (February news)',
      '2026-02-26T12:00:00.000Z',
    ],
    ['G', 'offer_received', '2026-02-25T10:00:00.000Z', 2, 'offer by direct mail', null],
    ['G', 'payment_failed', '2026-02-26T10:00:00.000Z', 1, 'payment failed', '2026-02-26T12:00:00.000Z'],
    ['G', 'gift_received', '2026-02-27T09:00:00.000Z', 1, 'gift worth 60.00 from kim, approved by lee', null],
    ['G', 'gift_received', '2026-02-28T10:00:00.000Z', 2, 'gift: Send flowers, done by kim', null],
    ['H1', 'late_delivery', '2026-02-02T10:00:00.000Z', 1, 'late delivery', null],
    ['H2', 'late_delivery', '2026-02-03T10:00:00.000Z', 1, 'late delivery', null],
  ]);
  assert.deepEqual(counts, {
    gift_received: 3,
    late_delivery: 4,
    low_survey_score: 2,
    mail_complaint: 1,
    negative_feeling: 1,
    offer_received: 2,
    payment_failed: 1,
    return: 1,
    slow_first_response: 2,
    ticket_opened: 2,
    ticket_unresolved: 1,
    wrong_or_damaged_item: 1,
  });
  const late = (await experienceCounts(t.deps.db)).find((c) => c.kind === 'late_delivery');
  assert.deepEqual(late, { kind: 'late_delivery', occurrences: 4, customers: 3, first: 3, repeated: 1 });
  // Rebuilt, not added to: the same again.
  assert.deepEqual(await refreshExperiences(t.deps.db, now, { experiences: defaults }), counts);
});

test('the thresholds come from the configuration and change what counts', async () => {
  await refreshExperiences(t.deps.db, now, {
    experiences: { ...defaults, slowResponseHours: 48, unresolvedDays: 14, lowScore: 1, lowNps: 2 },
  });
  const tickets = (await rows()).filter(([, kind]) =>
    ['slow_first_response', 'ticket_unresolved', 'low_survey_score'].includes(kind),
  );
  assert.deepEqual(tickets, [
    [
      'D',
      'slow_first_response',
      '2026-02-20T10:00:00.000Z',
      1,
      'ticket TD1 (billing): no reply within 48 hours (not answered yet)',
      null,
    ],
    ['E', 'low_survey_score', '2026-02-05T10:00:00.000Z', 1, 'scored 1 in survey order (How was your order?)', null],
  ]);

  const catalogue = experienceCatalogue(
    { experiences: { ...defaults, slowResponseHours: 48 } },
    await incidentKinds(t.deps.db),
  );
  assert.deepEqual(
    catalogue.map((k) => [k.kind, k.valence]),
    [
      ['late_delivery', 'problem'],
      ['wrong_or_damaged_item', 'problem'],
      ['return', 'problem'],
      ['portal_abandoned', 'problem'],
      ['ticket_opened', 'problem'],
      ['slow_first_response', 'problem'],
      ['ticket_unresolved', 'problem'],
      ['low_survey_score', 'problem'],
      ['negative_feeling', 'problem'],
      ['mail_complaint', 'problem'],
      ['gift_received', 'gesture'],
      ['offer_received', 'gesture'],
      ['payment_failed', 'problem'],
    ],
  );
  assert.match(
    catalogue.find((k) => k.kind === 'slow_first_response')!.definition,
    /within 48 hours .*KEPT_SLOW_RESPONSE_HOURS/,
  );
  assert.equal(catalogue.at(-1)!.label, 'Payment failed');
});

test('the timeline tells each experience, first or how many times, followed up or not', async () => {
  await refreshExperiences(t.deps.db, now, { experiences: defaults });
  const a = await idOf('A');
  const { entries } = await expectJson(t.call('GET', `/api/v1/customers/${a}/timeline?kind=experience`));
  assert.deepEqual(
    entries.map((e: { title: string; at: string }) => [e.at, e.title]),
    [
      ['2026-02-10T10:00:00.000Z', 'Experience: late delivery (2nd time), not followed up'],
      ['2026-01-08T10:00:00.000Z', 'Experience: late delivery (first), followed up'],
    ],
  );
  assert.deepEqual(entries[1].detail, {
    kind: 'late_delivery',
    occurrence: 1,
    valence: 'problem',
    followedUpAt: '2026-01-09T10:00:00+00:00',
    detail: 'late delivery on order OA1',
    source: 'incident',
    orderId: 'OA1',
  });
  const f = await idOf('F');
  const gift = await expectJson(t.call('GET', `/api/v1/customers/${f}/timeline?kind=experience`));
  assert.deepEqual(
    gift.entries.map((e: { title: string }) => e.title),
    ['Experience: gift received (first)', 'Experience: negative feeling (first), followed up'],
  );
});

test('a segment counts experiences by kind, first or repeated, unfollowed problems, in a window', async () => {
  await refreshExperiences(t.deps.db, now, { experiences: defaults });
  const matching = async (condition: Record<string, unknown>) => {
    const body = await expectJson(
      t.call('POST', '/api/v1/segments/preview', { rule: { match: 'all', conditions: [condition] } }),
    );
    return body.sample
      .map((m: { externalId: string }) => m.externalId)
      .sort()
      .join(' ');
  };
  const cases: [Record<string, unknown>, string][] = [
    [{ field: 'experiences', op: 'at_least', value: 1, filter: 'late_delivery' }, 'A H1 H2'],
    [{ field: 'experiences', op: 'at_least', value: 2, filter: 'LATE_DELIVERY' }, 'A'],
    [{ field: 'experiences', op: 'at_least', value: 1, key: 'repeated' }, 'A E G'],
    [{ field: 'experiences', op: 'at_least', value: 1, key: 'unfollowed', filter: 'late_delivery' }, 'A H1 H2'],
    [{ field: 'experiences', op: 'at_least', value: 1, key: 'unfollowed', filter: 'late_delivery', days: 20 }, 'A'],
    [{ field: 'experiences', op: 'at_least', value: 1, key: 'first', filter: 'gift_received', days: 20 }, 'F G'],
    [{ field: 'experiences', op: 'exactly', value: 3, filter: 'ticket_opened' }, ''],
    [{ field: 'experiences', op: 'at_least', value: 3 }, 'D G'],
  ];
  for (const [condition, expected] of cases)
    assert.equal(await matching(condition), expected, JSON.stringify(condition));
  const wrong = await t.call('POST', '/api/v1/segments/preview', {
    rule: { match: 'all', conditions: [{ field: 'experiences', op: 'at_least', value: 1, key: 'second' }] },
  });
  assert.equal(wrong.status, 400);
  assert.deepEqual((await wrong.json()).error.details.issues, [
    {
      path: 'rule.conditions.0.key',
      message: 'experiences counts first, repeated, unfollowed or (without a key) every occurrence; found "second"',
    },
  ]);
  const fields = await expectJson(t.call('GET', '/api/v1/segments/fields'));
  assert.ok(fields.experiences.includes('wrong_or_damaged_item') && fields.experiences.includes('payment_failed'));
  assert.deepEqual(fields.fields.experiences.values, ['first', 'repeated', 'unfollowed']);
});

test('a merge drops both customers’ experiences and outcome cases until the next analysis numbers them again', async () => {
  await refreshExperiences(t.deps.db, now, { experiences: defaults });
  const [h1, h2] = [await idOf('H1'), await idOf('H2')];
  await t.deps.db.execute(sql`
    insert into outcome_cases (customer_id, run_id, experience_id, cell, at, bought_again, value_band, value)
    select customer_id, 1, id, 'x', at, false, 'low', 0 from experiences where customer_id in (${h1}, ${h2})`);
  await expectJson(t.call('POST', `/api/v1/customers/${h1}/merge`, { from: h2 }));
  const left = await queryRows<{ n: number }>(
    t.deps.db,
    sql`select (select count(*) from experiences where customer_id in (${h1}, ${h2}))::int
      + (select count(*) from outcome_cases where customer_id in (${h1}, ${h2}))::int as n`,
  );
  assert.equal(left[0].n, 0);
  await refreshExperiences(t.deps.db, now, { experiences: defaults });
  assert.deepEqual(
    (await rows()).filter(([customer]) => customer === 'H1'),
    [
      ['H1', 'late_delivery', '2026-02-02T10:00:00.000Z', 1, 'late delivery', null],
      ['H1', 'late_delivery', '2026-02-03T10:00:00.000Z', 2, 'late delivery', null],
    ],
  );
});
