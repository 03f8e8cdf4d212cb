// Is marketing working overall: the whole programme (every campaign and journey) against the
// universal control group, at the top of the Campaigns page. The headline over the span, the two
// groups' buying month by month with the lift and its interval, the messages sent, the three
// measures in a table, and whether the control group stayed untouched.
import { useEffect, useState } from 'react';
import type { ProgrammeLift, ProgrammePeriod } from '../../campaigns/lift.ts';
import { api, percent, points, problemText } from '../api.ts';
import { ColumnChart, IntervalChart, LineChart, WhatIsThis } from '../charts.tsx';
import { useMoney } from '../plain.tsx';

const monthWords = (period: string, year: 'numeric' | '2-digit' = 'numeric') =>
  new Date(`${period}-01T00:00:00Z`).toLocaleDateString('en', { month: 'short', year, timeZone: 'UTC' });
const relative = (v: number | null) => (v === null ? '—' : `${points(v, 1)} %`);
/** The control group's share as set: 5 %, 2.5 %. */
const shareWords = (share: number) => percent(share, Number.isInteger(Math.round(share * 1000) / 10) ? 0 : 1);

type Measure = ProgrammePeriod['purchase'];
type Group = ProgrammePeriod['control'];

function MeasureRow({
  name,
  measure,
  value,
  difference,
  marketed,
  control,
}: {
  name: string;
  measure: Measure;
  value: (g: Group) => string;
  difference: (v: number, unit?: boolean) => string;
  marketed: Group;
  control: Group;
}) {
  const c = measure.comparison;
  return (
    <tr>
      <td>{name}</td>
      <td className="num">{value(marketed)}</td>
      <td className="num">{value(control)}</td>
      <td className="num" style={{ whiteSpace: 'nowrap' }}>
        {c ? (
          <>
            {difference(c.difference, true)}{' '}
            <span className="muted">({`${difference(c.low)} to ${difference(c.high)}`})</span>
          </>
        ) : (
          '—'
        )}
      </td>
      <td className="num" style={{ whiteSpace: 'nowrap' }}>
        {c ? relative(c.relative) : '—'}
      </td>
      <td className="num" style={{ whiteSpace: 'nowrap' }}>
        {c ? (
          <>
            {c.p < 0.05 ? 'unlikely' : 'possibly'}{' '}
            <span className="muted">(p {c.p < 0.001 ? '< 0.001' : c.p.toFixed(3)})</span>
          </>
        ) : (
          '—'
        )}
      </td>
      <td className="small">{measure.warning ?? ''}</td>
    </tr>
  );
}

