// Outcome tables against a planted truth: after each order a late delivery follows with chance 0.3
// (followed up the next day half the time), and whether the customer orders again within 90 days of
// the last thing that happened depends only on their stage and on that late delivery. The tables
// must find each planted rate inside its interval, the baseline and the differences too.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { random } from '../shared/random.ts';
import type { CustomerHistory, ExperienceOccurrence } from './history.ts';
import { newcombe, type OutcomeCell, outcomeTables, wilson } from './outcomes.ts';

const asOf = 20_000;
/** Chance of another order within 90 days: after a late delivery left alone, followed up, or without one. */
const planted = {
  trial: { no: 0.3, yes: 0.55, without: 0.45 },
  customer: { no: 0.5, yes: 0.7, without: 0.65 },
};

function plantedStore(customers: number, seed: number): CustomerHistory[] {
  const rng = random(seed);
  const histories: CustomerHistory[] = [];
  let experienceId = 0;
  for (let id = 1; id <= customers; id++) {
    const channel = id % 100 === 0 ? 'partner' : rng() < 0.6 ? 'web' : 'store';
    const orders: CustomerHistory['orders'] = [];
    const experiences: ExperienceOccurrence[] = [];
    let late = 0;
    let t = asOf - 1100 + rng() * 500;
    while (t < asOf) {
      orders.push({ at: t, total: 20 + Math.round(rng() * 8000) / 100 });
      const rates = orders.length === 1 ? planted.trial : planted.customer;
      let anchor = t;
      let p = rates.without;
      if (rng() < 0.3) {
        anchor = t + 2 + rng() * 2;
        const followed = rng() < 0.5;
        experiences.push({
          id: ++experienceId,
          kind: 'late_delivery',
          at: anchor,
          occurrence: ++late,
          valence: 'problem',
          followedUpAt: followed ? anchor + 1 : null,
        });
        p = followed ? rates.yes : rates.no;
      }
      if (rng() < p) t = anchor + 1 + rng() * 88;
      else if (rng() < 0.6) t = anchor + 91 + rng() * 200;
      else break;
    }
    // A survey now and then, unrelated to anything.
    for (let s = asOf - 1100 + rng() * 600; s < asOf; s += 200 + rng() * 400)
      experiences.push({
        id: ++experienceId,
        kind: 'survey_sent',
        at: s,
        occurrence: 0,
        valence: 'gesture',
        followedUpAt: null,
      });
    experiences.sort((a, b) => a.at - b.at);
    let surveys = 0;
    for (const e of experiences) if (e.kind === 'survey_sent') e.occurrence = ++surveys;
    histories.push({ customerId: id, channel, category: null, orders, experiences });
  }
  return histories;
}

const histories = plantedStore(20_000, 42);
const report = outcomeTables(histories, asOf, {
  days: 90,
  valueDays: 180,
  followUpDays: 2,
  minCell: 30,
  controlDays: 30,
});
const cell = (key: string) => {
  const found = report.cells.find((c) => c.key === key);
  assert.ok(found, `cell ${key}`);
  return found;
};
const covers = (c: { low: number; high: number }, value: number, what: string) =>
  assert.ok(c.low <= value && value <= c.high, `${what}: ${value} outside [${c.low.toFixed(3)}, ${c.high.toFixed(3)}]`);

test('Wilson and Newcombe intervals match the published examples', () => {
  const w = wilson(81, 263);
  assert.deepEqual(
    [w.low, w.high].map((v) => v.toFixed(4)),
    ['0.2553', '0.3662'],
  );
  // Newcombe (1998), Statistics in Medicine 17, p. 876: 56/70 against 48/80, method 10.
  const d = newcombe({ x: 56, n: 70 }, { x: 48, n: 80 });
  assert.deepEqual(
    [d.difference, d.low, d.high].map((v) => v.toFixed(4)),
    ['0.2000', '0.0524', '0.3339'],
  );
  assert.deepEqual(wilson(0, 10).low, 0);
  assert.ok(Number.isNaN(wilson(0, 0).rate));
});

test('each planted buy-again rate, baseline and difference lies inside its 95 % interval', () => {
  for (const stage of ['trial', 'customer'] as const) {
    const rates = planted[stage];
    const no = cell(`${stage}|*|*|late_delivery|all|no`);
    const yes = cell(`${stage}|*|*|late_delivery|all|yes`);
    const all = cell(`${stage}|*|*|late_delivery|all|all`);
    assert.ok(no.n > 1000 && yes.n > 1000, `${stage}: ${no.n} and ${yes.n} late deliveries`);
    covers(no, rates.no, `${stage} left alone`);
    covers(yes, rates.yes, `${stage} followed up`);
    assert.ok(all.baseline);
    covers(all.baseline, rates.without, `${stage} without`);
    assert.deepEqual(no.baseline, all.baseline, 'one baseline per type and kind');
    covers(no.difference, rates.no - rates.without, `${stage} harm left alone`);
    covers(yes.difference, rates.yes - rates.without, `${stage} harm followed up`);
    assert.ok(no.difference.high < 0, `${stage}: the harm is seen`);
    assert.ok(all.followUpEffect);
    covers(all.followUpEffect, rates.yes - rates.no, `${stage} follow-up effect`);
    assert.equal(all.followUpEffect.yes.n, yes.n);
    assert.equal(no.followUpEffect, undefined);
  }
  // No late delivery happens before a first order: there are no prospects, and no baseline for them.
  assert.ok(!report.cells.some((c) => c.kind === 'late_delivery' && c.stage === 'prospect'));
});

