// Contractual retention against planted truth: subscribers whose monthly chance of cancelling is
// set by their contract and by an unresolved ticket (which triples it), with starts spread over two
// years; the retention curves against a planted sBG, the folds, and the calendar of renewals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { beta as betaOf, random } from '../shared/random.ts';
import { signalKinds } from './analytics.repository.ts';
import {
  churnDataset,
  churnModel,
  crossValidate,
  renewalsBetween,
  retention,
  rowsOf,
  type SignalCodes,
  stratifiedFolds,
  type Subscriber,
} from './churn.ts';
import { rocAuc } from './evaluate.ts';
import { fitBinnedLogistic, predictBinned } from './learn.ts';

const codes = Object.fromEntries(signalKinds.map((kind, code) => [kind, code])) as SignalCodes;
const day = (iso: string) => Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
const asOf = day('2026-06-30');

/** Month by month: a subscriber cancels in a month with chance theta; returns the cancel day or null. */
function subscriberOf(rng: () => number, id: number, theta: number, startDay: number, extra: Partial<Subscriber>) {
  let cancelDay: number | null = null;
  for (let m = 0; ; m++) {
    const monthStart = startDay + Math.round(m * 30.44);
    if (monthStart > asOf) break;
    if (rng() < theta) {
      const at = monthStart + Math.floor(rng() * 28);
      if (at <= asOf) cancelDay = at;
      break;
    }
  }
  const s: Subscriber = {
    customerId: id,
    externalId: `S${id}`,
    name: null,
    acquisitionChannel: null,
    attributes: {},
    subscriptionId: `sub-${id}`,
    plan: 'box',
    price: 20,
    period: 'month',
    startDay,
    cancelDay,
    previous: 0,
    purchases: [],
    signals: [],
    ...extra,
  };
  return s;
}

/** Contract "monthly" cancels at 8 % a month, "annual" at 2 %; an unresolved ticket triples it. */
function plantedStore(n: number, seed: number) {
  const rng = random(seed);
  const subscribers: Subscriber[] = [];
  /** Each subscriber's planted chance of having cancelled by as-of, from what was known at the start. */
  const truth: number[] = [];
  for (let id = 1; id <= n; id++) {
    const startDay = asOf - 30 - Math.floor(rng() * 700);
    const monthly = rng() < 0.5;
    const unresolved = rng() < 0.2;
    const theta = (monthly ? 0.08 : 0.02) * (unresolved ? 3 : 1);
    const ticketDay = startDay + 10;
    truth.push(1 - (1 - theta) ** ((asOf - startDay) / 30.44));
    subscribers.push(
      subscriberOf(rng, id, theta, startDay, {
        attributes: { contract: monthly ? 'monthly' : 'annual', shoe_size: 36 + Math.floor(rng() * 10) },
        signals: unresolved ? [{ day: ticketDay, kind: codes.ticket_opened, value: 0 }] : [],
      }),
    );
  }
  return Object.assign(subscribers, { truth });
}

test('renewals follow the calendar: months end on the last day, weeks are seven days', () => {
  assert.equal(renewalsBetween(day('2026-01-31'), day('2026-02-28'), 'month'), 0);
  assert.equal(renewalsBetween(day('2026-01-15'), day('2026-02-15'), 'month'), 1);
  assert.equal(renewalsBetween(day('2026-01-15'), day('2026-02-14'), 'month'), 0);
  assert.equal(renewalsBetween(day('2025-03-01'), day('2026-02-28'), 'year'), 0);
  assert.equal(renewalsBetween(day('2025-03-01'), day('2026-03-01'), 'year'), 1);
  assert.equal(renewalsBetween(day('2026-01-01'), day('2026-04-01'), 'quarter'), 1);
  assert.equal(renewalsBetween(day('2026-01-01'), day('2026-01-15'), 'week'), 2);
});

