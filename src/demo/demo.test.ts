// The demo store on its first start with a universal control group of 5 %: the group untouched by
// marketing, and the past campaigns recorded with their holdouts so their reports find what
// generation planted. 1,000 customers: the smallest store whose "We miss you" holdout has the 30
// members a report needs to measure anything (half of what `npm start` loads).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestDeps } from '../../test/database.ts';
import { experimentReport } from '../campaigns/experiment.service.ts';
import { inUniversalControl } from '../campaigns/index.ts';
import { programmeLiftReport } from '../campaigns/lift.service.ts';
import { loadConfig } from '../config.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { customerIdsByExternalId } from './demo.repository.ts';
import { demoDefaults } from './demo.ts';
import { customerHistory, loadDemo, type DemoOptions } from './generate.ts';
import { pastCampaigns, type PastMember } from './marketing.ts';

const share = 0.05;
const options: DemoOptions = { customers: 1000, seed: demoDefaults.seed, end: new Date('2026-06-30T23:59:59Z') };
let deps: Deps;
let loaded: { customers: number; events: number; campaigns: number };
let control: Set<number>;
let members: PastMember[];

before(async () => {
  const base = loadConfig({}, { NODE_ENV: 'test' });
  deps = await createTestDeps({ programme: { ...base.programme, universalControl: share } });
  (deps.clock as { now: () => Date }).now = () => new Date('2026-07-01T08:00:00Z');
  loaded = await loadDemo(deps, options);
  // What generation knows and the data cannot tell: who would have ordered anyway, who because of the mail.
  const ids = await customerIdsByExternalId(deps.db, `D${options.seed}-`);
  control = new Set([...ids.values()].filter((id) => inUniversalControl(id, share)));
  members = [];
  for (let index = 1; index <= options.customers; index++) {
    const id = ids.get(`D${options.seed}-${index}`)!;
    members.push(...customerHistory(options, index, { universalControl: control.has(id) }).members);
  }
});
after(() => deps.close());

test('the universal control group gets no newsletter and no campaign: only the order confirmations it needs', async () => {
  assert.ok(control.size > 30 && control.size < 70, `${control.size} in the control group`);
  const subscribers = await queryRows<{ id: number }>(
    deps.db,
    sql`select id::int from customers where attributes ->> 'newsletter' = 'true'`,
  );
  assert.ok(subscribers.filter((s) => control.has(s.id)).length > 15, 'control members who asked for the newsletter');
  const marketed = await queryRows<{ customer_id: number }>(
    deps.db,
    sql`select distinct customer_id::int from touchpoints
      where direction = 'out' and campaign is not null and coalesce(detail ->> 'transactional', '') <> 'true'
      union select customer_id::int from campaign_members where status in ('sent', 'listed', 'external')`,
  );
  assert.ok(marketed.length > 400, `${marketed.length} customers got marketing`);
  assert.deepEqual(
    marketed.filter((m) => control.has(m.customer_id)),
    [],
  );
  const [{ confirmed }] = await queryRows<{ confirmed: number }>(
    deps.db,
    sql`select count(distinct customer_id)::int as confirmed from touchpoints where campaign = 'Order follow-up'`,
  );
  assert.ok(confirmed > 400, `${confirmed} customers got an order confirmation`);
});

test('the past campaigns are recorded with their arms, and each report finds the planted effect within its 95 % interval', async (t) => {
  assert.equal(loaded.campaigns, 3);
  for (const campaign of pastCampaigns(options.end)) {
    const report = await experimentReport(deps, campaign.name, { days: 30 });
    const mine = members.filter((m) => m.campaign === campaign.name);
    assert.equal(report.control.members, mine.filter((m) => m.arm === 'control').length, campaign.name);
    assert.equal(report.arms[0].members, mine.filter((m) => m.arm === 'mail').length, campaign.name);
    // The planted effect on these members: who orders within 30 days only because they were mailed.
    const planted = mine.filter((m) => m.responds && !m.anyway).length / mine.length;
    if (campaign.response === 0) assert.equal(planted, 0);
    else assert.ok(planted > 0.03, `${campaign.name}: planted ${planted}`);
    const conversion = report.arms[0].outcomes.find((o) => o.outcome === 'conversion')!;
    t.diagnostic(
      `${campaign.name}: ${report.arms[0].members} mailed, ${report.control.members} held out; ordered within 30 days ` +
        `${(conversion.treated * 100).toFixed(1)} % vs ${(conversion.control * 100).toFixed(1)} %, difference ` +
        `${(conversion.difference * 100).toFixed(1)} points [${(conversion.low * 100).toFixed(1)}, ${(conversion.high * 100).toFixed(1)}]; planted ${(planted * 100).toFixed(1)}`,
    );
    assert.ok(
      conversion.low <= planted && planted <= conversion.high,
      `${campaign.name}: ${JSON.stringify(conversion)}`,
    );
  }
});

test('the programme lift against the universal control group is computed from the first start', async (t) => {
  const lift = await programmeLiftReport(deps, 12);
  const { comparison } = lift.span.purchase;
  assert.ok(comparison, lift.headline);
  assert.ok(lift.span.control.customers > 15 && lift.span.marketed.customers > 300, JSON.stringify(lift.span));
  assert.equal(lift.control.size, control.size);
  // Marketing reached none of the group (the order confirmations they got are transactional).
  assert.deepEqual(lift.control.byProgramme, []);
  assert.equal(lift.control.touched, 0);
  assert.match(lift.control.health, /^Untouched by every programme/);
  t.diagnostic(lift.headline);
  t.diagnostic(
    `bought in the 12 months: marketed ${lift.span.marketed.buyers} of ${lift.span.marketed.customers}, ` +
      `control ${lift.span.control.buyers} of ${lift.span.control.customers}; difference ${(comparison.difference * 100).toFixed(1)} points ` +
      `[${(comparison.low * 100).toFixed(1)}, ${(comparison.high * 100).toFixed(1)}]; control group health: ${lift.control.health}`,
  );
});
