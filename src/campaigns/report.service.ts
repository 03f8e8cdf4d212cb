// A campaign's report: each arm against the holdout on buying, revenue, staying active and
// unsubscribing, with intervals, p-values, a warning when the holdout cannot tell, and the lift
// day by day since the send. Journeys are compared the same way (compareArms).
import type { Deps } from '../deps.ts';
import { controlArm } from './campaign.ts';
import { findCampaign } from './campaign.service.ts';
import { compareMeans, compareProportions, holdoutWarning, type Comparison } from './measurement.ts';
import {
  armOutcomes,
  campaignMeasured,
  contamination,
  firstPurchaseDays,
  stillActive,
  type ArmOutcome,
} from './report.repository.ts';

const round = <C extends Comparison | null>(c: C): C =>
  c &&
  (Object.fromEntries(
    Object.entries(c).map(([k, v]) => [k, typeof v === 'number' ? Number(v.toPrecision(6)) : v]),
  ) as C);
type Active = { asOf: string | null; arms: { arm: string; n: number; sum: number; squares: number }[] };

/**
 * Each treated arm against the holdout, and the cumulative lift: by each day since assignment, the
 * share who bought among the members observed that long, arm minus holdout, in points.
 */
export function compareArms(
  outcomes: ArmOutcome[],
  active: Active[],
  firsts: Awaited<ReturnType<typeof firstPurchaseDays>>,
  observedDays: number,
) {
  const control = outcomes.find((o) => o.arm === controlArm);
  const arms = outcomes
    .filter((o) => o.arm !== controlArm)
    .map((o) => {
      const purchase = control
        ? compareProportions({ n: o.members, x: o.buyers }, { n: control.members, x: control.buyers })
        : null;
      const stillActiveAt = (k: number) => {
        const arm = active[k]?.arms.find((a) => a.arm === o.arm);
        const base = active[k]?.arms.find((a) => a.arm === controlArm);
        return arm && base
          ? {
              asOf: active[k].asOf,
              ...round(
                compareMeans(
                  { n: arm.n, sum: arm.sum, squares: arm.squares },
                  { n: base.n, sum: base.sum, squares: base.squares },
                ),
              ),
            }
          : null;
      };
      return {
        arm: o.arm,
        members: o.members,
        sent: o.sent,
        opened: o.opened,
        clicked: o.clicked,
        purchase: round(purchase),
        revenuePerCustomer: round(
          control
            ? compareMeans(
                { n: o.members, sum: o.revenue, squares: o.revenueSquares },
                { n: control.members, sum: control.revenue, squares: control.revenueSquares },
              )
            : null,
        ),
        unsubscribes: round(
          control
            ? compareProportions({ n: o.members, x: o.unsubscribed }, { n: control.members, x: control.unsubscribed })
            : null,
        ),
        stillActive30: stillActiveAt(0),
        stillActive90: stillActiveAt(1),
        warning: purchase
          ? holdoutWarning(purchase, { treated: o.members, control: control!.members }, 'buying')
          : 'There is no holdout: nothing to compare with.',
      };
    });
  const curve = (arm: string) =>
    Array.from({ length: observedDays }, (_, i) => {
      const seen = firsts.filter((f) => f.arm === arm && f.observed >= i + 1);
      const members = seen.reduce((s, f) => s + f.members, 0);
      return members === 0
        ? null
        : seen.filter((f) => f.day !== null && f.day <= i + 1).reduce((s, f) => s + f.members, 0) / members;
    });
  const controlCurve = control ? curve(controlArm) : [];
  const cumulativeLift = control
    ? arms.map((a) => ({
        arm: a.arm,
        points: curve(a.arm).flatMap((share, i) =>
          share === null || controlCurve[i] === null
            ? []
            : [{ day: i + 1, lift: Number((share - controlCurve[i]!).toFixed(6)) }],
        ),
      }))
    : [];
  return {
    holdout: control
      ? {
          members: control.members,
          buyers: control.buyers,
          revenue: control.revenue,
          unsubscribed: control.unsubscribed,
        }
      : null,
    arms,
    cumulativeLift,
  };
}

export async function campaignReport(deps: Deps, id: number, days: number) {
  const campaign = await findCampaign(deps, id);
  const measured = campaignMeasured(id);
  const now = deps.clock.now();
  const started = campaign.startedAt ? new Date(campaign.startedAt) : null;
  const observedDays = started
    ? Math.max(0, Math.min(days, Math.floor((now.getTime() - started.getTime()) / 86_400_000)))
    : 0;
  const [outcomes, active, firsts, clean] = await Promise.all([
    armOutcomes(deps.db, measured, days, campaign.consentList),
    started ? Promise.all([30, 90].map((d) => stillActive(deps.db, measured, started, d))) : [],
    firstPurchaseDays(deps.db, measured, days, now),
    contamination(deps.db, measured, days),
  ]);
  return {
    campaign,
    days,
    observedDays,
    ...compareArms(outcomes, active, firsts, observedDays),
    contamination: clean,
  };
}
