// Channels: what each acquisition, order and contact channel brings and costs, how often something
// goes wrong there, whether its customers come back, where customers order later, and which
// acquisition channels to emphasise, with the evidence. Admins and marketers set the costs here.
import { useEffect, useState, type FormEvent } from 'react';
import type { ChannelCost, ChannelKind, ChannelRow, Economics } from '../../channels/economics.ts';
import { api, formatDate, formatTime, percent, problemText, words } from '../api.ts';
import { BarChart, IntervalChart, WhatIsThis } from '../charts.tsx';
import { useCan } from '../session.tsx';
import { money as inCurrency } from '../plain.tsx';

const channelNames = ['web', 'email', 'store', 'phone', 'chat', 'mobile', 'social', 'display', 'direct_mail'];
const kindWords: Record<ChannelKind, { title: string; customers: string; about: string }> = {
  acquisition: {
    title: 'Where customers came from (acquisition channel)',
    customers: 'Customers',
    about:
      'Each customer counts once, in the channel recorded when they were acquired; their orders, returns and problems count there too, whatever channel they happened in.',
  },
  order: {
    title: 'Where they ordered (order channel)',
    customers: 'First orders here',
    about:
      'Each order counts in the channel it was placed in; a customer counts in the channel of their first order. A return or a problem counts in its order’s channel; a problem that names a channel of its own (a ticket by phone) counts there.',
  },
  contact: {
    title: 'The contact an order followed (contact channel)',
    customers: 'First orders after a contact here',
    about:
      'Each order counts in the channel of the latest contact we sent the customer in the 30 days before it; “no contact before” holds the rest. Returns and problems count through their order.',
  },
};
const perWords = { order: 'per order', contact: 'per contact', month: 'per month', customer: 'per customer' };
const verdictWords = {
  emphasise: 'Emphasise',
  keep: 'Keep',
  de_emphasise: 'De-emphasise',
  too_small: 'Too small to say',
};
const verdictColors = { emphasise: '#27ae60', keep: '#828282', de_emphasise: '#eb5757', too_small: '#f2994a' };

const channelWords = (channel: string) =>
  channel === 'unknown' ? 'not recorded' : channel === 'none' ? 'no contact before' : words(channel);

