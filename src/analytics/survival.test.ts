// Kaplan-Meier by hand: events before censorings on the same day, censored customers leave the risk set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kaplanMeier } from './survival.ts';

test('Kaplan-Meier counts an event before a censoring on the same day and drops the censored from the risk set', () => {
  // Five trial users: converted on days 1, 2 and 3; one censored on day 2 (still waiting at as-of), one on day 5.
  const curve = kaplanMeier({ time: [3, 2, 1, 5, 2], event: [1, 0, 1, 0, 1] }, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(
    curve.map((p) => [p.time, Number(p.survival.toFixed(6)), p.atRisk]),
    [
      [0, 1, 5],
      [1, 0.8, 4],
      [2, 0.6, 2],
      [3, 0.3, 1],
      [4, 0.3, 1],
      [5, 0.3, 0],
    ],
  );
});
