import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import { customerEvents, customerHistory, customerUpsert, demoEvents, demoRules, loadDemo } from './generate.ts';
import { pastCampaigns } from './marketing.ts';

const end = new Date('2026-06-30T23:59:59Z');
type E = {
  type: string;
  at: string;
  customer: { externalId: string };
  orderId?: string;
  ticketId?: string;
  outcome?: string;
};

test('the same seed and end give the same store; another seed another one; nothing after the end', () => {
  const control = (index: number) => index % 7 === 0;
  const once = [...demoEvents({ customers: 200, seed: 7, end }, control)];
  assert.deepEqual([...demoEvents({ customers: 200, seed: 7, end }, control)], once);
  assert.notDeepEqual([...demoEvents({ customers: 200, seed: 8, end }, control)], once);
  assert.notDeepEqual([...demoEvents({ customers: 200, seed: 7, end })], once, 'the control group changes the store');
  const all = once.flat();
  assert.ok(all.every((e) => !e.at || e.at <= end.toISOString()));
  assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'event ids are unique');
  // The sign-up loaded first is the one the whole history starts with, in or out of the control group.
  for (let index = 1; index <= 200; index++)
    assert.deepEqual(customerUpsert({ customers: 200, seed: 7, end }, index), once[index - 1][0]);
});

type Touch = E & {
  kind?: string;
  direction?: string;
  campaign?: string;
  detail?: { transactional?: boolean; orderId?: string };
  channel?: string;
};
const ownStory = /^demo-\d+-\d+-\d+$/;

test('the universal control group gets no marketing at all, and everything else of its story is as it would have been', () => {
  const options = { customers: 3000, seed: 1, end };
  let subscribers = 0;
  for (let index = 1; index <= options.customers; index++) {
    const held = customerHistory(options, index, { universalControl: true });
    const marketed = customerHistory(options, index, { universalControl: false });
    const events = held.events as unknown as Touch[];
    const marketing = events.filter((e) => e.direction === 'out' && e.campaign && !e.detail?.transactional);
    assert.deepEqual(marketing, [], `customer ${index} in the control group got marketing`);
    assert.deepEqual(held.members, [], `customer ${index} in the control group is in a past campaign`);
    assert.deepEqual(
      held.events.filter((e) => ownStory.test(e.id)),
      marketed.events.filter((e) => ownStory.test(e.id)),
      `customer ${index}: the control group changes only the marketing and what it brings`,
    );
    if ((marketed.events[0].attributes as { newsletter: boolean }).newsletter) subscribers++;
    const newsletters = marketed.events.filter((e) => String(e.campaign ?? '').startsWith('newsletter-'));
    if (
      (marketed.events[0].attributes as { newsletter: boolean }).newsletter &&
      Date.parse(marketed.events[0].at!) < end.getTime() - 90 * 86_400_000
    )
      assert.ok(
        newsletters.length > 0 || marketed.events.some((e) => e.type === 'status.change'),
        `subscriber ${index} gets the newsletter`,
      );
  }
  assert.ok(subscribers > 1500, `${subscribers} subscribers`);
});

test('the newsletter works: subscribers out of the control group order about a tenth more (the orders it brings are extra)', () => {
  const options = { customers: 20_000, seed: 1, end };
  const orders = { held: 0, marketed: 0 };
  for (let index = 1; index <= options.customers; index++) {
    const upsert = customerUpsert(options, index) as { attributes?: { newsletter?: boolean } };
    if (!upsert.attributes?.newsletter) continue;
    const held = customerEvents(options, index, { universalControl: true }).filter((e) => e.type === 'order');
    const marketed = customerEvents(options, index).filter((e) => e.type === 'order');
    const ids = new Set(marketed.map((e) => e.orderId));
    assert.ok(
      held.every((e) => ids.has(e.orderId)),
      `customer ${index} keeps their own orders`,
    );
    orders.held += held.length;
    orders.marketed += marketed.length;
  }
  const lift = orders.marketed / orders.held;
  assert.ok(lift > 1.07 && lift < 1.14, JSON.stringify({ ...orders, lift }));
});

test('past campaigns: one random arm per member for all its mailings, mail only to the treated, the catalogue without effect', () => {
  const options = { customers: 2000, seed: 1, end };
  const campaigns = pastCampaigns(end);
  assert.deepEqual(
    campaigns.map((c) => c.name),
    ['Win-back journey (2025)', 'We miss you (2025-26)', 'Spring catalogue (2026)'],
  );
  const arms: Record<string, Record<string, number>> = {};
  for (let index = 1; index <= options.customers; index++) {
    const { events, members } = customerHistory(options, index);
    const touches = events as unknown as Touch[];
    for (const campaign of campaigns) {
      const mine = members.filter((m) => m.campaign === campaign.name);
      assert.ok(mine.length <= 1, `customer ${index} is in ${campaign.name} once`);
      const mails = touches.filter((e) => e.campaign === campaign.name && e.kind === 'email_sent');
      if (mine.length === 0 || mine[0].arm === 'control') assert.equal(mails.length, 0);
      else assert.equal(mails[0].at, new Date(mine[0].at).toISOString(), 'the treated get the mail at the first send');
      for (const m of mine) (arms[campaign.name] ??= {})[m.arm] = (arms[campaign.name]?.[m.arm] ?? 0) + 1;
      if (campaign.response === 0) assert.ok(mine.every((m) => !m.responds));
    }
  }
  for (const [name, counts] of Object.entries(arms)) {
    const share = counts.control / (counts.control + counts.mail);
    assert.ok(Math.abs(share - demoRules.pastCampaigns.holdout) < 0.05, `${name}: holdout ${share}`);
  }
  assert.ok(arms['We miss you (2025-26)'].mail > 300, JSON.stringify(arms));
});

