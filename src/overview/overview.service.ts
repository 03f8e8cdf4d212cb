import type { Deps } from '../deps.ts';
import { customersByStage, latestRun } from '../analytics/analyze.service.ts';
import { retentionReport } from '../analytics/retention.service.ts';
import { campaignReport } from '../campaigns/report.service.ts';
import { programmeLiftReport } from '../campaigns/lift.service.ts';
import {
  atRiskTotals,
  customersCreatedSince,
  latestStartedCampaigns,
  monthStartOf,
  stageMovesSince,
} from './overview.repository.ts';
import type { Overview } from './overview.ts';

const programmeMonths = 12;
const reasonMonths = 12;

/** The owner's overview: stages and this month's moves, value at risk, the programme's lift, why customers left, what was tried. */
export async function overview(deps: Deps): Promise<Overview> {
  const now = deps.clock.now();
  const month = await monthStartOf(deps.db, now, deps.config.timeZone);
  const [run, stagesNow, moves, created, atRisk, lift, retention, campaignIds] = await Promise.all([
    latestRun(deps.db),
    customersByStage(deps.db),
    stageMovesSince(deps.db, month.at),
    customersCreatedSince(deps.db, month.at),
    atRiskTotals(deps.db),
    programmeLiftReport(deps, programmeMonths),
    retentionReport(deps),
    latestStartedCampaigns(deps.db, 5),
  ]);

  // A stage's count at the month's start is today's, less who moved in since, plus who moved out
  // (new customers arrive as prospects), as the stages-over-time chart counts them.
  const names = [...new Set([...stagesNow.map((s) => s.stage), ...moves.flatMap((m) => [m.to, m.from ?? 'prospect'])])];
  const stages = names.map((stage) => {
    const now = stagesNow.find((s) => s.stage === stage)?.customers ?? 0;
    const movedIn =
      moves.filter((m) => m.to === stage).reduce((n, m) => n + m.customers, 0) + (stage === 'prospect' ? created : 0);
    const movedOut = moves.filter((m) => m.from === stage).reduce((n, m) => n + m.customers, 0);
    return { stage, now, atMonthStart: now - movedIn + movedOut, movedIn, movedOut };
  });

  const span = lift.span;
  const rpc = span.revenuePerCustomer.comparison;
  const marketed = span.marketed.customers;

  const whyLeft = (
    (retention?.drivers as { whyLeft?: { month: string; lapsed: number; causes: Record<string, number> }[] })
      ?.whyLeft ?? []
  ).slice(-reasonMonths);
  const causes = new Map<string, number>();
  for (const m of whyLeft)
    for (const [cause, n] of Object.entries(m.causes)) causes.set(cause, (causes.get(cause) ?? 0) + n);

  const tried = await Promise.all(
    campaignIds.map(async (id) => {
      const report = await campaignReport(deps, id, 30);
      // The arm that reached the most customers stands for the campaign.
      const arm = [...report.arms].sort((a, b) => b.members - a.members)[0];
      return {
        id,
        name: report.campaign.name,
        channel: report.campaign.channel,
        status: report.campaign.status,
        startedAt: report.campaign.startedAt,
        members: report.arms.reduce((n, a) => n + a.members, 0),
        revenuePerCustomer: arm?.revenuePerCustomer ?? null,
        warning: arm?.warning ?? (report.holdout ? null : 'No holdout: nothing to compare with'),
      };
    }),
  );

  return {
    asOf: run?.asOf ?? null,
    monthStart: month.day,
    stages,
    moves: moves.slice(0, 8),
    atRisk,
    programme: {
      months: programmeMonths,
      headline: lift.headline,
      marketedCustomers: marketed,
      controlCustomers: span.control.customers,
      revenuePerCustomer: rpc,
      revenueKept: rpc
        ? { value: round(rpc.difference * marketed), low: round(rpc.low * marketed), high: round(rpc.high * marketed) }
        : null,
      warning: span.revenuePerCustomer.warning,
    },
    reasons: whyLeft.length
      ? {
          lapsed: whyLeft.reduce((n, m) => n + m.lapsed, 0),
          top: [...causes]
            .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
            .slice(0, 5)
            .map(([cause, customers]) => ({ cause, customers })),
        }
      : null,
    tried,
  };
}

const round = (v: number) => Math.round(v * 100) / 100;
