// Drivers of leaving (the hazard model as a forest plot and a table), the customers who left each
// month by likely cause, and what the exit survey said: part of the "Why they leave" page.
import { useEffect, useState } from 'react';
import type { z } from '@hono/zod-openapi';
import type { driversReportSchema } from '../../analytics/retention.ts';
import { api, problemText, words } from '../api.ts';
import { BarChart, ForestPlot, palette, StackedColumnChart, WhatIsThis } from '../charts.tsx';

type Drivers = z.infer<typeof driversReportSchema>;
type Covariate = NonNullable<Drivers['model']>['covariates'][number] & { label?: string };

const driftedAway = 'no recorded problem: drifted away';

/** A hazard ratio for reading: two figures, and words at the extremes a thin fit can produce. */
export function ratio(v: number | null | undefined): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (v >= 1000) return 'over 1,000';
  if (v > 0 && v < 0.001) return 'under 0.001';
  return v >= 100 ? Math.round(v).toLocaleString() : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** A covariate's name in words when the analysis gave no label (experience:late_delivery -> a late delivery). */
function nameWords(name: string): string {
  const [prefix, value = ''] = name.split(':');
  if (prefix === 'experience') return `a ${words(value)} recently`;
  if (prefix === 'channel') return `acquired through ${words(value)}`;
  if (prefix === 'category') return `buys mostly ${words(value)}`;
  if (prefix === 'since') return `${value} days since the last order`;
  if (name === 'followed_up') return 'a problem followed up quickly';
  if (name === 'trial') return 'one order so far';
  return words(name);
}

