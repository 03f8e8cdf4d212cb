// The hazard model against planted truth, twice: person-periods drawn straight from a cloglog model
// with known hazard ratios (the estimator), and customers who order at random and leave for good,
// three times as often for 90 days after a late delivery (the person-period definition end to end).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { random } from '../shared/random.ts';
import { customerDrivers, fitHazard, type HazardModel, lapseCause, personPeriods } from './hazard.ts';
import type { CustomerHistory, ExperienceOccurrence } from './history.ts';

const term = (model: HazardModel, name: string) => {
  const found = model.covariates.find((c) => c.name === name);
  assert.ok(found, `covariate ${name} among ${model.covariates.map((c) => c.name).join(', ')}`);
  return found;
};
const covers = (c: { low: number; high: number }, value: number, what: string) =>
  assert.ok(c.low <= value && value <= c.high, `${what}: ${value} outside [${c.low.toFixed(3)}, ${c.high.toFixed(3)}]`);

/** Up to 24 periods per customer at a baseline hazard of 0.03; A and B come and go, lasting 3 periods. */
function plantedDesign(customers: number, seed: number) {
  const rng = random(seed);
  const names = ['period:1-12', 'period:13-24', 'experience:a', 'experience:b', 'followed_up', 'channel:shop'];
  const truth = { a: 2, b: 1, followedUp: 0.6, shop: 1.4 };
  const base = Math.log(-Math.log(1 - 0.03));
  const x: number[] = [];
  const event: number[] = [];
  for (let c = 0; c < customers; c++) {
    const shop = rng() < 0.4 ? 1 : 0;
    const left = { a: 0, b: 0 };
    const followed = { a: false, b: false };
    for (let t = 0; t < 24; t++) {
      for (const k of ['a', 'b'] as const)
        if (left[k] === 0 && rng() < 0.1) {
          left[k] = 3;
          followed[k] = rng() < 0.5;
        }
      const a = left.a > 0 ? 1 : 0;
      const b = left.b > 0 ? 1 : 0;
      const followedUp = (a && followed.a) || (b && followed.b) ? 1 : 0;
      const eta =
        base +
        a * Math.log(truth.a) +
        b * Math.log(truth.b) +
        followedUp * Math.log(truth.followedUp) +
        shop * Math.log(truth.shop);
      const lapsed = rng() < -Math.expm1(-Math.exp(eta));
      x.push(t < 12 ? 1 : 0, t < 12 ? 0 : 1, a, b, followedUp, shop);
      event.push(lapsed ? 1 : 0);
      if (lapsed) break;
      left.a = Math.max(0, left.a - 1);
      left.b = Math.max(0, left.b - 1);
    }
  }
  return { design: { names, baseline: 2, x: Float64Array.from(x), event: Uint8Array.from(event) }, truth };
}

test('the estimator recovers planted hazard ratios within their 95 % intervals', () => {
  const { design, truth } = plantedDesign(20_000, 11);
  const model = fitHazard(design);
  assert.ok(model.converged && model.iterations <= 10, `${model.iterations} iterations`);
  assert.equal(model.rows, design.event.length);
  covers(term(model, 'experience:a'), truth.a, 'A');
  covers(term(model, 'experience:b'), truth.b, 'B');
  covers(term(model, 'followed_up'), truth.followedUp, 'follow-up');
  covers(term(model, 'channel:shop'), truth.shop, 'channel');
  for (const band of model.baseline) covers(band, 0.03, band.name);
  const a = term(model, 'experience:a');
  assert.ok(Math.abs(a.hazardRatio - Math.exp(a.coefficient)) < 1e-12 && a.p < 1e-6);
  assert.ok(term(model, 'experience:b').p > 0.05);
});

const asOf = 20_000;
const leaveDaily = -Math.log(1 - 0.02) / 30;

/**
 * Customers order as a Poisson process (one order per 40 days) from their first order until they
 * leave for good: 2 % a month, three times that for 90 days after a late delivery, which follows
 * 20 % of orders 2-6 days later. Surveys arrive at random, whatever the customer does.
 */
function leavingStore(customers: number, seed: number): CustomerHistory[] {
  const rng = random(seed);
  const histories: CustomerHistory[] = [];
  let id = 0;
  for (let c = 1; c <= customers; c++) {
    const first = asOf - 1300 + rng() * 365;
    const orders = [{ at: first, total: 50 }];
    const experiences: ExperienceOccurrence[] = [];
    const occurrence = { late_delivery: 0, survey_sent: 0 };
    const add = (kind: 'late_delivery' | 'survey_sent', at: number) =>
      experiences.push({
        id: ++id,
        kind,
        at,
        occurrence: ++occurrence[kind],
        valence: kind === 'late_delivery' ? 'problem' : 'gesture',
        followedUpAt: null,
      });
    let riskyUntil = Number.NEGATIVE_INFINITY;
    for (let d = Math.floor(first) + 1; d < asOf; d++) {
      if (rng() < leaveDaily * (d < riskyUntil ? 3 : 1)) break;
      if (rng() < 1 / 40) {
        const at = d + rng();
        orders.push({ at, total: 50 });
        if (rng() < 0.2) {
          const late = at + 2 + rng() * 4;
          if (late < asOf) add('late_delivery', late);
          riskyUntil = late + 90;
        }
      }
    }
    for (let s = first + rng() * 150; s < asOf; s += -Math.log(1 - rng()) * 150) add('survey_sent', s);
    experiences.sort((a, b) => a.at - b.at);
    histories.push({ customerId: c, channel: c % 2 ? 'web' : 'store', category: null, orders, experiences });
  }
  return histories;
}

