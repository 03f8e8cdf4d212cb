// Uplift against a planted truth: customers randomised 50/50 to an action that raises the chance of
// a purchase by 0.25 only in a responsive group (segment B, 60-199 days since the last order), and
// moves no one else: "sure things" (recent and frequent: buy anyway at 0.9), "lost causes" (300+
// days: buy at 0.01, and the lowest p_alive, so a risk ranking finds them most urgent) and the rest
// (a base rate fading with recency). Each customer's true uplift is known, so the held-out model,
// the worklist order and the policy's saving are checked against it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { random } from '../shared/random.ts';
import { rowsOf } from './churn.ts';
import { type Columns, fitBinnedLogistic } from './learn.ts';
import {
  effectByType,
  fitUplift,
  minimumTrials,
  policyValue,
  priorUplift,
  qini,
  rankByIncrementalValue,
  scoreUplift,
  type Trial,
  type UpliftFit,
  upliftFolds,
} from './uplift.ts';

type Kind = 'responsive' | 'sure' | 'lost' | 'other';

/** `effect`: give every customer this true uplift instead of the planted groups' (for the no-targeting case). */
function plantedTrials(n: number, seed: number, options: { effect?: number } = {}) {
  const rng = random(seed);
  const recency = new Float64Array(n);
  const frequency = new Float64Array(n);
  const monetary = new Float64Array(n);
  const tenure = new Float64Array(n); // plays no part
  const segment = new Int32Array(n);
  const treated = new Uint8Array(n);
  const outcome = new Uint8Array(n);
  const uplift = new Float64Array(n);
  const pAlive = new Float64Array(n);
  const value = new Float64Array(n);
  const kind: Kind[] = [];
  const trials: Trial[] = [];
  for (let i = 0; i < n; i++) {
    recency[i] = Math.floor(rng() * 400);
    frequency[i] = 1 + Math.min(30, Math.floor(-Math.log(1 - rng()) * 4));
    const basket = 40 * Math.exp(rng() - 0.5);
    monetary[i] = frequency[i] * basket;
    tenure[i] = Math.floor(rng() * 1000);
    const u = rng();
    segment[i] = u < 0.25 ? 0 : u < 0.8 ? 1 : 2;
    let base: number;
    value[i] = monetary[i];
    if (recency[i] >= 300) {
      kind.push('lost');
      base = 0.01;
      pAlive[i] = 0.05 + 0.1 * rng();
      value[i] = 2 * monetary[i]; // they were big customers: the most value at stake
    } else if (recency[i] < 60 && frequency[i] >= 5) {
      kind.push('sure');
      base = 0.9;
      pAlive[i] = 0.95;
    } else if (segment[i] === 1 && recency[i] >= 60) {
      kind.push(recency[i] < 200 ? 'responsive' : 'other');
      base = 0.05 + 0.2 * Math.exp(-recency[i] / 100);
      pAlive[i] = 0.5 + 0.2 * rng();
    } else {
      kind.push('other');
      base = 0.05 + 0.2 * Math.exp(-recency[i] / 100);
      pAlive[i] = 0.6 + 0.3 * rng();
    }
    uplift[i] = options.effect ?? (kind[i] === 'responsive' ? 0.25 : 0);
    treated[i] = rng() < 0.5 ? 1 : 0;
    outcome[i] = rng() < base + uplift[i] * treated[i] ? 1 : 0;
    trials.push({
      customerId: 1000 + i,
      source: i % 3 === 0 ? 'worklist' : 'campaign:12',
      treated: treated[i] === 1,
      outcome: outcome[i] as 0 | 1,
      value: outcome[i] ? basket : 0,
    });
  }
  const columns: Columns = {
    numeric: { recency, frequency, monetary, tenure },
    categorical: { segment: { codes: segment, names: ['A', 'B', 'C'] } },
  };
  return { columns, treated, outcome, uplift, pAlive, value, kind, trials };
}

