import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { queryRows, sql } from '../db/connection.ts';
import { demoEvents, loadDemo } from './generate.ts';

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
  const once = [...demoEvents({ customers: 200, seed: 7, end })];
  assert.deepEqual([...demoEvents({ customers: 200, seed: 7, end })], once);
  assert.notDeepEqual([...demoEvents({ customers: 200, seed: 8, end })], once);
  const all = once.flat();
  assert.ok(all.every((e) => !e.at || e.at <= end.toISOString()));
  assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'event ids are unique');
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
        (select count(*)::int from subscriptions where cancelled_at is not null) as cancellations`,
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
