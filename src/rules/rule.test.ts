import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newcombe, wilson, type OutcomeCell } from '../analytics/outcomes.ts';
import { distilRules, ruleFits } from './rule.ts';

const share = (x: number, n: number) => ({ n, ...wilson(x, n) });
const bands = {
  none: { count: 0, share: 0 },
  low: { count: 0, share: 0 },
  mid: { count: 0, share: 0 },
  high: { count: 0, share: 0 },
};
function cell(over: Partial<OutcomeCell> & { x: number; n: number; base: [number, number] }): OutcomeCell {
  const { x, n, base, ...rest } = over;
  return {
    key: '',
    stage: 'trial',
    valueBand: '*',
    channel: '*',
    kind: 'late_delivery',
    valence: 'problem',
    occurrence: 'all',
    followedUp: 'all',
    n,
    boughtAgain: x,
    ...wilson(x, n),
    meanValue: 0,
    bands,
    baseline: { ...share(base[0], base[1]), bands },
    difference: newcombe({ x, n }, { x: base[0], n: base[1] }),
    followUpEffect: null,
    small: n < 30,
    ...rest,
  };
}
const options = { runId: 3, asOf: '2026-01-10', days: 90, followUpDays: 2, minCell: 30, limit: 20 };

test('a follow-up that clearly helps becomes a rule with its evidence in words', () => {
  const followUpEffect = {
    ...newcombe({ x: 150, n: 250 }, { x: 60, n: 162 }),
    yes: share(150, 250),
    no: share(60, 162),
  };
  const [rule, ...rest] = distilRules([cell({ x: 210, n: 412, base: [500, 1000], followUpEffect })], options);
  assert.equal(rest.length, 0);
  assert.deepEqual(
    [rule.key, rule.action, rule.customerType],
    ['follow_up:trial|*|late_delivery', 'call', { stage: 'trial', valueBand: null, channel: null }],
  );
  assert.equal(
    rule.text,
    'trial user + late delivery, no follow-up within 2 days: 37 % buy again within 90 days; followed up: 60 %, n = 412, +23 points [+13, +32]',
  );
  assert.deepEqual([rule.evidence.comparison, rule.evidence.n, rule.evidence.againstN], ['follow_up', 162, 250]);
});

test('harm without follow-up data, a helpful gesture, and no rule from noise, a small cell, a margin or a channel', () => {
  const rules = distilRules(
    [
      cell({ kind: 'wrong_or_damaged_item', x: 40, n: 200, base: [500, 1000] }),
      cell({ kind: 'gift_received', valence: 'gesture', stage: 'customer', x: 140, n: 200, base: [500, 1000] }),
      cell({ kind: 'ticket_opened', x: 98, n: 200, base: [500, 1000] }),
      cell({ kind: 'portal_abandoned', x: 2, n: 20, base: [500, 1000] }),
      cell({ kind: 'return', stage: '*', x: 10, n: 200, base: [500, 1000] }),
      cell({ kind: 'return', channel: 'web', x: 10, n: 200, base: [500, 1000] }),
    ],
    options,
  );
  assert.deepEqual(
    rules.map((r) => [r.key, r.action]),
    [
      ['harm:trial|*|wrong_or_damaged_item', 'apology_replacement'],
      ['gesture:customer|*|gift_received', 'gift'],
    ],
  );
  assert.match(rules[1].text, /\(observed, not randomised\)$/);
  assert.ok(ruleFits({ stage: 'trial', valueBand: null, channel: null }, 'trial', 'low', 'web'));
  assert.ok(!ruleFits({ stage: 'trial', valueBand: 'high', channel: null }, 'trial', 'low', 'web'));
});
