// Whom an action moves: where the worklist's uplift comes from, the Qini curve of the uplift model,
// the effect per type of customer measured by the random holdouts, and what ranking by incremental
// value saves. Part of the "Why they leave" page; the worklist shows the same source in words.
import { useEffect, useState } from 'react';
import type { z } from '@hono/zod-openapi';
import type { upliftReportSchema } from '../../analytics/retention.ts';
import type { GroupEffect, PolicyValue, Qini, TopUplift } from '../../analytics/uplift.ts';
import { api, percent, points, problemText, words } from '../api.ts';
import { LineChart, WhatIsThis } from '../charts.tsx';
import { useMoney } from '../plain.tsx';

type Uplift = z.infer<typeof upliftReportSchema>;

/** Where an uplift figure comes from, in plain words: the worklist's banner and this page's. */
export function upliftSourceWords(source: string | null, effect?: number): string {
  if (source === 'model')
    return "learnt from Kept's random holdouts, customer by customer: a model of who buys more when contacted, trained on customers who were, at random, contacted or left alone";
  if (source === 'holdouts')
    return `one pooled effect measured by the random holdouts${effect === undefined ? '' : ` (${points(effect, 1)} points)`}, the same share for everyone still reachable who would not buy anyway: too few trials yet for a model per customer`;
  if (source === 'assumed')
    return `assumed: no holdout has measured it yet, so Kept assumes a personal action wins back${effect === undefined ? ' a small share' : ` ${percent(effect)}`} of those still reachable who would not buy anyway`;
  return 'not estimated yet: no analysis has scored the worklist';
}

const sourceWords: Record<string, string> = {
  worklist: "the worklist's random holdout",
  campaign: 'campaign holdouts',
  journey: 'journey holdouts',
  import: 'imported tests',
};
const groupingWords: Record<string, string> = {
  stage: 'Stage',
  'value band': 'Value so far',
  'risk band': 'How overdue',
  source: 'Where it was tested',
};

