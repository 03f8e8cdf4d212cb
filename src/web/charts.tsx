// Small SVG charts: no chart library needed for bars.

export interface Bar { label: string; value: number; color?: string; onClick?: () => void; active?: boolean }

/** Horizontal bars with their labels and values: counts by category. */
export function BarChart({ bars, title, format = (v) => v.toLocaleString() }: { bars: Bar[]; title: string; format?: (v: number) => string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 26;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 400 ${bars.length * row}`} role="img" aria-label={title} width="100%">
        {bars.map((bar, i) => (
          <g key={bar.label} transform={`translate(0 ${i * row})`} onClick={bar.onClick} className={bar.onClick ? 'clickable' : undefined}>
            <text x="0" y="17" className={bar.active ? 'label active' : 'label'}>{bar.label}</text>
            <rect x="110" y="4" height="18" rx="3" width={Math.max(1, (bar.value / max) * 230)} fill={bar.color ?? 'var(--accent)'} />
            <text x={116 + (bar.value / max) * 230} y="17" className="value">{format(bar.value)}</text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** Columns over time (one per month): e.g. what a customer spent each month. */
export function ColumnChart({ columns, title, format }: { columns: { label: string; value: number; marks?: string[] }[]; title: string; format: (v: number) => string }) {
  const max = Math.max(1, ...columns.map((c) => c.value));
  const width = 1000;
  const height = 150;
  const step = width / Math.max(1, columns.length);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-label={title} width="100%">
        <line x1="0" x2={width} y1={height} y2={height} className="axis" />
        {columns.map((c, i) => {
          const h = (c.value / max) * (height - 16);
          return (
            <g key={c.label}>
              <rect x={i * step + step * 0.15} y={height - h} width={step * 0.7} height={h} rx="2" fill="var(--accent)">
                <title>{`${c.label}: ${format(c.value)}${c.marks?.length ? ` · ${c.marks.join(', ')}` : ''}`}</title>
              </rect>
              {c.marks?.length ? <circle cx={i * step + step / 2} cy={height - h - 7} r="4" fill="var(--warn)"><title>{c.marks.join(', ')}</title></circle> : null}
              {(i % Math.ceil(columns.length / 12) === 0) && <text x={i * step + step / 2} y={height + 16} textAnchor="middle" className="tick">{c.label}</text>}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export const stageColors: Record<string, string> = {
  prospect: '#9aa5b1', trial: '#f0b429', customer: '#2f80ed', best: '#27ae60', at_risk: '#f2994a', lapsed: '#eb5757', won_back: '#9b51e0', suppressed: '#4f5b66',
};
