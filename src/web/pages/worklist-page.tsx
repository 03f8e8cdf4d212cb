import { useEffect, useState, type FormEvent } from 'react';
import type { Decision, DecisionOutcome, Task, Worklist, WorklistItem } from '../../worklist/worklist.ts';
import { api, formatDate, formatTime, percent, points, problemText, words } from '../api.ts';
import { BarChart } from '../charts.tsx';
import { useMoney } from '../plain.tsx';
import { Link } from '../router.tsx';
import { ratio } from './leaving-section.tsx';
import { upliftSourceWords } from './uplift-section.tsx';

const actions = ['call', 'apology_replacement', 'gift', 'offer', 'nothing'] as const;

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
  // A held-out customer gets no suggestion: acting on one is an override, and says why.
  const held = item.holdout;
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
        `${item.name ?? `Customer ${item.customerId}`}: ${held && decision === 'changed' ? 'held out, acted on anyway' : decision} (${words(result.action)})${result.needsApproval ? ', waiting for approval' : ''}`,
      );
    } catch (e) {
      setError(problemText(e));
    }
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    void send(mode!, new FormData(event.currentTarget));
  };
  return (
    <div className="decide">
      {held ? (
        <div className="buttons held-buttons">
          <button type="button" className="secondary" onClick={() => setMode('changed')}>
            Act anyway (override)…
          </button>
        </div>
      ) : (
        <div className="buttons">
          <button type="button" onClick={() => send('accepted')}>
            Accept
          </button>
          <button type="button" className="secondary" onClick={() => setMode('changed')}>
            Change…
          </button>
          <button type="button" className="secondary" onClick={() => setMode('rejected')}>
            Reject…
          </button>
        </div>
      )}
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
              placeholder={
                held && mode === 'changed'
                  ? 'e.g. their order arrived broken: it needs putting right'
                  : mode === 'rejected'
                    ? 'e.g. spoke to them yesterday'
                    : 'e.g. a loyal customer since 2019'
              }
            />
          </label>
          <button type="submit">{mode === 'changed' ? (held ? 'Act anyway' : 'Save change') : 'Reject'}</button>
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

// leftOff: customers left off because acting is not expected to pay (when the server says how many).
type Ranking = Worklist['ranking'] & { leftOff?: number };
type Saving = { customers: number; shareTargeted: number; saving: { value: number; low: number; high: number } };

/** How the list is ordered and why: incremental value, where the uplift comes from, the random holdout. */
function RankingBanner({
  ranking,
  showHeld,
  onShowHeld,
  showAll,
  onShowAll,
}: {
  ranking: Ranking;
  showHeld: boolean;
  onShowHeld: (show: boolean) => void;
  showAll: boolean;
  onShowAll: (show: boolean) => void;
}) {
  const money = useMoney();
  const saving = ranking.saving as Saving | null;
  // Once an analysis has scored uplift the list is in incremental-value order, even when no row is shown.
  const byValue = ranking.by === 'incremental_value' || ranking.upliftSource !== null;
  return (
    <section className="card ranking-banner" aria-label="How the list is ranked">
      {byValue ? (
        <p>
          <b>Ranked by expected incremental value</b>: what a personal action is expected to bring beyond doing nothing
          (uplift × what the customer is worth over the next year) minus its cost. Customers who buy anyway, or are
          already gone, sink to the bottom however much they once spent. The uplift is{' '}
          {upliftSourceWords(ranking.upliftSource)}.
        </p>
      ) : (
        <p>
          <b>Ranked by value at risk</b> (value at stake × the chance they are gone): no analysis has estimated uplift
          yet. Run one to rank by what an action is expected to change.
        </p>
      )}
      <p>
        {ranking.heldOut.toLocaleString()} customers of this analysis ({percent(ranking.holdoutShare)}) are held out at
        random: no suggestion, so Kept can measure what the suggestions achieve against them.{' '}
        <label className="inline toggle">
          <input type="checkbox" checked={showHeld} onChange={(e) => onShowHeld(e.target.checked)} /> Show the held-out
          customers
        </label>
      </p>
      <p>
        {ranking.leftOff
          ? `${ranking.leftOff.toLocaleString()} customers are left off: acting on them is not expected to pay (they buy anyway, are probably gone, or too little is at stake), and nothing needs putting right. `
          : 'Customers whom acting is not expected to pay for are left off unless something needs putting right. '}
        <label className="inline toggle">
          <input type="checkbox" checked={showAll} onChange={(e) => onShowAll(e.target.checked)} /> Show them too
        </label>
      </p>
      <p className={saving ? '' : 'muted'}>
        {saving && Number.isFinite(saving.saving?.value)
          ? `On the holdouts, ranking this way would have saved ${money(saving.saving.value)} per customer against treating everyone at risk (95 % interval ${money(saving.saving.low)} to ${money(saving.saving.high)}), treating ${percent(saving.shareTargeted)} of them.`
          : 'What this ranking saves is not measured yet: it needs enough customers held out at random whose 90 days have passed.'}{' '}
        <Link to="/insights">Why they leave →</Link>
      </p>
    </section>
  );
}

/** One customer on the worklist: who, what is at stake, what drives their leaving, the suggestion and where it comes from. */
function WorkItem({
  item,
  allowance,
  onDone,
}: {
  item: WorklistItem;
  allowance: number;
  onDone: (message: string) => void;
}) {
  // Amounts on the card carry the store currency.
  const money = useMoney();
  const exit = item.exitAnswer as { answer: string; at: string } | null;
  const problem = item.problem as { what: string; at: string } | null;
  const drivers = item.drivers as { name: string; label: string; hazardRatio: number; low: number; high: number }[];
  return (
    <li className={`card work-item${item.holdout ? ' held-out' : ''}`}>
      <div className="work-head">
        <Link to={`/customers/${item.customerId}`}>{item.name ?? item.email ?? `Customer ${item.customerId}`}</Link>
        {item.holdout && <span className="badge held">held out at random</span>}
        {item.flags.map((f) => (
          <span key={f} className="flag">
            {words(f)}
          </span>
        ))}
        <span className="muted">
          {words(item.stage)} · {money(item.valueAtStake)} at stake · {Math.round(item.pAlive * 100)} % still active
        </span>
      </div>
      <div className="work-who muted">
        {[item.externalId ? `id ${item.externalId}` : null, item.city, item.email && item.name ? item.email : null]
          .filter(Boolean)
          .join(' · ') || 'no id or city on record'}
      </div>
      <p className="work-value">
        {item.incrementalValue !== null ? (
          <>
            Expected incremental value{' '}
            <b className={item.incrementalValue > 0 ? 'good' : 'bad'}>{money(item.incrementalValue)}</b>
          </>
        ) : (
          'No incremental value estimated'
        )}
        {item.uplift !== null && (
          <>
            {' '}
            · uplift {points(item.uplift, 1)} points{' '}
            <span className="muted">
              (
              {item.upliftSource === 'model'
                ? 'model'
                : item.upliftSource === 'holdouts'
                  ? 'pooled holdouts'
                  : 'assumed'}
              )
            </span>
          </>
        )}
        {item.pBuy90 !== null && <> · {percent(item.pBuy90)} chance of buying anyway in 90 days</>}
      </p>
      {drivers.length > 0 && (
        <p className="small">
          Drivers of leaving:{' '}
          {drivers
            .map((d) => `${d.label} (${ratio(d.hazardRatio)}× the risk, ${ratio(d.low)} to ${ratio(d.high)})`)
            .join('; ')}
        </p>
      )}
      {exit && (
        <p className="small">
          Told us why they stopped ({formatDate(exit.at)}): <q>{exit.answer}</q>
        </p>
      )}
      {problem && (
        <p className="small">
          Latest problem: {problem.what} ({formatDate(problem.at)})
        </p>
      )}
      <p>
        <b>
          Suggested: {words(item.suggestion.action)}
          {item.suggestion.giftValue !== null ? ` (${money(item.suggestion.giftValue)})` : ''}.
        </b>{' '}
        {item.suggestion.reason}
        {item.suggestion.ruleId !== null && (
          <>
            {' '}
            <Link to={`/rules#rule-${item.suggestion.ruleId}`}>From rule #{item.suggestion.ruleId}</Link>
          </>
        )}
      </p>
      {item.holdout && (
        <p className="small muted">
          Held out: leave them alone unless something needs putting right. Acting anyway is recorded as an override and
          needs a reason.
        </p>
      )}
      <Decide item={item} allowance={allowance} onDone={onDone} />
    </li>
  );
}

export function WorklistPage() {
  const money = useMoney();
  const [items, setItems] = useState<WorklistItem[] | null>(null);
  const [ranking, setRanking] = useState<Ranking | null>(null);
  const [allowance, setAllowance] = useState(0);
  const [stage, setStage] = useState('all');
  const [queue, setQueue] = useState('all');
  const [showHeld, setShowHeld] = useState(false);
  const [showAll, setShowAll] = useState(false);
  const [done, setDone] = useState<string[]>([]);
  const [outcomes, setOutcomes] = useState<DecisionOutcome[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setItems(null);
    const query = new URLSearchParams({
      stage,
      queue,
      holdout: showHeld ? 'include' : 'exclude',
      show: showAll ? 'all' : 'worth_acting',
      limit: '100',
    });
    api<Worklist>(`/v1/worklist?${query}`).then(
      (r) => {
        setItems(r.items);
        setAllowance(r.giftAllowance);
        setRanking(r.ranking);
      },
      (e) => setError(e.message),
    );
    api<{ outcomes: DecisionOutcome[] }>('/v1/worklist/outcomes').then(
      (r) => setOutcomes(r.outcomes),
      () => undefined,
    );
  }, [stage, queue, showHeld, showAll]);
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
        Customers whose activity is dropping. The suggestion is a starting point: you make the call. Gestures up to{' '}
        {money(allowance)} need no approval.
      </p>
      {ranking && (
        <RankingBanner
          ranking={ranking}
          showHeld={showHeld}
          onShowHeld={setShowHeld}
          showAll={showAll}
          onShowAll={setShowAll}
        />
      )}
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
        <p className="muted">
          {showAll
            ? 'Nobody on the worklist. Run the analysis to find customers whose activity is dropping.'
            : 'Nobody worth a personal action right now, and nothing to put right. "Show them too" above lists everyone at risk or lapsed.'}
        </p>
      )}
      <ol className="worklist">
        {items?.map((item) => (
          <WorkItem
            key={item.customerId}
            item={item}
            allowance={allowance}
            onDone={(m) => decided(item.customerId, m)}
          />
        ))}
      </ol>
      {outcomes.length > 0 && (
        <section className="card">
          <BarChart
            xAxis="Share who bought again"
            yAxis="Decision"
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
