import { useEffect, useState, type FormEvent } from 'react';
import type { Decision, DecisionOutcome, Task, Worklist, WorklistItem } from '../../worklist/worklist.ts';
import { api, ApiError, formatTime, problemText, words } from '../api.ts';
import { BarChart } from '../charts.tsx';
import { Link } from '../router.tsx';

const actions = ['call', 'apology_replacement', 'gift', 'nothing'] as const;
const money = (v: number) => v.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Accept, change or reject one suggestion; a change or rejection says why. */
function Decide({
  item,
  allowance,
  onDone,
}: {
  item: WorklistItem;
  allowance: number;
  onDone: (message: string) => void;
}) {
  const [mode, setMode] = useState<'changed' | 'rejected' | null>(null);
  const [action, setAction] = useState<string>(actions.find((a) => a !== item.suggestion.action)!);
  const [error, setError] = useState<string | null>(null);
  const send = async (decision: 'accepted' | 'changed' | 'rejected', form?: FormData) => {
    setError(null);
    try {
      const gift = form?.get('giftValue');
      const result = await api<Decision>(`/v1/worklist/${item.customerId}/decisions`, {
        method: 'POST',
        json: {
          decision,
          ...(decision === 'changed' ? { action } : {}),
          ...(gift ? { giftValue: Number(gift) } : {}),
          ...(form ? { reason: form.get('reason') } : {}),
        },
      });
      onDone(
        `${item.name ?? `Customer ${item.customerId}`}: ${decision} (${words(result.action)})${result.needsApproval ? ', waiting for approval' : ''}`,
      );
    } catch (e) {
      setError(e instanceof ApiError ? e.message : 'The server did not answer');
    }
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void send(mode!, new FormData(event.currentTarget));
  };
  return (
    <div className="decide">
      <div className="buttons">
        <button onClick={() => send('accepted')}>Accept</button>
        <button className="secondary" onClick={() => setMode('changed')}>
          Change…
        </button>
        <button className="secondary" onClick={() => setMode('rejected')}>
          Reject…
        </button>
      </div>
      {mode && (
        <form onSubmit={submit} className="inline-form">
          {mode === 'changed' && (
            <label>
              Instead
              <select value={action} onChange={(e) => setAction(e.target.value)}>
                {actions
                  .filter((a) => a !== item.suggestion.action)
                  .map((a) => (
                    <option key={a} value={a}>
                      {words(a)}
                    </option>
                  ))}
              </select>
            </label>
          )}
          {mode === 'changed' && action === 'gift' && (
            <label>
              Gift value <small className="muted">(over {allowance} needs approval)</small>
              <input name="giftValue" type="number" min="0" step="0.01" defaultValue={Math.min(allowance, 10)} />
            </label>
          )}
          <label>
            Why
            <input
              name="reason"
              required
              placeholder={mode === 'rejected' ? 'e.g. spoke to them yesterday' : 'e.g. a loyal customer since 2019'}
            />
          </label>
          <button type="submit">{mode === 'changed' ? 'Save change' : 'Reject'}</button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** Open tasks from journeys (service recovery ...): what to do, for whom, by when; done with what was done. */
function Tasks() {
  const [tasks, setTasks] = useState<Task[]>([]);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    api<{ tasks: Task[] }>('/v1/tasks?status=open&limit=100').then(
      (r) => setTasks(r.tasks),
      (e) => setProblem(e.message),
    );
  useEffect(() => {
    void load();
  }, []);
  const finish = (task: Task) =>
    api(`/v1/tasks/${task.id}/done`, { method: 'POST', json: { outcome: notes[task.id] } }).then(load, (e) =>
      setProblem(problemText(e)),
    );
  if (tasks.length === 0 && !problem) return null;
  const now = Date.now();
  return (
    <section className="card">
      <h2>
        Tasks <small className="muted">{tasks.length} open, soonest due first</small>
      </h2>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <ol className="tasks">
        {tasks.map((t) => (
          <li key={t.id}>
            <Link to={`/customers/${t.customerId}`}>{t.name ?? t.email ?? `Customer ${t.customerId}`}</Link>:{' '}
            <b>{t.title}</b> ({words(t.action)}
            {t.orderId ? `, order ${t.orderId}` : ''}).{' '}
            <span className={Date.parse(t.dueAt) < now ? 'bad' : 'muted'}>Due {formatTime(t.dueAt)}</span>
            <br />
            <small className="muted">{t.reason}</small>
            <div className="filters">
              <input
                aria-label={`what was done for task ${t.id}`}
                placeholder="What did you do?"
                value={notes[t.id] ?? ''}
                onChange={(e) => setNotes({ ...notes, [t.id]: e.target.value })}
              />
              <button type="button" disabled={!notes[t.id]?.trim()} onClick={() => finish(t)}>
                Done
              </button>
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function WorklistPage() {
  const [items, setItems] = useState<WorklistItem[] | null>(null);
  const [allowance, setAllowance] = useState(0);
  const [stage, setStage] = useState('all');
  const [queue, setQueue] = useState('all');
  const [done, setDone] = useState<string[]>([]);
  const [outcomes, setOutcomes] = useState<DecisionOutcome[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setItems(null);
    api<Worklist>(`/v1/worklist?stage=${stage}&queue=${queue}&limit=100`).then(
      (r) => {
        setItems(r.items);
        setAllowance(r.giftAllowance);
      },
      (e) => setError(e.message),
    );
    api<{ outcomes: DecisionOutcome[] }>('/v1/worklist/outcomes').then(
      (r) => setOutcomes(r.outcomes),
      () => undefined,
    );
  }, [stage, queue]);
  const decided = (customerId: number, message: string) => {
    setItems((list) => list?.filter((i) => i.customerId !== customerId) ?? null);
    setDone((list) => [message, ...list]);
  };
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  return (
    <div>
      <header className="page-head">
        <h1>Worklist</h1>
        <label>
          Stage{' '}
          <select value={stage} onChange={(e) => setStage(e.target.value)}>
            <option value="all">At risk and lapsed</option>
            <option value="at_risk">At risk</option>
            <option value="lapsed">Lapsed</option>
          </select>
        </label>
        <label>
          Queue{' '}
          <select value={queue} onChange={(e) => setQueue(e.target.value)}>
            <option value="all">Everyone</option>
            <option value="mine">My open tickets</option>
          </select>
        </label>
      </header>
      <p className="muted">
        Customers whose activity is dropping, the most value at stake times risk first. The suggestion is a starting
        point: you make the call. Gestures up to {money(allowance)} need no approval.
      </p>
      <Tasks />
      {done.length > 0 && (
        <ul className="done">
          {done.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
      {items === null && <p className="muted">Loading…</p>}
      {items?.length === 0 && (
        <p className="muted">Nobody on the worklist. Run the analysis to find customers whose activity is dropping.</p>
      )}
      <ol className="worklist">
        {items?.map((item) => (
          <li key={item.customerId} className="card work-item">
            <div className="work-head">
              <Link to={`/customers/${item.customerId}`}>
                {item.name ?? item.email ?? `Customer ${item.customerId}`}
              </Link>
              <span className="muted">
                {words(item.stage)} · {money(item.valueAtStake)} at stake · {Math.round(item.pAlive * 100)} % still
                active
              </span>
            </div>
            <p>
              <b>
                Suggested: {words(item.suggestion.action)}
                {item.suggestion.giftValue !== null ? ` (${money(item.suggestion.giftValue)})` : ''}.
              </b>{' '}
              {item.suggestion.reason}
            </p>
            <Decide item={item} allowance={allowance} onDone={(m) => decided(item.customerId, m)} />
          </li>
        ))}
      </ol>
      {outcomes.length > 0 && (
        <section className="card">
          <BarChart
            title="Bought again within 90 days of the decision"
            format={(v) => `${Math.round(v * 100)} %`}
            bars={outcomes.map((o) => ({ label: `${words(o.decision)} (${o.decisions})`, value: o.boughtShare }))}
          />
          <table>
            <thead>
              <tr>
                <th>Decision</th>
                <th>Customers</th>
                <th>Bought again</th>
                <th>Revenue after</th>
              </tr>
            </thead>
            <tbody>
              {outcomes.map((o) => (
                <tr key={o.decision}>
                  <td>{words(o.decision)}</td>
                  <td>{o.decisions}</td>
                  <td>
                    {o.bought} ({Math.round(o.boughtShare * 100)} %)
                  </td>
                  <td>{money(Number(o.revenue))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}
