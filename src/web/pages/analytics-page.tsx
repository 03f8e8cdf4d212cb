import { useEffect, useState } from 'react';
import { api, formatTime, words } from '../api.ts';
import { BarChart, LineChart, palette, stageColors } from '../charts.tsx';
import { SatisfactionSection } from './satisfaction.tsx';
import { BacktestSection } from './backtest-section.tsx';
import { SubscriptionsSection } from './subscriptions-section.tsx';
import type { Alert, AnalyticsPage as Page, AtRiskCustomer } from '../../analytics/analytics.ts';
import type { JobStatus } from '../../jobs/job.ts';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';
import { ForAnalysts, useMoney } from '../plain.tsx';

const modelNames: Record<string, string> = {
  bgnbd: 'BG/NBD',
  mbgnbd: 'MBG/NBD',
  pareto: 'Pareto/NBD',
  supervised: 'the model learnt from this store',
};
const stageOrder = ['prospect', 'trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back', 'suppressed'];
const num = (v: unknown, digits = 4) => (typeof v === 'number' ? Number(v.toPrecision(digits)).toString() : '—');

function RunButton({ onDone }: { onDone: () => void }) {
  const [job, setJob] = useState<Pick<JobStatus, 'jobId' | 'done' | 'total' | 'status'> | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!job || job.status === 'done' || job.status === 'failed') return;
    const timer = setInterval(async () => {
      const next = await api<JobStatus>(`/v1/jobs/${job.jobId}`);
      setJob(next);
      if (next.status === 'failed') setError(next.error);
      if (next.status === 'done') onDone();
    }, 700);
    return () => clearInterval(timer);
  }, [job?.jobId, job?.status]);
  const start = async () => {
    setError(null);
    const { jobId } = await api<{ jobId: number }>('/v1/analytics/runs', { method: 'POST', json: {} });
    setJob({ jobId, done: 0, total: null, status: 'queued' });
  };
  const running = job && (job.status === 'queued' || job.status === 'running');
  const share = job?.total ? job.done / job.total : 0;
  return (
    <span className="run">
      <button onClick={start} disabled={!!running}>
        {running ? 'Analysing…' : 'Run analysis now'}
      </button>
      {running && (
        <span className="progress" role="progressbar" aria-valuenow={Math.round(share * 100)}>
          <div style={{ width: `${share * 100}%` }} />
          <span>{Math.round(share * 100)} %</span>
        </span>
      )}
      {error && <span className="error">{error}</span>}
    </span>
  );
}

