import { useEffect, useState } from 'react';
import type { Input, Satisfaction, SatisfactionPoints } from '../../satisfaction/satisfaction.ts';
import { api, words } from '../api.ts';
import { BarChart, LineChart, palette } from '../charts.tsx';
import { ForAnalysts } from '../plain.tsx';

/** The satisfaction model's inputs in words (every input named, so a new one cannot show as code). */
const measureWords: Record<Input | 'index', string> = {
  index: 'the satisfaction index',
  survey: 'survey answers',
  ticketsResolved: 'tickets resolved',
  ticketsFailed: 'tickets that ended badly',
  returns: 'returns',
  incidents: 'incidents',
  feeling: 'how they felt with an agent',
};

const share = (m: { customers: number; satisfied: number }) => (m.customers ? m.satisfied / m.customers : 0);
const percent = (v: number) => `${Math.round(v * 100)} %`;

/** The dashboard's "customers kept satisfied", and what the index is made of and how well it predicts. */
export function SatisfactionSection() {
  const [data, setData] = useState<Satisfaction | null>(null);
  useEffect(() => {
    api<Satisfaction>('/v1/satisfaction').then(setData, () => undefined);
  }, []);
  if (!data?.model || data.byMonth.length === 0) return null;
  const { model, byMonth } = data;
  const channels = [...new Set(byMonth.flatMap((m) => Object.keys(m.byChannel)))].sort();
  const x = (i: number) => i + 1;
  const latest = byMonth.at(-1)!;
  return (
    <section className="card">
      <h2>
        Customers kept satisfied: {percent(share(latest))}{' '}
        <small className="muted">
          of the {latest.customers} customers who had an experience with us since their last order ({latest.month})
        </small>
      </h2>
      <div className="grid2">
        <LineChart
          yLabel="Share kept satisfied"
          title={`Share with a satisfaction index of ${data.satisfiedFrom} or more, month by month (${byMonth[0].month} to ${latest.month})`}
          xLabel="month"
          format={percent}
          series={[
            { name: 'all', color: '#1f2933', points: byMonth.map((m, i) => ({ x: x(i), y: share(m) })) },
            ...channels.map((c, i) => ({
              name: words(c),
              color: palette[i % palette.length],
              dashed: true,
              points: byMonth.map((m, k) => ({ x: x(k), y: share(m.byChannel[c] ?? { customers: 0, satisfied: 0 }) })),
            })),
          ]}
        />
        <BarChart
          xAxis="How well it predicts (0.5 = chance)"
          yAxis="Measure"
          title="How well each tells who buys again (0.5 = a coin toss, 1 = always right)"
          format={(v) => v.toFixed(3)}
          bars={Object.entries(model.validation.auc)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => ({
              label: measureWords[k as keyof typeof measureWords] ?? words(k),
              value: v,
              color: k === 'index' ? '#27ae60' : undefined,
            }))}
        />
      </div>
      <div className="grid2">
        {latest.byStage && (
          <BarChart
            xAxis="Share kept satisfied"
            yAxis="Stage"
            title={`Kept satisfied in ${latest.month}, by lifecycle stage now`}
            format={percent}
            bars={Object.entries(latest.byStage)
              .sort()
              .map(([k, v]) => ({ label: `${words(k)} (${v.customers})`, value: share(v) }))}
          />
        )}
        {latest.byAgent && Object.keys(latest.byAgent).length > 0 && (
          <BarChart
            xAxis="Mean satisfaction index"
            yAxis="Agent"
            title={`Mean satisfaction index in ${latest.month}, by the agent on the customer's latest ticket`}
            format={(v) => v.toFixed(1)}
            bars={Object.entries(latest.byAgent)
              .sort((a, b) => b[1].customers - a[1].customers)
              .slice(0, 12)
              .map(([k, v]) => ({ label: `${k} (${v.customers})`, value: v.meanIndex ?? 0 }))}
          />
        )}
      </div>
      <p className="small">
        Each customer's index, 0 to 100, weighs what they told and what happened to them by how well each, in this
        store's past, told who bought again.
      </p>
      <ForAnalysts>
        <table className="list">
          <thead>
            <tr>
              <th>Input</th>
              <th className="num">Weight</th>
              <th className="num">AUC alone</th>
            </tr>
          </thead>
          <tbody>
            {(Object.entries(model.weights) as [Input, number][]).map(([k, w]) => (
              <tr key={k}>
                <td>{data.inputs[k] ?? k}</td>
                <td className="num">{w.toFixed(2)}</td>
                <td className="num">{model.validation.auc[k]?.toFixed(3)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="small muted">
          Index = 100 / (1 + e^−Σ weight × input): 50 with nothing to go by. Weights fitted on{' '}
          {model.validation.snapshots.toLocaleString()} monthly snapshots of{' '}
          {model.validation.customers.toLocaleString()} customers ({model.validation.from} to {model.validation.to}) to
          whether they bought again in the next 90 days; the index as a whole scores AUC{' '}
          {model.validation.auc.index?.toFixed(3)}.
        </p>
      </ForAnalysts>
    </section>
  );
}

/** One customer's index over the last twelve months. */
export function SatisfactionSparkline({ id }: { id: number }) {
  const [points, setPoints] = useState<SatisfactionPoints['points']>([]);
  useEffect(() => {
    api<SatisfactionPoints>(`/v1/customers/${id}/satisfaction`).then(
      (r) => setPoints(r.points),
      () => undefined,
    );
  }, [id]);
  const known = points
    .map((p, i) => ({ x: i + 1, y: p.index }))
    .filter((p): p is { x: number; y: number } => p.y !== null);
  if (known.length === 0) return null;
  const last = points.filter((p) => p.index !== null).at(-1)!;
  return (
    <section className="card">
      <LineChart
        yLabel="Satisfaction index"
        title={`Satisfaction index: ${Math.round(last.index!)} in ${last.month} (50 = nothing to go by; months ${points[0].month} to ${points.at(-1)!.month})`}
        xLabel="month"
        height={120}
        format={(v) => String(Math.round(v))}
        series={[{ name: 'index', color: '#27ae60', points: known }]}
      />
    </section>
  );
}
