// The journey blueprint on the Journeys page: for each stage, the contacts a customer should get and
// by when, against what the customers who entered it actually got (a funnel chart and the same
// numbers in a table), and the gaps. Every number opens the customers behind it.
import { useEffect, useState } from 'react';
import type {
  BlueprintReport,
  BlueprintStage,
  Gap,
  Outcome,
  StageReport,
  StepCustomer,
  StepReport,
} from '../../journeys/blueprint.ts';
import { api, formatDate, percent, problemText, words } from '../api.ts';
import { StackedColumnChart, WhatIsThis } from '../charts.tsx';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';

const days = 365;
const stageNames: Record<BlueprintStage, string> = {
  trial: 'Trial users',
  customer: 'Customers',
  best: 'Best customers',
  at_risk: 'At risk',
  lapsed: 'Lapsed',
  won_back: 'Won back',
};
const outcomeWords: Record<Outcome, string> = {
  on_time: 'got it on time',
  late: 'got it late',
  missed: 'never got it',
  left_first: 'left the stage before it was due',
  not_due: 'not due yet',
};
const funnelColors = { 'on time': '#27ae60', late: '#f2994a', never: '#eb5757' };
/** A number that opens the customers behind it. */
const opens = { color: 'var(--accent)', textDecoration: 'underline dotted' };

/** Days in words: "10 minutes", "5 hours", "3.5 days". */
function duration(d: number): string {
  if (d < 1 / 24) return `${Math.max(1, Math.round(d * 24 * 60))} minutes`;
  if (d < 1) return `${Math.round(d * 24)} hours`;
  return `${d < 10 ? d.toFixed(1).replace(/\.0$/, '') : Math.round(d)} days`;
}
const movedOn = (to: Record<string, number>) =>
  Object.entries(to)
    .map(([stage, n]) => `${n} to ${words(stage)}`)
    .join(', ');

interface Shown {
  title: string;
  count: number;
  customers: { id: number; name: string | null; detail: string | null }[];
}