const n = 20_000;
const planted = plantedTrials(n, 7);
let fitted: UpliftFit | undefined;
/** One cross-fitted model of the planted trials, shared by the tests that read it. */
function plantedFit(): UpliftFit {
  if (!fitted) {
    const result = fitUplift(planted.columns, planted.treated, planted.outcome, { folds: 5, seed: 3 });
    assert.ok(!('reason' in result));
    fitted = result;
  }
  return fitted;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

test('held out, the uplift model ranks the planted responsive group first and its top share shows the planted +0.25', (t) => {
  const fit = plantedFit();
  assert.equal(fit.rows, n);
  assert.equal(fit.folds, 5);
  assert.equal(fit.treated.n + fit.control.n, n);
  const responsive = planted.kind.filter((k) => k === 'responsive').length / n;
  assert.ok(responsive > 0.17 && responsive < 0.22, `responsive share ${responsive}`);
  const order = Int32Array.from(fit.heldOut.keys()).sort((a, b) => fit.heldOut[b] - fit.heldOut[a]);
  const top = [...order.subarray(0, n / 5)];
  const topShare = top.filter((i) => planted.kind[i] === 'responsive').length / top.length;
  assert.ok(topShare > 0.7, `responsive share of the top 20 %: ${topShare}`);
  const byKind = (kind: Kind) => mean([...fit.heldOut].filter((_, i) => planted.kind[i] === kind));
  assert.ok(byKind('responsive') > 0.15, `responsive: mean held-out uplift ${byKind('responsive')}`);
  for (const kind of ['sure', 'lost'] as const)
    assert.ok(Math.abs(byKind(kind)) < 0.03, `${kind}: mean held-out uplift ${byKind(kind)}`);
  t.diagnostic(
    `responsive: ${(100 * responsive).toFixed(1)} % of trials, ${(100 * topShare).toFixed(1)} % of the top 20 %; mean held-out uplift ${(['responsive', 'sure', 'lost', 'other'] as const).map((k) => `${k} ${byKind(k).toFixed(3)}`).join(', ')}`,
  );

  // The planted uplift itself is the best ranking there is; on these trials (outcomes are noisy) it
  // reaches a Qini coefficient well below 1. The held-out model should reach at least half of it.
  // With the treatment labels shuffled, who buys still depends on the features but nothing depends
  // on the treatment: a model of that should find nothing. Its coefficient spreads around 0 (12
  // shuffles: mean 0.000, sd 0.015; a random ranking's sd is 0.010), so 0.045 is three spreads; the
  // model stands about eight spreads above 0.
  const truth = qini(planted.uplift, planted.treated, planted.outcome);
  const shuffled = Uint8Array.from(planted.treated);
  const rng = random(99);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const permuted = fitUplift(planted.columns, shuffled, planted.outcome, { folds: 5, seed: 3 });
  assert.ok(!('reason' in permuted));
  const q = fit.qini.coefficient;
  t.diagnostic(
    `qini: model ${q.toFixed(3)}, planted truth ${truth.coefficient.toFixed(3)}, treatment labels shuffled ${permuted.qini.coefficient.toFixed(3)}`,
  );
  assert.ok(q > 0.5 * truth.coefficient, `Qini coefficient ${q} against the truth's ${truth.coefficient}`);
  assert.ok(permuted.qini.coefficient < 0.045, `treatment labels shuffled: ${permuted.qini.coefficient}`);
  assert.ok(q > permuted.qini.coefficient + 0.1);
  assert.ok(permuted.topK[0].low < 0 && 0 < permuted.topK[0].high, JSON.stringify(permuted.topK[0]));
  // The curve: 51 points from 0 to the overall gain, the random line straight between them.
  const points = fit.qini.points;
  assert.equal(points.length, 51);
  assert.deepEqual(points[0], { share: 0, gain: 0, random: 0 });
  assert.ok(Math.abs(points[50].gain - points[50].random) < 1e-12);
  // Treating everyone would bring responsive share x 0.25 extra buyers per customer; the top 30 %,
  // which hold the responsive fifth, nearly all of it (the rest is noise of the outcomes).
  assert.ok(Math.abs(points[50].gain - responsive * 0.25) < 0.015, `overall gain ${points[50].gain}`);
  t.diagnostic(
    `qini gain: ${points
      .filter((_, j) => j % 5 === 0)
      .map((p) => `${p.share}: ${p.gain.toFixed(4)}`)
      .join(', ')}`,
  );
  assert.ok(points[10].gain > 0.7 * points[50].gain, `gain at 20 %: ${points[10].gain}`);
  assert.ok(points[15].gain > 0.85 * points[50].gain, `gain at 30 %: ${points[15].gain}`);

  const [top10, top20, top30, top50] = fit.topK;
  t.diagnostic(
    `observed uplift in the top shares: ${fit.topK.map((k) => `${k.share}: ${k.value.toFixed(3)} [${k.low.toFixed(3)}, ${k.high.toFixed(3)}]`).join('; ')}`,
  );
  assert.deepEqual(
    fit.topK.map((k) => k.share),
    [0.1, 0.2, 0.3, 0.5],
  );
  assert.equal(top10.treated + top10.control, n / 10);
  assert.ok(top10.low < 0.25 && 0.25 < top10.high && top10.low > 0.15, JSON.stringify(top10));
  // Past the responsive fifth the top share fills with customers nothing moves.
  assert.ok(top20.value > top30.value && top30.value > top50.value);
  assert.ok(Math.abs(top50.value - (responsive / 0.5) * 0.25) < 0.04, JSON.stringify(top50));
  // The full-data models score new customers the same way: the responsive group again on top.
  const current = scoreUplift(fit.models, planted.columns);
  const responsiveNow = mean([...current].filter((_, i) => planted.kind[i] === 'responsive'));
  const othersNow = mean([...current].filter((_, i) => planted.kind[i] !== 'responsive'));
  assert.ok(responsiveNow > othersNow + 0.15, `now: responsive ${responsiveNow}, others ${othersNow}`);
});

test('each held-out uplift comes from the two models that did not see its fold', () => {
  const small = plantedTrials(3000, 5);
  const fit = fitUplift(small.columns, small.treated, small.outcome, { folds: 4, seed: 11 });
  assert.ok(!('reason' in fit));
  const folds = upliftFolds(small.treated, small.outcome, 4, 11);
  assert.deepEqual(upliftFolds(small.treated, small.outcome, 4, 11), folds);
  // Stratified: every fold holds a quarter of each arm x outcome cell.
  for (let cell = 0; cell < 4; cell++) {
    const rows = [...folds.keys()].filter((r) => small.treated[r] * 2 + small.outcome[r] === cell);
    for (let f = 0; f < 4; f++) {
      const inFold = rows.filter((r) => folds[r] === f).length;
      assert.ok(Math.abs(inFold - rows.length / 4) <= 1, `cell ${cell} fold ${f}: ${inFold} of ${rows.length}`);
    }
  }
  const train = Int32Array.from(folds.keys()).filter((r) => folds[r] !== 1);
  const test = Int32Array.from(folds.keys()).filter((r) => folds[r] === 1);
  const arm = (a: number) => {
    const rows = train.filter((r) => small.treated[r] === a);
    return fitBinnedLogistic(
      rowsOf(small.columns, rows),
      Uint8Array.from(rows, (r) => small.outcome[r]),
    );
  };
  const uplift = scoreUplift({ treated: arm(1), control: arm(0) }, rowsOf(small.columns, test));
  test.forEach((r, j) => {
    assert.equal(fit.heldOut[r], uplift[j]);
  });
});

test('the worklist ranked by uplift x value - cost earns more true incremental value than value at stake x risk', (t) => {
  const fit = plantedFit();
  const cost = 5;
  const { order, expected } = rankByIncrementalValue(
    Array.from(planted.value, (value, i) => ({ uplift: fit.heldOut[i], value, cost })),
  );
  assert.equal(expected[0], fit.heldOut[0] * planted.value[0] - cost);
  const trueValue = (i: number) => planted.uplift[i] * planted.value[i] - cost;
  const top500 = (rows: ArrayLike<number>) =>
    Array.from(rows)
      .slice(0, 500)
      .reduce((sum, i) => sum + trueValue(i), 0);
  const rows = () => Int32Array.from(planted.value.keys());
  const byRisk = rows().sort(
    (a, b) => planted.value[b] * (1 - planted.pAlive[b]) - planted.value[a] * (1 - planted.pAlive[a]),
  );
  const best = rows().sort((a, b) => trueValue(b) - trueValue(a));
  const ranked = top500(order);
  t.diagnostic(
    `true incremental value of the top 500: by uplift ${ranked.toFixed(0)}, by value x risk ${top500(byRisk).toFixed(0)}, best possible ${top500(best).toFixed(0)}`,
  );
  // Value x risk picks the lost causes: every call costs and moves no one.
  assert.ok(
    Array.from(byRisk.subarray(0, 500)).every((i) => planted.kind[i] === 'lost'),
    'value x risk leads with lost causes',
  );
  assert.equal(top500(byRisk), -500 * cost);
  assert.ok(ranked > 0.6 * top500(best), `by uplift ${ranked}, best ${top500(best)}`);
});

test('targeting by incremental value saves the cost of the customers nothing moves; with one effect for all and no cost it saves nothing', (t) => {
  const fit = plantedFit();
  const cost = 20;
  const saved = policyValue({
    uplift: fit.heldOut,
    value: planted.value,
    treated: planted.treated,
    outcome: planted.outcome,
    cost,
  });
  // The planted saving: what treating the customers the policy leaves out would have cost, less what they would have brought.
  let truth = 0;
  for (let i = 0; i < n; i++)
    if (!(fit.heldOut[i] * planted.value[i] - cost > 0)) truth += cost - planted.uplift[i] * planted.value[i];
  truth /= n;
  t.diagnostic(
    `saving per customer ${saved.saving.value.toFixed(2)} [${saved.saving.low.toFixed(2)}, ${saved.saving.high.toFixed(2)}], planted ${truth.toFixed(2)}; targeted ${(100 * saved.shareTargeted).toFixed(1)} %`,
  );
  assert.equal(saved.customers, n);
  assert.ok(saved.shareTargeted > 0.1 && saved.shareTargeted < 0.4, `share targeted ${saved.shareTargeted}`);
  assert.ok(saved.saving.low > 0, JSON.stringify(saved.saving));
  assert.ok(saved.saving.low < truth && truth < saved.saving.high, `planted saving ${truth}`);
  assert.ok(Math.abs(saved.saving.value - (saved.policy.value - saved.everyone.value)) < 1e-9);

  // Everyone moved by +0.1 and calls free: targeting can only leave value behind, and leaves little.
  const even = plantedTrials(n, 8, { effect: 0.1 });
  const evenFit = fitUplift(even.columns, even.treated, even.outcome, { folds: 5, seed: 3 });
  assert.ok(!('reason' in evenFit));
  const none = policyValue({
    uplift: evenFit.heldOut,
    value: even.value,
    treated: even.treated,
    outcome: even.outcome,
    cost: 0,
  });
  // What the few left out (held-out uplift at or below 0 by chance) would have brought.
  let lost = 0;
  for (let i = 0; i < n; i++) if (!(evenFit.heldOut[i] > 0)) lost -= 0.1 * even.value[i];
  lost /= n;
  t.diagnostic(
    `one effect for all: saving ${none.saving.value.toFixed(2)} [${none.saving.low.toFixed(2)}, ${none.saving.high.toFixed(2)}], planted ${lost.toFixed(2)}, against ${none.everyone.value.toFixed(2)} for treating everyone; targeted ${(100 * none.shareTargeted).toFixed(1)} %`,
  );
  assert.ok(none.shareTargeted > 0.9, `share targeted ${none.shareTargeted}`);
  assert.ok(none.saving.low < lost && lost < none.saving.high, `planted ${lost}: ${JSON.stringify(none.saving)}`);
  assert.ok(Math.abs(none.saving.value) < 0.1 * none.everyone.value, JSON.stringify(none));

  // Targeting everyone is treating everyone.
  const all = policyValue({
    uplift: new Float64Array(n).fill(1),
    value: planted.value,
    treated: planted.treated,
    outcome: planted.outcome,
    cost,
  });
  assert.equal(all.targeted, n);
  assert.deepEqual(all.policy, all.everyone);
  assert.equal(all.saving.value, 0);
});

test('the effect by customer type recovers the planted effect of each group within its interval', (t) => {
  const { trials, uplift, columns, pAlive } = planted;
  const band = (name: string, names: string[], of: (i: number) => number) => ({
    name,
    names,
    codes: Int32Array.from({ length: n }, (_, i) => of(i)),
  });
  const recency = columns.numeric.recency;
  const groupings = [
    { name: 'segment', ...columns.categorical.segment },
    band('recency', ['0-59', '60-199', '200-299', '300+'], (i) =>
      recency[i] < 60 ? 0 : recency[i] < 200 ? 1 : recency[i] < 300 ? 2 : 3,
    ),
    band('risk band', ['gone', 'at risk', 'safe'], (i) => (pAlive[i] < 0.2 ? 0 : pAlive[i] < 0.8 ? 1 : 2)),
    // 40 pilot customers, and 10 of unknown type
    band('pilot', ['pilot', 'rest'], (i) => (i < 10 ? -1 : i < 50 ? 0 : 1)),
  ];
  const { overall, groups } = effectByType(trials, groupings);
  const plantedMean = (rows: number[]) => mean(rows.map((i) => uplift[i]));
  const covers = (g: { low: number; high: number; grouping: string; group: string }, truth: number) =>
    assert.ok(g.low < truth && truth < g.high, `${g.grouping} ${g.group}: [${g.low}, ${g.high}] misses ${truth}`);
  covers(overall, plantedMean([...trials.keys()]));
  assert.equal(overall.treated.n + overall.control.n, n);
  assert.equal(
    overall.treated.x + overall.control.x,
    planted.outcome.reduce((a, b) => a + b, 0),
  );
  assert.ok(overall.revenuePerCustomer && overall.revenuePerCustomer.difference > 0);
  const codesOf = new Map(groupings.map((g) => [g.name, g]));
  for (const g of groups) {
    const grouping = codesOf.get(g.grouping);
    assert.ok(grouping, g.grouping);
    const code = grouping.names.indexOf(g.group);
    const rows = [...trials.keys()].filter((i) => grouping.codes[i] === code || (code < 0 && grouping.codes[i] < 0));
    assert.equal(g.treated.n + g.control.n, rows.length, `${g.grouping} ${g.group}`);
    assert.equal(g.small, g.grouping === 'pilot' && g.group !== 'rest', `${g.grouping} ${g.group} small`);
    assert.ok(Math.abs(g.treatedRate - g.treated.x / g.treated.n) < 1e-12);
    if (!g.small) covers(g, plantedMean(rows));
    t.diagnostic(
      `${g.grouping} ${g.group}: ${g.difference.toFixed(3)} [${g.low.toFixed(3)}, ${g.high.toFixed(3)}], planted ${plantedMean(rows).toFixed(3)}${g.small ? ' (small)' : ''}`,
    );
  }
  assert.deepEqual(
    groups.map((g) => `${g.grouping}: ${g.group}`),
    [
      'segment: A',
      'segment: B',
      'segment: C',
      'recency: 0-59',
      'recency: 60-199',
      'recency: 200-299',
      'recency: 300+',
      'risk band: gone',
      'risk band: at risk',
      'risk band: safe',
      'pilot: pilot',
      'pilot: rest',
      'pilot: missing',
    ],
  );
  // Only segment B in 60-199 days responds: the groups without them show nothing.
  const effect = (grouping: string, group: string) => {
    const found = groups.find((g) => g.grouping === grouping && g.group === group);
    assert.ok(found, `${grouping} ${group}`);
    return found;
  };
  for (const [grouping, group] of [
    ['segment', 'A'],
    ['recency', '300+'],
    ['risk band', 'gone'],
  ])
    covers(effect(grouping, group), 0);
  assert.ok(effect('recency', '60-199').low > 0.1);
});

test('the structural prior moves only customers still reachable who would not buy anyway', () => {
  assert.equal(priorUplift(0, 0, 0.2), 0); // gone
  assert.equal(priorUplift(0.02, 0.01, 0.2), 0.2 * 0.01);
  assert.equal(priorUplift(0.8, 0.8, 0.2), 0); // buys anyway
  assert.equal(priorUplift(0.5, 0.7, 0.2), 0); // inconsistent inputs do not turn into a negative uplift
  assert.ok(Math.abs(priorUplift(0.9, 0.3, 0.2) - 0.12) < 1e-12);
  // Among equal risk scores the prior prefers the reachable customer who is not buying.
  assert.ok(priorUplift(0.6, 0.1, 0.2) > priorUplift(0.6, 0.5, 0.2));
});

test('the worklist order is by uplift x value - cost, ties in the order given', () => {
  const { order, expected } = rankByIncrementalValue([
    { uplift: 0.1, value: 100, cost: 5 },
    { uplift: 0.3, value: 100, cost: 5 },
    { uplift: 0.01, value: 1000, cost: 5 },
    { uplift: 0, value: 5000, cost: 5 },
    { uplift: 0.05, value: 300, cost: 5 },
  ]);
  assert.deepEqual(
    [...expected].map((x) => Math.round(x * 1e9) / 1e9),
    [5, 25, 5, -5, 10],
  );
  assert.deepEqual([...order], [1, 4, 0, 2, 3]);
});

test('too few trials in an arm give no model, and say why', () => {
  const few = plantedTrials(2000, 13);
  // 90 treated customers: the rest held out.
  let kept = 0;
  const treated = Uint8Array.from(few.treated, (t) => (t && kept++ < 90 ? 1 : 0));
  const result = fitUplift(few.columns, treated, few.outcome);
  assert.ok('reason' in result);
  assert.match(result.reason, /^90 treated trials \(\d+ bought\) and 1910 held out/);
  assert.match(result.reason, new RegExp(`at least ${minimumTrials.rows} trials, ${minimumTrials.outcomes} buyers`));
  // Enough trials, too few buyers among the held out.
  const outcome = Uint8Array.from(few.outcome, (y, i) => (few.treated[i] ? y : 0));
  const noBuyers = fitUplift(few.columns, few.treated, outcome);
  assert.ok('reason' in noBuyers);
  assert.match(noBuyers.reason, /held out \(0 bought\)/);
});
