// Data quality: the share of customers without any problem (big, with its course over time), how
// many customers have each problem (chart and table, each with what it means), and the customers
// behind a count, each with the problem in words and the likely fix.
import { Pager } from '../pager.tsx';
import { useEffect, useState } from 'react';
import type { ProblemCode, QualityCustomers, QualityReport } from '../../quality/quality.ts';
import { api, problemText } from '../api.ts';
import { BarChart, LineChart, WhatIsThis } from '../charts.tsx';
import { Link, navigate } from '../router.tsx';

const pageSize = 50;
const scoreText = (score: number) => `${score.toLocaleString('en', { maximumFractionDigits: 1 })}`;

function Overview() {
  const [report, setReport] = useState<QualityReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<QualityReport>('/v1/quality').then(setReport, (e) => setError(problemText(e)));
  }, []);
  if (error) return <p className="error">{error}</p>;
  if (!report) return <p className="muted">Counting…</p>;
  const history = report.history.map((h) => ({ x: Date.parse(`${h.day}T12:00:00Z`), y: h.score }));
  return (
    <>
      <div className="page-head">
        <h1>Data quality</h1>
      </div>
      <section className="card quality-score" aria-label="Score">
        <div>
          <b className="big" style={{ fontSize: 44, fontWeight: 700 }} data-testid="quality-score">
            {scoreText(report.score)}
          </b>{' '}
          <span className="muted">of 100</span>
        </div>
        <p>
          {report.clean.toLocaleString()} of {report.customers.toLocaleString()} customers have none of the problems
          below.
        </p>
        <WhatIsThis>
          The score is the share of customers, in percent, with none of the problems counted below: no possible
          duplicate waiting for review, no stale address, no bounced email, no warning from the entry checks, and
          marketing consent on record. A customer with two problems counts once. Taken once a day (the first look of the
          day, and the nightly analysis), so the course shows whether records get cleaner.
        </WhatIsThis>
        {report.history.length > 1 ? (
          <LineChart
            yLabel="Share of customers without a problem"
            title={`Score per day, ${report.history[0].day} to ${report.history.at(-1)!.day}`}
            xLabel="Day"
            time
            format={(v) => `${v.toFixed(0)} %`}
            height={200}
            series={[
              { name: 'Score', color: '#2f80ed', points: history },
              {
                name: 'Every customer without a problem',
                color: '#9aa5b1',
                dashed: true,
                points: [
                  { x: history[0].x, y: 100 },
                  { x: history.at(-1)!.x, y: 100 },
                ],
              },
            ]}
          />
        ) : (
          <p className="muted small">The course over time shows from the second day.</p>
        )}
      </section>
      <section className="card">
        <h2>Problems</h2>
        <BarChart
          xAxis="Customers"
          yAxis="Problem"
          title="Customers per problem (click a bar for the customers)"
          labelWidth={230}
          bars={report.problems.map((p) => ({
            label: p.label,
            value: p.customers,
            color: p.customers > 0 ? 'var(--warn)' : undefined,
            onClick: () => navigate(`/quality/${p.code}`),
          }))}
        />
        <table className="list quality-problems" aria-label="Problems">
          <thead>
            <tr>
              <th>Problem</th>
              <th className="num">Customers</th>
              <th>What is this</th>
            </tr>
          </thead>
          <tbody>
            {report.problems.map((p) => (
              <tr key={p.code} data-problem={p.code}>
                <td>
                  <Link to={`/quality/${p.code}`}>{p.label}</Link>
                </td>
                <td className="num">{p.customers.toLocaleString()}</td>
                <td className="muted">{p.about}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function ProblemCustomers({ problem }: { problem: ProblemCode }) {
  const [page, setPage] = useState(1);
  const [list, setList] = useState<QualityCustomers | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<QualityCustomers>(`/v1/quality/customers?problem=${problem}&page=${page}&pageSize=${pageSize}`).then(
      setList,
      (e) => setError(problemText(e)),
    );
  }, [problem, page]);
  if (error) return <p className="error">{error}</p>;
  if (!list) return <p className="muted">Loading…</p>;
  const pages = Math.max(1, Math.ceil(list.total / pageSize));
  return (
    <>
      <p>
        <Link to="/quality">← Data quality</Link>
      </p>
      <h1>
        {list.label} <span className="muted">({list.total.toLocaleString()})</span>
      </h1>
      {list.customers.length === 0 ? (
        <p className="muted">No customer has this problem.</p>
      ) : (
        <table className="list" aria-label={list.label}>
          <thead>
            <tr>
              <th>Customer</th>
              <th>Email</th>
              <th>Problem</th>
              <th>Probably</th>
            </tr>
          </thead>
          <tbody>
            {list.customers.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to={`/customers/${c.id}`}>{c.name ?? c.externalId ?? `#${c.id}`}</Link>{' '}
                  <small className="muted">{c.externalId ?? `#${c.id}`}</small>
                </td>
                <td>{c.email ?? '—'}</td>
                <td>{c.message}</td>
                <td>{c.suggestion ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pager page={page} pages={pages} onPage={setPage} />
    </>
  );
}

export function QualityPage({ problem }: { problem: string | null }) {
  return problem ? <ProblemCustomers key={problem} problem={problem as ProblemCode} /> : <Overview />;
}
