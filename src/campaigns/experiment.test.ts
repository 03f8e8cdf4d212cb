// Experiments run elsewhere: a CSV with planted effects (one only in a subgroup) imported all or
// nothing, and reported against an independent computation from the generated rows.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createTestApp, expectJson, type TestApp } from '../../test/app.ts';
import { queryRows, sql } from '../db/connection.ts';
import { ingestEvents } from '../ingest/ingest.service.ts';
import { AppError } from '../shared/errors.ts';
import { random } from '../shared/random.ts';
import { experimentReport, importExperiment } from './experiment.service.ts';
import { chiSquareSurvival, cochranQ } from './experiment.ts';

let t: TestApp;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-experiment-'));
const n = 4000;
const admin = { kind: 'key', id: 0, name: 'test', role: 'admin' } as const;
const rows: { id: string; vip: number; arm: string; engaged: number }[] = [];

before(async () => {
  t = await createTestApp('admin');
  const rng = random(11);
  const events: Record<string, unknown>[] = [];
  for (let i = 1; i <= n; i++) {
    const vip = rng() < 0.5 ? 1 : 0;
    const arm = ['A', 'B', 'Control'][Math.floor(rng() * 3)];
    // A lifts engagement by 12 points for vips only; B by 2 points for everyone.
    const p = 0.1 + (arm === 'A' && vip ? 0.12 : 0) + (arm === 'B' ? 0.02 : 0);
    rows.push({ id: `X${i}`, vip, arm, engaged: rng() < p ? 1 : 0 });
    events.push({ id: `u${i}`, type: 'customer.upsert', customer: { externalId: `X${i}` }, attributes: { vip } });
  }
  for (let i = 0; i < events.length; i += 1000)
    assert.equal((await ingestEvents(t.deps, events.slice(i, i + 1000), { source: 'test' })).rejected, 0);
  fs.writeFileSync(
    path.join(dir, 'experiment.csv'),
    ['member,group,engaged', ...rows.map((r) => `${r.id},${r.arm},${r.engaged ? 'yes' : 'no'}`)].join('\n'),
  );
});
after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The difference in engagement of `arm` against the control among `subset`, computed from the generated rows. */
function expected(arm: string, subset = rows) {
  const share = (a: string) => {
    const g = subset.filter((r) => r.arm === a);
    return { n: g.length, p: g.reduce((s, r) => s + r.engaged, 0) / g.length };
  };
  const [x, c] = [share(arm), share('Control')];
  // Agresti-Caffo: one success and one failure added to each group.
  const adjusted = (g: { n: number; p: number }) => (g.p * g.n + 1) / (g.n + 2);
  const [qx, qc] = [adjusted(x), adjusted(c)];
  const se = Math.sqrt((qx * (1 - qx)) / (x.n + 2) + (qc * (1 - qc)) / (c.n + 2));
  return { difference: x.p - c.p, centre: qx - qc, se, n: x.n };
}

test('the chi-square survival function matches published critical values', () => {
  for (const [x, df, p] of [
    [3.841459, 1, 0.05],
    [5.991465, 2, 0.05],
    [11.0705, 5, 0.05],
    [6.634897, 1, 0.01],
    [0.1015308, 1, 0.75],
    [30.5779, 15, 0.01],
  ])
    assert.ok(Math.abs(chiSquareSurvival(x, df) - p) < 1e-5, `chi2(${x}, ${df}) = ${chiSquareSurvival(x, df)}`);
  assert.equal(cochranQ([{ difference: 0.1, low: 0.05, high: 0.15 }]).df, 0);
});

test('an experiment from a file: each arm against the control, overall and by subgroup, as computed independently', async () => {
  const imported = await importExperiment(t.deps, admin, {
    file: path.join(dir, 'experiment.csv'),
    name: 'planted',
    map: { customer: 'member', arm: 'group' },
    control: 'control',
  });
  assert.equal(imported.members, n);
  const report = await experimentReport(t.deps, 'planted', { days: 30, by: 'vip' });
  assert.equal(report.sources.engagement, 'file');
  assert.equal(report.control.members, rows.filter((r) => r.arm === 'Control').length);
  for (const arm of ['A', 'B']) {
    const got = report.arms.find((a) => a.arm === arm)!.outcomes.find((o) => o.outcome === 'engagement')!;
    const want = expected(arm);
    assert.ok(Math.abs(got.difference - want.difference) < 1e-12);
    assert.ok(Math.abs(got.low - (want.centre - 1.959964 * want.se)) < 1e-9, 'the independent interval');
    assert.ok(Math.abs(got.high - (want.centre + 1.959964 * want.se)) < 1e-9, 'the independent interval');
  }
  const vip = report.by!.groups.find((g) => g.group === '1')!;
  const plain = report.by!.groups.find((g) => g.group === '0')!;
  const aVip = vip.arms.find((a) => a.arm === 'A')!.outcomes.find((o) => o.outcome === 'engagement')!;
  const aPlain = plain.arms.find((a) => a.arm === 'A')!.outcomes.find((o) => o.outcome === 'engagement')!;
  assert.ok(
    Math.abs(
      aVip.difference -
        expected(
          'A',
          rows.filter((r) => r.vip === 1),
        ).difference,
    ) < 1e-12,
  );
  assert.ok(aVip.low < 0.12 && 0.12 < aVip.high, 'the planted +12 points for vips is inside the interval');
  assert.ok(aPlain.low < 0 && 0 < aPlain.high, 'no effect for the others');
  const test = report.by!.heterogeneity.find((h) => h.arm === 'A' && h.outcome === 'engagement')!;
  assert.ok(test.p < 0.001, `the subgroups differ for A: p = ${test.p}`);
  const same = report.by!.heterogeneity.find((h) => h.arm === 'B' && h.outcome === 'engagement')!;
  assert.ok(same.p > 0.05, `B's effect is the same in both: p = ${same.p}`);
  // Without outcome columns, conversion and revenue come from Kept's own orders: none here.
  assert.equal(report.sources.conversion, 'kept');
  assert.equal(report.arms[0].outcomes.find((o) => o.outcome === 'conversion')!.treated, 0);
  const viaApi = await expectJson(t.call('GET', `/api/v1/campaigns/${imported.id}/experiment?by=vip`));
  assert.deepEqual(
    viaApi.by.groups.map((g: { group: string }) => g.group),
    ['0', '1'],
  );
});

test('a file with an unknown customer, a duplicate or a bad value is refused with row and column, and nothing is imported', async () => {
  fs.writeFileSync(
    path.join(dir, 'bad.csv'),
    ['customer,arm,engaged,revenue', 'X1,A,1,10', 'NOPE,A,0,1', 'X1,control,1,2', 'X2,A,maybe,3', 'X3,A,1,ten'].join(
      '\n',
    ),
  );
  const before = (await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from campaigns`))[0].n;
  await assert.rejects(
    importExperiment(t.deps, admin, { file: path.join(dir, 'bad.csv'), name: 'bad', map: {} }),
    (e: unknown) => {
      assert.ok(e instanceof AppError);
      const issues = (e.details as { issues: { path: string; message: string }[] }).issues;
      assert.deepEqual(issues.map((i) => i.path).sort(), [
        'row 2, customer',
        'row 3, customer',
        'row 4, engaged',
        'row 5, revenue',
      ]);
      assert.match(issues.find((i) => i.path === 'row 2, customer')!.message, /no customer "NOPE"/);
      return true;
    },
  );
  const afterwards = (await queryRows<{ n: number }>(t.deps.db, sql`select count(*)::int as n from campaigns`))[0].n;
  assert.equal(afterwards, before, 'no campaign row is left behind');
});
