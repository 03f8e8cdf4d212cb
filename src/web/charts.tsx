// Charts on Apache ECharts (SVG renderer, so axis and legend text is in the DOM; aria descriptions on).
import { BarChart as EBarChart, CustomChart, LineChart as ELineChart } from 'echarts/charts';
import { AriaComponent, GridComponent, LegendComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { type ReactNode, useEffect, useRef } from 'react';

echarts.use([
  EBarChart,
  ELineChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  LegendComponent,
  MarkLineComponent,
  AriaComponent,
  SVGRenderer,
]);

type Option = echarts.EChartsCoreOption;
type ClickParams = { dataIndex: number; seriesIndex?: number };

/** Init on mount, setOption on change, resize with the box, dispose on unmount. */
function EChart({ option, height, onClick }: { option: Option; height: number; onClick?: (p: ClickParams) => void }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const click = useRef(onClick);
  click.current = onClick;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const c = echarts.init(el, undefined, { renderer: 'svg' });
    chart.current = c;
    c.on('click', (p) => click.current?.(p as unknown as ClickParams));
    const observer = new ResizeObserver(() => c.resize());
    observer.observe(el);
    return () => {
      observer.disconnect();
      c.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    // Tooltips stay inside the chart (a phone's width has no room beside it) and carry a class to find them by.
    const tooltip = option.tooltip && { ...(option.tooltip as object), confine: true, className: 'chart-tooltip' };
    chart.current?.setOption({ aria: { enabled: true }, animation: false, ...option, tooltip }, true);
  }, [option]);
  return <div ref={box} className="echart" style={{ height, width: '100%' }} />;
}