test('folds are stratified, stable, and hold every row once', () => {
  const label = Uint8Array.from({ length: 1003 }, (_, i) => (i % 7 === 0 ? 1 : 0));
  const ids = Array.from({ length: 1003 }, (_, i) => 1000 + i);
  const folds = stratifiedFolds(label, ids, 5);
  assert.deepEqual(stratifiedFolds(label, ids, 5), folds);
  for (let f = 0; f < 5; f++) {
    const rows = [...folds.keys()].filter((r) => folds[r] === f);
    const positives = rows.filter((r) => label[r]).length;
    assert.ok(Math.abs(positives - 144 / 5) <= 1, `fold ${f}: ${positives} cancelled`);
    assert.ok(Math.abs(rows.length - 1003 / 5) <= 2, `fold ${f}: ${rows.length} rows`);
  }
});

test('out-of-fold predictions come from a model that never saw the fold', () => {
  const subscribers = plantedStore(1500, 3);
  const data = churnDataset(subscribers, asOf, codes);
  const folds = stratifiedFolds(
    data.label,
    subscribers.map((s) => s.customerId),
    4,
  );
  const oof = crossValidate(data.columns, data.label, folds);
  const train = Int32Array.from(folds.keys()).filter((k) => folds[k] !== 2);
  const test = Int32Array.from(folds.keys()).filter((k) => folds[k] === 2);
  const model = fitBinnedLogistic(
    rowsOf(data.columns, train),
    Uint8Array.from(train, (k) => data.label[k]),
  );
  const p = predictBinned(model, rowsOf(data.columns, test));
  test.forEach((k, i) => assert.equal(oof[k], p[i]));
});

test('the churn model finds the planted contract and unresolved-ticket effects, cross-validated and calibrated', () => {
  const subscribers = plantedStore(4000, 11);
  const result = churnModel(subscribers, asOf, codes);
  assert.ok(!('reason' in result));
  const { report, scores } = result;
  const cancelled = subscribers.filter((s) => s.cancelDay !== null).length;
  assert.equal(report.cancelled, cancelled);
  assert.equal(report.folds, 5);
  // Against the planted chance of having cancelled by as-of (what the generator knew at each start).
  const best = rocAuc(
    Float64Array.from(subscribers.truth),
    Uint8Array.from(subscribers, (s) => (s.cancelDay === null ? 0 : 1)),
  );
  const m = report.metrics;
  assert.ok(m.rocAuc.value > best - 0.05, `ROC AUC ${m.rocAuc.value} against the planted truth's ${best}`);
  assert.ok(m.rocAuc.low < m.rocAuc.value && m.rocAuc.value < m.rocAuc.high);
  assert.ok(m.prAuc.value > m.baseRate + 0.2, `PR AUC ${m.prAuc.value} against base rate ${m.baseRate}`);
  for (const bin of report.calibration)
    assert.ok(Math.abs(bin.predicted - bin.observed) < 0.1, `calibration bin ${JSON.stringify(bin)}`);
  const effect = (name: string) => report.effects.find((e) => e.feature === name);
  assert.equal(effect('attribute_contract')?.highest, 'monthly');
  const ticket = effect('tickets_unresolved')!;
  assert.ok(ticket.spread > 0.3 && ticket.highest === '1', JSON.stringify(ticket));
  // shoe size plays no part: it moves the odds less than either planted cause.
  assert.ok((effect('attribute_shoe_size')?.spread ?? 0) < ticket.spread);
  // Running subscribers with an unresolved ticket on a monthly contract score highest, and say why.
  const running = subscribers.filter((s) => s.cancelDay === null);
  assert.equal(scores.length, running.length);
  const probability = new Map(scores.map((x) => [x.customerId, x.probability]));
  const meanOf = (group: Subscriber[]) =>
    group.reduce((sum, x) => sum + probability.get(x.customerId)!, 0) / group.length;
  const risky = running.filter((x) => x.attributes.contract === 'monthly' && x.signals.length > 0);
  const safe = running.filter((x) => x.attributes.contract === 'annual' && x.signals.length === 0);
  assert.ok(meanOf(risky) > 2 * meanOf(safe), `monthly with a ticket ${meanOf(risky)}, annual without ${meanOf(safe)}`);
  const top = [...scores].sort((a, b) => b.probability - a.probability);
  assert.ok(
    top[0].factors.some((f) => f.startsWith('contract monthly') || f.startsWith('tickets_unresolved')),
    top[0].factors.join('; '),
  );
});

