// Small SVG charts: no chart library needed for bars.

export interface Bar {
  label: string;
  value: number;
  color?: string;
  onClick?: () => void;
  active?: boolean;
}

/** Horizontal bars with their labels and values: counts by category. */
export function BarChart({
  bars,
  title,
  format = (v) => v.toLocaleString(),
}: {
  bars: Bar[];
  title: string;
  format?: (v: number) => string;
}) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 26;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 400 ${bars.length * row}`} role="img" aria-label={title} width="100%" className="bars">
        {bars.map((bar, i) => (
          <g
            key={bar.label}
            transform={`translate(0 ${i * row})`}
            onClick={bar.onClick}
            className={bar.onClick ? 'clickable' : undefined}
          >
            <text x="0" y="17" className={bar.active ? 'label active' : 'label'}>
              {bar.label}
            </text>
            <rect
              x="110"
              y="4"
              height="18"
              rx="3"
              width={Math.max(1, (bar.value / max) * 230)}
              fill={bar.color ?? 'var(--accent)'}
            />
            <text x={116 + (bar.value / max) * 230} y="17" className="value">
              {format(bar.value)}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}

/** Columns over time (one per month): e.g. what a customer spent each month. */
export function ColumnChart({
  columns,
  title,
  format,
}: {
  columns: { label: string; value: number; marks?: string[] }[];
  title: string;
  format: (v: number) => string;
}) {
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
              {c.marks?.length ? (
                <circle cx={i * step + step / 2} cy={height - h - 7} r="4" fill="var(--warn)">
                  <title>{c.marks.join(', ')}</title>
                </circle>
              ) : null}
              {i % Math.ceil(columns.length / 12) === 0 && (
                <text x={i * step + step / 2} y={height + 16} textAnchor="middle" className="tick">
                  {c.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export const stageColors: Record<string, string> = {
  prospect: '#9aa5b1',
  trial: '#f0b429',
  customer: '#2f80ed',
  best: '#27ae60',
  at_risk: '#f2994a',
  lapsed: '#eb5757',
  won_back: '#9b51e0',
  suppressed: '#4f5b66',
};

export interface Series {
  name: string;
  color: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

/** Lines over a numeric x axis, with a legend and an optional vertical marker (e.g. the as-of date). */
export function LineChart({
  series,
  title,
  xLabel,
  yLabel,
  marker,
  format,
  height = 220,
}: {
  series: Series[];
  title: string;
  xLabel: string;
  yLabel?: string;
  marker?: { x: number; label: string };
  format?: (v: number) => string;
  height?: number;
}) {
  const width = 1000;
  const pad = { left: 60, right: 16, top: 10, bottom: 34 };
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return null;
  const xMin = Math.min(...all.map((p) => p.x));
  const xMax = Math.max(...all.map((p) => p.x), xMin + 1);
  // Below zero only when a value is (a lift can be negative).
  const yMin = Math.min(...all.map((p) => p.y), 0);
  const yMax = Math.max(...all.map((p) => p.y), 0) || (yMin < 0 ? 0 : 1);
  const span = yMax - yMin || 1;
  // Small scales keep a decimal, so the ticks do not read 0, 0, 1, 1.
  format ??= (v) => (span < 10 ? v.toFixed(1) : Math.round(v).toLocaleString());
  const sx = (x: number) => pad.left + ((x - xMin) / (xMax - xMin)) * (width - pad.left - pad.right);
  const sy = (y: number) => pad.top + (1 - (y - yMin) / span) * (height - pad.top - pad.bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => yMin + f * span);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="legend">
        {series.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.color }} />
            {s.name}
          </span>
        ))}
      </div>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} width="100%">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={pad.left} x2={width - pad.right} y1={sy(t)} y2={sy(t)} className="grid" />
            <text x={pad.left - 6} y={sy(t) + 4} textAnchor="end" className="tick">
              {format(t)}
            </text>
          </g>
        ))}
        {marker && (
          <g>
            <line x1={sx(marker.x)} x2={sx(marker.x)} y1={pad.top} y2={height - pad.bottom} className="marker" />
            <text x={sx(marker.x) + 4} y={pad.top + 12} className="tick">
              {marker.label}
            </text>
          </g>
        )}
        {series.map((s) => (
          <polyline
            key={s.name}
            fill="none"
            stroke={s.color}
            strokeWidth="2"
            strokeDasharray={s.dashed ? '6 4' : undefined}
            points={s.points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')}
          />
        ))}
        <text x={(width + pad.left) / 2} y={height - 4} textAnchor="middle" className="tick">
          {xLabel}
        </text>
        {yLabel && (
          <text x={12} y={pad.top + 10} className="tick">
            {yLabel}
          </text>
        )}
        <text x={pad.left} y={height - 18} className="tick">
          {xMin}
        </text>
        <text x={width - pad.right} y={height - 18} textAnchor="end" className="tick">
          {xMax}
        </text>
      </svg>
    </figure>
  );
}

export const palette = [
  '#2f80ed',
  '#eb5757',
  '#27ae60',
  '#f2994a',
  '#9b51e0',
  '#56ccf2',
  '#4f5b66',
  '#bb6bd9',
  '#219653',
  '#f2c94c',
  '#828282',
  '#6fcf97',
];
