import { useEffect, useState } from 'react';
import type { TemplateSummary } from '../../campaigns/campaign.ts';
import type {
  Journey,
  JourneyDetail,
  JourneyList,
  JourneyReport,
  JourneyRound,
  Step,
  Trigger,
} from '../../journeys/journey.ts';
import type { Catalogue, Rule } from '../../segments/segment.ts';
import type { SurveyList } from '../../surveys/survey.ts';
import { api, formatTime, problemText, words } from '../api.ts';
import { BarChart } from '../charts.tsx';
import { Link, navigate } from '../router.tsx';
import { BlueprintSection } from './blueprint-section.tsx';
import { HoldoutReport } from './campaigns-page.tsx';
import { GroupEditor } from './segments-page.tsx';
import { useCan } from '../session.tsx';

type Stage = Extract<Trigger, { type: 'stage' }>['stage'];
type Source = Extract<Trigger, { type: 'experience' }>['sources'][number];
type TaskAction = Extract<Step, { type: 'task' }>['action'];
const stages: Stage[] = ['trial', 'customer', 'best', 'at_risk', 'lapsed', 'won_back'];
const sources: Source[] = ['incident', 'return', 'delivery', 'ticket', 'survey', 'note'];
const outcomeColors: Record<string, string> = {
  sent: '#27ae60',
  'held out': '#4f5b66',
  suppressed: '#f2994a',
  unknown: '#eb5757',
  failed: '#c0392b',
  'task made': '#2f80ed',
  passed: '#56ccf2',
  'not met': '#9b51e0',
  sending: '#f2c94c',
};

const triggerText = (t: Trigger) =>
  t.type === 'order'
    ? 'every new order'
    : t.type === 'stage'
      ? `the customer becomes ${words(t.stage)}`
      : t.type === 'delivery'
        ? `the carrier says an order was ${t.statuses.join(' or ')}`
        : `a bad experience (${t.sources.join(', ')}${t.kinds?.length ? `: ${t.kinds.map(words).join(', ')}` : ''})`;

function stepText(s: Step, templates: Map<number, string>): string {
  if (s.type === 'wait')
    return s.until === 'next_order'
      ? `Wait until ${s.days} days after the expected next order (${s.fallbackDays} days without one)`
      : `Wait ${s.days} days`;
  if (s.type === 'condition')
    return `Only if they match ${s.rule.conditions.length} condition${s.rule.conditions.length === 1 ? '' : 's'}; otherwise they leave`;
  if (s.type === 'task')
    return `Task for an agent: ${words(s.action)}, "${s.title}", due in ${s.dueDays} day${s.dueDays === 1 ? '' : 's'}`;
  const extras = [s.transactional && 'transactional', s.problemLink && 'problem link', s.survey && `survey ${s.survey}`]
    .filter(Boolean)
    .join(', ');
  return `Email "${templates.get(s.templateId) ?? `template ${s.templateId}`}"${extras ? ` (${extras})` : ''}`;
}

