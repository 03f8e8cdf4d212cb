// Duplicates: the review queue (two records side by side, the score and the evidence in words; merge
// keeping the record chosen, not the same person, later) and the recent merges with undo.
import { Pager } from '../pager.tsx';
import { useCallback, useEffect, useState } from 'react';
import type { CustomerSummary, FindResult, Pair } from '../../duplicates/duplicate.ts';
import { api, formatDate, formatTime, problemText } from '../api.ts';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';

const pageSize = 20;

interface RecentMerge {
  id: number;
  into: number;
  from: number;
  at: string;
  actor: string;
  intoName: string | null;
  fromName: string | null;
  undoneAt: string | null;
  undoable: boolean;
}

function Side({ customer, keep, onKeep }: { customer: CustomerSummary; keep: boolean; onKeep: () => void }) {
  const place = [customer.line1, [customer.postalCode, customer.city].filter(Boolean).join(' ')].filter(Boolean);
  return (
    <div
      className={`dup-side${keep ? ' dup-keep' : ''}`}
      data-customer={customer.id}
      style={{ border: `1px solid ${keep ? 'var(--accent)' : '#d9dee3'}`, borderRadius: 6, padding: '8px 12px' }}
    >
      <label
        style={{ display: 'flex', flexDirection: 'row', alignItems: 'center', gap: 6, fontWeight: keep ? 600 : 400 }}
      >
        <input
          type="radio"
          style={{ width: 'auto', margin: 0 }}
          checked={keep}
          onChange={onKeep}
          aria-label={`Keep #${customer.id}`}
        />{' '}
        keep this record
      </label>
      <h3>
        <Link to={`/customers/${customer.id}`}>{customer.name ?? '(no name)'}</Link>{' '}
        <small className="muted">
          #{customer.id}
          {customer.externalId ? ` · ${customer.externalId}` : ''}
        </small>
      </h3>
      <dl className="dup-facts">
        <dt>Email</dt>
        <dd>{customer.email ?? '—'}</dd>
        <dt>Phone</dt>
        <dd>{customer.phone ?? '—'}</dd>
        <dt>Address</dt>
        <dd>{place.length ? place.join(', ') : '—'}</dd>
        <dt>Orders</dt>
        <dd>
          {customer.orders} {customer.lastOrderAt ? `(last ${formatDate(customer.lastOrderAt)})` : ''}
        </dd>
        <dt>Stage</dt>
        <dd>
          {customer.stage.replace(/_/g, ' ')}
          {customer.flags.length ? ` · ${customer.flags.join(', ').replace(/_/g, ' ')}` : ''}
        </dd>
      </dl>
    </div>
  );
}

