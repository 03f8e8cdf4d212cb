import { useEffect, useState } from 'react';
import type { Delivery, Webhook, WebhookCreated, WebhookList } from '../../webhooks/webhook.ts';
import { api, formatTime, problemText } from '../api.ts';
import { BarChart } from '../charts.tsx';

/** Webhooks for admins: add one (its secret shown once), what was delivered, and dead deliveries to replay. */
export function WebhooksCard({ onSecret }: { onSecret: (text: string) => void }) {
  const [hooks, setHooks] = useState<Webhook[]>([]);
  const [events, setEvents] = useState<string[]>([]);
  const [form, setForm] = useState<{ url: string; events: string[] }>({ url: '', events: [] });
  const [dead, setDead] = useState<{ hook: number; deliveries: Delivery[] } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = () =>
    api<WebhookList>('/v1/webhooks').then(
      (r) => {
        setHooks(r.webhooks);
        setEvents(r.events);
      },
      (e) => setProblem(problemText(e)),
    );
  useEffect(() => {
    void load();
  }, []);
  const act = (work: Promise<unknown>) =>
    work.then(
      () => {
        setProblem(null);
        void load();
      },
      (e) => setProblem(problemText(e)),
    );
  const showDead = (hook: number) =>
    api<{ deliveries: Delivery[] }>(`/v1/webhooks/${hook}/deliveries?status=dead&limit=50`).then(
      (r) => setDead({ hook, deliveries: r.deliveries }),
      (e) => setProblem(problemText(e)),
    );
  const add = () =>
    act(
      api<WebhookCreated>('/v1/webhooks', { method: 'POST', json: form }).then((r) => {
        onSecret(`Signing secret for ${r.url}: ${r.secret}`);
        setForm({ url: '', events: [] });
      }),
    );
  const toggle = (event: string) =>
    setForm({
      ...form,
      events: form.events.includes(event) ? form.events.filter((e) => e !== event) : [...form.events, event],
    });
  const total = (status: keyof Webhook['counts']) => hooks.reduce((n, h) => n + h.counts[status], 0);
  return (
    <section className="card" aria-label="Webhooks">
      <h2>Webhooks</h2>
      <p className="muted">
        Kept posts these events to your systems, signed with the webhook's secret, and retries for 4 hours before a
        delivery is dead (docs/webhooks.md). Internal addresses need KEPT_WEBHOOK_ALLOW.
      </p>
      {hooks.length > 0 && (
        <div style={{ maxWidth: 480 }}>
          <BarChart
            xAxis="Deliveries"
            yAxis="Status"
            title="Deliveries by status"
            bars={[
              { label: 'delivered', value: total('delivered') },
              { label: 'waiting or retrying', value: total('pending') },
              { label: 'dead', value: total('dead') },
            ]}
          />
        </div>
      )}
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          add();
        }}
      >
        <input
          aria-label="webhook URL"
          type="url"
          required
          placeholder="https://your-system.example.com/kept"
          value={form.url}
          onChange={(e) => setForm({ ...form, url: e.target.value })}
          style={{ flex: '1 1 360px' }}
        />
        {events.map((event) => (
          <label key={event} className="inline">
            <input type="checkbox" checked={form.events.includes(event)} onChange={() => toggle(event)} /> {event}
          </label>
        ))}
        <button type="submit" disabled={form.events.length === 0}>
          Add webhook
        </button>
      </form>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <table className="list">
        <thead>
          <tr>
            <th>URL</th>
            <th>Events</th>
            <th>Secret</th>
            <th className="num">Delivered</th>
            <th className="num">Waiting</th>
            <th className="num">Dead</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {hooks.map((h) => (
            <tr key={h.id}>
              <td>{h.url}</td>
              <td>{h.events.join(', ')}</td>
              <td>
                <code>{h.secretHint}</code>
              </td>
              <td className="num">{h.counts.delivered}</td>
              <td className="num">{h.counts.pending}</td>
              <td className="num">
                {h.counts.dead > 0 ? (
                  <button type="button" className="link" onClick={() => showDead(h.id)}>
                    {h.counts.dead}
                  </button>
                ) : (
                  0
                )}
              </td>
              <td>
                <button
                  type="button"
                  className="link"
                  onClick={() => act(api(`/v1/webhooks/${h.id}`, { method: 'DELETE' }))}
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
          {hooks.length === 0 && (
            <tr>
              <td colSpan={7} className="muted">
                No webhooks yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {dead && <h3>Dead deliveries: replay sends the same event id again, with 4 more hours of retries</h3>}
      {dead && (
        <table className="list" aria-label="Dead deliveries">
          <thead>
            <tr>
              <th>Event</th>
              <th>Type</th>
              <th>Made</th>
              <th className="num">Attempts</th>
              <th>Last answer</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {dead.deliveries.map((d) => (
              <tr key={d.id}>
                <td>
                  <code>{d.eventId}</code>
                </td>
                <td>{d.type}</td>
                <td>{formatTime(d.createdAt)}</td>
                <td className="num">{d.attempts}</td>
                <td>{d.lastError}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() =>
                      act(
                        api(`/v1/webhooks/${dead.hook}/deliveries/${d.id}/replay`, { method: 'POST' }).then(() =>
                          showDead(dead.hook),
                        ),
                      )
                    }
                  >
                    Replay
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