test('cells add up across margins, first and repeated, followed up or not', () => {
  const cutoff = asOf - 180;
  const late = histories.flatMap((h) => h.experiences.filter((e) => e.kind === 'late_delivery' && e.at <= cutoff));
  const everyone = cell('*|*|*|late_delivery|all|all');
  assert.equal(everyone.n, late.length);
  assert.equal(cell('*|*|*|late_delivery|repeated|all').n, late.filter((e) => e.occurrence > 1).length);
  assert.equal(cell('*|*|*|late_delivery|first|all').n + cell('*|*|*|late_delivery|repeated|all').n, everyone.n);
  const bySize = (c: OutcomeCell) => Object.values(c.bands).reduce((n, b) => n + b.count, 0);
  for (const c of report.cells) {
    assert.equal(bySize(c), c.n, c.key);
    assert.ok(c.low <= c.rate && c.rate <= c.high, c.key);
    if (c.baseline) assert.equal(bySize({ ...c, bands: c.baseline.bands }), c.baseline.n, c.key);
  }
  const channels = ['web', 'store', 'partner'].map((ch) => cell(`*|*|${ch}|late_delivery|all|all`).n);
  assert.equal(
    channels.reduce((a, b) => a + b, 0),
    everyone.n,
  );
  assert.equal(report.anchors.control, histories.flatMap((h) => h.orders.filter((o) => o.at <= cutoff)).length);
  // The most common first: surveys reach every customer still around, late deliveries only buyers.
  assert.deepEqual(report.kinds, ['survey_sent', 'late_delivery']);
  assert.ok(cell('*|*|*|survey_sent|all|all').n > everyone.n);
  for (const cut of [...report.valueCuts.prior, ...report.valueCuts.future])
    assert.equal(Math.round(cut * 100) / 100, cut, 'cuts in cents');
});

test('small cells are marked and kept', () => {
  const small = report.cells.filter((c) => c.small);
  assert.ok(small.length > 0 && small.some((c) => c.channel === 'partner'));
  assert.ok(report.cells.every((c) => c.small === c.n < 30 && c.n >= 1));
});

test('every exposed anchor is a case keyed by its most specific cell; a second one is repeated', () => {
  assert.equal(report.cases.length, report.anchors.exposed);
  const twice = histories.find(
    (h) => h.experiences.filter((e) => e.kind === 'late_delivery' && e.at <= asOf - 180).length >= 2,
  );
  assert.ok(twice, 'a customer with two late deliveries');
  const [first, second] = twice.experiences.filter((e) => e.kind === 'late_delivery');
  const caseOf = (id: number) => {
    const found = report.cases.find((c) => c.experienceId === id);
    assert.ok(found, `case of experience ${id}`);
    return found;
  };
  assert.match(
    caseOf(first.id).cell,
    /^(trial|customer)\|(low|mid|high)\|(web|store|partner)\|late_delivery\|first\|(yes|no)$/,
  );
  assert.match(caseOf(second.id).cell, /^customer\|.+\|late_delivery\|repeated\|(yes|no)$/);
  const key = '*|*|*|late_delivery|all|no';
  const pattern = new RegExp(`^${key.replaceAll('|', '\\|').replaceAll('*', '[^|]+').replace('all', '[^|]+')}$`);
  assert.equal(report.cases.filter((c) => pattern.test(c.cell)).length, cell(key).n);
});

test('the definitions on a hand-made customer', () => {
  const experience = (id: number, at: number, followedUpAt: number | null): ExperienceOccurrence => ({
    id,
    kind: 'late_delivery',
    at,
    occurrence: id,
    valence: 'problem',
    followedUpAt,
  });
  const h: CustomerHistory = {
    customerId: 7,
    channel: null,
    category: null,
    orders: [
      { at: 0, total: 10 },
      { at: 10, total: 20 },
      { at: 100, total: 40 },
      { at: 300, total: 80 },
    ],
    // The first came 12 days after the first order but after the second: it belongs to the second.
    experiences: [experience(1, 12, 13), experience(2, 105, null)],
  };
  const r = outcomeTables([h], 1000, { controlDays: 30 });
  assert.deepEqual(
    r.cases.map((c) => [c.cell, c.boughtAgain, c.value, c.valueBand]),
    [
      ['customer|mid|unknown|late_delivery|first|yes', true, 40, 'mid'],
      ['customer|high|unknown|late_delivery|repeated|no', false, 0, 'none'],
    ],
  );
  // Controls: the orders at 0 (bought again) and 300 (did not); 10 and 100 had a late delivery within 30 days.
  const all = r.cells.find((c) => c.key === '*|*|*|late_delivery|all|all');
  assert.deepEqual([all?.baseline?.n, all?.baseline?.rate], [2, 0.5]);
  assert.equal(r.anchors.control, 4);
  assert.deepEqual(r.valueCuts, { prior: [30, 70], future: [40, 46.67] });
  assert.equal(r.cells.find((c) => c.key === 'customer|high|*|late_delivery|all|all')?.baseline?.n, 1);
});