export function UpliftSection() {
  const money = useMoney();
  const [report, setReport] = useState<Uplift | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api<Uplift>('/v1/analytics/uplift').then(setReport, (e) => setProblem(problemText(e)));
  }, []);
  if (problem)
    return (
      <p className="error" role="alert">
        {problem}
      </p>
    );
  if (!report) return <p className="muted">Loading the uplift…</p>;
  const model = report.model as { qini: Qini; topK: TopUplift[]; folds: number } | null;
  const byType = report.byType as { overall: GroupEffect; groups: GroupEffect[] } | null;
  const policy = report.policy as PolicyValue | null;
  const days = report.days;
  return (
    <section className="card uplift">
      <h2>Where spending changes the outcome</h2>
      <p className={`uplift-banner source-${report.source}`} role="note">
        <b>Where the worklist's uplift comes from:</b> {upliftSourceWords(report.source, report.effect)}.
      </p>
      <WhatIsThis>
        <b>Uplift</b> is how much a personal action (a call, a gift, an offer) raises a customer's chance of buying
        again within {days} days, against doing nothing. It can only be measured where some customers were, at random,
        left alone: a holdout. Kept holds back {percent(report.holdoutShare)} of the worklist at random for that, and
        reads campaign and journey holdouts too. The worklist is ranked by expected incremental value: uplift × what the
        customer is worth − the cost of the action.
      </WhatIsThis>
      {report.trials > 0 ? (
        <p>
          {report.trials.toLocaleString()} random assignments whose {days} days have passed:{' '}
          {report.bySource
            .map(
              (s) =>
                `${sourceWords[s.source] ?? words(s.source)}, ${s.treated.toLocaleString()} contacted and ${s.control.toLocaleString()} left alone`,
            )
            .join('; ')}
          .
        </p>
      ) : (
        <p className="muted">
          No random assignment has finished its {days} days yet, so nothing is measured: the figures below appear once
          one has.
        </p>
      )}

      {model ? (
        <div className="grid2">
          <div>
            <LineChart
              yLabel="Extra buyers per 100 customers"
              title={`Qini curve: extra buyers per 100 customers (coefficient ${model.qini.coefficient.toFixed(2)})`}
              xLabel="% of customers contacted, highest predicted uplift first"
              height={220}
              format={(v) => v.toFixed(1)}
              series={[
                {
                  name: 'ranked by the uplift model',
                  color: '#2f80ed',
                  points: model.qini.points.map((p) => ({ x: Math.round(p.share * 100), y: p.gain * 100 })),
                },
                {
                  name: 'random choice',
                  color: '#9aa5b1',
                  dashed: true,
                  points: model.qini.points.map((p) => ({ x: Math.round(p.share * 100), y: p.random * 100 })),
                },
              ]}
            />
            <WhatIsThis>
              The <b>Qini curve</b>: rank the tested customers by the uplift the model predicted for them (from models
              that never saw them, {model.folds}-fold), contact the top share, and count the extra buyers it brings
              against leaving them alone. The dashed line is a random choice of the same share. The higher the curve
              above it, the better the model finds the customers an action moves. The <b>Qini coefficient</b> is 1 for a
              perfect ranking, about 0 for one no better than random, below 0 for a worse one.
            </WhatIsThis>
          </div>
          <div>
            <table className="list">
              <thead>
                <tr>
                  <th>Top share by predicted uplift</th>
                  <th className="num">Contacted</th>
                  <th className="num">Left alone</th>
                  <th className="num">Bought more when contacted</th>
                </tr>
              </thead>
              <tbody>
                {model.topK.map((k) => (
                  <tr key={k.share}>
                    <td>Top {percent(k.share)}</td>
                    <td className="num">{k.treated.toLocaleString()}</td>
                    <td className="num">{k.control.toLocaleString()}</td>
                    <td className="num">
                      {points(k.value, 1)} points ({points(k.low, 1)} to {points(k.high, 1)})
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <WhatIsThis>
              Among the customers the model ranked highest, the share who bought when contacted minus the share who
              bought when left alone, in percentage points, with its 95 % interval. If the model works, the top shares
              gain the most.
            </WhatIsThis>
          </div>
        </div>
      ) : (
        <p className="muted">
          No uplift model yet{report.reason ? `: ${report.reason}` : ''}. Until then the worklist uses{' '}
          {report.source === 'holdouts' ? 'the pooled effect of the holdouts' : 'the assumed effect'}.
        </p>
      )}

      {byType && (
        <>
          <h3>Effect by type of customer</h3>
          <table className="list">
            <thead>
              <tr>
                <th>Customers</th>
                <th className="num">Contacted: bought</th>
                <th className="num">Left alone: bought</th>
                <th className="num">Difference (95 % interval)</th>
              </tr>
            </thead>
            <tbody>
              {[byType.overall, ...byType.groups].map((g) => (
                <tr key={`${g.grouping}|${g.group}`}>
                  <td>
                    {g.grouping === 'all'
                      ? 'Everyone tested'
                      : `${groupingWords[g.grouping] ?? words(g.grouping)}: ${words(g.group)}`}
                    {g.small && <em className="badge">small</em>}
                  </td>
                  <td className="num">
                    {percent(g.treatedRate)} of {g.treated.n.toLocaleString()}
                  </td>
                  <td className="num">
                    {percent(g.controlRate)} of {g.control.n.toLocaleString()}
                  </td>
                  <td className={`num ${g.low > 0 ? 'good' : g.high < 0 ? 'bad' : ''}`}>
                    {points(g.difference, 1)} points ({points(g.low, 1)} to {points(g.high, 1)})
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <WhatIsThis>
            The holdouts split by what the customers were like when they were drawn: the share who bought within {days}{' '}
            days when contacted, and when left alone at random. "small" marks fewer than 30 in either group: read with
            care.
          </WhatIsThis>
        </>
      )}

      <h3>What ranking by incremental value saves</h3>
      {policy && Number.isFinite(policy.saving?.value) ? (
        <p>
          On the {policy.customers.toLocaleString()} tested customers, contacting only those whose expected incremental
          value beats the cost of a call ({policy.targeted.toLocaleString()}, {percent(policy.shareTargeted)}) would
          have brought {money(policy.policy.value)} per customer, against {money(policy.everyone.value)} contacting
          everyone at risk: <b>{money(policy.saving.value)} more per customer</b> (95 % interval{' '}
          {money(policy.saving.low)} to {money(policy.saving.high)}).
        </p>
      ) : (
        <p className="muted">
          Not available yet: it is measured on the holdouts with the uplift model's predictions, and there is no model
          yet.
        </p>
      )}
      <p className="small muted">
        Costs used per action:{' '}
        {Object.entries(report.costs)
          .map(([action, cost]) => `${words(action)} ${money(cost)}`)
          .join(', ')}
        .
      </p>
    </section>
  );
}
