// A campaign's report: each arm against the holdout on buying, revenue, staying active and
// unsubscribing, with intervals, p-values, a warning when the holdout cannot tell, and the lift
// day by day since the send.
import type { Deps } from '../deps.ts';
import { controlArm } from './campaign.ts';
import { findCampaign } from './campaign.service.ts';
import { compareMeans, compareProportions, holdoutWarning, type Comparison } from './measurement.ts';
import { armOutcomes, firstPurchaseDays, stillActive } from './report.repository.ts';

const round = (c: Comparison | null) => c && Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(6)) : v])) as unknown as Comparison;

export async function campaignReport(deps: Deps, id: number, days: number) {
  const campaign = await findCampaign(deps, id);
  const outcomes = await armOutcomes(deps.db, id, days, campaign.consentList);
  const control = outcomes.find((o) => o.arm === controlArm);
  const started = campaign.startedAt ? new Date(campaign.startedAt) : null;
  const observedDays = started ? Math.max(0, Math.min(days, Math.floor((deps.clock.now().getTime() - started.getTime()) / 86_400_000))) : 0;
  const active = started ? await Promise.all([30, 90].map((d) => stillActive(deps.db, id, started, d))) : [];
  const firsts = await firstPurchaseDays(deps.db, id, days);

  const arms = outcomes.filter((o) => o.arm !== controlArm).map((o) => {
    const purchase = control ? compareProportions({ n: o.members, x: o.buyers }, { n: control.members, x: control.buyers }) : null;
    const stillActiveAt = (k: number) => {
      const arm = active[k]?.arms.find((a) => a.arm === o.arm);
      const base = active[k]?.arms.find((a) => a.arm === controlArm);
      return arm && base ? { asOf: active[k].asOf, ...round(compareMeans({ n: arm.n, sum: arm.sum, squares: arm.squares }, { n: base.n, sum: base.sum, squares: base.squares })) } : null;
    };
    return {
      arm: o.arm, members: o.members, sent: o.sent, opened: o.opened, clicked: o.clicked,
      purchase: round(purchase),
      revenuePerCustomer: round(control ? compareMeans({ n: o.members, sum: o.revenue, squares: o.revenueSquares }, { n: control.members, sum: control.revenue, squares: control.revenueSquares }) : null),
      unsubscribes: round(control ? compareProportions({ n: o.members, x: o.unsubscribed }, { n: control.members, x: control.unsubscribed }) : null),
      stillActive30: stillActiveAt(0), stillActive90: stillActiveAt(1),
      warning: purchase ? holdoutWarning(purchase, { treated: o.members, control: control!.members }, 'buying') : 'There is no holdout: nothing to compare with.',
    };
  });

  // Cumulative share who bought by each day since the send: arm minus holdout, in points.
  const cumulative = (arm: string, members: number) => {
    let running = 0;
    const byDay = new Map(firsts.filter((f) => f.arm === arm).map((f) => [f.day, f.buyers]));
    return Array.from({ length: observedDays }, (_, i) => (running += byDay.get(i + 1) ?? 0) / Math.max(1, members));
  };
  const controlCurve = control ? cumulative(controlArm, control.members) : [];
  const lift = control ? arms.map((a) => ({ arm: a.arm, points: cumulative(a.arm, a.members).map((share, i) => ({ day: i + 1, lift: Number((share - controlCurve[i]).toFixed(6)) })) })) : [];

  return {
    campaign, days, observedDays,
    holdout: control ? { members: control.members, buyers: control.buyers, revenue: control.revenue, unsubscribed: control.unsubscribed } : null,
    arms, cumulativeLift: lift,
  };
}
