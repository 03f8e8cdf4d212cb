// Why customers leave: what each type of customer did after each experience (a heat map with a
// drill-down to the customers behind a cell), the drivers of leaving, and where the worklist's
// uplift comes from. Every figure comes from the latest analysis.
import { useEffect, useState } from 'react';
import type { z } from '@hono/zod-openapi';
import type {
  experienceCatalogueSchema,
  outcomeCustomersSchema,
  outcomesReportSchema,
} from '../../analytics/retention.ts';
import { api, ApiError, formatDate, percent, points, problemText, words } from '../api.ts';
import { BarChart, DivergingLegend, divergingColor, divergingInk, WhatIsThis } from '../charts.tsx';
import { Link } from '../router.tsx';
import { LeavingSection } from './leaving-section.tsx';
import { UpliftSection } from './uplift-section.tsx';
import { useCan } from '../session.tsx';
import { useMoney } from '../plain.tsx';

type Outcomes = z.infer<typeof outcomesReportSchema>;
type Cell = Outcomes['cells'][number];
type CellCustomers = z.infer<typeof outcomeCustomersSchema>['customers'];
type Catalogue = z.infer<typeof experienceCatalogueSchema>['kinds'];

const whole = (v: number) => Math.round(v).toLocaleString();
const stageOrder = ['*', 'prospect', 'trial', 'customer'];
const bandOrder = ['*', 'none', 'low', 'mid', 'high'];
const stageWords: Record<string, string> = {
  '*': 'Any customer',
  prospect: 'Prospect (no order yet)',
  trial: 'Trial (one order)',
  customer: 'Repeat customer',
};
const occurrences = { all: 'every time', first: 'the first time', repeated: 'again (not the first time)' };
const followUps = { all: 'followed up or not', yes: 'followed up', no: 'not followed up' };
/** Roles that open customer records (the others see the list without links). */

/** A value band in words, with the spend that bounds it. */
function bandWords(band: string, cuts: [number, number]): string {
  if (band === '*') return 'any value';
  if (band === 'none') return 'no spend yet';
  if (band === 'low') return `low value (spent under ${whole(cuts[0])})`;
  if (band === 'mid') return `mid value (${whole(cuts[0])} to ${whole(cuts[1])})`;
  if (band === 'high') return `high value (${whole(cuts[1])} or more)`;
  return words(band);
}

/** What the next 180 days came to, in words: the result bands of the outcome tables. */
function resultBands(cell: { bands: Record<string, { count: number; share: number }> }, cuts: [number, number]) {
  const names: [string, string][] = [
    ['none', 'nothing (lapsed)'],
    ['low', `under ${whole(cuts[0])}`],
    ['mid', `${whole(cuts[0])} to ${whole(cuts[1])}`],
    ['high', `${whole(cuts[1])} or more`],
  ];
  return names.map(([band, label]) => ({
    label: `${label} (${cell.bands[band]?.count ?? 0})`,
    value: cell.bands[band]?.share ?? 0,
  }));
}

const interval = (low: number, high: number) => `${percent(low)} to ${percent(high)}`;
const gap = (low: number, high: number) => `between ${points(low)} and ${points(high)} points`;

