import { useEffect, useState } from 'react';
import type { ApiKey, CreatedKey, Person } from '../../auth/auth.ts';
import { api, formatDate, problemText } from '../api.ts';
import { BarChart } from '../charts.tsx';
import { WebhooksCard } from './webhooks-card.tsx';

const roles = ['admin', 'marketer', 'agent', 'analyst'];

/** People who sign in and API keys, for admins; a password or key is shown once, right after it is made. */
export function TeamPage() {
  const [people, setPeople] = useState<Person[] | null>(null);
  const [keys, setKeys] = useState<ApiKey[]>([]);
  const [shown, setShown] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [person, setPerson] = useState({ email: '', role: 'agent' });
  const [key, setKey] = useState({ name: '', role: 'marketer', scopes: '' });
  const load = () => {
    api<{ users: Person[] }>('/v1/users').then(
      (r) => setPeople(r.users),
      (e) => setProblem(problemText(e)),
    );
    api<{ keys: ApiKey[] }>('/v1/keys').then(
      (r) => setKeys(r.keys),
      () => undefined,
    );
  };
  useEffect(load, []);
  const act = (work: Promise<unknown>) =>
    work.then(
      () => {
        setProblem(null);
        load();
      },
      (e) => setProblem(problemText(e)),
    );
  const change = (p: Person, body: { role?: string; disabled?: boolean }) =>
    act(api(`/v1/users/${p.id}`, { method: 'PUT', json: body }));
  const newPassword = (p: Person) =>
    act(
      api<{ password: string }>(`/v1/users/${p.id}/password`, { method: 'POST' }).then((r) =>
        setShown(`New password for ${p.email}: ${r.password}`),
      ),
    );
  const add = () =>
    act(
      api<{ user: Person; password: string }>('/v1/users', { method: 'POST', json: person }).then((r) => {
        setShown(`Password for ${r.user.email}: ${r.password}`);
        setPerson({ email: '', role: 'agent' });
      }),
    );
  const create = () =>
    act(
      api<CreatedKey>('/v1/keys', {
        method: 'POST',
        json: { name: key.name, role: key.role, scopes: key.scopes.split(/[\s,]+/).filter(Boolean) },
      }).then((r) => {
        setShown(`Key "${r.name}": ${r.key}`);
        setKey({ name: '', role: 'marketer', scopes: '' });
      }),
    );
  if (!people)
    return problem ? (
      <p className="error" role="alert">
        {problem}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  const active = people.filter((p) => !p.disabledAt);
  return (
    <div>
      <h1>Team and keys</h1>
      <p className="muted">
        Who may sign in, in which role, the keys integrations use and the webhooks Kept calls. docs/security.md says
        what each role may see and do; every change here is in the audit log.
      </p>
      {shown && (
        <p className="notice" role="status">
          <b>Shown once, copy it now:</b> <code>{shown}</code>{' '}
          <button type="button" className="link" onClick={() => setShown(null)}>
            Done
          </button>
        </p>
      )}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <div className="columns">
        <section className="card">
          <BarChart
            xAxis="People"
            yAxis="Role"
            title="Active people by role"
            bars={roles.map((r) => ({ label: r, value: active.filter((p) => p.role === r).length }))}
          />
        </section>
        <section className="card">
          <h2>Add a person</h2>
          <form
            className="filters"
            onSubmit={(e) => {
              e.preventDefault();
              add();
            }}
          >
            <input
              aria-label="email"
              type="email"
              required
              placeholder="email"
              value={person.email}
              onChange={(e) => setPerson({ ...person, email: e.target.value })}
            />
            <select
              aria-label="new person's role"
              value={person.role}
              onChange={(e) => setPerson({ ...person, role: e.target.value })}
            >
              {roles.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
            <button type="submit">Add</button>
          </form>
        </section>
      </div>
      <section className="card">
        <h2>People</h2>
        <table className="list">
          <thead>
            <tr>
              <th>Email</th>
              <th>Role</th>
              <th>Since</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {people.map((p) => (
              <tr key={p.id}>
                <td>{p.email}</td>
                <td>
                  <select
                    aria-label={`role of ${p.email}`}
                    value={p.role}
                    onChange={(e) => change(p, { role: e.target.value })}
                  >
                    {roles.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td>{formatDate(p.createdAt)}</td>
                <td>{p.disabledAt ? `disabled ${formatDate(p.disabledAt)}` : 'active'}</td>
                <td>
                  <button type="button" className="link" onClick={() => change(p, { disabled: !p.disabledAt })}>
                    {p.disabledAt ? 'Enable' : 'Disable'}
                  </button>{' '}
                  <button type="button" className="link" onClick={() => newPassword(p)}>
                    New password
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>API keys</h2>
        <form
          className="filters"
          onSubmit={(e) => {
            e.preventDefault();
            create();
          }}
        >
          <input
            aria-label="key name"
            required
            placeholder="what it is for, e.g. shop"
            value={key.name}
            onChange={(e) => setKey({ ...key, name: e.target.value })}
          />
          <select aria-label="key role" value={key.role} onChange={(e) => setKey({ ...key, role: e.target.value })}>
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
          <input
            aria-label="key scopes"
            placeholder="scopes, e.g. events:write (empty: all its role may)"
            value={key.scopes}
            onChange={(e) => setKey({ ...key, scopes: e.target.value })}
            style={{ minWidth: 320 }}
          />
          <button type="submit">Create key</button>
        </form>
        <table className="list">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Scopes</th>
              <th>Starts with</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} className={k.revokedAt ? 'muted' : undefined}>
                <td>{k.name}</td>
                <td>{k.role}</td>
                <td>{k.scopes?.join(', ') ?? 'all of its role'}</td>
                <td>
                  <code>{k.prefix}…</code>
                </td>
                <td>{k.lastUsedAt ? formatDate(k.lastUsedAt) : 'never'}</td>
                <td>
                  {k.revokedAt ? (
                    `revoked ${formatDate(k.revokedAt)}`
                  ) : (
                    <button
                      type="button"
                      className="link"
                      onClick={() => act(api(`/v1/keys/${k.id}`, { method: 'DELETE' }))}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <WebhooksCard onSecret={setShown} />
    </div>
  );
}
