import { Fragment, useEffect, useMemo, useState, type FormEvent } from 'react';
import type {
  CustomerListItem,
  CustomerPage,
  CustomerRecord,
  MergeResult,
  TimelineEntry,
  TimelineKind,
  TimelinePage,
} from '../../customers/customer.ts';
import type { CustomerPace } from '../../campaigns/campaign.ts';
import type { Erased } from '../../privacy/privacy.ts';
import type { Invitations, SurveyList, SurveySummary } from '../../surveys/survey.ts';
import { api, ApiError, formatDate, formatTime, problemText, words } from '../api.ts';
import { ColumnChart, LineChart, palette, stageColors } from '../charts.tsx';
import { Link } from '../router.tsx';
import { SatisfactionSparkline } from './satisfaction.tsx';
import { OpenTicket } from './tickets-page.tsx';
import { GiveGesture, PostMortemSection } from './post-mortem-section.tsx';
import { RecordWarnings } from './record-warnings.tsx';
import { EditDetail, EditRecord } from './record-edit.tsx';
import type { CustomerScore, SubscriberScore } from '../../analytics/analytics.ts';
import { useCan, useMe } from '../session.tsx';
import { useMoney } from '../plain.tsx';

// One label per timeline kind: typed by the server's list (src/customers/customer.ts), so a kind added
// there fails the type check here until it has a label (the UI may import only types from src/).
const kindLabels: Record<TimelineKind, string> = {
  order: 'Orders',
  return: 'Returns',
  delivery: 'Deliveries',
  subscription: 'Subscriptions',
  touchpoint: 'Touchpoints',
  ticket: 'Tickets',
  ticket_update: 'Ticket updates',
  incident: 'Incidents',
  survey: 'Surveys',
  note: 'Notes',
  status: 'Flags',
  stage: 'Stage',
  alert: 'Alerts',
  address: 'Address',
  decision: 'Decisions',
  consent: 'Consent',
  experience: 'Experiences',
  edit: 'Edits',
};
const kinds = Object.keys(kindLabels) as TimelineKind[];
const feelings: Record<number, string> = {
  [-2]: 'very upset',
  [-1]: 'unhappy',
  0: 'neutral',
  1: 'pleased',
  2: 'delighted',
};
const channels = ['web', 'email', 'store', 'phone', 'chat', 'mobile', 'social', 'display', 'direct_mail'];

/** Spend per month over the customer's whole history, with problems (returns, incidents, tickets) marked. */
function spendByMonth(entries: TimelineEntry[], since: string | null) {
  if (entries.length === 0) return [];
  const month = (iso: string) => iso.slice(0, 7);
  const first = month(since && since < entries.at(-1)!.at ? since : entries.at(-1)!.at);
  const last = month(new Date().toISOString() > entries[0].at ? new Date().toISOString() : entries[0].at);
  const columns = new Map<string, { label: string; value: number; marks: string[] }>();
  for (
    let [y, m] = first.split('-').map(Number);
    `${y}-${String(m).padStart(2, '0')}` <= last;
    m === 12 ? (y++, (m = 1)) : m++
  ) {
    const key = `${y}-${String(m).padStart(2, '0')}`;
    columns.set(key, { label: key, value: 0, marks: [] });
  }
  for (const e of entries) {
    const column = columns.get(month(e.at));
    if (!column) continue;
    if (e.kind === 'order') column.value += Number(e.detail.total);
    else
      column.marks.push(
        e.kind === 'return' ? `return (${e.detail.reason ?? e.detail.reasonCode ?? 'no reason'})` : e.title,
      );
  }
  return [...columns.values()].slice(-36);
}