test('an attribute that records the outcome is left out, a date attribute counts days, and too few cancellations give no model', () => {
  const subscribers = plantedStore(600, 5).map((s) => ({
    ...s,
    attributes: {
      ...s.attributes,
      churn: s.cancelDay === null ? 'No' : 'Yes',
      signed_up: new Date(s.startDay * 86_400_000).toISOString().slice(0, 10),
    },
  }));
  const data = churnDataset(subscribers, asOf, codes);
  // A date attribute is read as days before the as-of date, not as hundreds of categories.
  assert.deepEqual(
    [...data.columns.numeric.attribute_signed_up.slice(0, 3)],
    subscribers.slice(0, 3).map((s) => asOf - s.startDay),
  );
  assert.ok(!('attribute_churn' in data.columns.categorical));
  assert.match(data.dropped.join('\n'), /churn: each of its values belongs only to/);
  const few = plantedStore(600, 5).map((s, i) => ({ ...s, cancelDay: i < 10 ? s.startDay + 40 : null }));
  const outcome = churnModel(few, asOf, codes);
  assert.ok('reason' in outcome);
  assert.match(outcome.reason, /10 cancelled and 590 running subscribers/);
});

test('retention by cohort recovers a planted sBG and its backtest holds the actual cancellations', () => {
  const rng = random(21);
  const subscribers: Subscriber[] = [];
  for (let id = 1; id <= 20_000; id++) {
    const theta = betaOf(rng, 0.8, 3);
    // Starts on the 1st of one of the 24 months before as-of, so every month has a cohort.
    const month = Math.floor(rng() * 24);
    const start = day(`${2024 + Math.floor((6 + month) / 12)}-${String(((6 + month) % 12) + 1).padStart(2, '0')}-01`);
    let cancelDay: number | null = null;
    for (let t = 0; ; t++) {
      const renewal = day(new Date(Date.UTC(2024, 6 + month + t + 1, 1)).toISOString().slice(0, 10));
      if (renewal > asOf) break;
      if (rng() < theta) {
        cancelDay = renewal - 3; // cancelled a few days before renewal t + 1
        break;
      }
    }
    subscribers.push(subscriberOf(rng, id, 0, start, { cancelDay }));
  }
  const r = retention(subscribers, asOf)!;
  assert.equal(r.period, 'month');
  assert.equal(r.subscribers, 20_000);
  assert.ok(Math.abs(r.fit!.alpha - 0.8) < 0.1, `alpha ${r.fit!.alpha}`);
  assert.ok(Math.abs(r.fit!.beta - 3) < 0.4, `beta ${r.fit!.beta}`);
  assert.equal(r.cohorts.length, 12);
  const oldest = r.cohorts[0];
  assert.equal(oldest.start, '2025-07-01');
  // The cohort's own curve is what happened to its members.
  const members = subscribers.filter((s) => s.startDay === day(oldest.start));
  assert.equal(oldest.subscribers, members.length);
  const stillAfter3 = members.filter(
    (s) => s.cancelDay === null || renewalsBetween(s.startDay, s.cancelDay, 'month') >= 3,
  );
  assert.ok(Math.abs(oldest.observed[3] - stillAfter3.length / members.length) < 1e-12);
  const b = r.backtest!;
  assert.ok(b.low <= b.actual && b.actual <= b.high, JSON.stringify(b));
  // The projection of the pooled fit never rises and the retention rate grows with tenure.
  for (let t = 1; t < r.projected.length; t++) assert.ok(r.projected[t] <= r.projected[t - 1]);
  for (let t = 1; t < r.retentionRates.length; t++) assert.ok(r.retentionRates[t] >= r.retentionRates[t - 1]);
  // A ranking by tenure alone is what the sBG gives each running subscriber; it carries information.
  const scores = Float64Array.from(subscribers, (s) => -(s.startDay - asOf));
  const label = Uint8Array.from(subscribers, (s) => (s.cancelDay === null ? 0 : 1));
  assert.ok(rocAuc(scores, label) > 0.5);
});