/** The frame every chart shares: a figure named by its title, carrying its axis titles. */
function Frame({
  title,
  xAxis,
  yAxis,
  empty,
  className,
  data,
  children,
}: {
  title: string;
  /** The title of the value axis (what is counted or measured). */
  xAxis: string;
  /** The title of the other axis. */
  yAxis: string;
  empty?: string | false;
  className?: string;
  /** The figures drawn, as a table for screen readers (and for reading them without hovering). */
  data: { head: string[]; rows: (string | number)[][] };
  children: ReactNode;
}) {
  const axes = xAxis || yAxis ? { 'data-x-axis': xAxis, 'data-y-axis': yAxis } : { 'data-axes': 'none' };
  return (
    <figure className={className ? `chart ${className}` : 'chart'} aria-label={title} {...axes}>
      <figcaption>{title}</figcaption>
      {empty ? <p className="chart-empty">{empty}</p> : children}
      {!empty && (
        <table className="chart-data sr-only">
          <caption>{title}</caption>
          <thead>
            <tr>
              {data.head.map((h) => (
                <th key={h}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.rows.map((r, i) => (
              <tr key={i}>
                {r.map((cell, j) => (
                  <td key={j}>{typeof cell === 'number' ? cell.toLocaleString() : cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}

const ink = '#3e4c59';
const muted = '#7b8794';
const axisName = (name: string, vertical = false) => ({
  name,
  nameLocation: 'middle' as const,
  nameGap: vertical ? 48 : 28,
  nameTextStyle: { color: muted },
  axisLabel: { color: muted, hideOverlap: true },
});
const grid = { left: 12, right: 24, top: 28, bottom: 12, containLabel: true };
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** Whether every value is a whole number: counts get whole-number ticks. */
const counts = (values: number[]) => values.every((v) => Number.isInteger(v));

/** At most `max` series: the largest by total (max − 1 of them) and the rest summed as "Other". */
export function topSeries(series: Series[], max = 6): Series[] {
  if (series.length <= max) return series;
  const total = (s: Series) => s.points.reduce((a, p) => a + p.y, 0);
  const sorted = [...series].sort((a, b) => total(b) - total(a));
  const kept = sorted.slice(0, max - 1);
  const sums = new Map<number, number>();
  for (const s of sorted.slice(max - 1)) for (const p of s.points) sums.set(p.x, (sums.get(p.x) ?? 0) + p.y);
  const other = [...sums].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y }));
  return [...kept, { name: 'Other', color: '#828282', points: other }];
}

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
  xAxis,
  yAxis,
  empty = 'Nothing to show yet.',
}: {
  bars: Bar[];
  title: string;
  format?: (v: number) => string;
  /** Room for the labels in pixels: longer labels are cut, with the full text in the tooltip. */
  labelWidth?: number;
  /** The title of the value axis (what is counted or measured). */
  xAxis: string;
  /** The title of the other axis. */
  yAxis: string;
  empty?: string;
}) {
  const option: Option = {
    grid: { ...grid, top: 8, bottom: 32 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataIndex: number }) =>
        `${escape(bars[p.dataIndex].label)}: <b>${escape(format(bars[p.dataIndex].value))}</b>`,
    },
    xAxis: {
      type: 'value',
      ...axisName(xAxis),
      minInterval: counts(bars.map((b) => b.value)) ? 1 : undefined,
      axisLabel: { color: muted, hideOverlap: true, formatter: (v: number) => format(v) },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: bars.map((b) => b.label),
      name: yAxis,
      nameLocation: 'start',
      nameTextStyle: { color: muted },
      axisLabel: {
        color: ink,
        width: Math.max(80, Math.min(240, labelWidth)),
        overflow: 'truncate',
        formatter: (v: string) => truncate(v, 40),
      },
      triggerEvent: true,
    },
    series: [
      {
        type: 'bar',
        name: xAxis,
        barMaxWidth: 18,
        data: bars.map((b) => ({
          value: b.value,
          itemStyle: {
            color: b.color ?? '#2f80ed',
            borderRadius: 3,
            opacity: bars.some((x) => x.active) && !b.active ? 0.6 : 1,
          },
        })),
        label: { show: true, position: 'right', color: ink, formatter: (p: { value: number }) => format(p.value) },
        cursor: bars.some((b) => b.onClick) ? 'pointer' : 'default',
      },
    ],
  };
  return (
    <Frame
      title={title}
      xAxis={xAxis}
      yAxis={yAxis}
      empty={bars.length === 0 && empty}
      data={{ head: [yAxis, xAxis], rows: bars.map((b) => [b.label, format(b.value)]) }}
    >
      <EChart option={option} height={bars.length * 28 + 48} onClick={(p) => bars[p.dataIndex]?.onClick?.()} />
    </Frame>
  );
}

/** Columns over time (one per month): e.g. what a customer spent each month. */
export function ColumnChart({
  columns,
  title,
  format,
  xAxis,
  yAxis,
  empty = 'Nothing to show yet.',
}: {
  columns: { label: string; value: number; marks?: string[] }[];
  title: string;
  format: (v: number) => string;
  /** The title of the value axis (what is counted or measured). */
  xAxis: string;
  /** The title of the other axis. */
  yAxis: string;
  empty?: string;
}) {
  const option: Option = {
    grid: { ...grid, bottom: 28 },
    tooltip: {
      trigger: 'axis',
      formatter: (ps: { dataIndex: number }[]) => {
        const c = columns[ps[0].dataIndex];
        return `${escape(c.label)}: <b>${escape(format(c.value))}</b>${c.marks?.length ? `<br>${escape(c.marks.join(', '))}` : ''}`;
      },
    },
    xAxis: { type: 'category', data: columns.map((c) => c.label), ...axisName(xAxis) },
    yAxis: {
      type: 'value',
      ...axisName(yAxis, true),
      minInterval: counts(columns.map((c) => c.value)) ? 1 : undefined,
      axisLabel: { color: muted, formatter: (v: number) => format(v) },
    },
    series: [
      {
        type: 'bar',
        name: yAxis,
        barMaxWidth: 40,
        itemStyle: { color: '#2f80ed', borderRadius: 2 },
        data: columns.map((c) => ({
          value: c.value,
          itemStyle: c.marks?.length ? { color: '#2f80ed', borderColor: '#f2994a', borderWidth: 2 } : undefined,
        })),
      },
    ],
  };
  return (
    <Frame
      title={title}
      xAxis={xAxis}
      yAxis={yAxis}
      empty={columns.length === 0 && empty}
      data={{
        head: [xAxis, yAxis, 'Marked'],
        rows: columns.map((c) => [c.label, format(c.value), c.marks?.join(', ') ?? '']),
      }}
    >
      <EChart option={option} height={200} />
    </Frame>
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

/**
 * Lines with a legend that toggles series and an optional vertical marker (e.g. the as-of date). With
 * `time`, x is a date in milliseconds and the axis shows dates.
 */
export function LineChart({
  series,
  title,
  xLabel,
  yLabel,
  marker,
  format,
  height = 220,
  time = false,
  empty = 'Nothing to show yet.',
}: {
  series: Series[];
  title: string;
  xLabel: string;
  yLabel: string;
  marker?: { x: number; label: string };
  format?: (v: number) => string;
  height?: number;
  time?: boolean;
  empty?: string;
}) {
  const shown = topSeries(series);
  const all = shown.flatMap((s) => s.points);
  const ys = all.map((p) => p.y);
  const span = Math.max(0, ...ys) - Math.min(0, ...ys);
  const whole = counts(ys);
  const fmt = format ?? ((v: number) => (whole || span >= 10 ? Math.round(v).toLocaleString() : v.toFixed(1)));
  const fmtX = (x: number) => (time ? new Date(x).toLocaleDateString(undefined, { dateStyle: 'medium' }) : String(x));
  const option: Option = {
    color: shown.map((s) => s.color),
    grid: { ...grid, top: 40, bottom: 28 },
    legend: { top: 0, type: 'scroll', textStyle: { color: ink } },
    tooltip: {
      trigger: 'axis',
      valueFormatter: (v: number) => fmt(v),
      axisPointer: { label: { formatter: (p: { value: number }) => fmtX(p.value) } },
    },
    xAxis: {
      type: time ? 'time' : 'value',
      min: 'dataMin',
      max: 'dataMax',
      ...axisName(xLabel),
      axisLabel: { color: muted, hideOverlap: true, ...(time ? {} : { formatter: (v: number) => String(v) }) },
    },
    yAxis: {
      type: 'value',
      ...axisName(yLabel, true),
      minInterval: whole ? 1 : undefined,
      axisLabel: { color: muted, formatter: (v: number) => fmt(v) },
    },
    series: shown.map((s, i) => ({
      type: 'line',
      name: s.name,
      showSymbol: s.points.length <= 40,
      symbolSize: 5,
      lineStyle: { width: 2, type: s.dashed ? 'dashed' : 'solid' },
      data: s.points.map((p) => [p.x, p.y]),
      ...(marker && i === 0
        ? {
            markLine: {
              silent: true,
              symbol: 'none',
              lineStyle: { color: muted, type: 'dashed' },
              label: { position: 'insideEndTop', formatter: marker.label, color: ink },
              data: [{ xAxis: marker.x }],
            },
          }
        : {}),
    })),
  };
  return (
    <Frame
      title={title}
      xAxis={xLabel}
      yAxis={yLabel}
      empty={all.length === 0 && empty}
      data={{
        head: ['Series', xLabel, yLabel],
        rows: shown.flatMap((s) => s.points.map((p) => [s.name, fmtX(p.x), fmt(p.y)])),
      }}
    >
      <EChart option={option} height={height + 20} />
    </Frame>
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

/** A dot (or square) with its interval as a custom series; `horizontal` puts categories on y. */
function intervalSeries(
  rows: Estimate[],
  horizontal: boolean,
  clamp: (v: number) => number,
  color: (r: Estimate) => string,
) {
  return {
    type: 'custom',
    name: 'Estimate',
    data: rows.map((r, i) =>
      horizontal ? [clamp(r.value), i, clamp(r.low), clamp(r.high)] : [i, r.value, r.low, r.high],
    ),
    encode: horizontal ? { x: [0, 2, 3], y: 1 } : { x: 0, y: [1, 2, 3] },
    renderItem: (
      params: { dataIndex: number },
      api: { value: (i: number) => number; coord: (v: number[]) => number[] },
    ) => {
      const r = rows[params.dataIndex];
      const at = (v: number) => (horizontal ? api.coord([v, api.value(1)]) : api.coord([api.value(0), v]));
      const [a, b, p] = horizontal
        ? [at(api.value(2)), at(api.value(3)), at(api.value(0))]
        : [at(api.value(2)), at(api.value(3)), at(api.value(1))];
      return {
        type: 'group',
        children: [
          {
            type: 'line',
            shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] },
            style: { stroke: '#52606d', lineWidth: 1.5 },
          },
          horizontal
            ? { type: 'rect', shape: { x: p[0] - 5, y: p[1] - 5, width: 10, height: 10 }, style: { fill: color(r) } }
            : { type: 'circle', shape: { cx: p[0], cy: p[1], r: 4 }, style: { fill: color(r) } },
        ],
      };
    },
  };
}

/**
 * Ratios with their intervals on a log axis and a line at 1 (a forest plot): hazard ratios. What
 * lies outside `limits` is drawn at the edge, so one wild interval cannot flatten the rest.
 */
export function ForestPlot({
  rows,
  title,
  limits = [0.1, 10],
  xAxis = 'Hazard ratio (← lower risk · higher risk →)',
  yAxis = 'Group',
  empty = 'Nothing to show yet.',
}: {
  rows: Estimate[];
  title: string;
  limits?: [number, number];
  xAxis?: string;
  yAxis?: string;
  empty?: string;
}) {
  const finite = rows.flatMap((r) => [r.value, r.low, r.high]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.max(limits[0], Math.min(0.5, ...finite));
  const hi = Math.min(limits[1], Math.max(2, ...finite));
  const clamp = (v: number) => Math.min(hi, Math.max(lo, Number.isFinite(v) && v > 0 ? v : v > 0 ? hi : lo));
  const p3 = (v: number) => (Number.isFinite(v) ? v.toPrecision(3) : '∞');
  const option: Option = {
    grid: { ...grid, top: 8, bottom: 32 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataIndex: number }) => {
        const r = rows[p.dataIndex];
        return `${escape(r.label)}: <b>${p3(r.value)}</b> (${p3(r.low)} to ${p3(r.high)})`;
      },
    },
    xAxis: { type: 'log', min: lo, max: hi, logBase: 10, ...axisName(xAxis) },
    yAxis: {
      type: 'category',
      inverse: true,
      data: rows.map((r) => r.label),
      axisLabel: { color: ink, width: 260, overflow: 'truncate' },
      name: yAxis,
      nameLocation: 'start',
      nameTextStyle: { color: muted },
    },
    series: [
      {
        ...intervalSeries(rows, true, clamp, (r) => (r.value >= 1 ? '#d64545' : '#279e5b')),
        markLine: {
          silent: true,
          symbol: 'none',
          label: { show: false },
          lineStyle: { color: ink, type: 'solid' },
          data: [{ xAxis: 1 }],
        },
      },
    ],
  };
  return (
    <Frame
      title={title}
      xAxis={xAxis}
      yAxis={yAxis}
      empty={rows.length === 0 && empty}
      data={{
        head: [yAxis, xAxis, '95 % interval'],
        rows: rows.map((r) => [r.label, r.value.toPrecision(3), `${r.low.toPrecision(3)} to ${r.high.toPrecision(3)}`]),
      }}
    >
      <EChart option={option} height={rows.length * 28 + 56} />
    </Frame>
  );
}

/** Columns over time split into coloured parts (counts by cause each month), with a legend. */
export function StackedColumnChart({
  columns,
  colors,
  title,
  xAxis,
  yAxis,
  empty = 'Nothing to show yet.',
}: {
  columns: { label: string; parts: Record<string, number> }[];
  colors: Record<string, string>;
  title: string;
  xAxis: string;
  yAxis: string;
  empty?: string;
}) {
  const names = [...new Set([...Object.keys(colors), ...columns.flatMap((c) => Object.keys(c.parts))])];
  const option: Option = {
    grid: { ...grid, top: 40, bottom: 28 },
    legend: { top: 0, type: 'scroll', textStyle: { color: ink } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: { type: 'category', data: columns.map((c) => c.label), ...axisName(xAxis) },
    yAxis: {
      type: 'value',
      ...axisName(yAxis, true),
      minInterval: counts(columns.flatMap((c) => Object.values(c.parts))) ? 1 : undefined,
    },
    series: names.map((name) => ({
      type: 'bar',
      name,
      stack: 'total',
      barMaxWidth: 60,
      itemStyle: { color: colors[name] ?? '#828282' },
      data: columns.map((c) => c.parts[name] ?? 0),
    })),
  };
  return (
    <Frame
      title={title}
      xAxis={xAxis}
      yAxis={yAxis}
      empty={columns.length === 0 && empty}
      data={{
        head: [xAxis, 'Part', yAxis],
        rows: columns.flatMap((c) => Object.entries(c.parts).map(([part, n]) => [c.label, part, n])),
      }}
    >
      <EChart option={option} height={230} />
    </Frame>
  );
}

/** Estimates side by side, each a dot with its interval, against a line at zero: a difference across analyses. */
export function IntervalChart({
  points,
  title,
  format,
  height = 120,
  xAxis,
  yAxis,
  empty = 'Nothing to show yet.',
}: {
  points: Estimate[];
  title: string;
  format: (v: number) => string;
  height?: number;
  xAxis: string;
  yAxis: string;
  empty?: string;
}) {
  const option: Option = {
    grid: { ...grid, top: 12, bottom: 28 },
    tooltip: {
      trigger: 'item',
      formatter: (p: { dataIndex: number }) => {
        const r = points[p.dataIndex];
        return `${escape(r.label)}: <b>${escape(format(r.value))}</b> (${escape(format(r.low))} to ${escape(format(r.high))})`;
      },
    },
    xAxis: {
      type: 'category',
      data: points.map((p) => p.label),
      ...axisName(xAxis),
      axisLabel: { color: muted, hideOverlap: true, width: 90, overflow: 'truncate' },
    },
    yAxis: {
      type: 'value',
      ...axisName(yAxis, true),
      axisLabel: { color: muted, formatter: (v: number) => format(v) },
    },
    series: [
      {
        ...intervalSeries(
          points,
          false,
          (v) => v,
          () => '#2f80ed',
        ),
        markLine: {
          silent: true,
          symbol: 'none',
          label: { show: false },
          lineStyle: { color: ink, type: 'solid' },
          data: [{ yAxis: 0 }],
        },
      },
    ],
  };
  return (
    <Frame
      title={title}
      xAxis={xAxis}
      yAxis={yAxis}
      className="small-chart"
      empty={points.length === 0 && empty}
      data={{
        head: [xAxis, yAxis, '95 % interval'],
        rows: points.map((p) => [p.label, format(p.value), `${format(p.low)} to ${format(p.high)}`]),
      }}
    >
      <EChart option={option} height={height + 60} />
    </Frame>
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