function Detail({ entry }: { entry: TimelineEntry }) {
  const money = useMoney();
  const d = entry.detail;
  if (entry.kind === 'order') {
    const lines = d.lines as { product: string; quantity: string; amount: string; margin?: string | null }[];
    return (
      <ul className="lines">
        {lines.map((l, i) => (
          <li key={i}>
            {Number(l.quantity)} × {l.product ?? 'item'} — {money(l.amount)}
            {l.margin != null ? ` (margin ${money(l.margin)})` : ''}
          </li>
        ))}
      </ul>
    );
  }
  if (entry.kind === 'note') {
    // The body is already in the title.
    return typeof d.feeling === 'number' ? (
      <p>
        <span className={`feeling f${d.feeling}`}>felt {feelings[d.feeling]}</span>
      </p>
    ) : null;
  }
  if (entry.kind === 'ticket')
    return (
      <p className="muted">
        {[
          d.category && words(String(d.category)),
          d.priority && `${d.priority} priority`,
          `status ${words(String(d.status))}`,
          d.outcome && `outcome ${words(String(d.outcome))}`,
          d.orderId && `order ${d.orderId}`,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
    );
  if (entry.kind === 'ticket_update' && d.note) return <p>{String(d.note)}</p>;
  if (entry.kind === 'edit') return <EditDetail entry={entry} />;
  if (entry.kind === 'stage' && d.cause) return <p className="muted">{String(d.cause)}</p>;
  if (entry.kind === 'decision')
    return (
      <p className="muted">
        Suggested {words(String(d.suggested))}: {String(d.suggestionReason)}
        {d.reason ? ` — why: ${d.reason}` : ''}
        {d.needsApproval ? (d.approvedBy ? ` · approved by ${d.approvedBy}` : ' · waiting for approval') : ''}
      </p>
    );
  if (entry.kind === 'experience')
    return (
      <p className="muted">
        {[
          String(d.detail),
          d.valence === 'gesture' ? 'a gesture' : null,
          d.followedUpAt ? `followed up ${formatTime(String(d.followedUpAt))}` : null,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
    );
  if (entry.kind === 'return')
    return (
      <p className="muted">
        {[
          d.reasonCode && words(String(d.reasonCode)),
          `amount ${money(String(d.amount))}`,
          d.orderId && `order ${d.orderId}`,
        ]
          .filter(Boolean)
          .join(' · ')}
      </p>
    );
  return null;
}

/** What an agent records after talking to the customer: what was said and how they felt. */
function RecordContact({ id, onSaved }: { id: number; onSaved: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setError(null);
    try {
      await api(`/v1/customers/${id}/contacts`, {
        method: 'POST',
        json: {
          channel: data.get('channel'),
          direction: data.get('direction'),
          summary: data.get('summary'),
          feeling: Number(data.get('feeling')),
        },
      });
      form.reset();
      setSaved(true);
      onSaved();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The server did not answer');
    }
  };
  return (
    <form className="card contact" onSubmit={submit} onChange={() => setSaved(false)}>
      <h2>Record a contact</h2>
      <div className="row">
        <label>
          Channel
          <select name="channel" defaultValue="phone">
            {['phone', 'email', 'chat', 'store', 'social'].map((c) => (
              <option key={c} value={c}>
                {words(c)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Who started it
          <select name="direction" defaultValue="out">
            <option value="out">We did</option>
            <option value="in">The customer</option>
          </select>
        </label>
      </div>
      <label>
        What was said
        <textarea name="summary" required maxLength={4000} />
      </label>
      <fieldset className="feelings">
        <legend>How did the customer feel?</legend>
        {[-2, -1, 0, 1, 2].map((f) => (
          <label key={f}>
            <input type="radio" name="feeling" value={f} required /> {feelings[f]}
          </label>
        ))}
      </fieldset>
      <button type="submit">Save contact</button>
      {saved && (
        <span className="muted" role="status">
          {' '}
          Saved on the timeline.
        </span>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

/** Comment cards and phone surveys: the agent opens the customer's own survey form and fills it in with them. */
function TakeSurvey({ id }: { id: number }) {
  const [surveys, setSurveys] = useState<SurveySummary[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<SurveyList>('/v1/surveys').then(
      (r) => setSurveys(r.surveys),
      () => undefined,
    );
  }, []);
  const open = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setError(null);
    try {
      const { invitations } = await api<Invitations>(`/v1/surveys/${data.get('survey')}/invitations`, {
        method: 'POST',
        json: {
          invitations: [{ customerId: id, channel: data.get('channel') }],
        },
      });
      window.open(`/s/${invitations[0].token}`, '_blank', 'noopener');
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The server did not answer');
    }
  };
  if (surveys.length === 0) return null;
  return (
    <form className="inline-form survey-entry" onSubmit={open}>
      <label>
        Survey
        <select name="survey">
          {surveys.map((s) => (
            <option key={s.key} value={s.key}>
              {s.title}
            </option>
          ))}
        </select>
      </label>
      <label>
        Answered
        <select name="channel" defaultValue="phone">
          <option value="phone">by phone</option>
          <option value="store">on a comment card</option>
          <option value="email">by email</option>
        </select>
      </label>
      <button type="submit" className="secondary">
        Enter answers…
      </button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

/** A running subscriber's chance of cancelling, from the latest analysis, and why. */
function SubscriptionRisk({ score }: { score: SubscriberScore }) {
  return (
    <section className="card subscription-risk">
      <h2>
        Subscription <small className="muted">as of {score.asOf}</small>
      </h2>
      <div className="tiles">
        <div className="tile">
          <b className="big">{Math.round(score.probability * 100)} %</b>
          <span>chance this subscriber is one who cancels (churn model)</span>
        </div>
        {score.nextRenewalChurn !== null && (
          <div className="tile">
            <b>{Math.round(score.nextRenewalChurn * 100)} %</b>
            <span>chance of cancelling at the next renewal, from tenure alone</span>
          </div>
        )}
      </div>
      {score.factors.length > 0 && <p>Why: {score.factors.map((f) => f.replaceAll('_', ' ')).join('; ')}</p>}
    </section>
  );
}

/** The latest analysis of this customer, and their probability of being active over the analyses. */
function Prediction({ scores }: { scores: CustomerScore[] }) {
  const money = useMoney();
  const latest = scores[0];
  return (
    <section className="card prediction">
      <h2>
        Prediction <small className="muted">as of {latest.asOf}</small>
      </h2>
      <div className="tiles">
        <div className="tile">
          <b className="big">{Math.round(latest.pAlive * 100)} %</b>
          <span>
            probability still active
            {latest.pAliveChange !== null
              ? ` (${latest.pAliveChange > 0 ? '+' : ''}${Math.round(latest.pAliveChange * 100)} points)`
              : ''}
          </span>
        </div>
        {latest.pBuy90 !== null && (
          <div className="tile">
            <b>{Math.round(latest.pBuy90 * 100)} %</b>
            <span>chance of an order in the next 90 days</span>
          </div>
        )}
        <div className="tile">
          <b>
            {latest.expected30.toFixed(2)} / {latest.expected90.toFixed(2)} / {latest.expected365.toFixed(2)}
          </b>
          <span>expected orders in 30 / 90 / 365 days</span>
        </div>
        <div className="tile">
          <b>{latest.nextOrderDate ?? '—'}</b>
          <span>expected next order</span>
        </div>
        <div className="tile">
          <b>{money(latest.expectedOrderValue ?? 0)}</b>
          <span>expected order value</span>
        </div>
        <div className="tile">
          <b>{money(latest.predictedValue365 ?? 0)}</b>
          <span>predicted value, 365 days</span>
        </div>
        <div className="tile">
          <b>
            {latest.recencyScore}
            {latest.frequencyScore}
            {latest.monetaryScore}
          </b>
          <span title="Recency, frequency and money, each 1 (lowest fifth of customers) to 5 (highest fifth)">
            how recent, how often, how much (1–5 each)
          </span>
        </div>
      </div>
      <p>
        <b>Why:</b> {latest.reasons.join('; ')}
      </p>
      {scores.length > 1 && (
        <LineChart
          yLabel="Probability still active"
          title="Probability still active, by analysis"
          xLabel="analysis"
          height={140}
          format={(v) => `${Math.round(v * 100)} %`}
          series={[
            {
              name: 'P(active)',
              color: '#2f80ed',
              points: [...scores].reverse().map((s, i) => ({ x: i + 1, y: s.pAlive })),
            },
          ]}
        />
      )}
    </section>
  );
}

/** A duplicate found later (another email, a guest checkout): search it, merge it into this customer. */
function MergeDuplicate({ id, onMerged }: { id: number; onMerged: () => void }) {
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<CustomerListItem[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  if (!open)
    return (
      <button type="button" className="link" onClick={() => setOpen(true)}>
        Merge a duplicate into this customer…
      </button>
    );
  const search = async () => {
    setProblem(null);
    const r = await api<CustomerPage>(`/v1/customers?${new URLSearchParams({ q: query, pageSize: '6' })}`).catch(
      (e) => {
        setProblem(problemText(e));
        return { customers: [] };
      },
    );
    setFound(r.customers.filter((c) => c.id !== id).slice(0, 5));
  };
  const merge = async (from: number) => {
    try {
      const r = await api<MergeResult>(`/v1/customers/${id}/merge`, {
        method: 'POST',
        json: { from },
      });
      setDone(
        `Customer #${from} is merged into this one: ${Object.values(r.moved).reduce((a, b) => a + b, 0)} records moved.`,
      );
      setFound(null);
      onMerged();
    } catch (e) {
      setProblem(problemText(e));
    }
  };
  return (
    <section className="card" aria-label="Merge a duplicate">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <label className="inline">
          The duplicate:{' '}
          <input
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            placeholder="name, email or external id"
            aria-label="duplicate to find"
          />
        </label>
        <button type="submit">Find</button>{' '}
        <button type="button" className="link" onClick={() => setOpen(false)}>
          Close
        </button>
      </form>
      {found && found.length === 0 && <p className="muted">No other customer matches.</p>}
      {found && found.length > 0 && (
        <table className="list">
          <tbody>
            {found.map((c) => (
              <tr key={c.id}>
                <td>#{c.id}</td>
                <td>{c.name ?? '—'}</td>
                <td>{c.email ?? '—'}</td>
                <td>{c.externalId ?? '—'}</td>
                <td>
                  <button type="button" onClick={() => merge(c.id)}>
                    Merge #{c.id} into this customer
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="small muted">
        Everything of the duplicate (orders, tickets, notes, answers, consent, identities) moves here and the duplicate
        goes; this customer's profile values win. Recorded in the audit log.
      </p>
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** A deletion request: typed confirmation, then everything about the customer goes (docs/security.md). */
function Erase({ id }: { id: number }) {
  const [open, setOpen] = useState(false);
  const [word, setWord] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<number | null>(null);
  if (done !== null)
    return (
      <p className="notice" role="status">
        Customer #{id} is erased: {done} records deleted. They cannot come back by import, API or event.{' '}
        <Link to="/customers">Back to customers</Link>
      </p>
    );
  if (!open)
    return (
      <p className="small">
        <button type="button" className="link danger" onClick={() => setOpen(true)}>
          Erase this customer…
        </button>
      </p>
    );
  const erase = async () => {
    try {
      setDone((await api<Erased>(`/v1/customers/${id}/erase`, { method: 'POST', json: { confirm: 'erase' } })).rows);
    } catch (e) {
      setProblem(problemText(e));
    }
  };
  return (
    <section className="card danger-zone" aria-label="Erase this customer">
      <p>
        Erasing deletes everything Kept holds about this customer (orders, tickets, notes, answers, mail, scores) and
        keeps only a keyed hash of their email, phone and id, so that they are refused if they arrive again. It cannot
        be undone; the audit log records that it happened.
      </p>
      <label>
        Type <b>erase</b> to confirm{' '}
        <input value={word} onChange={(e) => setWord(e.target.value)} aria-label="Type erase to confirm" />
      </label>{' '}
      <button type="button" className="danger" disabled={word.trim().toLowerCase() !== 'erase'} onClick={erase}>
        Erase for good
      </button>{' '}
      <button
        type="button"
        className="link"
        onClick={() => {
          setOpen(false);
          setWord('');
        }}
      >
        Cancel
      </button>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

export function CustomerPage({ id }: { id: number }) {
  const money = useMoney();
  const [record, setRecord] = useState<CustomerRecord | null>(null);
  const [scores, setScores] = useState<CustomerScore[]>([]);
  const [subscription, setSubscription] = useState<SubscriberScore | null>(null);
  const [history, setHistory] = useState<TimelineEntry[]>([]);
  const [entries, setEntries] = useState<TimelineEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [shown, setShown] = useState<string[]>([]);
  const [channel, setChannel] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const { role } = useMe();
  const can = useCan();

  useEffect(() => {
    setRecord(null);
    api<CustomerRecord>(`/v1/customers/${id}`).then(setRecord, (e) => setError(e.message));
    setSubscription(null);
    api<{ scores: CustomerScore[]; subscription: SubscriberScore | null }>(`/v1/customers/${id}/scores`).then(
      (r) => {
        setScores(r.scores.filter((s) => s.current));
        setSubscription(r.subscription);
      },
      () => undefined,
    );
    api<TimelinePage>(`/v1/customers/${id}/timeline?kind=order,return,incident,ticket&limit=200`).then(
      (r) => setHistory(r.entries),
      () => undefined,
    );
  }, [id]);
  const query = (after: string | null) => {
    const p = new URLSearchParams({ limit: '50' });
    if (shown.length) p.set('kind', shown.join(','));
    if (channel) p.set('channel', channel);
    if (after) p.set('cursor', after);
    return api<TimelinePage>(`/v1/customers/${id}/timeline?${p}`);
  };
  useEffect(() => {
    query(null).then(
      (r) => {
        setEntries(r.entries);
        setCursor(r.nextCursor);
      },
      (e) => setError(e.message),
    );
  }, [id, shown.join(','), channel, version]);
  const more = async () => {
    const r = await query(cursor);
    setEntries((list) => [...(list ?? []), ...r.entries]);
    setCursor(r.nextCursor);
  };
  const columns = useMemo(() => spendByMonth(history, record?.firstOrderAt ?? null), [history, record]);

  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!record) return <p className="muted">Loading…</p>;
  const current = record.addresses.find((a) => a.current);
  const toggle = (kind: string) =>
    setShown((list) => (list.includes(kind) ? list.filter((k) => k !== kind) : [...list, kind]));

  return (
    <div className="record">
      <p>
        <Link to="/customers">← Customers</Link>
      </p>
      <header className="record-head">
        <h1>{record.name ?? record.email ?? record.externalId ?? `Customer #${record.id}`}</h1>
        <span className="stage" style={{ background: stageColors[record.stage] }}>
          {words(record.stage)}
        </span>
        {record.flags.map((f) => (
          <span key={f} className="flag">
            {words(f)}
          </span>
        ))}
        {can('GET /api/v1/customers/:id/export') && (
          <span className="small">
            Everything Kept holds about them:{' '}
            <a href={`/api/v1/customers/${id}/export`} download>
              JSON
            </a>{' '}
            ·{' '}
            <a href={`/api/v1/customers/${id}/export?format=csv`} download>
              CSV
            </a>
          </span>
        )}
      </header>
      <EditRecord
        record={record}
        role={role}
        onSaved={() => {
          setVersion((v) => v + 1);
          api<CustomerRecord>(`/v1/customers/${id}`).then(setRecord, (e) => setError(e.message));
        }}
      />
      {can('POST /api/v1/customers/:id/merge') && (
        <div className="small">
          <MergeDuplicate
            id={id}
            onMerged={() => {
              setVersion((v) => v + 1);
              api<CustomerRecord>(`/v1/customers/${id}`).then(setRecord, (e) => setError(e.message));
            }}
          />
        </div>
      )}
      {can('POST /api/v1/customers/:id/erase') && <Erase id={id} />}
      <div className="tiles">
        <div className="tile">
          <b>{record.totals.orders}</b>
          <span>orders</span>
        </div>
        <div className="tile">
          <b>{money(record.totals.revenue)}</b>
          <span>spent</span>
        </div>
        <div className="tile">
          <b>{record.purchaseDays}</b>
          <span>purchase days</span>
        </div>
        <div className="tile">
          <b>{record.totals.returns}</b>
          <span>returns ({money(record.totals.returned)})</span>
        </div>
        <div className="tile">
          <b>
            {record.totals.openTickets}/{record.totals.tickets}
          </b>
          <span>open tickets</span>
        </div>
        <div className="tile">
          <b>{formatDate(record.lastOrderAt)}</b>
          <span>last order</span>
        </div>
      </div>
      <RecordWarnings warnings={record.warnings} />
      {scores.length > 0 && <Prediction scores={scores} />}
      {subscription && <SubscriptionRisk score={subscription} />}
      <PostMortemSection id={record.id} />
      <SatisfactionSparkline id={record.id} />
      <Pace id={record.id} />
      {columns.length > 0 && (
        <ColumnChart
          title="Spend per month (dots: returns, incidents, tickets)"
          columns={columns}
          format={money}
          xAxis="Month"
          yAxis="Spent"
        />
      )}
      <div className="columns">
        <section className="card">
          <h2>Profile</h2>
          <dl>
            <dt>Customer id</dt>
            <dd>{record.externalId ?? '—'}</dd>
            <dt>Email</dt>
            <dd>{record.email ?? '—'}</dd>
            <dt>Phone</dt>
            <dd>{record.phone ?? '—'}</dd>
            <dt>Acquired through</dt>
            <dd>{record.acquisitionChannel ? words(record.acquisitionChannel) : '—'}</dd>
            <dt>Customer since</dt>
            <dd>{formatDate(record.createdAt)}</dd>
            <dt>First order</dt>
            <dd>{formatDate(record.firstOrderAt)}</dd>
            <dt>Address</dt>
            <dd>
              {current
                ? [
                    current.line1,
                    current.line2,
                    [current.postalCode, current.city].filter(Boolean).join(' '),
                    current.region,
                    current.country,
                  ]
                    .filter(Boolean)
                    .join(', ')
                : '—'}
            </dd>
          </dl>
          {record.attributes.length > 0 && (
            <>
              <h3>Attributes</h3>
              <dl>
                {record.attributes.map((a) => (
                  <Fragment key={a.key}>
                    <dt>
                      {words(a.key)} <small className="muted">{a.type}</small>
                    </dt>
                    <dd>{String(a.value)}</dd>
                  </Fragment>
                ))}
              </dl>
            </>
          )}
          <h3>Identities</h3>
          <ul className="plain">
            {record.identities.map((i) => (
              <li key={`${i.kind}${i.value}`}>
                <small className="muted">{words(i.kind)}</small> {i.value}{' '}
                <small className="muted">via {i.source}</small>
              </li>
            ))}
          </ul>
          {record.addresses.length > 1 && (
            <>
              <h3>Address history</h3>
              <ul className="plain">
                {record.addresses.map((a, i) => (
                  <li key={i} className={a.current ? '' : 'muted'}>
                    {[a.line1, a.city, a.country].filter(Boolean).join(', ')}{' '}
                    <small>
                      {formatDate(a.validFrom)} – {a.validTo ? formatDate(a.validTo) : 'now'}
                    </small>
                  </li>
                ))}
              </ul>
            </>
          )}
          <h3>Stage history</h3>
          <ul className="plain">
            {record.stageHistory.map((s, i) => (
              <li key={i}>
                {formatDate(s.at)}: {s.from ? `${words(s.from)} → ` : ''}
                <b>{words(s.to)}</b> <small className="muted">{s.cause}</small>
              </li>
            ))}
          </ul>
          {record.statusHistory.length > 0 && (
            <>
              <h3>Flag history</h3>
              <ul className="plain">
                {record.statusHistory.map((s, i) => (
                  <li key={i}>
                    {formatDate(s.at)}: {s.active ? 'marked' : 'cleared'} <b>{words(s.flag)}</b>{' '}
                    {s.note && <small className="muted">{s.note}</small>}
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section className="card timeline">
          {can('POST /api/v1/customers/:customerId/contacts') && (
            <RecordContact id={record.id} onSaved={() => setVersion((v) => v + 1)} />
          )}
          {can('POST /api/v1/customers/:customerId/gestures') && (
            <GiveGesture id={record.id} onGiven={() => setVersion((v) => v + 1)} />
          )}
          {can('POST /api/v1/surveys/:key/invitations') && <TakeSurvey id={record.id} />}
          {can('POST /api/v1/customers/:customerId/tickets') && <OpenTicket customerId={record.id} />}
          <h2>Timeline</h2>
          <div className="chips">
            {kinds.map((k) => (
              <button key={k} className={shown.includes(k) ? 'chip on' : 'chip'} onClick={() => toggle(k)}>
                {kindLabels[k]}
              </button>
            ))}
            <select value={channel} onChange={(e) => setChannel(e.target.value)} aria-label="Timeline channel">
              <option value="">All channels</option>
              {channels.map((c) => (
                <option key={c} value={c}>
                  {words(c)}
                </option>
              ))}
            </select>
          </div>
          <ol>
            {entries?.map((e) => (
              <li key={`${e.kind}${e.id}`} className={`entry k-${e.kind}`}>
                <time dateTime={e.at}>{formatTime(e.at)}</time>
                <span className="kind">
                  {kindLabels[e.kind] ?? e.kind}
                  {e.channel ? ` · ${words(e.channel)}` : ''}
                </span>
                <div className="title">{e.title}</div>
                <Detail entry={e} />
              </li>
            ))}
            {entries === null && <li className="muted">Loading…</li>}
            {entries?.length === 0 && <li className="muted">Nothing here yet.</li>}
          </ol>
          {cursor && <button onClick={more}>Show older</button>}
        </section>
      </div>
    </div>
  );
}

/** How often we reach the customer: outgoing touches per channel per week, and the frequency cap now. */
function Pace({ id }: { id: number }) {
  const [pace, setPace] = useState<CustomerPace | null>(null);
  useEffect(() => {
    api<CustomerPace>(`/v1/customers/${id}/pace`).then(setPace, () => undefined);
  }, [id]);
  if (!pace) return null;
  const channels = [...new Set(pace.weeks.flatMap((w) => Object.keys(w.byChannel)))].sort();
  const total = pace.weeks.reduce((n, w) => n + Object.values(w.byChannel).reduce((a, b) => a + b, 0), 0);
  return (
    <section className="card pace">
      <p className={pace.marketing.capped ? 'warn' : 'muted'}>
        {pace.marketing.sent} of at most {pace.marketing.cap} marketing emails in the last {pace.marketing.days} days
        {pace.marketing.capped ? ': the next campaign skips this customer (frequency cap)' : ''}; {total} outgoing
        touches in 12 weeks.
      </p>
      {channels.length > 0 && (
        <LineChart
          yLabel="Touches"
          title={`Touches per week by channel (weeks from ${pace.weeks[0].week})`}
          xLabel="week"
          height={140}
          format={(v) => String(Math.round(v))}
          series={channels.map((c, i) => ({
            name: words(c),
            color: palette[i % palette.length],
            points: pace.weeks.map((w, k) => ({ x: k + 1, y: w.byChannel[c] ?? 0 })),
          }))}
        />
      )}
    </section>
  );
}