/** One cell in plain words, its spend bands, followed up against not, and the customers behind it. */
function CellDetail({
  cell,
  report,
  kindLabel,
  canOpen,
  onClose,
}: {
  cell: Cell;
  report: Outcomes;
  kindLabel: string;
  canOpen: boolean;
  onClose: () => void;
}) {
  const money = useMoney();
  const [customers, setCustomers] = useState<CellCustomers | null>(null);
  const [more, setMore] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const pageSize = 25;
  const load = (offset: number) =>
    api<{ customers: CellCustomers }>(
      `/v1/analytics/outcomes/customers?${new URLSearchParams({ cell: cell.key, limit: String(pageSize), offset: String(offset), ...(report.segment ? { segment: String(report.segment.id) } : {}) })}`,
    ).then(
      (r) => {
        setCustomers((list) => [...(offset ? (list ?? []) : []), ...r.customers]);
        setMore(r.customers.length === pageSize);
      },
      (e) => setProblem(problemText(e)),
    );
  useEffect(() => {
    setCustomers(null);
    void load(0);
  }, [cell.key]);
  const { days, valueDays, followUpDays, minCell } = report.options;
  const cuts = report.valueCuts;
  const type = `${stageWords[cell.stage] ?? words(cell.stage)}, ${bandWords(cell.valueBand, cuts.prior)}${
    cell.channel === '*'
      ? ''
      : `, acquired through ${cell.channel === 'unknown' ? 'an unrecorded channel' : words(cell.channel)}`
  }`;
  const what = `${kindLabel.toLowerCase()}${cell.occurrence === 'all' ? '' : ` (${occurrences[cell.occurrence]})`}${
    cell.followedUp === 'all' ? '' : `, ${followUps[cell.followedUp]} within ${followUpDays} days`
  }`;
  const d = cell.difference;
  const known = Number.isFinite(d.difference);
  const certain = known && (d.low > 0 || d.high < 0);
  const f = cell.followUpEffect;
  return (
    <section className="card drill" aria-label="The cell in detail">
      <div className="drill-head">
        <h2>
          {type} + {what}
        </h2>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {cell.small && (
        <p className="warn">
          Only {cell.n} customers: fewer than {minCell}, so the figures can move a lot by chance. Read with care.
        </p>
      )}
      <p>
        It happened <b>{cell.n.toLocaleString()}</b> times to a customer of this type. <b>{percent(cell.rate)}</b> of
        them bought again within {days} days ({cell.boughtAgain.toLocaleString()} customers; 95 % interval{' '}
        {interval(cell.low, cell.high)}).
      </p>
      {cell.baseline ? (
        <p>
          Of the same type right after an order without it nearby, <b>{percent(cell.baseline.rate)}</b> bought again (n
          = {cell.baseline.n.toLocaleString()}, {interval(cell.baseline.low, cell.baseline.high)}).{' '}
          {known ? (
            <>
              That is <b>{points(d.difference)} points</b> ({gap(d.low, d.high)} with 95 % confidence)
              {certain
                ? d.difference < 0
                  ? ': clearly fewer came back.'
                  : ': clearly more came back.'
                : ': the interval includes no difference, so this could be chance.'}
            </>
          ) : null}
        </p>
      ) : (
        <p className="muted">
          Nothing to compare with: this type has no orders without it nearby (a prospect has no orders at all).
        </p>
      )}
      <div className="grid2">
        <div>
          <BarChart
            xAxis="Customers"
            yAxis="Spent in the period"
            title={`What they spent in the next ${valueDays} days`}
            format={(v) => percent(v)}
            labelWidth={170}
            bars={resultBands(cell, cuts.future)}
          />
          {cell.baseline && (
            <BarChart
              xAxis="Customers"
              yAxis="Spent in the period"
              title={`The same type without it, next ${valueDays} days`}
              format={(v) => percent(v)}
              labelWidth={170}
              bars={resultBands(cell.baseline, cuts.future)}
            />
          )}
          <WhatIsThis>
            Every order they placed in the {valueDays} days after the experience, added up and put in one of four bands:
            nothing at all (they lapsed), or low, mid or high by thirds of what customers spent after any experience or
            order. The number in brackets is how many customers; the bar is their share.
          </WhatIsThis>
        </div>
        <div>
          {f ? (
            <>
              <BarChart
                xAxis="Share who bought again"
                yAxis="Followed up"
                title={`Bought again within ${days} days: followed up within ${followUpDays} days or not`}
                format={(v) => percent(v)}
                bars={[
                  { label: `followed up (${f.yes.n})`, value: f.yes.rate, color: '#27ae60' },
                  { label: `not (${f.no.n})`, value: f.no.rate, color: '#eb5757' },
                ]}
              />
              <p>
                Followed up within {followUpDays} days: {percent(f.yes.rate)} bought again (
                {interval(f.yes.low, f.yes.high)}); not followed up: {percent(f.no.rate)} (
                {interval(f.no.low, f.no.high)}). Following up went with <b>{points(f.difference)} points</b> (
                {gap(f.low, f.high)}).
              </p>
              <WhatIsThis>
                Someone on our side reached out (a call, an apology, a note, a worklist decision, a task done) within{' '}
                {followUpDays} days of the experience, or nobody did. This is observed, not a random test: the customers
                we followed up may differ in other ways too.
              </WhatIsThis>
            </>
          ) : (
            <p className="muted">
              No follow-up comparison here:{' '}
              {cell.valence === 'gesture'
                ? 'a gift or an offer is not something to follow up.'
                : cell.followedUp !== 'all'
                  ? 'this cell holds only one side (choose "followed up or not" to compare).'
                  : 'it needs some customers followed up and some not.'}
            </p>
          )}
        </div>
      </div>
      <h3>The customers behind it</h3>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {customers === null && !problem && <p className="muted">Loading…</p>}
      {customers?.length === 0 && <p className="muted">No customers stored for this cell.</p>}
      {customers && customers.length > 0 && (
        <table className="list cell-customers">
          <thead>
            <tr>
              <th>Customer</th>
              <th>Experience on</th>
              <th>Bought again within {days} days</th>
              <th className="num">Spent in the next {valueDays} days</th>
              <th>Stage now</th>
            </tr>
          </thead>
          <tbody>
            {customers.map((c, i) => {
              const who = c.name ?? c.externalId ?? `Customer #${c.customerId}`;
              return (
                <tr key={`${c.customerId}-${c.at}-${i}`}>
                  <td>
                    {canOpen ? <Link to={`/customers/${c.customerId}`}>{who}</Link> : who}
                    {c.name && c.externalId ? <span className="muted"> {c.externalId}</span> : null}
                  </td>
                  <td>{formatDate(c.at)}</td>
                  <td className={c.boughtAgain ? 'good' : 'bad'}>{c.boughtAgain ? 'yes' : 'no'}</td>
                  <td className="num">{money(c.value)}</td>
                  <td>{words(c.stage)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {more && (
        <button type="button" onClick={() => load(customers?.length ?? 0)}>
          Show more
        </button>
      )}
    </section>
  );
}

/** The outcome tables as a heat map: customer types down, experiences across, coloured by the difference. */
function OutcomeHeatMap() {
  const can = useCan();
  const [report, setReport] = useState<Outcomes | null>(null);
  const [catalogue, setCatalogue] = useState<Catalogue>([]);
  const [channels, setChannels] = useState<string[]>([]);
  const [channel, setChannel] = useState('*');
  const [segments, setSegments] = useState<{ id: number; name: string }[]>([]);
  const [segment, setSegment] = useState('');
  const [occurrence, setOccurrence] = useState<keyof typeof occurrences>('all');
  const [followedUp, setFollowedUp] = useState<keyof typeof followUps>('all');
  const [selected, setSelected] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api<{ kinds: Catalogue }>('/v1/analytics/experiences').then(
      (r) => setCatalogue(r.kinds),
      () => undefined,
    );
    api<{ segments: { id: number; name: string }[] }>('/v1/segments').then(
      (r) => setSegments(r.segments),
      () => undefined,
    );
    api<Outcomes>('/v1/analytics/outcomes?stage=*&valueBand=*&occurrence=all&followedUp=all').then(
      (r) => setChannels([...new Set(r.cells.map((c) => c.channel).filter((c) => c !== '*'))].sort()),
      () => undefined,
    );
  }, []);
  useEffect(() => {
    setReport(null);
    const query = new URLSearchParams({ channel, occurrence, followedUp, ...(segment ? { segment } : {}) });
    api<Outcomes>(`/v1/analytics/outcomes?${query}`).then(setReport, (e) => setProblem(problemText(e)));
  }, [channel, occurrence, followedUp, segment]);
  if (problem)
    return (
      <p className="error" role="alert">
        {problem}
      </p>
    );
  const label = (kind: string) => catalogue.find((k) => k.kind === kind)?.label ?? words(kind);
  const cells = new Map(report?.cells.map((c) => [`${c.stage}|${c.valueBand}|${c.kind}`, c]));
  const rows = report
    ? [...new Set(report.cells.map((c) => `${c.stage}|${c.valueBand}`))].sort((a, b) => {
        const [sa, ba] = a.split('|');
        const [sb, bb] = b.split('|');
        return stageOrder.indexOf(sa) - stageOrder.indexOf(sb) || bandOrder.indexOf(ba) - bandOrder.indexOf(bb);
      })
    : [];
  const kinds = report?.kinds.filter((k) => report.cells.some((c) => c.kind === k)) ?? [];
  const chosen = report?.cells.find((c) => c.key === selected) ?? null;
  const days = report?.options.days ?? 90;
  return (
    <section className="card">
      <h2>After an experience: who bought again</h2>
      <div className="filters">
        <label className="inline">
          Customers{' '}
          <select value={segment} onChange={(e) => setSegment(e.target.value)} aria-label="Segment">
            <option value="">everyone</option>
            {segments.map((g) => (
              <option key={g.id} value={String(g.id)}>
                segment: {g.name}
              </option>
            ))}
          </select>{' '}
          Channel{' '}
          <select value={channel} onChange={(e) => setChannel(e.target.value)} aria-label="Acquisition channel">
            <option value="*">any channel</option>
            {channels.map((c) => (
              <option key={c} value={c}>
                {c === 'unknown' ? 'not recorded' : words(c)}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Occurrence{' '}
          <select
            value={occurrence}
            onChange={(e) => setOccurrence(e.target.value as keyof typeof occurrences)}
            aria-label="Occurrence"
          >
            {Object.entries(occurrences).map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          Follow-up{' '}
          <select
            value={followedUp}
            onChange={(e) => setFollowedUp(e.target.value as keyof typeof followUps)}
            aria-label="Follow-up"
          >
            {Object.entries(followUps).map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </label>
      </div>
      {!report && <p className="muted">Loading…</p>}
      {report && kinds.length === 0 && (
        <p className="muted">No experiences in these tables: nothing recorded happened to customers long enough ago.</p>
      )}
      {report && kinds.length > 0 && (
        <>
          <DivergingLegend what={`difference in the share who bought again within ${days} days`} />
          <div className="heatmap-wrap">
            <table className="heatmap">
              <thead>
                <tr>
                  <th>Customer type at the time</th>
                  {kinds.map((k) => (
                    <th key={k} title={catalogue.find((c) => c.kind === k)?.description}>
                      {label(k)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => {
                  const [stage, band] = row.split('|');
                  return (
                    <tr key={row}>
                      <th scope="row">
                        {stageWords[stage] ?? words(stage)}
                        <small>{bandWords(band, report.valueCuts.prior)}</small>
                      </th>
                      {kinds.map((k) => {
                        const c = cells.get(`${row}|${k}`);
                        if (!c)
                          return (
                            <td key={k} className="empty">
                              —
                            </td>
                          );
                        const d = c.difference.difference;
                        return (
                          <td key={k}>
                            <button
                              type="button"
                              className={`heat-cell${c.small ? ' small' : ''}${c.key === selected ? ' selected' : ''}`}
                              style={{ backgroundColor: divergingColor(d), color: divergingInk(d) }}
                              onClick={() => setSelected(c.key === selected ? null : c.key)}
                              title={`${percent(c.rate)} bought again, ${Number.isFinite(d) ? `${points(d)} points against the same type without it` : 'nothing to compare with'}, n = ${c.n}${c.small ? ' (small: read with care)' : ''}`}
                            >
                              <b>{percent(c.rate)}</b>
                              <span>{Number.isFinite(d) ? `${points(d)} pts` : 'no baseline'}</span>
                              <span className="n">n = {c.n.toLocaleString()}</span>
                              {c.small && <em className="badge">small</em>}
                            </button>
                          </td>
                        );
                      })}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <WhatIsThis>
            Each row is a type of customer as they stood when it happened: how many orders they had placed (a prospect
            none, a trial customer one, a repeat customer two or more) and how much they had spent (by thirds). Each
            column is something that happened to them. A cell shows the share who bought again within {days} days after
            it, and how many times it happened (n). Its colour is the difference, in percentage points, against the same
            type of customer right after an order without that experience: red, fewer bought again; green, more. A
            hatched cell with the "small" badge has fewer than {report.options.minCell}: it is shown, but read it with
            care. Click a cell for its figures in words and the customers behind it.
            {report.sampleEvery > 1
              ? ` The tables read every ${report.sampleEvery}th customer of a very large base.`
              : ''}
          </WhatIsThis>
        </>
      )}
      {chosen && report && (
        <CellDetail
          cell={chosen}
          report={report}
          kindLabel={label(chosen.kind)}
          canOpen={can('GET /api/v1/customers/:id')}
          onClose={() => setSelected(null)}
        />
      )}
    </section>
  );
}

export function InsightsPage() {
  // The outcome tables answer 404 until an analysis has looked at experiences.
  const [state, setState] = useState<'loading' | 'ready' | 'none' | string>('loading');
  const [asOf, setAsOf] = useState<string | null>(null);
  useEffect(() => {
    api<Outcomes>('/v1/analytics/outcomes?stage=*&valueBand=*&channel=*&occurrence=all&followedUp=all').then(
      (r) => {
        setAsOf(r.asOf);
        setState('ready');
      },
      (e) => setState(e instanceof ApiError && e.status === 404 ? 'none' : problemText(e)),
    );
  }, []);
  return (
    <div className="insights">
      <header className="page-head">
        <h1>Why they leave</h1>
        {asOf && <span className="muted">From the analysis as of {formatDate(asOf)}</span>}
      </header>
      {state === 'loading' && <p className="muted">Loading…</p>}
      {state === 'none' && (
        <section className="card" role="status">
          <h2>No analysis has looked at experiences yet</h2>
          <p>
            This page shows what customers did after late deliveries, returns, tickets and gifts, what drives them to
            leave, and where a personal action changes the outcome. It fills in after the first analysis: on the{' '}
            <Link to="/analytics">Analytics</Link> page press <b>Run analysis now</b> (admins, marketers and analysts),
            or run <code>kept analyze</code> on the server.
          </p>
        </section>
      )}
      {state !== 'loading' && state !== 'none' && state !== 'ready' && (
        <p className="error" role="alert">
          {state}
        </p>
      )}
      {state === 'ready' && (
        <>
          <p className="muted">
            What happened to customers, what they did next, and where spending on them changes the outcome. Every figure
            comes with its 95 % interval: the range the true value very likely lies in, given how many customers it
            rests on.
          </p>
          <OutcomeHeatMap />
          <LeavingSection />
          <UpliftSection />
        </>
      )}
    </div>
  );
}
