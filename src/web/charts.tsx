// Small SVG charts: no chart library needed for bars.
import type { ReactNode } from 'react';

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
  labelWidth = 110,
}: {
  bars: Bar[];
  title: string;
  format?: (v: number) => string;
  /** Room for the labels, of a bar area 290 wide: wider for long labels. */
  labelWidth?: number;
}) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 26;
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg
        viewBox={`0 0 ${labelWidth + 290} ${bars.length * row}`}
        role="img"
        aria-label={title}
        width="100%"
        className="bars"
        style={labelWidth > 110 ? { maxWidth: (labelWidth + 290) * 1.4 } : undefined}
      >
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
              x={labelWidth}
              y="4"
              height="18"
              rx="3"
              width={Math.max(1, (bar.value / max) * 230)}
              fill={bar.color ?? 'var(--accent)'}
            />
            <text x={labelWidth + 6 + (bar.value / max) * 230} y="17" className="value">
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

/**
 * A difference of rates as a colour: red below zero, green above, white at none, full strength at
 * `scale` (30 points); grey when there is nothing to compare with.
 */
export function divergingColor(difference: number | null, scale = 0.3): string {
  if (difference === null || !Number.isFinite(difference)) return '#eef2f7';
  const t = Math.min(1, Math.abs(difference) / scale);
  const [r, g, b] = difference < 0 ? [214, 69, 69] : [39, 158, 91];
  const mix = (c: number) => Math.round(250 + (c - 250) * t);
  return `rgb(${mix(r)}, ${mix(g)}, ${mix(b)})`;
}

/** Ink that reads on divergingColor: white on the strongest colours. */
export const divergingInk = (difference: number | null, scale = 0.3) =>
  difference !== null && Number.isFinite(difference) && Math.abs(difference) / scale > 0.6 ? '#fff' : 'var(--ink)';

/** The key to divergingColor: from fewer (red) through no difference to more (green). */
export function DivergingLegend({ scale = 0.3, what }: { scale?: number; what: string }) {
  const steps = [-1, -0.5, 0, 0.5, 1].map((f) => f * scale);
  return (
    <div className="diverging-legend">
      <span>Colour: {what}</span>
      {steps.map((d) => (
        <span key={d}>
          <i style={{ background: divergingColor(d, scale) }} />
          {d === 0
            ? 'no difference'
            : `${d > 0 ? '+' : '−'}${Math.round(Math.abs(d) * 100)} points${Math.abs(d) === scale ? ' or more' : ''}`}
        </span>
      ))}
      <span>
        <i style={{ background: divergingColor(null) }} />
        nothing to compare with
      </span>
      <span>
        <i className="hatched" />
        fewer than 30: read with care
      </span>
    </div>
  );
}

export interface Estimate {
  label: string;
  value: number;
  low: number;
  high: number;
}

/**
 * Ratios with their intervals on a log axis and a line at 1 (a forest plot): hazard ratios. What
 * lies outside `limits` is drawn at the edge with an arrow, so one wild interval cannot flatten the rest.
 */
