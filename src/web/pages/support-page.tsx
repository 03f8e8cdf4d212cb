import { useEffect, useState } from 'react';
import type { Glitches, MissedRecovery, RecoveryOutcome } from '../../support/support.ts';
import { api, formatDate, words } from '../api.ts';
import { BarChart, LineChart, palette } from '../charts.tsx';
import { Link } from '../router.tsx';

/** Where things go wrong (by week, with spikes) and who was let down without anyone following up. */
export function SupportPage() {
  const [glitches, setGlitches] = useState<Glitches | null>(null);
  const [missed, setMissed] = useState<MissedRecovery[] | null>(null);
  const [outcomes, setOutcomes] = useState<RecoveryOutcome[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Glitches>('/v1/glitches?weeks=26').then(setGlitches, (e) => setError(e.message));
    api<{ customers: MissedRecovery[] }>('/v1/recovery?days=3').then(
      (r) => setMissed(r.customers),
      (e) => setError(e.message),
    );
    api<{ outcomes: RecoveryOutcome[] }>('/v1/recovery/outcomes').then(
      (r) => setOutcomes(r.outcomes),
      () => undefined,
    );
  }, []);
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  const label = (s: { source: string; category: string }) =>
    `${s.source === 'portal' ? 'portal stuck at' : words(s.source)}: ${words(s.category)}`;
  const top = glitches?.series.slice(0, 8) ?? [];
  return (
    <div>
      <h1>Support: glitches and missed recoveries</h1>
      {glitches && (
        <section className="card">
          {glitches.spikes.length > 0 ? (
            <div className="warnings">
              {glitches.spikes.map((s) => (
                <p key={`${s.week}${s.source}${s.category}`}>
                  ⚠ Week of {s.week}: {s.count} × {label(s)} (usually {s.expected} a week)
                </p>
              ))}
            </div>
          ) : (
            <p className="muted">No spikes in the last {glitches.weeks.length} weeks.</p>
          )}
          <div className="grid2">
            <LineChart
              title={`Problems per week, the most frequent kinds (${glitches.weeks[0]} to ${glitches.weeks.at(-1)})`}
              xLabel="Week"
              yLabel="Problems"
              time
              series={top.map((s, i) => ({
                name: `${label(s)} (${s.total})`,
                color: palette[i % palette.length],
                points: s.counts.map((y, x) => ({ x: Date.parse(glitches.weeks[x]) || x + 1, y })),
              }))}
            />
            <BarChart
              xAxis="Problems"
              yAxis="Channel"
              title="Problems by channel, same weeks"
              bars={glitches.channels.map((c) => ({
                label: words(c.channel),
                value: c.counts.reduce((a, b) => a + b, 0),
              }))}
            />
          </div>
          <table className="list">
            <thead>
              <tr>
                <th>Problem</th>
                <th className="num">Last {glitches.weeks.length} weeks</th>
                <th className="num">Last week</th>
              </tr>
            </thead>
            <tbody>
              {glitches.series.map((s) => (
                <tr key={`${s.source}${s.category}`}>
                  <td>{label(s)}</td>
                  <td className="num">{s.total}</td>
                  <td className="num">{s.counts.at(-1)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section className="card">
        <h2>
          Let down, and nobody followed up{' '}
          <small className="muted">
            (latest bad experience more than 3 days ago, no contact, note or decision since)
          </small>
        </h2>
        {outcomes.length > 0 && (
          <BarChart
            xAxis="Share who bought again"
            yAxis="Followed up"
            title="Bought again within 90 days of a bad experience: followed up within 3 days, or not"
            format={(v) => `${Math.round(v * 100)} %`}
            bars={outcomes.map((o) => ({
              label: `${o.followedUp ? 'followed up' : 'not followed up'} (${o.experiences})`,
              value: o.boughtShare,
              color: o.followedUp ? '#27ae60' : '#eb5757',
            }))}
          />
        )}
        {missed === null ? (
          <p className="muted">Loading…</p>
        ) : missed.length === 0 ? (
          <p className="muted">Everyone who was let down has been followed up.</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Customer</th>
                <th>What happened</th>
                <th>When</th>
                <th className="num">Waiting</th>
                <th className="num">Value at stake</th>
              </tr>
            </thead>
            <tbody>
              {missed.map((m) => (
                <tr key={m.customerId}>
                  <td>
                    <Link to={`/customers/${m.customerId}`}>{m.name ?? m.email ?? `#${m.customerId}`}</Link>{' '}
                    <small className="muted">{words(m.stage)}</small>
                  </td>
                  <td>
                    {m.what}
                    {m.orderId ? ` (order ${m.orderId})` : ''}
                  </td>
                  <td>{formatDate(m.at)}</td>
                  <td className="num">{m.waitingDays} days</td>
                  <td className="num">{m.valueAtStake ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
