import type { SubscriptionAnalysis } from '../../analytics/analytics.ts';
import { LineChart } from '../charts.tsx';
import { ForAnalysts } from '../plain.tsx';
import { CalibrationChart } from './backtest-section.tsx';
import { Link } from '../router.tsx';

const percent = (v: number) => `${Math.round(v * 100)} %`;
const palette = ['#2f80ed', '#27ae60', '#f2994a', '#9b51e0', '#eb5757', '#56ccf2', '#219653', '#bb6bd9'];

/** Subscriptions in the latest analysis: retention by start cohort with the sBG projection, and the churn model's check. */
export function SubscriptionsSection({ subscriptions: s }: { subscriptions: SubscriptionAnalysis }) {
  const r = s.retention;
  const m = s.churnModel;
  const lastCohorts = r?.cohorts.slice(-4) ?? [];
  return (
    <section className="card subscriptions">
      <h2>Subscriptions: who keeps renewing</h2>
      {r && (
        <>
          <p>
            {r.subscribers.toLocaleString()} subscribers billed by the {r.period} ({r.active.toLocaleString()} still
            subscribed)
            {r.otherPeriods ? `; ${r.otherPeriods.toLocaleString()} on other billing periods are left out here` : ''}.
            {r.fit && r.projected.length > 1
              ? ` Of a new cohort, Kept expects ${percent(r.projected[1])} to renew the first time and ${percent(r.projected[r.projected.length - 1])} to still be subscribed after ${r.projected.length - 1} renewals; the renewal rate rises from ${percent(r.retentionRates[0])} to ${percent(r.retentionRates[r.retentionRates.length - 1])} as those prone to cancel leave first.`
              : ' Nobody has reached a renewal yet: no projection.'}
          </p>
          {r.backtest && (
            <p>
              Check: fitted on what was known on {r.backtest.cut}, it expected {r.backtest.predicted.toFixed(0)}{' '}
              cancellations among the {r.backtest.subscribers.toLocaleString()} then subscribed (95 % range{' '}
              {Math.max(0, r.backtest.low).toFixed(0)}–{r.backtest.high.toFixed(0)}); {r.backtest.actual} happened
              {r.backtest.actual < r.backtest.low || r.backtest.actual > r.backtest.high
                ? ': outside the range, so treat the projection with care.'
                : '.'}
            </p>
          )}
          <LineChart
            yLabel="Share still subscribed"
            title={`Still subscribed after each renewal: observed (solid) and projected by the shifted-beta-geometric model (dashed)`}
            xLabel={`renewals (${r.period}s)`}
            format={percent}
            series={[
              { name: 'all, observed', color: '#333', points: r.observed.map((y, x) => ({ x, y })) },
              { name: 'all, projected', color: '#333', dashed: true, points: r.projected.map((y, x) => ({ x, y })) },
              ...lastCohorts.map((c, i) => ({
                name: `started ${c.start.slice(0, 7)} (${c.subscribers})`,
                color: palette[i % palette.length],
                points: c.observed.map((y, x) => ({ x, y })),
              })),
            ]}
            height={240}
          />
        </>
      )}
      {m ? (
        <>
          <p>
            Who cancels: a model learnt from your {m.subscribers.toLocaleString()} subscribers (
            {m.cancelled.toLocaleString()} cancelled), checked by {m.folds}-fold cross-validation. Picking one who
            cancelled and one who did not, it ranked the one who cancelled higher {percent(m.metrics.rocAuc.value)} of
            the time (95 %: {percent(m.metrics.rocAuc.low)}–{percent(m.metrics.rocAuc.high)}; a coin toss would be 50
            %). What matters most:{' '}
            {m.effects
              .slice(0, 4)
              .map(
                (e) =>
                  `${e.feature.replace(/^attribute_/, '').replaceAll('_', ' ')} (${e.highest} most likely to cancel)`,
              )
              .join('; ')}
            .
          </p>
          <ForAnalysts>
            <p className="params">
              ROC AUC {m.metrics.rocAuc.value.toFixed(3)}; PR AUC {m.metrics.prAuc.value.toFixed(3)} against a base rate
              of {m.metrics.baseRate.toFixed(3)}; Brier score {m.metrics.brier.value.toFixed(4)}. The chance from their
              profile is the churn model's; the one at the next renewal is the shifted-beta-geometric (sBG) model's.
            </p>
          </ForAnalysts>
          {m.dropped.map((d) => (
            <p key={d} className="muted">
              Left out: {d}
            </p>
          ))}
          <CalibrationChart
            title="Calibration: share who cancelled, against the chance the model gave (tenths by chance, out of fold)"
            xLabel="chance the model gave"
            name="who cancelled"
            color="#eb5757"
            bins={m.calibration}
          />
          <h3>Running subscribers most likely to cancel</h3>
          <table className="list">
            <thead>
              <tr>
                <th>customer</th>
                <th>plan</th>
                <th>since</th>
                <th>chance of cancelling (from their profile)</th>
                <th>cancelling at the next renewal (from their cohort)</th>
                <th>why</th>
              </tr>
            </thead>
            <tbody>
              {s.atRisk.slice(0, 20).map((a) => (
                <tr key={a.customerId}>
                  <td>
                    <Link to={`/customers/${a.customerId}`}>{a.name ?? a.externalId ?? `#${a.customerId}`}</Link>
                    {a.externalId && a.name ? <span className="muted"> {a.externalId}</span> : null}
                  </td>
                  <td>{a.plan ?? ''}</td>
                  <td>{a.startedAt}</td>
                  <td>{percent(a.probability)}</td>
                  <td>{a.nextRenewalChurn === null ? '' : percent(a.nextRenewalChurn)}</td>
                  <td>{a.factors.map((f) => f.replaceAll('_', ' ')).join('; ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p>No churn model: {s.churnModelSkipped}</p>
      )}
    </section>
  );
}