export function ForestPlot({
  rows,
  title,
  limits = [0.1, 10],
}: {
  rows: Estimate[];
  title: string;
  limits?: [number, number];
}) {
  const finite = rows.flatMap((r) => [r.value, r.low, r.high]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.max(limits[0], Math.min(0.5, ...finite));
  const hi = Math.min(limits[1], Math.max(2, ...finite));
  const width = 1000;
  const left = 380;
  const right = 24;
  const row = 28;
  const height = rows.length * row + 34;
  const sx = (v: number) =>
    left + ((Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))) * (width - left - right);
  const clamp = (v: number) => Math.min(hi, Math.max(lo, Number.isFinite(v) && v > 0 ? v : v > 0 ? hi : lo));
  const ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100].filter((t) => t >= lo * 0.999 && t <= hi * 1.001);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} width="100%" className="forest">
        {ticks.map((t) => (
          <g key={t}>
            <line x1={sx(t)} x2={sx(t)} y1={0} y2={height - 30} className={t === 1 ? 'reference' : 'grid'} />
            <text x={sx(t)} y={height - 14} textAnchor="middle" className="tick">
              {t}
            </text>
          </g>
        ))}
        <text x={sx(1)} y={height - 1} textAnchor="middle" className="tick">
          ← lower risk · higher risk →
        </text>
        {rows.map((r, i) => {
          const y = i * row + row / 2;
          const [a, b, v] = [clamp(r.low), clamp(r.high), clamp(r.value)];
          return (
            <g key={r.label}>
              <text x={0} y={y + 4} className="label">
                {r.label.length > 58 ? `${r.label.slice(0, 57)}…` : r.label}
                <title>{r.label}</title>
              </text>
              <line x1={sx(a)} x2={sx(b)} y1={y} y2={y} className="whisker" />
              {r.low < lo && <path d={`M${sx(lo)} ${y} l8 -5 v10 z`} className="whisker-end" />}
              {!(r.high <= hi) && <path d={`M${sx(hi)} ${y} l-8 -5 v10 z`} className="whisker-end" />}
              <rect x={sx(v) - 5} y={y - 5} width={10} height={10} className={r.value >= 1 ? 'point up' : 'point down'}>
                <title>{`${r.label}: ${r.value.toPrecision(3)} (${r.low.toPrecision(3)} to ${r.high.toPrecision(3)})`}</title>
              </rect>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** Columns over time split into coloured parts (counts by cause each month), with a legend. */
export function StackedColumnChart({
  columns,
  colors,
  title,
}: {
  columns: { label: string; parts: Record<string, number> }[];
  colors: Record<string, string>;
  title: string;
}) {
  const totals = columns.map((c) => Object.values(c.parts).reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const width = 1000;
  const height = 170;
  const step = width / Math.max(1, columns.length);
  const bar = Math.min(step * 0.7, 80);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="legend">
        {Object.entries(colors).map(([name, color]) => (
          <span key={name}>
            <i style={{ background: color }} />
            {name}
          </span>
        ))}
      </div>
      <svg viewBox={`0 0 ${width} ${height + 24}`} role="img" aria-label={title} width="100%">
        <line x1="0" x2={width} y1={height} y2={height} className="axis" />
        {columns.map((c, i) => {
          let top = height;
          const x = i * step + (step - bar) / 2;
          return (
            <g key={c.label}>
              {Object.entries(c.parts).map(([name, value]) => {
                const h = (value / max) * (height - 18);
                top -= h;
                return (
                  <rect key={name} x={x} y={top} width={bar} height={h} fill={colors[name] ?? '#828282'}>
                    <title>{`${c.label}: ${name}, ${value.toLocaleString()}`}</title>
                  </rect>
                );
              })}
              <text x={x + bar / 2} y={top - 4} textAnchor="middle" className="value">
                {totals[i].toLocaleString()}
              </text>
              {i % Math.ceil(columns.length / 12) === 0 && (
                <text x={x + bar / 2} y={height + 16} textAnchor="middle" className="tick">
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

/** Estimates side by side, each a dot with its interval, against a line at zero: a difference across analyses. */
export function IntervalChart({
  points,
  title,
  format,
  height = 120,
}: {
  points: Estimate[];
  title: string;
  format: (v: number) => string;
  height?: number;
}) {
  const width = 420;
  const pad = { left: 52, right: 10, top: 8, bottom: 22 };
  const values = points.flatMap((p) => [p.low, p.high, p.value]).filter(Number.isFinite);
  const yMin = Math.min(0, ...values);
  const yMax = Math.max(0, ...values);
  const span = yMax - yMin || 1;
  const sy = (v: number) => pad.top + (1 - (v - yMin) / span) * (height - pad.top - pad.bottom);
  const step = (width - pad.left - pad.right) / Math.max(1, points.length);
  return (
    <figure className="chart small-chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} width="100%">
        {[yMin, 0, yMax]
          .filter((t, i, all) => all.indexOf(t) === i)
          .map((t) => (
            <g key={t}>
              <line
                x1={pad.left}
                x2={width - pad.right}
                y1={sy(t)}
                y2={sy(t)}
                className={t === 0 ? 'reference' : 'grid'}
              />
              <text x={pad.left - 6} y={sy(t) + 4} textAnchor="end" className="tick">
                {format(t)}
              </text>
            </g>
          ))}
        {points.map((p, i) => {
          const x = pad.left + step * (i + 0.5);
          return (
            <g key={`${p.label}${i}`}>
              <line x1={x} x2={x} y1={sy(p.low)} y2={sy(p.high)} className="whisker" />
              <circle cx={x} cy={sy(p.value)} r="4" className="point">
                <title>{`${p.label}: ${format(p.value)} (${format(p.low)} to ${format(p.high)})`}</title>
              </circle>
              {(points.length <= 8 || i % Math.ceil(points.length / 8) === 0) && (
                <text x={x} y={height - 6} textAnchor="middle" className="tick">
                  {p.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** The "what is this?" under a figure: folded away until asked for. */
export function WhatIsThis({ children }: { children: ReactNode }) {
  return (
    <details className="what">
      <summary>What is this?</summary>
      <div>{children}</div>
    </details>
  );
}