function PairCard({ pair, onDone }: { pair: Pair; onDone: (message: string) => void }) {
  const [keep, setKeep] = useState(pair.first.orders >= pair.second.orders ? pair.first.id : pair.second.id);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const decide = async (decision: 'merge' | 'distinct' | 'later') => {
    setBusy(true);
    setError(null);
    try {
      await api(`/v1/duplicates/${pair.first.id}/${pair.second.id}`, {
        method: 'POST',
        json: decision === 'merge' ? { decision, keep } : { decision },
      });
      const gone = keep === pair.first.id ? pair.second : pair.first;
      onDone(
        decision === 'merge'
          ? `Merged #${gone.id} into #${keep}.`
          : decision === 'distinct'
            ? `#${pair.first.id} and #${pair.second.id} are marked as different people.`
            : `#${pair.first.id} and #${pair.second.id} put off for later.`,
      );
    } catch (e) {
      setError(problemText(e));
      setBusy(false);
    }
  };
  return (
    <section className="card dup-pair" data-pair={`${pair.first.id}-${pair.second.id}`} aria-label="Possible duplicate">
      <p>
        <b className="dup-score">{Math.round(pair.score * 100)} %</b> alike: {pair.evidence.join('; ')}
      </p>
      <div className="dup-sides" style={{ display: 'grid', gridTemplateColumns: '1fr 1fr', gap: 16 }}>
        <Side customer={pair.first} keep={keep === pair.first.id} onKeep={() => setKeep(pair.first.id)} />
        <Side customer={pair.second} keep={keep === pair.second.id} onKeep={() => setKeep(pair.second.id)} />
      </div>
      <p>
        <button disabled={busy} onClick={() => decide('merge')}>
          Merge (keep #{keep})
        </button>{' '}
        <button className="secondary" disabled={busy} onClick={() => decide('distinct')}>
          Not the same person
        </button>{' '}
        <button className="link" disabled={busy} onClick={() => decide('later')}>
          Later
        </button>
      </p>
      {error && <p className="error">{error}</p>}
    </section>
  );
}

function RecentMerges({ version, onUndone }: { version: number; onUndone: (message: string) => void }) {
  const [merges, setMerges] = useState<RecentMerge[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ merges: RecentMerge[] }>('/v1/merges').then(
      (body) => setMerges(body.merges),
      (e) => setError(problemText(e)),
    );
  }, [version]);
  if (error) return <p className="error">{error}</p>;
  if (!merges || merges.length === 0) return null;
  const undo = async (id: number) => {
    try {
      await api(`/v1/merges/${id}/undo`, { method: 'POST', json: {} });
      onUndone(`Merge ${id} undone: both records are back.`);
    } catch (e) {
      setError(problemText(e));
    }
  };
  return (
    <section className="card" aria-label="Recent merges">
      <h2>Recent merges</h2>
      <table className="list">
        <thead>
          <tr>
            <th>When</th>
            <th>Kept</th>
            <th>Merged into it</th>
            <th>By</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {merges.map((m) => (
            <tr key={m.id} data-merge={m.id}>
              <td>{formatTime(m.at)}</td>
              <td>
                <Link to={`/customers/${m.into}`}>{m.intoName ?? `#${m.into}`}</Link>
              </td>
              <td>
                {m.fromName ?? ''} <small className="muted">#{m.from}</small>
              </td>
              <td>{m.actor}</td>
              <td>
                {m.undoneAt ? (
                  <span className="muted">undone {formatDate(m.undoneAt)}</span>
                ) : m.undoable ? (
                  <button className="link" onClick={() => undo(m.id)}>
                    Undo
                  </button>
                ) : (
                  <span className="muted">no longer undoable</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function DuplicatesPage() {
  const can = useCan();
  const [page, setPage] = useState(1);
  const [list, setList] = useState<{ pairs: Pair[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const [finding, setFinding] = useState(false);
  const [status, setStatus] = useState<'open' | 'later' | 'distinct'>('open');
  const load = useCallback(() => {
    api<{ pairs: Pair[]; total: number }>(`/v1/duplicates?status=${status}&page=${page}&pageSize=${pageSize}`).then(
      setList,
      (e) => setError(problemText(e)),
    );
  }, [page, status]);
  useEffect(load, [load, version]);
  const done = (text: string) => {
    setMessage(text);
    setVersion((v) => v + 1);
  };
  const find = async () => {
    setFinding(true);
    try {
      const r = await api<FindResult>('/v1/duplicates/find', { method: 'POST', json: {} });
      done(
        `Compared ${r.customers.toLocaleString()} customers: ${r.found.toLocaleString()} possible duplicates (${r.added} new) in ${r.seconds.toFixed(1)} s.`,
      );
    } catch (e) {
      setError(problemText(e));
    } finally {
      setFinding(false);
    }
  };
  const pages = list ? Math.max(1, Math.ceil(list.total / pageSize)) : 1;
  return (
    <>
      <div className="page-head">
        <h1>Duplicates {list && <span className="muted">({list.total.toLocaleString()} to review)</span>}</h1>
        {can('POST /api/v1/duplicates/find') && (
          <button disabled={finding} onClick={find}>
            {finding ? 'Comparing…' : 'Find duplicates'}
          </button>
        )}
      </div>
      <p className="muted">
        Pairs of records that look like one person, most alike first, with why in words. Merging moves everything of the
        other record to the one kept; a merge can be undone for 30 days. "Not the same person" is remembered and the
        pair is not proposed again.
      </p>
      <p>
        <label style={{ display: 'inline-flex', flexDirection: 'row', alignItems: 'center', gap: 6 }}>
          Show{' '}
          <select
            value={status}
            style={{ width: 'auto' }}
            onChange={(e) => {
              setStatus(e.target.value as typeof status);
              setPage(1);
            }}
          >
            <option value="open">to review</option>
            <option value="later">put off for later</option>
            <option value="distinct">marked as different people</option>
          </select>
        </label>
      </p>
      {message && (
        <p className="notice" role="status">
          {message}
        </p>
      )}
      {error && <p className="error">{error}</p>}
      {!list ? (
        <p className="muted">Loading…</p>
      ) : list.pairs.length === 0 ? (
        <p className="muted">{status === 'open' ? 'No possible duplicates to review.' : 'None.'}</p>
      ) : (
        list.pairs.map((pair) => (
          <PairCard key={`${pair.first.id}-${pair.second.id}-${version}`} pair={pair} onDone={done} />
        ))
      )}
      <Pager page={page} pages={pages} onPage={setPage} />
      <RecentMerges version={version} onUndone={done} />
    </>
  );
}
