import type { Backtest } from '../../analytics/analytics.ts';
import { LineChart } from '../charts.tsx';
import { ForAnalysts } from '../plain.tsx';

const percent = (v: number) => `${Math.round(v * 100)} %`;

/** "How well Kept predicted your last 90 days": the backtest of the latest analysis, in words and charts. */
export function BacktestSection({ backtest: b, why }: { backtest: Backtest; why: string }) {
  const chosen = b.candidates.find((c) => c.model === b.chosen);
  const topFifth = b.gains.find((g) => g.share >= 0.2);
  return (
    <section className="card backtest">
      <h2>How well Kept predicted your last {b.days} days</h2>
      <p>
        Kept hid {b.from} to {b.to} from the models, let each one predict it from the history before, and compared:{' '}
        {b.buyers.toLocaleString()} of {b.customers.toLocaleString()} customers bought in those days (
        {b.actualPurchases.toLocaleString()} purchases).
      </p>
      {chosen && (
        <p>
          <strong>{chosen.name}</strong> scores your customers: {why}.{' '}
          {topFifth
            ? `Its top fifth of customers held ${percent(topFifth.captured)} of those who bought (a random fifth would hold 20 %). `
            : ''}
          Picking a random buyer and a random non-buyer, it ranked the buyer higher {percent(chosen.rocAuc.value)} of
          the time (between {percent(chosen.rocAuc.low)} and {percent(chosen.rocAuc.high)} with 95 % confidence; days
          since the last purchase alone: {percent(b.recencyAuc)}). It expected {Math.round(chosen.predictedPurchases)}{' '}
          purchases: {Math.abs(chosen.totalError) < 0.005 ? 'on the mark' : percent(Math.abs(chosen.totalError))}{' '}
          {chosen.totalError < 0 ? 'too few' : chosen.totalError > 0 ? 'too many' : ''}.
        </p>
      )}
      <div className="grid2">
        <CalibrationChart
          title="Did the chances come true? Share who bought, against the chance Kept gave (customers in tenths by chance)"
          xLabel="chance Kept gave"
          name="who bought"
          bins={b.calibration}
        />
        <LineChart
          yLabel="Share of the buyers reached"
          title="Gains: share of the buyers reached by contacting the customers Kept ranks highest first"
          xLabel="share of customers contacted"
          format={percent}
          series={[
            {
              name: 'random',
              color: '#9aa5b1',
              dashed: true,
              points: [
                { x: 0, y: 0 },
                { x: 1, y: 1 },
              ],
            },
            {
              name: chosen?.name ?? b.chosen,
              color: '#2f80ed',
              points: b.gains.map((g) => ({ x: g.share, y: g.captured })),
            },
          ]}
          height={200}
        />
      </div>
      <ForAnalysts>
        <table className="list">
          <thead>
            <tr>
              <th>model</th>
              <th>ranking (ROC AUC, 95 % interval)</th>
              <th>PR AUC</th>
              <th>Brier score (lower is better)</th>
              <th>expected purchases</th>
            </tr>
          </thead>
          <tbody>
            {b.candidates.map((c) => (
              <tr key={c.model} className={c.model === b.chosen ? 'chosen' : undefined}>
                <td>
                  {c.name}
                  {c.model === b.chosen ? ' (scores)' : ''}
                  {c.excluded ? ' (not used: no dropout visible in this history)' : ''}
                </td>
                <td>
                  {c.rocAuc.value.toFixed(3)} ({c.rocAuc.low.toFixed(3)}–{c.rocAuc.high.toFixed(3)})
                </td>
                <td>{c.prAuc.value.toFixed(3)}</td>
                <td>{c.brier.value.toFixed(4)}</td>
                <td>
                  {Math.round(c.predictedPurchases).toLocaleString()} ({c.totalError >= 0 ? '+' : '−'}
                  {percent(Math.abs(c.totalError))})
                </td>
              </tr>
            ))}
            <tr>
              <td>days since the last purchase alone</td>
              <td>{b.recencyAuc.toFixed(3)}</td>
              <td colSpan={3} />
            </tr>
          </tbody>
        </table>
        <p className="small muted">
          ROC AUC: the share of buyer and non-buyer pairs ranked the right way round (0.5 is a coin toss). PR AUC: how
          well the top of the ranking holds buyers. Brier score: the mean squared gap between the chance given and what
          happened.
        </p>
      </ForAnalysts>
    </section>
  );
}

/** The share observed beside the chance given, by tenths, against the diagonal of perfect calibration. */
export function CalibrationChart({
  title,
  xLabel,
  name,
  bins,
  color = '#2f80ed',
}: {
  title: string;
  xLabel: string;
  name: string;
  bins: Backtest['calibration'];
  color?: string;
}) {
  const top = Math.max(...bins.map((c) => c.predicted), 0.01);
  return (
    <LineChart
      yLabel="Share who did it"
      title={title}
      xLabel={xLabel}
      format={percent}
      series={[
        {
          name: 'perfect',
          color: '#9aa5b1',
          dashed: true,
          points: [
            { x: 0, y: 0 },
            { x: top, y: top },
          ],
        },
        { name, color, points: bins.map((c) => ({ x: c.predicted, y: c.observed })) },
      ]}
      height={200}
    />
  );
}
