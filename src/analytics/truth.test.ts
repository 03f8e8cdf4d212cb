// The prediction layer against a planted truth: a store generated day by day where whether a
// customer buys depends only on what Kept can see (recent purchases, silence, one order only, an
// unresolved ticket, the season), so the best possible forecast is known: the generator's own
// chance of a purchase in the 90 days after as-of, found by simulating those days from each
// customer's state. Zero-value orders and refunds are planted too, to be ignored and netted.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { random, type Rng } from '../shared/random.ts';
import { analyze } from './analyze.service.ts';
import { rocAuc } from './evaluate.ts';
import { latestScores, modelReport } from './report.service.ts';

const start = Date.UTC(2023, 0, 1) / 86_400_000;
const asOf = '2024-10-31';
const asOfDay = Date.parse(`${asOf}T00:00:00Z`) / 86_400_000;
const window = 90;
const customers = 4000;

/** What decides a customer's next day, all of it visible in the data. */
interface State {
  days: number[];
  unresolved: boolean;
}

/** The season: purchases run 2.2 times as often from mid-November to the end of December. */
const season = (d: number) => {
  const date = new Date(d * 86_400_000);
  const dayOfYear =
    (Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - Date.UTC(date.getUTCFullYear(), 0, 1)) /
    86_400_000;
  return dayOfYear >= 319 ? 2.2 : 1;
};

/** The chance of a purchase on day d: fades with silence, faster after one order only; an unresolved ticket divides it by three. */
function chance(s: State, d: number): number {
  const last = s.days.at(-1)!;
  let recent = 0;
  for (let j = s.days.length - 1; j >= 0 && s.days[j] > d - 90; j--) recent++;
  const oneOrder = s.days.length === 1;
  const log =
    Math.log(1 / 40) +
    0.35 * Math.min(recent, 3) -
    (d - last) / (oneOrder ? 60 : 150) -
    (s.unresolved ? Math.log(3) : 0);
  return Math.min(0.3, Math.exp(log) * season(d));
}

/** One day of a customer: a purchase (and maybe a ticket after it), or not. */
function step(s: State, d: number, rng: Rng): boolean {
  if (rng() >= chance(s, d)) return false;
  s.days.push(d);
  return true;
}

/** The chance of at least one purchase in the window after as-of, by simulating it from the customer's state. */
function oracle(s: State, rng: Rng, runs = 300): number {
  let bought = 0;
  for (let k = 0; k < runs; k++) {
    const copy = { days: [...s.days], unresolved: s.unresolved };
    for (let d = asOfDay + 1; d <= asOfDay + window; d++)
      if (step(copy, d, rng)) {
        bought++;
        break;
      }
  }
  return bought / runs;
}

function generate(seed: number) {
  const rng = random(seed);
  const events: Record<string, unknown>[] = [];
  const truth: { id: string; oracle: number; bought: boolean; unresolved: boolean; orders: number; last: number }[] =
    [];
  const at = (d: number) => new Date(d * 86_400_000 + 12 * 3_600_000).toISOString();
  for (let c = 0; c < customers; c++) {
    const id = `C${c}`;
    const customer = { externalId: id };
    const first = start + Math.floor(rng() * 600);
    const s: State = { days: [first], unresolved: false };
    let orders = 0;
    const order = (d: number, amount: string) => {
      const orderId = `${id}-${orders++}`;
      events.push({ id: `o-${orderId}`, type: 'order', customer, orderId, at: at(d), lines: [{ amount }] });
      // One order in twenty is refunded in full.
      if (amount !== '0' && rng() < 0.05)
        events.push({
          id: `r-${orderId}`,
          type: 'return',
          customer,
          returnId: `R${orderId}`,
          orderId,
          at: at(d + 3),
          amount,
        });
      // One in eight brings a ticket; half of them are never resolved.
      if (amount !== '0' && rng() < 0.125) {
        const ticketId = `T${orderId}`;
        events.push({ id: `t-${orderId}`, type: 'ticket.opened', customer, ticketId, at: at(d + 1), category: 'late' });
        if (rng() < 0.5)
          events.push({
            id: `tr-${orderId}`,
            type: 'ticket.resolved',
            customer,
            ticketId,
            at: at(d + 3),
            outcome: 'resolved',
          });
        else s.unresolved = true;
      }
    };
    order(first, String(20 + Math.floor(rng() * 80)));
    for (let d = first + 1; d <= asOfDay; d++) {
      if (step(s, d, rng)) order(d, String(20 + Math.floor(rng() * 80)));
      // A free replacement now and then, whatever the customer does: not a purchase.
      else if (rng() < 0.002) order(d, '0');
    }
    const p = oracle(s, rng);
    const future = { days: [...s.days], unresolved: s.unresolved };
    let bought = false;
    for (let d = asOfDay + 1; d <= asOfDay + window && !bought; d++) bought = step(future, d, rng);
    truth.push({ id, oracle: p, bought, unresolved: s.unresolved, orders: s.days.length, last: s.days.at(-1)! });
  }
  return { events, truth };
}

