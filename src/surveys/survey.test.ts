import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createTestApp, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';

let t: TestApp;
let customerId: number;
before(async () => {
  t = await createTestApp();
  const outcome = await ingestEvents(
    t.deps,
    [
      {
        id: 'o1',
        type: 'order',
        customer: { externalId: 'S-1', email: 'sam@example.com' },
        orderId: 'ORD-7',
        at: '2026-10-01T10:00:00Z',
        lines: [{ product: 'towel', amount: '30.00' }],
      },
    ],
    { source: 'test' },
  );
  customerId = outcome.results[0].customerId!;
});
after(async () => {
  await t.close();
});

const page = (path: string, form?: Record<string, string>) =>
  t.app.request(
    path,
    form
      ? {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form).toString(),
        }
      : {},
  );
const invite = async (survey: string, extra: Record<string, unknown> = {}) => {
  const response = await t.call('POST', `/api/v1/surveys/${survey}/invitations`, {
    invitations: [{ customerId, ...extra }],
  });
  assert.equal(response.status, 201);
  return (await response.json()).invitations[0] as { token: string; url: string; invitationId: number };
};

test('a customer answers an NPS survey through the public link, without signing in; the answers are on the timeline', async () => {
  const link = await invite('nps', { channel: 'email' });
  assert.match(link.url, /\/s\/[A-Za-z0-9_-]{43}$/);
  const [{ stored }] = await queryRows<{ stored: string }>(
    t.deps.db,
    sql`select token_hash as stored from survey_invitations where id = ${link.invitationId}`,
  );
  assert.notEqual(stored, link.token, 'only a hash of the token is kept');

  const form = await page(`/s/${link.token}`);
  assert.equal(form.status, 200);
  assert.equal(form.headers.get('referrer-policy'), 'no-referrer');
  assert.match(form.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  const body = await form.text();
  assert.match(body, /How likely are you to recommend us to a friend\?/);
  assert.doesNotMatch(body, /sam@example\.com|S-1/, 'the page reveals nothing about the customer');
  const app = await t.app.request('/customers');
  assert.doesNotMatch(
    app.headers.get('content-security-policy') ?? '',
    /default-src 'none'/,
    "the survey pages' headers stay on the survey pages",
  );

  const bad = await page(`/s/${link.token}`, { recommend: '11', why: '<script>alert(1)</script>' });
  assert.equal(bad.status, 400);
  const badBody = await bad.text();
  assert.match(badBody, /Please pick a number from 0 to 10/);
  assert.match(badBody, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'what was typed comes back escaped');
  assert.doesNotMatch(badBody, /<script>/);

  const good = await page(`/s/${link.token}`, { recommend: '9', why: 'Fast delivery' });
  assert.equal(good.status, 200);
  assert.match(await good.text(), /Thank you/);
  const answers = await queryRows<{ survey: string; score: string | null; answer: string | null; channel: string }>(
    t.deps.db,
    sql`
    select survey, score::text as score, answer, channel from survey_responses where customer_id = ${customerId} order by question`,
  );
  assert.deepEqual(answers, [
    { survey: 'nps', score: '9.00', answer: null, channel: 'email' },
    { survey: 'nps', score: null, answer: 'Fast delivery', channel: 'email' },
  ]);
  const timeline = await (await t.call('GET', `/api/v1/customers/${customerId}/timeline?kind=survey`)).json();
  assert.deepEqual(timeline.entries.map((e: { title: string }) => e.title).sort(), [
    'Survey nps: How likely are you to recommend us to a friend? 9.00',
    'Survey nps: What is the main reason for your score?  "Fast delivery"',
  ]);
  const stats = (await (await t.call('GET', '/api/v1/surveys')).json()).surveys.find(
    (s: { key: string }) => s.key === 'nps',
  );
  assert.deepEqual([stats.invited, stats.answered, stats.nps], [1, 1, 100]);

  // Answering again replaces the answers rather than adding to them.
  assert.equal((await page(`/s/${link.token}`, { recommend: '4' })).status, 200);
  const [{ n, score }] = await queryRows<{ n: number; score: string }>(
    t.deps.db,
    sql`
    select count(*)::int as n, max(score)::text as score from survey_responses where customer_id = ${customerId} and survey = 'nps'`,
  );
  assert.deepEqual([n, score], [2, '4.00']);
});

test('a problem report through the order link opens a ticket tied to that order', async () => {
  const [{ id: orderId }] = await queryRows<{ id: number }>(
    t.deps.db,
    sql`select id from orders where external_id = 'ORD-7'`,
  );
  const link = await invite('problem', { orderId });
  const response = await page(`/s/${link.token}`, {
    category: 'wrong_item',
    details: 'The towel is the wrong shade of blue',
  });
  assert.equal(response.status, 200);
  const [ticket] = await queryRows<Record<string, unknown>>(
    t.deps.db,
    sql`
    select t.category, t.status, t.subject, t.channel, o.external_id as order_id from tickets t left join orders o on o.customer_id = t.customer_id and o.id = t.order_id
    where t.customer_id = ${customerId}`,
  );
  assert.deepEqual(ticket, {
    category: 'wrong_item',
    status: 'open',
    subject: 'The towel is the wrong shade of blue',
    channel: 'web',
    order_id: 'ORD-7',
  });
  const timeline = await (await t.call('GET', `/api/v1/customers/${customerId}/timeline?kind=ticket`)).json();
  assert.equal(timeline.entries[0].detail.orderId, 'ORD-7');
});

test('an expired link and an unknown link look the same', async () => {
  const link = await invite('order');
  const clock = t.deps.clock as { now: () => Date };
  const realNow = clock.now;
  clock.now = () => new Date(Date.now() + 61 * 86_400_000);
  try {
    const expired = await page(`/s/${link.token}`);
    assert.equal(expired.status, 404);
    assert.match(await expired.text(), /not valid or has expired/);
  } finally {
    clock.now = realNow;
  }
});

test('anonymous website feedback is kept and listed', async () => {
  const response = await page('/feedback', {
    score: '2',
    comment: 'Checkout hangs at the payment step',
    page: '/checkout/payment',
  });
  assert.equal(response.status, 200);
  const { feedback } = await (await t.call('GET', '/api/v1/feedback')).json();
  assert.deepEqual(
    feedback.map((f: Record<string, unknown>) => [f.score, f.comment, f.page]),
    [[2, 'Checkout hangs at the payment step', '/checkout/payment']],
  );
  assert.equal((await page('/feedback', { score: '9' })).status, 400);
});

test('100,000 random token guesses find nothing and are rate-limited', async () => {
  const statuses = new Map<number, number>();
  for (let i = 0; i < 100_000; i++) {
    const response = await t.app.request(`/s/${randomBytes(32).toString('base64url')}`, {
      headers: { 'x-guess': String(i) },
    });
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  }
  assert.equal(statuses.get(200), undefined, 'no guess opened a survey');
  assert.ok((statuses.get(404) ?? 0) <= 11, `few guesses answered at all: ${JSON.stringify([...statuses])}`);
  assert.ok((statuses.get(429) ?? 0) >= 99_989, `the rest were turned away: ${JSON.stringify([...statuses])}`);
  const blocked = await t.app.request(`/s/${randomBytes(32).toString('base64url')}`);
  assert.equal(blocked.status, 429);
  assert.ok(Number(blocked.headers.get('retry-after')) > 0);
});
