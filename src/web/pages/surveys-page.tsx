import { useEffect, useState } from 'react';
import type { Feedback, SurveyList, SurveySummary } from '../../surveys/survey.ts';
import { api, formatTime } from '../api.ts';
import { BarChart } from '../charts.tsx';

export function SurveysPage() {
  const [surveys, setSurveys] = useState<SurveySummary[] | null>(null);
  const [feedback, setFeedback] = useState<Feedback[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<SurveyList>('/v1/surveys').then(
      (r) => setSurveys(r.surveys),
      (e) => setError(e.message),
    );
    api<{ feedback: Feedback[] }>('/v1/feedback?limit=50').then(
      (r) => setFeedback(r.feedback),
      () => undefined,
    );
  }, []);
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!surveys) return <p className="muted">Loading…</p>;
  const withNps = surveys.filter((s) => s.nps !== null);
  return (
    <div>
      <h1>Surveys</h1>
      <p className="muted">
        Each customer gets their own link (from a campaign, a journey or the customer page); answers land on the
        customer's timeline. Website visitors can leave feedback at <a href="/feedback">/feedback</a>.
      </p>
      <div className="columns">
        <section className="card">
          <BarChart
            xAxis="Share of invitations answered"
            yAxis="Survey"
            title="Share of invitations answered"
            format={(v) => `${Math.round(v * 100)} %`}
            // Answers that came without an invitation (imported, or a form on the site) are no share of invitations.
            bars={surveys.filter((s) => s.invited > 0).map((s) => ({ label: s.key, value: s.answered / s.invited }))}
            empty="No invitations sent yet: answers that arrived without one are counted in the table below."
          />
        </section>
        {withNps.length > 0 && (
          <section className="card">
            <BarChart
              xAxis="Net promoter score"
              yAxis="Survey"
              title="Net promoter score (promoters − detractors, %)"
              format={(v) => String(Math.round(v))}
              bars={withNps.map((s) => ({
                label: s.key,
                value: Math.max(0, s.nps!),
                color: s.nps! < 0 ? '#c0392b' : undefined,
              }))}
            />
            {withNps.some((s) => s.nps! < 0) && (
              <p className="muted">
                Negative scores:{' '}
                {withNps
                  .filter((s) => s.nps! < 0)
                  .map((s) => `${s.key} ${s.nps}`)
                  .join(', ')}
              </p>
            )}
          </section>
        )}
      </div>
      <section className="card">
        <table>
          <thead>
            <tr>
              <th>Survey</th>
              <th>Purpose</th>
              <th>Invited</th>
              <th>Answered</th>
              <th>Answers</th>
              <th>NPS</th>
              <th>Average score</th>
            </tr>
          </thead>
          <tbody>
            {surveys.map((s) => (
              <tr key={s.id}>
                <td>
                  <b>{s.key}</b> <span className="muted">{s.title}</span>
                </td>
                <td>{s.purpose}</td>
                <td>{s.invited}</td>
                <td>{s.answered}</td>
                <td>{s.responses}</td>
                <td>{s.nps ?? '—'}</td>
                <td>{s.average === null ? '—' : s.average.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section className="card">
        <h2>Website feedback</h2>
        {feedback.length === 0 ? (
          <p className="muted">None yet.</p>
        ) : (
          <ul className="plain">
            {feedback.map((f) => (
              <li key={f.id}>
                <time>{formatTime(f.at)}</time> <b>{f.score ?? '—'}/5</b> {f.comment}{' '}
                {f.page && <small className="muted">on {f.page}</small>}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