export function AnalyticsPage() {
  const money = useMoney();
  const [data, setData] = useState<Page | null>(null);
  const [atRisk, setAtRisk] = useState<AtRiskCustomer[]>([]);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const can = useCan();
  const load = () => {
    api<Page>('/v1/analytics').then(setData);
    api<{ customers: AtRiskCustomer[] }>('/v1/analytics/at-risk?limit=25').then((r) => setAtRisk(r.customers));
    api<{ alerts: Alert[] }>('/v1/alerts?limit=10').then((r) => setAlerts(r.alerts));
  };
  useEffect(load, []);
  if (!data) return <p className="muted">Loading…</p>;
  const run = data.run;
  // A run that could fit nothing has no charts.
  const report = run && 'tracking' in run.report ? run.report : undefined;
  const stageSeries = report
    ? stageOrder
        .filter((s) => report.stagesByMonth.some((m) => m.stage === s))
        .map((stage) => {
          const months = [...new Set(report.stagesByMonth.map((m) => m.month))].sort();
          let last = 0;
          return {
            name: words(stage),
            color: stageColors[stage],
            points: months.map((month, i) => {
              const m = report.stagesByMonth.find((r) => r.month === month && r.stage === stage);
              last = m ? m.customers : last;
              return { x: Date.parse(month.length === 7 ? `${month}-01` : month) || i, y: last };
            }),
          };
        })
    : [];
  const months = report ? [...new Set(report.stagesByMonth.map((m) => m.month))].sort() : [];
  const cohortNames = report ? [...new Set(report.cohorts.map((c) => c.cohort))].slice(-12) : [];

  return (
    <div className="analytics">
      <div className="head">
        <h1>Who is slipping away</h1>
        {can('POST /api/v1/analytics/runs') && <RunButton onDone={load} />}
        {run && (
          <span className="muted">
            Latest analysis as of {run.asOf} ({run.customers.toLocaleString()} customers,{' '}
            {run.repeatCustomers.toLocaleString()} repeat buyers, scored by{' '}
            {modelNames[run.activityModel] ?? run.activityModel}
            {run.current ? '' : '; a past as-of date'}), finished {run.finishedAt ? formatTime(run.finishedAt) : '—'}
          </span>
        )}
      </div>
      {run?.warnings.length ? (
        <div className="warnings">
          {run.warnings.map((w) => (
            <p key={w}>⚠ {w}</p>
          ))}
        </div>
      ) : null}
      <div className="grid2">
        <BarChart
          title="Customers by stage now"
          xAxis="Customers"
          yAxis="Stage"
          bars={[...data.stages]
            .sort((a, b) => stageOrder.indexOf(a.stage) - stageOrder.indexOf(b.stage))
            .map((s) => ({ label: words(s.stage), value: s.customers, color: stageColors[s.stage] }))}
        />
        {stageSeries.length > 0 && (
          <LineChart
            title={`Customers by stage over time (${months[0]} to ${months.at(-1)})`}
            xLabel="Month"
            yLabel="Customers"
            time
            series={stageSeries}
          />
        )}
      </div>
      {!run && (
        <p>
          No analysis yet. Run one to see who is slipping away, what each customer is worth, and how well the models
          fit.
        </p>
      )}
      {run?.models.backtest && <BacktestSection backtest={run.models.backtest} why={run.models.why ?? ''} />}
      {run?.models.subscriptions && <SubscriptionsSection subscriptions={run.models.subscriptions} />}
      {run && report && (
        <>
          <section className="card">
            <h2>At risk, by value at stake</h2>
            <table className="list">
              <thead>
                <tr>
                  <th>Customer</th>
                  <th className="num" title="The model's estimate that they still buy from you at all">
                    Chance still buying
                  </th>
                  <th className="num" title="Since the analysis before">
                    Change
                  </th>
                  <th className="num">Value at stake</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {atRisk.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to={`/customers/${c.id}`}>{c.name ?? c.email ?? `#${c.id}`}</Link>
                    </td>
                    <td className="num">{Math.round(c.pAlive * 100)} %</td>
                    <td className="num">
                      {c.pAliveChange === null
                        ? '—'
                        : `${c.pAliveChange > 0 ? '+' : '−'}${Math.abs(Math.round(c.pAliveChange * 100))} points`}
                    </td>
                    <td className="num">{money(c.valueAtStake, 0)}</td>
                    <td className="small">{c.reasons.join('; ')}</td>
                  </tr>
                ))}
                {atRisk.length === 0 && (
                  <tr>
                    <td colSpan={5} className="muted">
                      Nobody at risk in the latest current analysis.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </section>
          {alerts.length > 0 && (
            <section className="card">
              <h2>Recent activity-drop alerts</h2>
              <ul className="plain">
                {alerts.map((a) => (
                  <li key={a.id}>
                    {formatTime(a.at)}: <Link to={`/customers/${a.customerId}`}>{a.name ?? `#${a.customerId}`}</Link>{' '}
                    chance still buying {Math.round(a.fromPAlive * 100)} % → {Math.round(a.toPAlive * 100)} %,{' '}
                    {money(a.valueAtStake, 0)} at stake <small className="muted">{a.reason}</small>
                  </li>
                ))}
              </ul>
            </section>
          )}
          <SatisfactionSection />
          <div className="grid2">
            <LineChart
              yLabel="Share with a second purchase"
              title="Trial to true customer by acquisition channel (share with a second purchase day, Kaplan-Meier)"
              xLabel="days since first purchase"
              format={(v) => `${Math.round(v * 100)} %`}
              series={report.conversionByChannel.map((c, i) => ({
                name: `${words(c.name)} (${c.customers})`,
                color: palette[i % palette.length],
                points: c.curve.map((p) => ({ x: p.day, y: p.converted })),
              }))}
            />
            <LineChart
              yLabel="Share with a second purchase"
              title="Trial to true customer by first-purchase month"
              xLabel="days since first purchase"
              format={(v) => `${Math.round(v * 100)} %`}
              series={report.conversionByMonth.map((c, i) => ({
                name: `${c.name} (${c.customers})`,
                color: palette[i % palette.length],
                points: c.curve.map((p) => ({ x: p.day, y: p.converted })),
              }))}
            />
          </div>
          <section className="card">
            <h2>Cohort retention: share of each first-purchase month buying again in later months</h2>
            <table className="cohorts list">
              <thead>
                <tr>
                  <th>cohort</th>
                  <th>size</th>
                  {Array.from({ length: 13 }, (_, k) => (
                    <th key={k}>+{k}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {cohortNames.map((name) => {
                  const cells = report.cohorts.filter((c) => c.cohort === name);
                  const size = cells[0]?.size ?? 0;
                  return (
                    <tr key={name}>
                      <td>{name}</td>
                      <td>{size}</td>
                      {Array.from({ length: 13 }, (_, k) => {
                        const share = (cells.find((c) => c.offset === k)?.active ?? 0) / (size || 1);
                        const [y, m] = name.split('-').map(Number);
                        const month = `${y + Math.floor((m - 1 + k) / 12)}-${String(((m - 1 + k) % 12) + 1).padStart(2, '0')}`;
                        if (month > run.asOf.slice(0, 7)) return <td key={k} />;
                        return (
                          <td
                            key={k}
                            style={{
                              background: k === 0 ? '#eef2f7' : `rgba(47,128,237,${Math.min(1, share * 3)})`,
                              color: share * 3 > 0.6 && k > 0 ? '#fff' : undefined,
                            }}
                          >
                            {k === 0 ? '' : `${Math.round(share * 100)}%`}
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
          <div className="grid2">
            <BarChart
              xAxis="Customers"
              yAxis="Predicted value, next 365 days"
              title="Predicted value over the next 365 days (customers per band)"
              bars={report.valueHistogram
                .filter((b) => b.customers > 0)
                .map((b) => ({
                  label:
                    b.to - b.from < 10
                      ? `${b.from.toFixed(2)}–${b.to.toFixed(2)}`
                      : `${money(b.from, 0)}–${money(b.to, 0)}`,
                  value: b.customers,
                }))}
            />
            <section className="card">
              <h2>The models behind the figures</h2>
              <p>
                Kept learns from every customer's past purchases how often people like them buy and how likely they are
                to have stopped; the chances and predicted values on this page come from these models.
              </p>
              <ForAnalysts>
                <h3>Model parameters (weeks)</h3>
                <p className="params">
                  BG/NBD r={num(run.models.week?.bgnbd?.r)} α={num(run.models.week?.bgnbd?.alpha)} a=
                  {num(run.models.week?.bgnbd?.a)} b={num(run.models.week?.bgnbd?.b)} LL=
                  {num(run.models.week?.bgnbd?.logLikelihood, 7)}
                </p>
                {run.models.week?.mbgnbd && (
                  <p className="params">
                    MBG/NBD r={num(run.models.week.mbgnbd.r)} α={num(run.models.week.mbgnbd.alpha)} a=
                    {num(run.models.week.mbgnbd.a)} b={num(run.models.week.mbgnbd.b)} LL=
                    {num(run.models.week.mbgnbd.logLikelihood, 7)}
                  </p>
                )}
                {run.models.week?.paretoNbd && (
                  <p className="params">
                    Pareto/NBD r={num(run.models.week.paretoNbd.r)} α={num(run.models.week.paretoNbd.alpha)} s=
                    {num(run.models.week.paretoNbd.s)} β={num(run.models.week.paretoNbd.beta)} LL=
                    {num(run.models.week.paretoNbd.logLikelihood, 7)}
                  </p>
                )}
                <p className="params">
                  Gamma-Gamma p={num(run.models.gammaGamma?.p)} q={num(run.models.gammaGamma?.q)} γ=
                  {num(run.models.gammaGamma?.gamma)}
                </p>
              </ForAnalysts>
              <p className="muted small">
                {Math.round(report.trueCustomerShare * 100)} % of buyers are true customers (two or more purchase days).
              </p>
            </section>
          </div>
          <LineChart
            yLabel="Repeat purchases, cumulative"
            title="Model fit: cumulative repeat purchases by week, actual against predicted"
            xLabel={`weeks since ${report.start}`}
            marker={{ x: report.asOfWeek, label: 'as of' }}
            series={[
              { name: 'actual', color: '#1f2933', points: report.tracking.map((t) => ({ x: t.week, y: t.actual })) },
              {
                name: 'BG/NBD',
                color: '#2f80ed',
                dashed: true,
                points: report.tracking.map((t) => ({ x: t.week, y: t.bgnbd })),
              },
              {
                name: 'Pareto/NBD',
                color: '#eb5757',
                dashed: true,
                points: report.tracking.map((t) => ({ x: t.week, y: t.paretoNbd })),
              },
            ]}
          />
          {report.frequencyBins.length > 0 ? (
            <section className="card">
              <h2>Model fit: purchases after the as-of date by purchases before it (conditional expectations)</h2>
              <LineChart
                yLabel="Mean purchases after the as-of date"
                title="Mean purchases after the as-of date, by repeat purchases before it (7 = 7 or more)"
                xLabel="repeat purchases before the as-of date"
                series={[
                  {
                    name: 'actual',
                    color: '#1f2933',
                    points: report.frequencyBins.map((b, i) => ({ x: i, y: b.actual })),
                  },
                  {
                    name: 'BG/NBD',
                    color: '#2f80ed',
                    dashed: true,
                    points: report.frequencyBins.map((b, i) => ({ x: i, y: b.bgnbd })),
                  },
                  {
                    name: 'Pareto/NBD',
                    color: '#eb5757',
                    dashed: true,
                    points: report.frequencyBins.map((b, i) => ({ x: i, y: b.paretoNbd })),
                  },
                ]}
                format={(v) => v.toFixed(1)}
                height={180}
              />
              <table className="list">
                <thead>
                  <tr>
                    <th>repeat purchases before</th>
                    <th className="num">customers</th>
                    <th className="num">actual mean after</th>
                    <th className="num">BG/NBD</th>
                    <th className="num">Pareto/NBD</th>
                  </tr>
                </thead>
                <tbody>
                  {report.frequencyBins.map((b) => (
                    <tr key={b.frequency}>
                      <td>{b.frequency}</td>
                      <td className="num">{b.customers}</td>
                      <td className="num">{b.actual.toFixed(3)}</td>
                      <td className="num">{b.bgnbd.toFixed(3)}</td>
                      <td className="num">{b.paretoNbd.toFixed(3)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ) : (
            <p className="muted">
              The conditional-expectation check needs purchases after the as-of date: run a backtest with an earlier
              as-of (`npx kept analyze --as-of 2026-06-30`) to see it.
            </p>
          )}
        </>
      )}
    </div>
  );
}