const histories = leavingStore(4000, 5);
const options = { periodDays: 30, lapseDays: 180, windowDays: 90, followUpDays: 2, minKindCount: 30 };
const rows = personPeriods(histories, asOf, options);
const model = fitHazard(rows);

test('end to end: a late delivery raises the hazard of leaving, an unrelated survey does not', () => {
  assert.ok(model.converged);
  assert.ok(model.events > 1000, `${model.events} lapses in ${model.rows} rows`);
  const late = term(model, 'experience:late_delivery');
  assert.ok(
    late.low > 1.5,
    `late delivery ${late.hazardRatio.toFixed(2)} [${late.low.toFixed(2)}, ${late.high.toFixed(2)}]`,
  );
  assert.ok(late.hazardRatio < 3.5, 'no more than the planted tripling');
  covers(term(model, 'experience:survey_sent'), 1, 'survey');
  covers(term(model, 'channel:web'), 1, 'channel');
  // Nobody was followed up: the column never applies and is left out rather than fitted at nothing.
  assert.deepEqual(model.dropped, ['followed_up']);
  // Lapses begin only in the first period after an order: the longer silences hold no events.
  const band = (name: string) => {
    const found = model.baseline.find((b) => b.name === name);
    assert.ok(found, name);
    return found;
  };
  assert.deepEqual(
    [band('since:31-90').events, band('since:31-90').hazard, band('since:31-90').coefficient],
    [0, 0, null],
  );
  assert.ok(band('since:0-7').events > 0 && band('since:0-7').hazard > 0);
  assert.equal(model.definition?.lapseDays, 180);
});

test('a customer who just had a late delivery has it as a driver; one who did not has none', () => {
  const late = term(model, 'experience:late_delivery');
  const base: CustomerHistory = {
    customerId: 1,
    channel: 'web',
    category: null,
    orders: [
      { at: asOf - 200, total: 40 },
      { at: asOf - 20, total: 40 },
    ],
    experiences: [],
  };
  const experience = (kind: string, at: number): ExperienceOccurrence => ({
    id: 1,
    kind,
    at,
    occurrence: 1,
    valence: kind === 'late_delivery' ? 'problem' : 'gesture',
    followedUpAt: null,
  });
  const unlucky = {
    ...base,
    experiences: [experience('late_delivery', asOf - 16), experience('survey_sent', asOf - 5)],
  };
  assert.deepEqual(customerDrivers(model, unlucky, asOf, options), [
    {
      name: 'experience:late_delivery',
      label: 'a late delivery in the last 90 days',
      hazardRatio: late.hazardRatio,
      low: late.low,
      high: late.high,
      at: asOf - 16,
    },
  ]);
  assert.deepEqual(
    customerDrivers(model, { ...base, experiences: [experience('survey_sent', asOf - 5)] }, asOf, options),
    [],
  );
  assert.deepEqual(
    customerDrivers(model, { ...base, experiences: [experience('late_delivery', asOf - 120)] }, asOf),
    [],
  );
  // The post-mortem: a late delivery of the last order is the likely cause of the lapse after it.
  assert.equal(lapseCause(model, unlucky, asOf - 20)?.kind, 'late_delivery');
  assert.equal(lapseCause(model, base, asOf - 20), null);
});

test('person periods: risk set, lapse, re-entry, window and bands on hand-made customers', () => {
  const problem = (at: number, followedUpAt: number | null): ExperienceOccurrence => ({
    id: at,
    kind: 'late_delivery',
    at,
    occurrence: 1,
    valence: 'problem',
    followedUpAt,
  });
  const made: CustomerHistory[] = [
    {
      customerId: 1,
      channel: 'web',
      category: null,
      orders: [100, 150, 500, 520].map((at) => ({ at, total: 10 })),
      experiences: [problem(140, 141)],
    },
    {
      customerId: 2,
      channel: 'store',
      category: null,
      orders: [100, 200].map((at) => ({ at, total: 10 })),
      experiences: [],
    },
  ];
  const p = personPeriods(made, 1000, { ...options, minKindCount: 1 });
  const width = p.names.length;
  const described = Array.from(p.event, (e, r) => [
    p.customer[r],
    p.start[r],
    e,
    p.names.filter((name, c) => p.x[r * width + c] !== 0 && name !== 'log_orders'),
    Math.round(Math.expm1(p.x[r * width + p.names.indexOf('log_orders')])),
  ]);
  // Periods start at 130, 160, ... 790 (the last ends 180 days before as-of).
  assert.deepEqual(described, [
    [1, 130, 0, ['since:15-30', 'channel:web', 'trial'], 1],
    [1, 160, 1, ['since:8-14', 'experience:late_delivery', 'followed_up', 'channel:web'], 2],
    // Lapsed at 160, out until the order at 500; back at 520 and lapsed again at 550.
    [1, 520, 0, ['since:15-30', 'channel:web'], 3],
    [1, 550, 1, ['since:15-30', 'channel:web'], 4],
    [2, 130, 0, ['since:15-30', 'trial'], 1],
    [2, 160, 0, ['since:31-90', 'trial'], 1],
    [2, 190, 0, ['since:31-90', 'trial'], 1],
    [2, 220, 1, ['since:15-30'], 2],
  ]);
  assert.deepEqual(p.names.slice(0, p.baseline), [
    'since:0-7',
    'since:8-14',
    'since:15-30',
    'since:31-90',
    'since:91-180',
  ]);
});
