// On the customer page: why they left (the post-mortem: likely cause, exit answer, last experiences,
// what stayed unresolved, what was tried, the drivers that applied) and a form to give a gesture.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { z } from '@hono/zod-openapi';
import type { postMortemSchema } from '../../analytics/retention.ts';
import { api, formatDate, problemText, words } from '../api.ts';
import { ratio } from './leaving-section.tsx';
import { useMoney } from '../plain.tsx';

type PostMortem = z.infer<typeof postMortemSchema>;

const fromWords: Record<PostMortem['cause']['from'], string> = {
  'exit answer': 'from what they answered in the exit survey',
  drivers: 'from the drivers of leaving that applied when they stopped (the hazard model, not their own words)',
  'nothing on record': 'nothing on record explains it: no problem, no exit answer',
};
const contactWords: Record<string, string> = {
  touchpoint: 'We reached out',
  worklist: 'Worklist decision',
  task: 'Task',
  journey: 'Journey',
  note: 'Note',
};
const ordinal = (n: number) =>
  `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;
const text = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const dayDate = (day: unknown) => (typeof day === 'number' ? formatDate(new Date(day * 86_400_000).toISOString()) : '');

function Facts({ title, empty, children }: { title: string; empty: string; children: ReactNode[] }) {
  return (
    <>
      <h3>{title}</h3>
      {children.length === 0 ? <p className="muted">{empty}</p> : <ul className="plain">{children}</ul>}
    </>
  );
}

function Body({ p }: { p: PostMortem }) {
  return (
    <>
      <p className="cause">
        Likely cause: <b>{p.cause.cause}</b> <span className="muted">({fromWords[p.cause.from]})</span>
      </p>
      {p.exitAnswer && (
        <p>
          Their exit answer on {formatDate(p.exitAnswer.at)}: <q className="exit-answer">{p.exitAnswer.answer}</q>
        </p>
      )}
      <p className="muted">
        {p.lastOrderAt
          ? `Last order ${formatDate(p.lastOrderAt)}, ${p.silentDays?.toLocaleString()} days ago${p.lapsed ? ` (lapsed: ${p.lapseDays} days or more without an order)` : ''}.`
          : 'No order on record.'}
      </p>
      <div className="grid2">
        <div>
          <Facts title="Last experiences" empty="None recorded.">
            {p.experiences.map((e, i) => (
              <li key={i}>
                {formatDate(text(e.at))}: <b>{words(text(e.kind))}</b> — {text(e.detail)}
                {e.valence === 'problem' && (
                  <span className={e.followedUpAt ? 'muted' : 'bad'}>
                    {' '}
                    · {e.followedUpAt ? `followed up ${formatDate(text(e.followedUpAt))}` : 'nobody followed up'}
                  </span>
                )}
                {typeof e.occurrence === 'number' && e.occurrence > 1 ? (
                  <span className="muted"> · the {ordinal(e.occurrence)} time</span>
                ) : null}
              </li>
            ))}
          </Facts>
          <Facts title="What stayed unresolved" empty="Nothing left open.">
            {p.unresolved.map((u, i) => (
              <li key={i}>
                {formatDate(text(u.at))}: {u.what === 'ticket' ? 'ticket ' : ''}
                {text(u.detail)}
              </li>
            ))}
          </Facts>
        </div>
        <div>
          <Facts title="Contacts and what was tried" empty="Nobody on our side contacted them.">
            {p.contacts.map((c, i) => (
              <li key={i}>
                {formatDate(text(c.at))}:{' '}
                <span className="muted">{contactWords[text(c.what)] ?? words(text(c.what))}</span> {text(c.detail)}
              </li>
            ))}
          </Facts>
          <Facts
            title="Drivers of leaving that applied"
            empty={
              p.modelRunId
                ? 'None of the drivers applied when they stopped.'
                : 'No analysis has fitted the drivers yet.'
            }
          >
            {p.drivers.map((d) => (
              <li key={d.name}>
                {d.label}: {ratio(d.hazardRatio)}× the risk of leaving in a month ({ratio(d.low)} to {ratio(d.high)})
                {d.at ? <span className="muted"> · latest {dayDate(d.at)}</span> : null}
              </li>
            ))}
          </Facts>
        </div>
      </div>
    </>
  );
}

/** Why they left: open for a lapsed customer, folded away for the others. */
export function PostMortemSection({ id }: { id: number }) {
  const [found, setFound] = useState<PostMortem | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    setFound(null);
    api<PostMortem>(`/v1/customers/${id}/post-mortem`).then(setFound, (e) => setProblem(problemText(e)));
  }, [id]);
  if (problem)
    return (
      <p className="error" role="alert">
        Post-mortem: {problem}
      </p>
    );
  if (!found) return null;
  if (found.lapsed)
    return (
      <section className="card post-mortem" aria-label="Post-mortem">
        <h2>Post-mortem: why they left</h2>
        <Body p={found} />
      </section>
    );
  return (
    <details className="card post-mortem" aria-label="Post-mortem">
      <summary>
        <b>Post-mortem: why they left</b>{' '}
        <span className="muted">
          (not lapsed{found.silentDays !== null ? `: ${found.silentDays} days since the last order` : ''}; what Kept
          would say if they stopped now)
        </span>
      </summary>
      <Body p={found} />
    </details>
  );
}

/** A gesture to this customer, on the worklist or not: over the allowance it waits for approval. */
export function GiveGesture({ id, onGiven }: { id: number; onGiven?: () => void }) {
  const money = useMoney();
  const [open, setOpen] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    setError(null);
    setResult(null);
    try {
      const r = await api<{ action: string; giftValue: number; needsApproval: boolean; heldOut: boolean }>(
        `/v1/customers/${id}/gestures`,
        {
          method: 'POST',
          json: { action: data.get('action'), giftValue: Number(data.get('giftValue')), reason: data.get('reason') },
        },
      );
      setResult(
        `Recorded: ${words(r.action)} worth ${money(r.giftValue)}. ${
          r.needsApproval
            ? 'It is over your allowance, so it waits for an admin or marketer to approve it.'
            : 'Within your allowance: no approval needed.'
        }${r.heldOut ? " They were in the worklist's random holdout: this is recorded as an override, and they no longer count as left alone." : ''}`,
      );
      form.reset();
      onGiven?.();
    } catch (e) {
      setError(problemText(e));
    }
  };
  if (!open)
    return (
      <p>
        <button type="button" className="secondary" onClick={() => setOpen(true)}>
          Give a gesture…
        </button>
      </p>
    );
  return (
    <form className="card contact gesture" onSubmit={submit} aria-label="Give a gesture">
      <h2>Give a gesture</h2>
      <div className="row">
        <label>
          What
          <select name="action" defaultValue="gift">
            <option value="gift">a small gift</option>
            <option value="offer">an offer</option>
            <option value="apology_replacement">an apology with a replacement</option>
          </select>
        </label>
        <label>
          Worth
          <input name="giftValue" type="number" min="0" step="0.01" required defaultValue="10" />
        </label>
      </div>
      <label>
        Why
        <input name="reason" required maxLength={1000} placeholder="e.g. their parcel came a week late" />
      </label>
      <p className="small muted">
        Over your allowance it waits for approval; never to a moved or undeliverable address.
      </p>
      <button type="submit">Give it</button>{' '}
      <button type="button" className="link" onClick={() => setOpen(false)}>
        Close
      </button>
      {result && (
        <p className="notice" role="status">
          {result}
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