test('planted truth: the backtest chooses a model within 0.02 ROC AUC of the best possible, beating BG/NBD and recency', async () => {
  const { events, truth } = generate(20_241_031);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-truth-'));
  const deps = await createTestDeps({ dataDir: work });
  try {
    const timed = { ...deps, clock: { now: () => new Date('2024-10-31T23:00:00Z') } };
    for (let i = 0; i < events.length; i += 2000)
      assert.equal((await ingestEvents(timed, events.slice(i, i + 2000), { source: 'test' })).rejected, 0);
    const ingested = performance.now();
    const outcome = await analyze(timed, { asOf });
    process.stdout.write(
      `# analysis ${((performance.now() - ingested) / 1000).toFixed(1)} s: ${JSON.stringify(outcome.phases)}\n`,
    );
    const report = await modelReport(deps.db, 'day');
    const backtest = report.backtest as {
      chosen: string;
      recencyAuc: number;
      candidates: { model: string; rocAuc: { value: number; low: number; high: number } }[];
    };
    const byId = new Map<string, Record<string, unknown>>();
    for await (const row of latestScores(deps.db)) byId.set(row.external_id as string, row);
    const scored = truth.filter((t) => byId.has(t.id));
    assert.equal(scored.length, customers);
    const labels = Uint8Array.from(scored, (t) => (t.bought ? 1 : 0));
    const aucOf = (score: (t: (typeof truth)[number], row: Record<string, unknown>) => number) =>
      rocAuc(
        Float64Array.from(scored, (t) => score(t, byId.get(t.id)!)),
        labels,
      );
    const best = aucOf((t) => t.oracle);
    const pBuy = aucOf((_, row) => Number(row.p_buy_90));
    const stays = aucOf((_, row) => 1 - Number(row.churn_probability));
    const recency = aucOf((t) => t.last);
    process.stdout.write(
      `# planted truth: chosen ${outcome.model}; ROC AUC best possible ${best.toFixed(3)}, p_buy_90 ${pBuy.toFixed(3)}, 1 - churn ${stays.toFixed(3)}, recency ${recency.toFixed(3)}; backtest ${backtest.candidates.map((c) => `${c.model} ${c.rocAuc.value.toFixed(3)}`).join(', ')}, recency ${backtest.recencyAuc.toFixed(3)}\n`,
    );
    assert.ok(
      pBuy >= best - 0.02,
      `p_buy_90 ranks with ROC AUC ${pBuy}, more than 0.02 under the best possible ${best}`,
    );
    assert.ok(
      stays >= best - 0.03,
      `1 - churn_probability ranks with ROC AUC ${stays} against the best possible ${best}`,
    );
    assert.ok(pBuy > recency && stays > recency, 'both rank buyers better than recency alone');
    const bgnbd = backtest.candidates.find((c) => c.model === 'bgnbd')!;
    const chosen = backtest.candidates.find((c) => c.model === outcome.model)!;
    assert.ok(chosen.rocAuc.value > bgnbd.rocAuc.value || chosen === bgnbd);
    assert.ok(chosen.rocAuc.value > backtest.recencyAuc, 'the chosen model beats recency alone in the backtest');
    // The planted effect is found: an unresolved ticket lowers the chance of buying.
    // Only the model learnt from the store can see tickets: it must be the one chosen, and have found them.
    assert.equal(outcome.model, 'supervised');
    const effects = (report.supervised as { effects: { feature: string; spread: number }[] }).effects;
    assert.ok(effects.find((e) => e.feature === 'tickets_unresolved')!.spread > 0.5, JSON.stringify(effects));
    // Customers with an unresolved ticket are scored less likely to buy, as planted.
    const mean = (rows: (typeof truth)[number][]) =>
      rows.reduce((sum, t) => sum + Number(byId.get(t.id)!.p_buy_90), 0) / rows.length;
    const repeat = scored.filter((t) => t.orders > 2);
    assert.ok(
      mean(repeat.filter((t) => t.unresolved)) < 0.75 * mean(repeat.filter((t) => !t.unresolved)),
      'an unresolved ticket lowers the chance of buying',
    );
  } finally {
    await deps.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
