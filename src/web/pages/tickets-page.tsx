import { useEffect, useState, type FormEvent } from 'react';
import type { OpenedTicket, Ticket, TicketDetail } from '../../support/ticket.ts';
import { api, ApiError, formatTime, words } from '../api.ts';
import { Link, navigate } from '../router.tsx';

const outcomes = ['resolved', 'replaced', 'refunded', 'answered', 'unresolved', 'no_response', 'refused', 'escalated'];
const hours = (h: number | null) => (h === null ? '—' : h < 48 ? `${h} h` : `${Math.round(h / 24)} days`);

/** The support queue: open tickets, the most urgent and oldest first. */
export function TicketsPage() {
  const [state, setState] = useState('open');
  const [queue, setQueue] = useState('all');
  const [tickets, setTickets] = useState<Ticket[] | null>(null);
  useEffect(() => {
    api<{ tickets: Ticket[] }>(`/v1/tickets?state=${state}&queue=${queue}`).then(
      (r) => setTickets(r.tickets),
      () => setTickets([]),
    );
  }, [state, queue]);
  return (
    <div>
      <header className="page-head">
        <h1>Tickets</h1>
        <label>
          Show{' '}
          <select value={state} onChange={(e) => setState(e.target.value)}>
            <option value="open">Open</option>
            <option value="closed">Closed</option>
            <option value="all">All</option>
          </select>
        </label>
        <label>
          Queue{' '}
          <select value={queue} onChange={(e) => setQueue(e.target.value)}>
            <option value="all">Everyone's</option>
            <option value="mine">Mine</option>
          </select>
        </label>
      </header>
      <table className="list">
        <thead>
          <tr>
            <th>Ticket</th>
            <th>Customer</th>
            <th>Category</th>
            <th>Priority</th>
            <th>Status</th>
            <th>Assignee</th>
            <th>Opened</th>
            <th className="num">First response</th>
            <th className="num">Resolved in</th>
          </tr>
        </thead>
        <tbody>
          {tickets?.map((t) => (
            <tr
              key={`${t.customerId}-${t.ticketId}`}
              className="clickable"
              onClick={() => navigate(`/tickets/${t.customerId}/${t.ticketId}`)}
            >
              <td>
                <Link to={`/tickets/${t.customerId}/${t.ticketId}`}>{t.subject ?? t.externalId}</Link>
              </td>
              <td>{t.customerName ?? `#${t.customerId}`}</td>
              <td>{t.category ? words(t.category) : '—'}</td>
              <td>{t.priority ?? '—'}</td>
              <td>{words(t.status)}</td>
              <td>{t.assignee ?? '—'}</td>
              <td>{formatTime(t.openedAt)}</td>
              <td className="num">{hours(t.firstResponseHours)}</td>
              <td className="num">{hours(t.resolutionHours)}</td>
            </tr>
          ))}
          {tickets?.length === 0 && (
            <tr>
              <td colSpan={9} className="muted">
                No tickets here.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** One ticket: its conversation, and a reply, note or resolution. */
export function TicketPage({ customerId, ticketId }: { customerId: number; ticketId: number }) {
  const [data, setData] = useState<TicketDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const path = `/v1/customers/${customerId}/tickets/${ticketId}`;
  useEffect(() => {
    api<TicketDetail>(path).then(setData, (e) => setError(e.message));
  }, [path]);
  const send = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const f = new FormData(form);
    setError(null);
    try {
      setData(
        await api(`${path}/updates`, {
          method: 'POST',
          json: {
            direction: f.get('direction'),
            ...(f.get('message') ? { message: f.get('message') } : {}),
            ...(f.get('outcome') ? { outcome: f.get('outcome') } : {}),
          },
        }),
      );
      form.reset();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The server did not answer');
    }
  };
  if (!data)
    return error ? (
      <p className="error" role="alert">
        {error}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  const t = data.ticket;
  return (
    <div className="ticket">
      <p>
        <Link to="/tickets">← Tickets</Link>
      </p>
      <h1>
        {t.subject ?? t.externalId}{' '}
        <small className="muted">
          {words(t.status)}
          {t.outcome && t.outcome !== t.status ? ` · ${words(t.outcome)}` : ''}
        </small>
      </h1>
      <p className="muted">
        <Link to={`/customers/${t.customerId}`}>{t.customerName ?? `Customer ${t.customerId}`}</Link> ·{' '}
        {t.category ? words(t.category) : 'no category'} · {t.priority} priority · by {t.channel}
        {t.orderId ? ` · order ${t.orderId}` : ''} · opened {formatTime(t.openedAt)} · first response{' '}
        {hours(t.firstResponseHours)} · resolved in {hours(t.resolutionHours)} · {t.assignee ?? 'unassigned'}
      </p>
      <ol className="conversation">
        {data.messages.map((m) => (
          <li key={m.id} className={`message ${m.direction}`}>
            <small className="muted">
              {formatTime(m.at)} ·{' '}
              {m.direction === 'in'
                ? 'customer'
                : m.direction === 'internal'
                  ? `internal note by ${m.author ?? '?'}`
                  : (m.author ?? 'us')}{' '}
              · {words(m.status)}
            </small>
            {m.note && <p>{m.note}</p>}
          </li>
        ))}
      </ol>
      <form className="card reply" onSubmit={send}>
        <label>
          Message
          <textarea name="message" maxLength={10000} />
        </label>
        <div className="row">
          <label>
            As
            <select name="direction" defaultValue="out">
              <option value="out">Reply to the customer</option>
              <option value="internal">Internal note</option>
              <option value="in">What the customer said</option>
            </select>
          </label>
          <label>
            Resolve as
            <select name="outcome" defaultValue="">
              <option value="">(still open)</option>
              {outcomes.map((o) => (
                <option key={o} value={o}>
                  {words(o)}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Send</button>
        </div>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </div>
  );
}

const categories = ['wrong_item', 'damaged', 'late', 'missing', 'website', 'portal', 'billing', 'question', 'other'];

/** Opens a ticket for the customer on the page, e.g. while they are on the phone. */
export function OpenTicket({ customerId }: { customerId: number }) {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const f = new FormData(event.currentTarget);
    setError(null);
    try {
      const { ticketId } = await api<OpenedTicket>(`/v1/customers/${customerId}/tickets`, {
        method: 'POST',
        json: {
          subject: f.get('subject'),
          category: f.get('category'),
          priority: f.get('priority'),
          channel: f.get('channel'),
          ...(f.get('orderId') ? { orderId: f.get('orderId') } : {}),
          ...(f.get('message') ? { message: f.get('message') } : {}),
        },
      });
      navigate(`/tickets/${customerId}/${ticketId}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The server did not answer');
    }
  };
  if (!open)
    return (
      <button className="secondary" onClick={() => setOpen(true)}>
        Open a ticket…
      </button>
    );
  return (
    <form className="card reply" onSubmit={submit}>
      <h2>Open a ticket</h2>
      <label>
        Subject
        <input name="subject" required maxLength={200} />
      </label>
      <div className="row">
        <label>
          Category
          <select name="category">
            {categories.map((c) => (
              <option key={c} value={c}>
                {words(c)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select name="priority" defaultValue="normal">
            {['low', 'normal', 'high', 'urgent'].map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </label>
        <label>
          Channel
          <select name="channel" defaultValue="phone">
            {['phone', 'email', 'chat', 'store', 'web', 'social'].map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          Order id
          <input name="orderId" placeholder="optional" />
        </label>
      </div>
      <label>
        What the customer said
        <textarea name="message" maxLength={10000} />
      </label>
      <button type="submit">Open ticket</button>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
