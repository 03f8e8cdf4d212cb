// The owner's overview: how the business keeps its customers, each figure a click from its detail.
import { useEffect, useState } from 'react';
import type { Overview } from '../../overview/overview.ts';
import { api, formatDate, problemText, words } from '../api.ts';
import { BarChart, stageColors, WhatIsThis } from '../charts.tsx';
import { useMoney } from '../plain.tsx';
import { Link } from '../router.tsx';

const stageOrder = ['prospect', 'trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back', 'suppressed'];
const stageWords: Record<string, string> = {
  prospect: 'Not bought yet',
  trial: 'Bought once',
  customer: 'Customers',
  best: 'Best customers',
  at_risk: 'At risk',
  lapsed: 'Lapsed',
  won_back: 'Won back',
  suppressed: 'Not contacted',
};
const stageName = (stage: string | null) => (stage ? (stageWords[stage] ?? words(stage)) : 'New');

export function OverviewPage() {
  const [data, setData] = useState<Overview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const money = useMoney();
  const amount = (v: number | string) => money(v, 0);
  const signedAmount = (v: number) => `${v < 0 ? '−' : '+'}${amount(Math.abs(v))}`;
  const signedMoney = (v: number) => `${v < 0 ? '−' : '+'}${money(Math.abs(v))}`;
  useEffect(() => {
    api<Overview>('/v1/overview').then(setData, (e) => setProblem(problemText(e)));
  }, []);
  if (problem)
    return (
      <p className="error" role="alert">
        {problem}
      </p>
    );
  if (!data) return <p className="muted">Loading…</p>;
  const stages = [...data.stages].sort((a, b) => stageOrder.indexOf(a.stage) - stageOrder.indexOf(b.stage));
  const buyers = stages.filter((s) => s.stage !== 'prospect').reduce((n, s) => n + s.now, 0);
  const { programme, atRisk, reasons } = data;
  const kept = programme.revenueKept;
  const sure = kept && (kept.low > 0 || kept.high < 0);
  return (
    <div className="overview">
      <h1>Overview</h1>
      <p className="muted">
        {data.asOf
          ? `Latest analysis as of ${formatDate(data.asOf)}.`
          : 'No analysis yet: stages and risk appear after the first.'}{' '}
        "This month" counts from {formatDate(data.monthStart)}.
      </p>
      <div className="tiles">
        <Link to="/customers" className="tile">
          <b>{buyers.toLocaleString()}</b>
          <span>customers who have bought</span>
        </Link>
        <Link to="/analytics" className="tile">
          <b>{atRisk.customers.toLocaleString()}</b>
          <span>at risk of leaving</span>
        </Link>
        <Link to="/analytics" className="tile">
          <b>{amount(atRisk.valueAtStake)}</b>
          <span>a year of their buying at stake</span>
        </Link>
        <Link to="/campaigns" className="tile">
          <b>{kept ? signedAmount(kept.value) : '—'}</b>
          <span>revenue kept by marketing, {programme.months} months</span>
        </Link>
      </div>

      <section className="card">
        <h2>
          <Link to="/analytics">Customers by stage</Link>
        </h2>
        <BarChart
          xAxis="Customers"
          yAxis="Stage"
          title="Customers in each stage now"
          bars={stages.map((s) => ({ label: stageName(s.stage), value: s.now, color: stageColors[s.stage] }))}
          labelWidth={130}
        />
        <table className="list">
          <caption>How the stages moved this month</caption>
          <thead>
            <tr>
              <th>Stage</th>
              <th className="num">At the start of the month</th>
              <th className="num">Came in</th>
              <th className="num">Went out</th>
              <th className="num">Now</th>
            </tr>
          </thead>
          <tbody>
            {stages.map((s) => (
              <tr key={s.stage}>
                <td>{stageName(s.stage)}</td>
                <td className="num">{s.atMonthStart.toLocaleString()}</td>
                <td className="num">{s.movedIn ? `+${s.movedIn.toLocaleString()}` : '0'}</td>
                <td className="num">{s.movedOut ? `−${s.movedOut.toLocaleString()}` : '0'}</td>
                <td className="num">{s.now.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {data.moves.length > 0 && (
          <p className="muted">
            Largest moves this month:{' '}
            {data.moves
              .slice(0, 4)
              .map((m) => `${stageName(m.from)} → ${stageName(m.to)} ${m.customers.toLocaleString()}`)
              .join(' · ')}
          </p>
        )}
      </section>

      <section className="card">
        <h2>
          <Link to="/campaigns">Is marketing paying?</Link>
        </h2>
        <p>{programme.headline}</p>
        {kept ? (
          <p>
            Customers we marketed to spent <b>{signedMoney(programme.revenuePerCustomer!.difference)}</b> each against
            the control group that got no marketing: about <b>{signedAmount(kept.value)}</b> over{' '}
            {programme.marketedCustomers.toLocaleString()} customers (95 % interval {signedAmount(kept.low)} to{' '}
            {signedAmount(kept.high)}). {sure ? '' : 'The interval includes zero: it may be no difference at all.'}
          </p>
        ) : (
          <p className="muted">Nothing to compare yet: the control group or the marketed group is empty.</p>
        )}
        {kept && programme.warning && <p className="warn">{programme.warning}</p>}
        <WhatIsThis>
          A random share of customers (the universal control group, {programme.controlCustomers.toLocaleString()}{' '}
          customers now) never gets marketing. What the others spent beyond them is what marketing kept; the interval
          says how sure that is.
        </WhatIsThis>
      </section>

      <section className="card">
        <h2>
          <Link to="/insights">Why customers left</Link>
        </h2>
        {reasons && reasons.top.length > 0 ? (
          <>
            <BarChart
              xAxis="Customers who left"
              yAxis="Reason"
              title={`Why the ${reasons.lapsed.toLocaleString()} customers who left in the last 12 months left`}
              bars={reasons.top.map((r) => ({ label: r.cause, value: r.customers }))}
              labelWidth={260}
            />
            <WhatIsThis>
              A customer has left when they have not ordered for the lapse period. The reason is their answer to the
              exit survey where they gave one, else the experience that most raised their risk of leaving; "drifted
              away" when nothing on record explains it.
            </WhatIsThis>
          </>
        ) : (
          <p className="muted">No reasons yet: they appear after an analysis finds customers who left.</p>
        )}
      </section>

      <section className="card">
        <h2>
          <Link to="/campaigns">What was tried and what it returned</Link>
        </h2>
        {data.tried.length === 0 ? (
          <p className="muted">No campaign has started yet.</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Campaign</th>
                <th>Started</th>
                <th className="num">Reached</th>
                <th className="num">Revenue per customer against the holdout (30 days)</th>
              </tr>
            </thead>
            <tbody>
              {data.tried.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/campaigns/${c.id}`}>{c.name}</Link> <small className="muted">{words(c.channel)}</small>
                  </td>
                  <td>{formatDate(c.startedAt)}</td>
                  <td className="num">{c.members.toLocaleString()}</td>
                  <td className="num" title={c.warning ?? undefined}>
                    {c.revenuePerCustomer
                      ? `${signedMoney(c.revenuePerCustomer.difference)} (${signedMoney(c.revenuePerCustomer.low)} to ${signedMoney(c.revenuePerCustomer.high)})`
                      : '—'}
                    {c.warning && <small className="muted"> · read with care</small>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