test('the shop confirms every web and mobile order by mail within minutes, and no store or phone order', () => {
  const events = [...demoEvents({ customers: 1000, seed: 1, end })].flat() as unknown as Touch[];
  const confirmations = new Map(
    events.filter((e) => e.campaign === 'Order follow-up').map((e) => [e.detail?.orderId, e]),
  );
  const orders = events.filter((e) => e.type === 'order');
  assert.ok(orders.some((o) => o.channel === 'store') && orders.some((o) => o.channel === 'web'));
  for (const order of orders) {
    const mail = confirmations.get(order.orderId);
    if (order.channel === 'web' || order.channel === 'mobile') {
      assert.ok(mail, `order ${order.orderId} is confirmed`);
      const minutes = (Date.parse(mail.at) - Date.parse(order.at)) / 60_000;
      assert.ok(minutes >= 1 && minutes <= 10, `${minutes} minutes`);
      assert.deepEqual(
        [mail.kind, mail.direction, mail.channel, mail.detail?.transactional],
        ['email_sent', 'out', 'email', true],
      );
    } else assert.equal(mail, undefined, `${order.channel} order ${order.orderId} has no confirmation`);
  }
  assert.equal(confirmations.size, orders.filter((o) => o.channel === 'web' || o.channel === 'mobile').length);
});

test('cause and effect are planted: after an unresolved ticket fewer customers buy again than after a good recovery', () => {
  const byCustomer = [...demoEvents({ customers: 20_000, seed: 1, end })] as unknown as E[][];
  const boughtAgain = { good: [0, 0], bad: [0, 0] };
  for (const events of byCustomer) {
    for (const resolved of events.filter((e) => e.type === 'ticket.resolved')) {
      const group = ['replaced', 'refunded', 'resolved'].includes(resolved.outcome!)
        ? boughtAgain.good
        : boughtAgain.bad;
      // Only tickets with at least 180 days left to see what happened next.
      if (Date.parse(resolved.at) > end.getTime() - 180 * 86_400_000) continue;
      group[1]++;
      if (events.some((e) => e.type === 'order' && e.at > resolved.at)) group[0]++;
    }
  }
  const share = (g: number[]) => g[0] / g[1];
  assert.ok(boughtAgain.good[1] > 300 && boughtAgain.bad[1] > 200, JSON.stringify(boughtAgain));
  assert.ok(
    share(boughtAgain.good) > share(boughtAgain.bad) + 0.15,
    `good ${share(boughtAgain.good)} vs bad ${share(boughtAgain.bad)}`,
  );
});

test('an NPS answer without a notable experience tells how attached the customer is: promoters buy again more often than detractors', () => {
  const byCustomer = [...demoEvents({ customers: 20_000, seed: 1, end })] as unknown as (E & {
    survey?: string;
    score?: number;
  })[][];
  const boughtAgain = { promoter: [0, 0], detractor: [0, 0] };
  for (const events of byCustomer) {
    const troubled = events.some((e) => e.type === 'incident' || e.type === 'ticket.opened');
    for (const answer of events.filter((e) => e.type === 'survey.response' && e.survey === 'nps')) {
      if (troubled || Date.parse(answer.at) > end.getTime() - 180 * 86_400_000) continue;
      const group = answer.score! >= 9 ? boughtAgain.promoter : answer.score! <= 6 ? boughtAgain.detractor : undefined;
      if (!group) continue;
      group[1]++;
      if (events.some((e) => e.type === 'order' && e.at > answer.at)) group[0]++;
    }
  }
  const share = (g: number[]) => g[0] / g[1];
  assert.ok(boughtAgain.promoter[1] > 500 && boughtAgain.detractor[1] > 200, JSON.stringify(boughtAgain));
  assert.ok(share(boughtAgain.promoter) > share(boughtAgain.detractor) + 0.1, JSON.stringify(boughtAgain));
});

test('loaded through the event ingest: every event accepted, every stage and kind of history present, loading again changes nothing', async () => {
  const deps = await createTestDeps();
  try {
    const loaded = await loadDemo(deps, { customers: 300, seed: 1, end });
    assert.equal(loaded.customers, 300);
    const counts = async () =>
      (
        await queryRows<Record<string, number>>(
          deps.db,
          sql`
      select (select count(*)::int from customers) as customers, (select count(*)::int from orders) as orders,
        (select count(*)::int from returns) as returns, (select count(*)::int from tickets) as tickets,
        (select count(*)::int from survey_responses) as surveys, (select count(*)::int from notes) as notes,
        (select count(*)::int from status_changes) as flags, (select count(*)::int from touchpoints) as touchpoints,
        (select count(*)::int from incidents) as incidents, (select count(*)::int from subscriptions) as subscriptions,
        (select count(*)::int from subscriptions where cancelled_at is not null) as cancellations,
        (select count(*)::int from campaigns) as campaigns, (select count(*)::int from campaign_members) as members`,
        )
      )[0];
    const first = await counts();
    assert.equal(first.customers, 300);
    for (const [table, n] of Object.entries(first)) assert.ok(n > 0, `${table} has rows`);
    const stages = await queryRows<{ stage: string }>(
      deps.db,
      sql`select distinct stage from customers order by stage`,
    );
    assert.deepEqual(
      stages.map((s) => s.stage),
      ['customer', 'prospect', 'suppressed', 'trial'],
    );
    await loadDemo(deps, { customers: 300, seed: 1, end });
    assert.deepEqual(await counts(), first);
  } finally {
    await deps.close();
  }
});
