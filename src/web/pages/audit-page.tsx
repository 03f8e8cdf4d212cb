import { useEffect, useState } from 'react';
import type { AuditLogEntry } from '../../audit/audit.ts';
import type { Retention, SweepStarted } from '../../privacy/privacy.ts';
import { api, formatTime, problemText } from '../api.ts';
import { ColumnChart } from '../charts.tsx';
import type { JobStatus } from '../../jobs/job.ts';

const families = ['login', 'logout', 'user', 'key', 'import', 'export', 'consent', 'customer', 'retention'];
const page = 200;

const total = (deleted: Record<string, number>) => Object.values(deleted).reduce((a, b) => a + b, 0);

/** How long each class of data is kept, what the sweeps deleted (a chart, then the table), and a sweep on demand with its progress. */
function RetentionCard() {
  const [data, setData] = useState<Retention | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () => api<Retention>('/v1/retention').then(setData, (e) => setProblem(problemText(e)));
  useEffect(() => {
    void load();
  }, []);
  const sweep = async () => {
    try {
      const { jobId } = await api<SweepStarted>('/v1/retention/sweep', { method: 'POST' });
      for (;;) {
        const job = await api<JobStatus>(`/v1/jobs/${jobId}`);
        setProgress(`Sweeping: ${job.done} of ${job.total ?? '?'} classes`);
        if (job.status === 'failed') throw new Error(job.error ?? 'the sweep failed');
        if (job.status === 'done') break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      setProgress(null);
      await load();
    } catch (e) {
      setProgress(null);
      setProblem(problemText(e));
    }
  };
  if (!data)
    return problem ? (
      <p className="error" role="alert">
        {problem}
      </p>
    ) : null;
  const last = data.sweeps[0];
  return (
    <section className="card" aria-label="Retention">
      <h2>Retention</h2>
      <p className="muted">
        Every night at 03:00 Kept deletes what is older than its class allows (set with KEPT_RETENTION), and rows left
        without a customer.
      </p>
      <ColumnChart
        xAxis="Sweep"
        yAxis="Records deleted"
        title="Records deleted per sweep"
        columns={[...data.sweeps].reverse().map((s) => ({ label: s.at.slice(5, 10), value: total(s.deleted) }))}
        format={(v) => String(v)}
      />
      <table className="list">
        <thead>
          <tr>
            <th>Data</th>
            <th>Kept for</th>
            <th>Deleted by the last sweep{last ? ` (${formatTime(last.at)})` : ''}</th>
          </tr>
        </thead>
        <tbody>
          {data.classes.map((c) => (
            <tr key={c.class}>
              <td>
                <b>{c.class.replace(/_/g, ' ')}</b>
                <br />
                <span className="small">{c.what}</span>
              </td>
              <td>{c.days === null ? 'kept' : `${c.days} days`}</td>
              <td>{last ? (last.deleted[c.class] ?? 0) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button type="button" onClick={sweep} disabled={progress !== null}>
          Sweep now
        </button>{' '}
        {progress && <span role="status">{progress}</span>}
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}

/** The audit log for admins: a chart of sign-ins by day, then every entry, newest first, with filters and the CSV export. */
/** A detail's value in a line: a list shows its first five and how many more (a bulk action may name hundreds). */
const detailText = (v: unknown): string =>
  Array.isArray(v)
    ? `${v.slice(0, 5).join(', ')}${v.length > 5 ? ` and ${(v.length - 5).toLocaleString()} more` : ''}`
    : v !== null && typeof v === 'object'
      ? JSON.stringify(v)
      : String(v);

export function AuditPage() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [entries, setEntries] = useState<AuditLogEntry[] | null>(null);
  const [more, setMore] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const query = (before?: number) =>
    new URLSearchParams({
      limit: String(page),
      ...(action ? { action } : {}),
      ...(actor.trim() ? { actor: actor.trim() } : {}),
      ...(before ? { before: String(before) } : {}),
    });
  const load = (before?: number) =>
    api<{ entries: AuditLogEntry[] }>(`/v1/audit?${query(before)}`).then(
      (r) => {
        setEntries((shown) => (before && shown ? [...shown, ...r.entries] : r.entries));
        setMore(r.entries.length === page);
        setProblem(null);
      },
      (e) => setProblem(problemText(e)),
    );
  useEffect(() => {
    void load();
  }, [action]);

  // Sign-ins and failed sign-ins on each of the last 14 days, from the whole log's sign-in entries.
  const [logins, setLogins] = useState<AuditLogEntry[]>([]);
  useEffect(() => {
    api<{ entries: AuditLogEntry[] }>('/v1/audit?action=login&limit=500').then(
      (r) => setLogins(r.entries),
      () => undefined,
    );
  }, []);
  const days = Array.from({ length: 14 }, (_, i) =>
    new Date(Date.now() - (13 - i) * 86_400_000).toISOString().slice(0, 10),
  );
  const columns = days.map((day) => {
    const that = logins.filter((e) => e.at.slice(0, 10) === day);
    const failed = that.filter((e) => e.action === 'login.failed').length;
    return { label: day.slice(5), value: that.length, marks: failed > 0 ? [`${failed} failed`] : [] };
  });

  return (
    <div>
      <h1>Audit log</h1>
      <p className="muted">
        Who signed in, who added people and keys, who imported and exported, every consent change. Nothing here can be
        changed or removed, not even by an admin.
      </p>
      <section className="card">
        <ColumnChart
          xAxis="Day"
          yAxis="Sign-ins"
          title="Sign-ins by day (last 14 days; failed ones marked)"
          columns={columns}
          format={(v) => String(v)}
        />
      </section>
      <section className="card">
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void load();
          }}
        >
          <label className="inline">
            Action{' '}
            <select value={action} onChange={(e) => setAction(e.target.value)}>
              <option value="">all</option>
              {families.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            Who{' '}
            <input value={actor} onChange={(e) => setActor(e.target.value)} placeholder="email, key:NAME, cli:USER" />
          </label>
          <button type="submit">Show</button>
          <a href={`/api/v1/audit.csv?${query()}`} download>
            Export CSV
          </a>
        </form>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
        {!entries ? (
          <p className="muted">Loading…</p>
        ) : entries.length === 0 ? (
          <p className="muted">Nothing recorded yet.</p>
        ) : (
          <table className="list" aria-label="Audit entries">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>To</th>
                <th>Details</th>
                <th>From</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id}>
                  <td>{formatTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <b>{e.action}</b>
                  </td>
                  <td>{e.target ?? ''}</td>
                  <td className="small">
                    {Object.entries(e.detail)
                      .map(([k, v]) => `${k}: ${detailText(v)}`)
                      .join(' · ')}
                  </td>
                  <td className="small">{e.ip ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {more && entries && (
          <button type="button" onClick={() => load(entries.at(-1)!.id)}>
            Older entries
          </button>
        )}
      </section>
      <RetentionCard />
    </div>
  );
}