export function BlueprintSection() {
  const [report, setReport] = useState<BlueprintReport | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [stage, setStage] = useState<BlueprintStage>('trial');
  const [shown, setShown] = useState<Shown | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const can = useCan();
  useEffect(() => {
    api<BlueprintReport>(`/v1/blueprint?days=${days}`).then(setReport, (e) => setProblem(problemText(e)));
  }, []);
  const title = <h2>Designed path and what customers got</h2>;
  if (!report)
    return (
      <section className="card blueprint">
        {title}
        {problem ? (
          <p className="error" role="alert">
            {problem}
          </p>
        ) : (
          <p className="muted">Loading the blueprint…</p>
        )}
      </section>
    );
  const showGap = (g: Gap) => setShown({ title: g.title, count: g.customers, customers: g.sample });
  const showStep = (s: StepReport, outcome: Outcome, count: number) =>
    api<{ customers: StepCustomer[] }>(
      `/v1/blueprint/customers?stage=${stage}&step=${s.key}&outcome=${outcome}&days=${days}`,
    ).then(
      (r) =>
        setShown({
          title: `${stageNames[stage]}: ${s.label}, ${outcomeWords[outcome]}`,
          count,
          customers: r.customers.map((c) => ({
            id: c.id,
            name: c.name,
            detail: `entered ${formatDate(c.enteredAt)}${c.doneAt ? `, got it ${formatDate(c.doneAt)}` : ''}${c.leftTo ? `, moved to ${words(c.leftTo)}` : ''}`,
          })),
        }),
      (e) => setProblem(problemText(e)),
    );
  const saveSegment = (g: Gap) =>
    api<{ id: number }>('/v1/segments', {
      method: 'POST',
      json: { name: g.title, kind: 'dynamic', rule: g.rule },
    }).then(
      () => setMessage(`Saved as the segment "${g.title}" (on the Segments page).`),
      (e) => setProblem(problemText(e)),
    );
  const current = report.stages.find((s) => s.stage === stage);
  return (
    <section className="card blueprint">
      {title}
      <p className="muted">
        For each stage, the contacts a customer should get and by when, against what the customers who entered it in the
        last {days} days actually got. Click a number to see who.
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {message && <p role="status">{message}</p>}
      <h3>Gaps</h3>
      <table className="list blueprint-gaps">
        <tbody>
          {report.gaps.map((g) => (
            <tr key={`${g.kind}-${g.stage ?? ''}`}>
              <td>{g.title}</td>
              <td className="num">
                <button
                  type="button"
                  className="link"
                  style={opens}
                  onClick={() => showGap(g)}
                  aria-label={`${g.title}: ${g.count}`}
                >
                  {g.count.toLocaleString()}
                </button>
              </td>
              <td className="small muted">
                {g.kind === 'unconfirmed' ? `${g.customers.toLocaleString()} customers` : ''}
                {can('POST /api/v1/segments') && g.rule && g.count > 0 && (
                  <button type="button" className="link" onClick={() => saveSegment(g)}>
                    Save them as a segment
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="chips" role="tablist" aria-label="Stage">
        {report.stages.map((s) => (
          <button
            key={s.stage}
            type="button"
            role="tab"
            aria-selected={s.stage === stage}
            className={s.stage === stage ? 'chip on' : 'chip'}
            onClick={() => setStage(s.stage)}
          >
            {stageNames[s.stage]} · {s.entered.toLocaleString()}
          </button>
        ))}
      </div>
      {current && <StageFunnel stage={current} onPick={showStep} />}
      {shown && (
        <section className="card drill" aria-label="Customers">
          <div className="drill-head">
            <h3>
              {shown.title}: {shown.count.toLocaleString()}
            </h3>
            <button type="button" className="link" onClick={() => setShown(null)}>
              Close
            </button>
          </div>
          {shown.customers.length < shown.count && (
            <p className="muted small">The first {shown.customers.length} by customer number.</p>
          )}
          <ul className="plain blueprint-customers">
            {shown.customers.map((c) => (
              <li key={c.id}>
                <Link to={`/customers/${c.id}`}>{c.name ?? `Customer ${c.id}`}</Link>{' '}
                {c.detail && <span className="muted small">{c.detail}</span>}
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}

function StageFunnel({
  stage,
  onPick,
}: {
  stage: StageReport;
  onPick: (step: StepReport, outcome: Outcome, count: number) => void;
}) {
  const name = stageNames[stage.stage];
  const count = (s: StepReport, outcome: Outcome, n: number) =>
    n === 0 ? (
      '0'
    ) : (
      <button type="button" className="link" style={opens} onClick={() => onPick(s, outcome, n)}>
        {n.toLocaleString()}
      </button>
    );
  return (
    <div className="blueprint-stage">
      <p>
        <b>{stage.entered.toLocaleString()}</b> became {name.toLowerCase()} in the last {days} days;{' '}
        {stage.stayed.toLocaleString()} still are
        {Object.keys(stage.left).length > 0 ? `, the others moved on (${movedOn(stage.left)})` : ''}.{' '}
        <span className="muted small">
          {stage.design === 'saved'
            ? `Design saved by ${stage.updatedBy} on ${formatDate(stage.updatedAt)}.`
            : 'The built-in design.'}
        </span>
      </p>
      {stage.funnel.length > 0 && (
        <StackedColumnChart
          xAxis="Designed step"
          yAxis="Customers"
          title={`${name}: each designed step, reached on time, late or never`}
          colors={funnelColors}
          columns={stage.funnel.map((s) => ({
            label: s.label,
            parts: { 'on time': s.onTime, late: s.late, never: s.missed },
          }))}
        />
      )}
      <table className="list blueprint-funnel">
        <thead>
          <tr>
            <th>Designed step</th>
            <th>Due</th>
            <th className="num">On time</th>
            <th className="num">Late</th>
            <th className="num">Never</th>
            <th className="num">Left first</th>
            <th className="num">Not due yet</th>
            <th className="num">On time, of those due</th>
            <th className="num">Typical time</th>
            <th>Moved on</th>
          </tr>
        </thead>
        <tbody>
          {stage.funnel.map((s) => (
            <tr key={s.key}>
              <td>{s.label}</td>
              <td>{s.due}</td>
              <td className="num">{count(s, 'on_time', s.onTime)}</td>
              <td className="num">{count(s, 'late', s.late)}</td>
              <td className="num">{count(s, 'missed', s.missed)}</td>
              <td className="num">{count(s, 'left_first', s.leftFirst)}</td>
              <td className="num">{count(s, 'not_due', s.notDue)}</td>
              <td className="num">{percent(s.shares.onTime)}</td>
              <td className="num">{s.timing.days ? duration(s.timing.days.median) : '—'}</td>
              <td className="small">
                {[
                  Object.keys(s.dropOut.after).length > 0 && `after it: ${movedOn(s.dropOut.after)}`,
                  Object.keys(s.dropOut.without).length > 0 && `without it: ${movedOn(s.dropOut.without)}`,
                ]
                  .filter(Boolean)
                  .join('; ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <WhatIsThis>
        Each step is due a set time after a customer enters the stage. <b>On time</b>: it happened by then; <b>late</b>:
        after; <b>never</b>: it was due and did not happen while they were in the stage. <b>Left first</b>: they moved
        to another stage before it was due. <b>Typical time</b> is the median time to the step among those who got it.{' '}
        <b>Moved on</b> says where those who left the stage went, with and without the step. A marketer can change what
        each stage should get (the journeys documentation says how).
      </WhatIsThis>
    </div>
  );
}