const monthWords = (month: string) =>
  new Date(`${month}-01T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', year: 'numeric', timeZone: 'UTC' });

function reading(c: Covariate): string {
  if (!(c.low > 1 || c.high < 1)) return 'cannot tell (the interval includes 1)';
  return c.hazardRatio > 1 ? `raises the risk ${ratio(c.hazardRatio)}×` : `lowers the risk to ${ratio(c.hazardRatio)}×`;
}

export function LeavingSection() {
  const [report, setReport] = useState<Drivers | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api<Drivers>('/v1/analytics/drivers').then(setReport, (e) => setProblem(problemText(e)));
  }, []);
  if (problem)
    return (
      <p className="error" role="alert">
        {problem}
      </p>
    );
  if (!report) return <p className="muted">Loading the drivers of leaving…</p>;
  const definition = report.definition;
  const lapseDays = definition.lapseDays ?? 180;
  const covariates = (report.model?.covariates ?? []) as Covariate[];
  const label = (c: Covariate) => c.label ?? nameWords(c.name);
  const causes = [...new Set(report.whyLeft.flatMap((m) => Object.keys(m.causes)))].sort(
    (a, b) =>
      Number(a === driftedAway) - Number(b === driftedAway) ||
      report.whyLeft.reduce((n, m) => n + (m.causes[b] ?? 0), 0) -
        report.whyLeft.reduce((n, m) => n + (m.causes[a] ?? 0), 0),
  );
  const colors = Object.fromEntries(
    causes.map((c, i) => [c, c === driftedAway ? '#b8c2cc' : palette[i % palette.length]]),
  );
  return (
    <>
      <section className="card">
        <h2>Drivers of leaving</h2>
        {report.model ? (
          <>
            <p>
              How much each factor changes the risk that a customer stops ordering in a given month.{' '}
              <b>2.0 means twice the risk of leaving in a month</b>, 0.5 half the risk, 1 no difference.
            </p>
            <ForestPlot
              title="Hazard ratio of leaving in a month, with its 95 % interval (log scale)"
              rows={covariates.map((c) => ({ label: label(c), value: c.hazardRatio, low: c.low, high: c.high }))}
            />
            <WhatIsThis>
              Kept follows every customer month by month from their last order and notes the month in which they reached{' '}
              {lapseDays} days without ordering (they left). A <b>hazard ratio</b> compares the risk of leaving in a
              month for customers with the factor against those without it, the other factors held equal: above 1 the
              factor goes with leaving, below 1 with staying. The line is the 95 % interval; where it crosses the line
              at 1 the data cannot tell either way. Values beyond the edges are drawn as arrows. Based on{' '}
              {(report.model.rows ?? definition.rows ?? 0).toLocaleString()} customer-months, in{' '}
              {(report.model.events ?? definition.events ?? 0).toLocaleString()} of which the customer left. It shows
              what goes with leaving, not proof that it causes it.
            </WhatIsThis>
            <table className="list">
              <thead>
                <tr>
                  <th>Factor</th>
                  <th className="num">Hazard ratio</th>
                  <th className="num">95 % interval</th>
                  <th>Reading</th>
                </tr>
              </thead>
              <tbody>
                {covariates.map((c) => (
                  <tr key={c.name}>
                    <td>{label(c)}</td>
                    <td className="num">{ratio(c.hazardRatio)}</td>
                    <td className="num">
                      {ratio(c.low)} to {ratio(c.high)}
                    </td>
                    <td className={c.low > 1 ? 'bad' : c.high < 1 ? 'good' : 'muted'}>{reading(c)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <p className="muted">
            Too few customers have left yet to fit the model: {(definition.events ?? 0).toLocaleString()} customers
            reached {lapseDays} days without ordering in the months observed, and it needs at least 20 who left and 20
            who stayed.
          </p>
        )}
      </section>
      <section className="card">
        <h2>Why customers left, by month</h2>
        {report.whyLeft.length === 0 ? (
          <p className="muted">Nobody has reached {lapseDays} days without an order in the last two years.</p>
        ) : (
          <>
            <StackedColumnChart
              xAxis="Month"
              yAxis="Customers who left"
              title={`Customers who reached ${lapseDays} days without an order, by month and likely cause`}
              colors={colors}
              columns={report.whyLeft.map((m) => ({ label: monthWords(m.month), parts: m.causes }))}
            />
            <WhatIsThis>
              Each month, the customers whose silence reached {lapseDays} days, by the likely cause: what they told us
              in an exit survey when they answered one; otherwise the strongest driver of leaving that applied when they
              stopped (a problem nobody followed up); otherwise "drifted away", when nothing on record explains it.
            </WhatIsThis>
            <div className="table-scroll">
              <table className="list">
                <thead>
                  <tr>
                    <th>Month</th>
                    <th className="num">Left</th>
                    {causes.map((c) => (
                      <th key={c} className="num">
                        {c}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {report.whyLeft.map((m) => (
                    <tr key={m.month}>
                      <td>{monthWords(m.month)}</td>
                      <td className="num">{m.lapsed.toLocaleString()}</td>
                      {causes.map((c) => (
                        <td key={c} className="num">
                          {(m.causes[c] ?? 0).toLocaleString()}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </section>
      <section className="card">
        <h2>What the exit survey said</h2>
        {report.exitReasons.length === 0 ? (
          <p className="muted">
            Nobody has answered an exit survey yet (a survey whose name contains "exit", asking why they stopped).
          </p>
        ) : (
          <>
            <BarChart
              xAxis="Customers"
              yAxis="Exit answer"
              title="Customers by the reason their exit answer gives"
              labelWidth={230}
              bars={report.exitReasons.map((r) => ({ label: r.cause, value: r.customers }))}
            />
            <WhatIsThis>
              Every answer to an exit survey, sorted into a cause by the words it uses (an answer that mentions emails
              nobody answered is about service). The most frequent answers of each cause are listed as given, but only
              those several customers gave alike: the report is kept after a customer is erased, and one person's own
              words are theirs. A single customer's answer is on their page (the post-mortem).
            </WhatIsThis>
            <ul className="plain exit-answers">
              {report.exitReasons.map((r) => (
                <li key={r.cause}>
                  <b>{r.cause}</b> ({r.customers.toLocaleString()}):{' '}
                  {r.answers.length === 0 ? (
                    <span className="muted">no answer given by several customers alike</span>
                  ) : (
                    r.answers.map((a, i) => (
                      <span key={a.answer}>
                        {i > 0 ? '; ' : ''}“{a.answer}” ({a.customers.toLocaleString()})
                      </span>
                    ))
                  )}
                </li>
              ))}
            </ul>
          </>
        )}
      </section>
    </>
  );
}