export function JourneysPage() {
  const [state, setState] = useState<JourneyList | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const can = useCan();
  const load = () => api<JourneyList>('/v1/journeys').then(setState, (e) => setProblem(e.message));
  useEffect(() => {
    void load();
  }, []);
  const start = (key: string) =>
    api<Journey>(`/v1/journeys/recipes/${key}`, { method: 'POST' }).then(
      (j) => navigate(`/journeys/${j.id}`),
      (e) => setProblem(problemText(e)),
    );
  const run = () =>
    api<JourneyRound>('/v1/journeys/run', { method: 'POST' }).then(
      (r) => {
        setMessage(`${r.entered} entered, ${r.skipped} skipped, ${r.steps} steps, ${r.sent} mails sent`);
        void load();
      },
      (e) => setProblem(problemText(e)),
    );
  if (!state)
    return problem ? (
      <p className="error" role="alert">
        {problem}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  const used = new Set(state.journeys.map((j) => j.name));
  return (
    <div>
      <header className="page-head">
        <h1>Journeys</h1>
        {can('POST /api/v1/journeys/run') && (
          <button type="button" onClick={run}>
            Run a round now
          </button>
        )}
      </header>
      <p className="muted">
        Triggered and always on: something happens to a customer and the journey takes them through its steps, each
        journey against its own holdout. The server runs a round every 30 seconds.
      </p>
      {message && <p role="status">{message}</p>}
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {state.journeys.length > 0 && (
        <>
          <BarChart
            xAxis="Customers in it now"
            yAxis="Journey"
            title="Customers in each journey now"
            bars={state.journeys.map((j) => ({
              label: j.name,
              value: j.counts?.active ?? 0,
              onClick: () => navigate(`/journeys/${j.id}`),
            }))}
          />
          <table className="list">
            <thead>
              <tr>
                <th>Journey</th>
                <th>Starts when</th>
                <th>Status</th>
                <th className="num">In it</th>
                <th className="num">Completed</th>
                <th className="num">Left early</th>
                <th className="num">Skipped</th>
                <th className="num">Holdout</th>
              </tr>
            </thead>
            <tbody>
              {state.journeys.map((j) => (
                <tr key={j.id}>
                  <td>
                    <Link to={`/journeys/${j.id}`}>{j.name}</Link>
                  </td>
                  <td>{triggerText(j.trigger)}</td>
                  <td>{words(j.status)}</td>
                  <td className="num">{j.counts?.active ?? 0}</td>
                  <td className="num">{j.counts?.completed ?? 0}</td>
                  <td className="num">{j.counts?.exited ?? 0}</td>
                  <td className="num">{j.counts?.skipped ?? 0}</td>
                  <td className="num">{j.counts?.holdout ?? 0}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <BlueprintSection />
      {can('POST /api/v1/journeys/recipes/:key') && (
        <>
          <h2>Start from a recipe</h2>
          <div className="recipes">
            {state.recipes.map((r) => (
              <section key={r.key} className="card">
                <h3>{r.name}</h3>
                <p className="small">{r.description}</p>
                <button type="button" onClick={() => start(r.key)}>
                  {used.has(r.name) ? 'Start another' : 'Start as a draft'}
                </button>
              </section>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

function StepEditor({
  step,
  templates,
  surveys,
  catalogue,
  onChange,
  onRemove,
  onUp,
}: {
  step: Step;
  templates: { id: number; name: string }[];
  surveys: string[];
  catalogue: Catalogue | null;
  onChange: (s: Step) => void;
  onRemove: () => void;
  onUp?: () => void;
}) {
  const number = (value: string) => Math.max(0, Number(value) || 0);
  return (
    <div className="step-editor">
      <select
        aria-label="step type"
        value={step.type}
        onChange={(e) =>
          onChange(
            e.target.value === 'wait'
              ? { type: 'wait', days: 7, fallbackDays: 30 }
              : e.target.value === 'condition'
                ? { type: 'condition', rule: { match: 'all', conditions: [] } }
                : e.target.value === 'task'
                  ? { type: 'task', action: 'call', title: 'Call the customer', dueDays: 1 }
                  : { type: 'email', templateId: templates[0]?.id ?? 0, transactional: false, problemLink: false },
          )
        }
      >
        {['wait', 'condition', 'email', 'task'].map((t) => (
          <option key={t}>{t}</option>
        ))}
      </select>
      {step.type === 'wait' && (
        <>
          <label>
            days{' '}
            <input
              type="number"
              value={step.days}
              onChange={(e) => onChange({ ...step, days: Number(e.target.value) || 0 })}
            />
          </label>
          <label>
            <input
              type="checkbox"
              checked={step.until === 'next_order'}
              onChange={(e) => onChange({ ...step, until: e.target.checked ? 'next_order' : undefined })}
            />{' '}
            after the expected next order
          </label>
          {step.until && (
            <label>
              without one, wait{' '}
              <input
                type="number"
                value={step.fallbackDays}
                onChange={(e) => onChange({ ...step, fallbackDays: number(e.target.value) })}
              />{' '}
              days
            </label>
          )}
        </>
      )}
      {step.type === 'email' && (
        <>
          <select
            aria-label="template"
            value={step.templateId}
            onChange={(e) => onChange({ ...step, templateId: Number(e.target.value) })}
          >
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
          <label>
            <input
              type="checkbox"
              checked={step.transactional}
              onChange={(e) => onChange({ ...step, transactional: e.target.checked })}
            />{' '}
            about the order (transactional)
          </label>
          <label>
            <input
              type="checkbox"
              checked={step.problemLink}
              onChange={(e) => onChange({ ...step, problemLink: e.target.checked })}
            />{' '}
            problem link
          </label>
          <select
            aria-label="survey"
            value={step.survey ?? ''}
            onChange={(e) => onChange({ ...step, survey: e.target.value || undefined })}
          >
            <option value="">no survey link</option>
            {surveys.map((s) => (
              <option key={s} value={s}>
                survey {s}
              </option>
            ))}
          </select>
        </>
      )}
      {step.type === 'task' && (
        <>
          <select
            aria-label="action"
            value={step.action}
            onChange={(e) => onChange({ ...step, action: e.target.value as TaskAction })}
          >
            {['call', 'apology_replacement', 'gift'].map((a) => (
              <option key={a} value={a}>
                {words(a)}
              </option>
            ))}
          </select>
          <input
            aria-label="task title"
            value={step.title}
            onChange={(e) => onChange({ ...step, title: e.target.value })}
          />
          <label>
            due in{' '}
            <input
              type="number"
              value={step.dueDays}
              onChange={(e) => onChange({ ...step, dueDays: number(e.target.value) })}
            />{' '}
            days
          </label>
        </>
      )}
      {step.type === 'condition' && catalogue && (
        <GroupEditor rule={step.rule} catalogue={catalogue} onChange={(rule) => onChange({ ...step, rule })} />
      )}
      {onUp && (
        <button type="button" className="link" onClick={onUp}>
          move up
        </button>
      )}
      <button type="button" className="link" onClick={onRemove}>
        remove
      </button>
    </div>
  );
}

export function JourneyPage({ id }: { id: number }) {
  const [state, setState] = useState<JourneyDetail | null>(null);
  const [draft, setDraft] = useState<Journey | null>(null);
  const [templates, setTemplates] = useState<TemplateSummary[]>([]);
  const [surveys, setSurveys] = useState<string[]>([]);
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [report, setReport] = useState<JourneyReport | null>(null);
  const [days, setDays] = useState(30);
  const [problem, setProblem] = useState<string | null>(null);
  const can = useCan();
  const load = () => {
    api<JourneyDetail>(`/v1/journeys/${id}`).then(
      (s) => {
        setState(s);
        setDraft(s.journey);
      },
      (e) => setProblem(e.message),
    );
    api<JourneyReport>(`/v1/journeys/${id}/report?days=${days}`).then(setReport, () => undefined);
  };
  useEffect(load, [id, days]);
  useEffect(() => {
    api<{ templates: TemplateSummary[] }>('/v1/templates').then(
      (r) => setTemplates(r.templates),
      () => undefined,
    );
    api<SurveyList>('/v1/surveys').then(
      (r) => setSurveys(r.surveys.map((s) => s.key)),
      () => undefined,
    );
    api<Catalogue>('/v1/segments/fields').then(setCatalogue, () => undefined);
  }, []);
  if (!state || !draft)
    return problem ? (
      <p className="error" role="alert">
        {problem}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  const { journey } = state;
  const names = new Map(templates.map((t) => [t.id, t.name]));
  const act = (action: string) =>
    api(`/v1/journeys/${id}/${action}`, { method: 'POST' }).then(load, (e) => setProblem(problemText(e)));
  const save = () => {
    const { name, description, trigger, entry, steps, exitOnOrder, exit, holdoutShare, consentList } = draft;
    api<Journey>(`/v1/journeys/${id}`, {
      method: 'PUT',
      json: { name, description, trigger, entry, steps, exitOnOrder, exit, holdoutShare, consentList },
    }).then(
      () => {
        setProblem(null);
        load();
      },
      (e) => setProblem(problemText(e)),
    );
  };
  const setStep = (i: number, step: Step | null) =>
    setDraft({
      ...draft,
      steps: step === null ? draft.steps.filter((_, k) => k !== i) : draft.steps.map((s, k) => (k === i ? step : s)),
    });
  const moveUp = (i: number) =>
    setDraft({
      ...draft,
      steps: draft.steps.map((s, k) => (k === i - 1 ? draft.steps[i] : k === i ? draft.steps[i - 1] : s)),
    });
  const changed = JSON.stringify(draft) !== JSON.stringify(journey);
  return (
    <div>
      <p>
        <Link to="/journeys">← Journeys</Link>
      </p>
      <h1>
        {journey.name}{' '}
        <small className="muted">
          {words(journey.status)}
          {journey.activatedAt && ` · first activated ${formatTime(journey.activatedAt)}`}
        </small>
      </h1>
      {journey.description && <p>{journey.description}</p>}
      <div className="filters">
        {can('POST /api/v1/journeys/:id/activate') && journey.status !== 'active' && (
          <button type="button" onClick={() => act('activate')}>
            Activate
          </button>
        )}
        {can('POST /api/v1/journeys/:id/pause') && journey.status === 'active' && (
          <button type="button" onClick={() => act('pause')}>
            Pause
          </button>
        )}
      </div>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}

      <section className="card">
        <h2>The journey</h2>
        <ol className="flow">
          <li className="flow-trigger">
            <b>Starts when</b> {triggerText(journey.trigger)}
            {journey.entry &&
              journey.entry.conditions.length > 0 &&
              `, if they match the entry rule (${journey.entry.conditions.length} condition${journey.entry.conditions.length === 1 ? '' : 's'})`}
          </li>
          {journey.steps.map((s, i) => {
            const outcomes = state.steps.filter((c) => c.step === i);
            const total = outcomes.reduce((a, c) => a + c.n, 0);
            return (
              <li key={i}>
                <b>{i + 1}.</b> {stepText(s, names)}
                {total > 0 && (
                  <div className="meter" title={outcomes.map((c) => `${c.outcome}: ${c.n}`).join(', ')}>
                    {outcomes.map((c) => (
                      <span
                        key={c.outcome}
                        style={{ width: `${(100 * c.n) / total}%`, background: outcomeColors[c.outcome] ?? '#828282' }}
                      />
                    ))}
                  </div>
                )}
                {total > 0 && <small className="muted">{outcomes.map((c) => `${c.n} ${c.outcome}`).join(' · ')}</small>}
              </li>
            );
          })}
          <li className="flow-exit">
            <b>Leaves early</b>{' '}
            {[journey.exitOnOrder && 'when they order again', journey.exit && 'when they match the exit rule']
              .filter(Boolean)
              .join(' or ') || 'never: everyone goes to the end'}
            . {Math.round(journey.holdoutShare * 100)} % of customers are its holdout.
          </li>
        </ol>
      </section>

      {report && report.waitedForProblems.passes > 0 && (
        <p className="hint" role="note">
          {report.waitedForProblems.passes.toLocaleString()} pass
          {report.waitedForProblems.passes === 1 ? '' : 'es'} waited before a marketing mail because the customer had an
          open problem ({report.waitedForProblems.now.toLocaleString()} waiting now,{' '}
          {report.waitedForProblems.days.toLocaleString()} days in all).
        </p>
      )}
      {report && <HoldoutReport report={report} days={days} onDays={setDays} since="entering" />}

      {can('PUT /api/v1/journeys/:id') && (
        <section className="card">
          <h2>Change it</h2>
          <div className="form-grid">
            <label>
              Name <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
            </label>
            <label>
              Starts when{' '}
              <select
                aria-label="trigger"
                value={draft.trigger.type === 'stage' ? `stage:${draft.trigger.stage}` : draft.trigger.type}
                onChange={(e) => {
                  const v = e.target.value;
                  setDraft({
                    ...draft,
                    trigger:
                      v === 'order'
                        ? { type: 'order' }
                        : v === 'experience'
                          ? { type: 'experience', sources: ['incident', 'ticket'] }
                          : v === 'delivery'
                            ? { type: 'delivery', statuses: ['delivered'] }
                            : { type: 'stage', stage: v.slice(6) as Stage },
                  });
                }}
              >
                <option value="order">every new order</option>
                {stages.map((s) => (
                  <option key={s} value={`stage:${s}`}>
                    becomes {words(s)}
                  </option>
                ))}
                <option value="delivery">an order is delivered</option>
                <option value="experience">a bad experience</option>
              </select>
            </label>
            {draft.trigger.type === 'experience' && (
              <fieldset>
                <legend>Experiences</legend>
                {sources.map((s) => (
                  <label key={s}>
                    <input
                      type="checkbox"
                      checked={draft.trigger.type === 'experience' && draft.trigger.sources.includes(s)}
                      onChange={(e) => {
                        const current = draft.trigger.type === 'experience' ? draft.trigger.sources : [];
                        setDraft({
                          ...draft,
                          trigger: {
                            type: 'experience',
                            sources: e.target.checked ? [...current, s] : current.filter((x) => x !== s),
                          },
                        });
                      }}
                    />{' '}
                    {s}
                  </label>
                ))}
              </fieldset>
            )}
            <label>
              Holdout{' '}
              <input
                type="number"
                min={0}
                max={90}
                value={Math.round(draft.holdoutShare * 100)}
                onChange={(e) =>
                  setDraft({ ...draft, holdoutShare: Math.min(90, Math.max(0, Number(e.target.value) || 0)) / 100 })
                }
              />{' '}
              %
            </label>
            <label>
              <input
                type="checkbox"
                checked={draft.exitOnOrder}
                onChange={(e) => setDraft({ ...draft, exitOnOrder: e.target.checked })}
              />{' '}
              leave when they order again
            </label>
          </div>
          <h3>Steps</h3>
          {draft.steps.map((s, i) => (
            <StepEditor
              key={i}
              step={s}
              templates={templates}
              surveys={surveys}
              catalogue={catalogue}
              onChange={(step) => setStep(i, step)}
              onRemove={() => setStep(i, null)}
              onUp={i > 0 ? () => moveUp(i) : undefined}
            />
          ))}
          <p>
            <button
              type="button"
              className="link"
              onClick={() =>
                setDraft({ ...draft, steps: [...draft.steps, { type: 'wait', days: 7, fallbackDays: 30 }] })
              }
            >
              + add a step
            </button>
          </p>
          <button type="button" disabled={!changed} onClick={save}>
            Save
          </button>
          {changed && (
            <span className="muted"> unsaved changes; passes under way continue from the step they are at</span>
          )}
        </section>
      )}

      <section className="card">
        <h2>Latest passes</h2>
        {state.recent.length === 0 ? (
          <p className="muted">
            Nobody yet:{' '}
            {journey.status === 'active' ? 'the next trigger starts the first pass' : 'activate the journey to start'}.
          </p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th>Customer</th>
                <th>Started by</th>
                <th>Entered</th>
                <th>Arm</th>
                <th>Where</th>
              </tr>
            </thead>
            <tbody>
              {state.recent.map((p, i) => (
                <tr key={i}>
                  <td>
                    <Link to={`/customers/${p.customer_id}`}>{p.name ?? p.email ?? p.customer_id}</Link>
                  </td>
                  <td>{p.what ?? '—'}</td>
                  <td>{formatTime(p.entered_at)}</td>
                  <td>{p.arm === 'control' ? 'holdout' : 'journey'}</td>
                  <td>
                    {p.status === 'active'
                      ? `step ${p.step + 1}${p.next_at ? `, due ${formatTime(p.next_at)}` : ''}`
                      : `${words(p.status)}${p.reason ? `: ${p.reason}` : ''}`}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
