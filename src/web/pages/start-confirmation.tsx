// Start with eyes open: what starting a campaign would do, shown before anything happens, and a
// confirmation. The numbers are the server's (GET /campaigns/{id}/preview), computed as the start will.
import { useEffect, useState } from 'react';
import type { Campaign, StartPreview } from '../../campaigns/campaign.ts';
import { api, problemText } from '../api.ts';
import { BarChart, WhatIsThis } from '../charts.tsx';
import { Link } from '../router.tsx';

const n = (v: number) => v.toLocaleString('en');

export function StartConfirmation({
  id,
  onStarted,
  onClose,
}: {
  id: number;
  onStarted: (c: Campaign) => void;
  onClose: () => void;
}) {
  const [override, setOverride] = useState(false);
  const [preview, setPreview] = useState<StartPreview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setPreview(null);
    api<StartPreview>(`/v1/campaigns/${id}/preview?overrideHoldouts=${override}`).then(setPreview, (e) =>
      setProblem(problemText(e)),
    );
  }, [id, override]);
  const start = async () => {
    setBusy(true);
    try {
      onStarted(
        await api<Campaign>(`/v1/campaigns/${id}/start`, { method: 'POST', json: { overrideHoldouts: override } }),
      );
    } catch (e) {
      setProblem(problemText(e));
      setBusy(false);
    }
  };
  const heldOut = preview?.leftOut.filter((l) => l.reason.startsWith('held out of ')) ?? [];
  return (
    <section className="card" aria-label="start confirmation">
      <h2>Before you start</h2>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {!preview ? (
        <p className="muted">Working out who it would reach…</p>
      ) : (
        <>
          <p>
            The segment has <strong>{n(preview.audience)}</strong> customers.{' '}
            {preview.leftOut.length > 0 && (
              <>{n(preview.leftOut.filter((l) => !l.overridden).reduce((s, l) => s + l.n, 0))} are left out (below); </>
            )}
            <strong>{n(preview.drawn)}</strong> are drawn: <strong>{n(preview.holdout)}</strong> into the holdout, who
            get nothing so the campaign can be measured, and the rest into{' '}
            {preview.arms.length === 1 ? 'the campaign' : `${preview.arms.length} arms`}. About{' '}
            <strong>{n(preview.reach)}</strong> can be reached now.
          </p>
          <WhatIsThis>
            The holdout is a random share of the audience that gets nothing; comparing what they do with what the
            treated do over the next 30 days tells whether the campaign worked. Customers are left out when the
            universal control group (never marketed to, to measure all marketing together), another programme's holdout
            or an open problem (an unanswered complaint) says so.
          </WhatIsThis>
          <BarChart
            xAxis="Customers"
            yAxis="Arm"
            title="Who goes where"
            labelWidth={150}
            bars={[
              ...preview.arms.map((a) => ({ label: `arm ${a.name}`, value: a.members, color: '#2f80ed' })),
              { label: 'holdout', value: preview.holdout, color: '#4f5b66' },
              ...preview.leftOut
                .filter((l) => !l.overridden)
                .map((l) => ({ label: l.reason, value: l.n, color: '#f2994a' })),
            ]}
          />
          {preview.leftOut.length > 0 && (
            <table className="list">
              <caption>Left out, and why</caption>
              <tbody>
                {preview.leftOut.map((l) => (
                  <tr key={l.reason}>
                    <td>{l.reason}</td>
                    <td className="num">{n(l.n)}</td>
                    <td>{l.overridden ? 'included anyway: that measurement is spoiled for them' : 'left out'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {preview.unreachable.length > 0 && (
            <table className="list">
              <caption>Drawn but not reachable now (the send skips them and says why)</caption>
              <tbody>
                {preview.unreachable.map((u) => (
                  <tr key={u.reason}>
                    <td>{u.reason}</td>
                    <td className="num">{n(u.n)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {preview.overlap.length > 0 && (
            <table className="list">
              <caption>Also in a running programme</caption>
              <tbody>
                {preview.overlap.map((o) => (
                  <tr key={o.programme}>
                    <td>{o.programme}</td>
                    <td className="num">{n(o.n)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {preview.arms.map((a) => (
            <details key={a.name} open={preview.arms.length === 1}>
              <summary>
                Arm {a.name}: {n(a.members)} customers
                {a.sample && (
                  <>
                    {' '}
                    · sample for <Link to={`/customers/${a.sample.customerId}`}>customer {a.sample.customerId}</Link>
                  </>
                )}
              </summary>
              {a.sample?.mail ? (
                <div className="mail-preview">
                  <p>
                    <strong>Subject:</strong> {a.sample.mail.subject}
                  </p>
                  <iframe title={`sample of arm ${a.name}`} sandbox="" srcDoc={a.sample.mail.html} />
                </div>
              ) : (
                <p className="muted small">
                  {preview.campaign.channel === 'email'
                    ? 'Nobody in the audience can be reached, so there is no sample.'
                    : 'A list: after the start, download it from this page; exporting it records each customer as reached.'}
                </p>
              )}
            </details>
          ))}
          {preview.warnings.length > 0 && (
            <div className="warnings" role="note">
              {preview.warnings.map((w) => (
                <p key={w}>{w}</p>
              ))}
            </div>
          )}
          {(heldOut.length > 0 || override) && (
            <label className="inline">
              <input type="checkbox" checked={override} onChange={(e) => setOverride(e.target.checked)} /> Include
              customers held out of other programmes (their results will count the contamination)
            </label>
          )}
          <div className="filters">
            <button type="button" disabled={busy || preview.drawn === 0} onClick={start}>
              {busy ? 'Starting…' : `Confirm and start: ${n(preview.drawn)} customers`}
            </button>
            <button type="button" onClick={onClose}>
              Not now
            </button>
          </div>
        </>
      )}
    </section>
  );
}