/** The programme's total lift against the universal control group over the last `months` calendar months. */
export function ProgrammeSection({ months = 12 }: { months?: number }) {
  const money = useMoney();
  const signedMoney = (v: number) => `${v < 0 ? '−' : '+'}${money(Math.abs(v))}`;
  const [report, setReport] = useState<ProgrammeLift | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api<ProgrammeLift>(`/v1/programme/lift?months=${months}`).then(setReport, (e) => setProblem(problemText(e)));
  }, [months]);
  const title = <h2>Is marketing working overall?</h2>;
  if (problem)
    return (
      <section className="card programme">
        {title}
        <p className="error" role="alert">
          {problem}
        </p>
      </section>
    );
  if (!report)
    return (
      <section className="card programme">
        {title}
        <p className="muted">Loading the whole programme's lift…</p>
      </section>
    );
  const { span, monthly, control } = report;
  const first = monthly[0]?.period;
  const last = monthly[monthly.length - 1]?.period;
  const compared = monthly.filter((m) => m.purchase.comparison);
  const clean = control.touched === 0;
  return (
    <section className="card programme">
      {title}
      <p
        className={`uplift-banner programme-headline ${span.purchase.warning || !span.purchase.comparison ? 'source-assumed' : 'source-holdouts'}`}
        role="note"
      >
        <b>{report.headline}</b>{' '}
        <span className="muted">
          {first && last
            ? `${monthWords(first)} to ${monthWords(last)}${monthly[monthly.length - 1]?.complete ? '' : ' (to date)'}, among the customers who were with us when it began.`
            : ''}
        </span>
      </p>
      <WhatIsThis>
        The <b>universal control group</b> is a fixed {shareWords(report.share)} of customers, chosen by their customer
        number, whom no campaign or journey ever markets to (order and service mail still reach them); comparing
        everyone else with them measures what all marketing together adds. The KEPT_UNIVERSAL_CONTROL setting sets its
        share.
      </WhatIsThis>
      {compared.length > 0 ? (
        <div className="grid2">
          <LineChart
            title="Share who bought each month"
            xLabel={`month: 1 = ${monthWords(first!)} … ${monthly.length} = ${monthWords(last!)}`}
            yLabel="%"
            format={(v) => v.toFixed(1)}
            height={220}
            series={[
              {
                name: 'customers we market to',
                color: '#2f80ed',
                points: monthly.flatMap((m, i) =>
                  m.marketed.purchaseRate === null ? [] : [{ x: i + 1, y: m.marketed.purchaseRate * 100 }],
                ),
              },
              {
                name: 'control group (never marketed to)',
                color: '#4f5b66',
                dashed: true,
                points: monthly.flatMap((m, i) =>
                  m.control.purchaseRate === null ? [] : [{ x: i + 1, y: m.control.purchaseRate * 100 }],
                ),
              },
            ]}
          />
          <IntervalChart
            xAxis="Month"
            yAxis="Points more who bought"
            title="Lift each month: points more who bought, with its 95 % interval"
            format={(v) => points(v, 1)}
            height={160}
            points={compared.map((m) => ({
              label: monthWords(m.period, '2-digit'),
              value: m.purchase.comparison!.difference,
              low: m.purchase.comparison!.low,
              high: m.purchase.comparison!.high,
            }))}
          />
        </div>
      ) : (
        <p className="muted">
          Nothing to chart yet: no month has customers in both groups
          {report.share === 0 ? ', because there is no universal control group' : ''}.
        </p>
      )}
      <div className="grid2">
        <ColumnChart
          xAxis="Month"
          yAxis="Messages sent"
          title="Marketing messages sent each month (campaigns, journeys, campaigns recorded elsewhere)"
          format={(v) => v.toLocaleString()}
          columns={report.volume.map((v) => ({ label: monthWords(v.month, '2-digit'), value: v.messages }))}
        />
        <div>
          <p className={clean ? 'programme-health' : 'programme-health warnings'} role={clean ? undefined : 'alert'}>
            <b>
              Control group: {control.size.toLocaleString()} of {control.customers.toLocaleString()} customers (
              {shareWords(report.share)}).
            </b>{' '}
            <span className={report.share === 0 ? 'muted' : clean ? 'good' : 'bad'}>{control.health}</span>
          </p>
          {!clean && (
            <ul className="programme-contamination">
              {control.byProgramme.map((p) => (
                <li key={p.programme}>
                  {p.programme}: {p.n.toLocaleString()} of the control group reached
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <table className="list programme-measures">
        <thead>
          <tr>
            <th>Over the span</th>
            <th className="num">We market to</th>
            <th className="num">Control group</th>
            <th className="num" title="The difference, with the range it likely lies in (95 % interval)">
              Difference (likely range)
            </th>
            <th className="num">Relative</th>
            <th className="num" title="p: the chance of a difference this large if marketing changed nothing">
              Could it be chance?
            </th>
            <th />
          </tr>
        </thead>
        <tbody>
          <MeasureRow
            name="Bought"
            measure={span.purchase}
            value={(g) => `${percent(g.purchaseRate, 1)} of ${g.customers.toLocaleString()}`}
            difference={(v, unit) => `${points(v, 1)}${unit ? ' pts' : ''}`}
            marketed={span.marketed}
            control={span.control}
          />
          <MeasureRow
            name="Revenue per customer"
            measure={span.revenuePerCustomer}
            value={(g) => money(g.revenuePerCustomer)}
            difference={signedMoney}
            marketed={span.marketed}
            control={span.control}
          />
          <MeasureRow
            name="Bought again (of those who had bought before)"
            measure={span.retention}
            value={(g) => `${percent(g.retention, 1)} of ${g.repeatCustomers.toLocaleString()}`}
            difference={(v, unit) => `${points(v, 1)}${unit ? ' pts' : ''}`}
            marketed={span.marketed}
            control={span.control}
          />
        </tbody>
      </table>
    </section>
  );
}