function ChannelTable({
  kind,
  rows,
  money,
}: {
  kind: ChannelKind;
  rows: ChannelRow[];
  money: (v: string | number | null) => string;
}) {
  const share = (s: ChannelRow['secondPurchase']) =>
    s.n === 0 ? '—' : `${percent(s.rate)} (${percent(s.low)} to ${percent(s.high)}), n = ${s.n.toLocaleString()}`;
  return (
    <div className="table-scroll">
      <table className="list channel-table" aria-label={`Channels by ${kind}`}>
        <thead>
          <tr>
            <th>Channel</th>
            <th className="num">{kindWords[kind].customers}</th>
            <th className="num">Orders</th>
            <th className="num">Revenue</th>
            <th className="num">Returned</th>
            <th className="num">Margin</th>
            <th className="num">Problems per 1,000 orders</th>
            <th>Satisfaction</th>
            <th>Second purchase (95 %)</th>
            <th>Retained (95 %)</th>
            <th className="num">Predicted value</th>
            <th className="num">Cost per retained customer</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.channel}>
              <td>{channelWords(r.channel)}</td>
              <td className="num">{r.customers.toLocaleString()}</td>
              <td className="num">{r.orders.toLocaleString()}</td>
              <td className="num">{money(r.revenue)}</td>
              <td className="num">
                {money(r.returns.amount)} <span className="muted">({r.returns.count.toLocaleString()})</span>
              </td>
              <td className="num" title={r.cost ? `cost ${money(r.cost.total)}` : 'no cost set'}>
                {r.margin === null ? '—' : money(r.margin)}
              </td>
              <td
                className="num"
                title={`${r.problems.incidents} incidents, ${r.problems.tickets} tickets${r.problems.viaOrder ? `; ${r.problems.viaOrder} placed here by their order` : ''}`}
              >
                {r.problems.perThousandOrders === null ? '—' : r.problems.perThousandOrders.toLocaleString()}
              </td>
              <td>
                {[
                  r.satisfaction.nps !== null ? `NPS ${r.satisfaction.nps} (${r.satisfaction.npsAnswers})` : null,
                  r.satisfaction.meanScore !== null ? `score ${r.satisfaction.meanScore}/100` : null,
                  r.satisfaction.meanIndex !== null ? `index ${r.satisfaction.meanIndex}` : null,
                ]
                  .filter(Boolean)
                  .join(' · ') || '—'}
              </td>
              <td>{share(r.secondPurchase)}</td>
              <td>{share(r.retention)}</td>
              <td className="num">{r.predictedValue.mean === null ? '—' : money(r.predictedValue.mean)}</td>
              <td className="num">{r.costPerRetained === null ? '—' : money(r.costPerRetained)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function KindSection({
  report,
  kind,
  money,
}: {
  report: Economics;
  kind: Economics['kinds'][number];
  money: (v: string | number | null) => string;
}) {
  const rows = kind.channels;
  const o = report.options;
  return (
    <section className="card" aria-label={kindWords[kind.kind].title}>
      <h2>{kindWords[kind.kind].title}</h2>
      <p className="muted">{kindWords[kind.kind].about}</p>
      <ChannelTable kind={kind.kind} rows={rows} money={money} />
      <p className="muted">
        {kind.problems.total.toLocaleString()} problems (incidents and tickets) in all.
        {kind.kind === 'order' && kind.problems.viaOrder > 0
          ? ` ${kind.problems.viaOrder.toLocaleString()} named no channel and were placed by their order’s channel.`
          : ''}
        {kind.problems.unplaced > 0
          ? ` ${kind.problems.unplaced.toLocaleString()} had no channel${kind.kind === 'contact' ? '' : ' and no order'} to place them by.`
          : ''}
      </p>
      <div className="grid2">
        <BarChart
          xAxis="Revenue"
          yAxis="Channel"
          title={`Revenue${report.currency ? ` (${report.currency})` : ''}`}
          labelWidth={140}
          format={(v) => Math.round(v).toLocaleString()}
          bars={rows
            .filter((r) => r.orders > 0)
            .map((r) => ({ label: channelWords(r.channel), value: Number(r.revenue) }))}
        />
        <BarChart
          xAxis="Problems per 1,000 orders"
          yAxis="Channel"
          title="Problems per 1,000 orders"
          labelWidth={140}
          format={(v) => v.toLocaleString(undefined, { maximumFractionDigits: 1 })}
          bars={rows
            .filter((r) => r.problems.perThousandOrders !== null)
            .map((r) => ({ label: channelWords(r.channel), value: r.problems.perThousandOrders!, color: '#eb5757' }))}
        />
      </div>
      <IntervalChart
        xAxis="Channel"
        yAxis="Share with a second purchase"
        title={`Second purchase within ${o.secondPurchaseDays} days, with its 95 % interval`}
        format={(v) => percent(v)}
        height={160}
        points={rows
          .filter((r) => r.secondPurchase.n > 0)
          .map((r) => ({
            label: channelWords(r.channel),
            value: r.secondPurchase.rate!,
            low: r.secondPurchase.low!,
            high: r.secondPurchase.high!,
          }))}
      />
      <WhatIsThis>
        <p>
          <b>Second purchase</b>: of the first-time buyers of this channel whose first order is at least{' '}
          {o.observedDays} days old, the share who bought again on a later day within {o.secondPurchaseDays} days; the
          range is its 95 % interval. <b>Retained</b>: of those who had bought before the last {o.retentionDays} days,
          the share who bought within them. <b>Problems per 1,000 orders</b>: incidents and tickets against the orders
          of the channel. <b>Margin</b>: revenue less returns less the channel’s cost (shown only where a cost is set).{' '}
          <b>Predicted value</b>: the mean value over the next 365 days the latest analysis predicts for these
          customers.
        </p>
      </WhatIsThis>
    </section>
  );
}

/** Later orders by acquisition channel and order channel, shaded by count. */
function MovementMap({ movement }: { movement: Economics['movement'] }) {
  const max = Math.max(1, ...movement.cells.map((c) => c.orders));
  const cell = (from: string, to: string) => movement.cells.find((c) => c.from === from && c.to === to);
  return (
    <section className="card">
      <h2>Where customers order later</h2>
      {movement.cells.length === 0 ? (
        <p className="muted">No customer has ordered a second time yet.</p>
      ) : (
        <div className="heatmap-wrap">
          <table className="heatmap movement" aria-label="Later orders by channel">
            <thead>
              <tr>
                <th>Acquired through ↓ · ordered later in →</th>
                {movement.to.map((to) => (
                  <th key={to}>{channelWords(to)}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {movement.from.map((from) => (
                <tr key={from}>
                  <th scope="row">{channelWords(from)}</th>
                  {movement.to.map((to) => {
                    const c = cell(from, to);
                    const strength = c ? c.orders / max : 0;
                    return (
                      <td
                        key={to}
                        style={{
                          background: c ? `rgba(47, 128, 237, ${(0.08 + 0.82 * strength).toFixed(2)})` : undefined,
                          color: strength > 0.6 ? '#fff' : undefined,
                          textAlign: 'center',
                        }}
                        title={c ? `${c.orders} orders by ${c.customers} customers` : 'none'}
                      >
                        {c ? c.orders.toLocaleString() : '—'}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <WhatIsThis>
        Every order after a customer’s first, by the channel the customer was acquired through (rows) and the channel
        the order was placed in (columns). The darker the cell, the more orders.
      </WhatIsThis>
    </section>
  );
}

/** The costs people set; admins and marketers change them here. */
function CostsCard({
  costs,
  canEdit,
  onSaved,
  money,
}: {
  costs: ChannelCost[];
  canEdit: boolean;
  onSaved: () => void;
  money: (v: string | number | null) => string;
}) {
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (next: Omit<ChannelCost, 'updatedBy' | 'updatedAt'>[]) => {
    setBusy(true);
    setProblem(null);
    try {
      await api('/v1/channels/costs', {
        method: 'PUT',
        json: { costs: next.map(({ kind, channel, per, amount }) => ({ kind, channel, per, amount })) },
      });
      onSaved();
    } catch (e) {
      setProblem(problemText(e));
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const cost = {
      kind: form.get('kind') as ChannelKind,
      channel: String(form.get('channel')),
      per: form.get('per') as ChannelCost['per'],
      amount: String(form.get('amount')).trim(),
    };
    void save([...costs.filter((c) => !(c.kind === cost.kind && c.channel === cost.channel)), cost]);
  };
  return (
    <section className="card channel-costs">
      <h2>What each channel costs</h2>
      {costs.length === 0 ? (
        <p className="muted">No costs set: margins and cost per retained customer appear once a channel has one.</p>
      ) : (
        <table className="list" aria-label="Channel costs">
          <thead>
            <tr>
              <th>Kind</th>
              <th>Channel</th>
              <th className="num">Cost</th>
              <th>Set by</th>
              {canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {costs.map((c) => (
              <tr key={`${c.kind}-${c.channel}`}>
                <td>{c.kind}</td>
                <td>{channelWords(c.channel)}</td>
                <td className="num">
                  {money(c.amount)} {perWords[c.per]}
                </td>
                <td>
                  {c.updatedBy} <span className="muted">{formatTime(c.updatedAt)}</span>
                </td>
                {canEdit && (
                  <td>
                    <button
                      type="button"
                      className="link"
                      disabled={busy}
                      onClick={() => save(costs.filter((k) => k !== c))}
                    >
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && (
        <form className="inline-form" onSubmit={submit} aria-label="Set a cost">
          <label>
            Kind
            <select name="kind" defaultValue="acquisition">
              <option value="acquisition">acquisition</option>
              <option value="order">order</option>
              <option value="contact">contact</option>
            </select>
          </label>
          <label>
            Channel
            <select name="channel" defaultValue="web">
              {channelNames.map((c) => (
                <option key={c} value={c}>
                  {words(c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            Per
            <select name="per" defaultValue="customer">
              {Object.entries(perWords).map(([value, text]) => (
                <option key={value} value={value}>
                  {text.replace('per ', '')}
                </option>
              ))}
            </select>
          </label>
          <label>
            Amount
            <input name="amount" inputMode="decimal" required placeholder="12.50" size={8} />
          </label>
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Save cost'}
          </button>
        </form>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <WhatIsThis>
        A cost per customer is counted for every customer of the channel (acquired there, or whose first order was
        there); per order for each of its orders; per contact for each contact we sent in it (contact channels only);
        per month for each month since the first order. Every change is recorded in the audit log.
      </WhatIsThis>
    </section>
  );
}

export function ChannelsPage() {
  const can = useCan();
  const [report, setReport] = useState<Economics | null>(null);
  const [costs, setCosts] = useState<ChannelCost[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () => {
    api<Economics>('/v1/channels/economics').then(setReport, (e) => setProblem(problemText(e)));
    api<{ costs: ChannelCost[] }>('/v1/channels/costs').then(
      (r) => setCosts(r.costs),
      (e) => setProblem(problemText(e)),
    );
  };
  useEffect(load, []);
  const currency = report?.currency;
  const money = (v: string | number | null) => inCurrency(v, currency ?? null);
  return (
    <div className="channels">
      <header className="page-head">
        <h1>Channels</h1>
        {report && (
          <span className="muted">
            As of {formatDate(report.asOf)}
            {report.run ? ` · predicted value from the analysis as of ${formatDate(report.run.asOf)}` : ''}
          </span>
        )}
      </header>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {!report && !problem && <p className="muted">Loading…</p>}
      {report && (
        <>
          {report.warnings.map((w) => (
            <p key={w} className="warn">
              {w}
            </p>
          ))}
          <section className="card recommendations">
            <h2>What to emphasise</h2>
            {report.recommendations.length === 0 ? (
              <p className="muted">No acquisition channel recorded yet.</p>
            ) : (
              <ul className="plain">
                {report.recommendations.map((r) => (
                  <li key={r.channel} className={`recommendation verdict-${r.verdict}`}>
                    <b style={{ color: verdictColors[r.verdict] }}>
                      {channelWords(r.channel)}: {verdictWords[r.verdict]}
                    </b>
                    <p>{r.evidence}.</p>
                  </li>
                ))}
              </ul>
            )}
            <WhatIsThis>
              Each acquisition channel is set against all other customers on three things: how many of its first-time
              buyers came back within {report.options.secondPurchaseDays} days, their predicted value, and, where costs
              are set, the cost per retained customer. A sign counts only when it is clear: the 95 % interval of the
              difference leaves out no difference (for costs: the ranges do not overlap). Emphasise when something is
              clearly better and nothing clearly worse, de-emphasise the other way round, keep otherwise. Under{' '}
              {report.options.minCustomers} first-time buyers seen long enough, a channel is too small to say.
            </WhatIsThis>
          </section>
          {report.kinds.map((k) => (
            <KindSection key={k.kind} report={report} kind={k} money={money} />
          ))}
          <MovementMap movement={report.movement} />
          <CostsCard costs={costs} canEdit={can('PUT /api/v1/channels/costs')} onSaved={load} money={money} />
        </>
      )}
    </div>
  );
}
