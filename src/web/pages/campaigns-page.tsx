import { useEffect, useState } from 'react';
import type {
  Campaign,
  CampaignListItem,
  CampaignReport,
  CampaignWithCounts,
  CapturedMail,
  Comparison,
  HoldoutFigures,
  RenderedMail,
  TemplateSummary,
} from '../../campaigns/campaign.ts';
import type { ShownSegment } from '../../segments/segment.ts';
import { api, formatTime, problemText, words } from '../api.ts';
import { BarChart, LineChart, palette } from '../charts.tsx';
import { Link, navigate } from '../router.tsx';
import { ProgrammeSection } from './programme-section.tsx';
import { StartConfirmation } from './start-confirmation.tsx';
import { useCan } from '../session.tsx';
import { useMoney } from '../plain.tsx';

type Arm = Campaign['arms'][number];

const kinds = ['newsletter', 'offer', 'win_back', 'survey', 'announcement'];
const channels = ['email', 'phone', 'store', 'direct_mail'];
const percent = (v: number, digits = 1) => `${(100 * v).toFixed(digits)} %`;
const points = (v: number) => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} pts`;
const statusColors: Record<string, string> = {
  sent: '#27ae60',
  holdout: '#4f5b66',
  suppressed: '#f2994a',
  unknown: '#eb5757',
  failed: '#c0392b',
  queued: '#2f80ed',
  sending: '#56ccf2',
  listed: '#9b51e0',
  external: '#219653',
};

function TemplateEditor({ onSaved }: { onSaved: () => void }) {
  const [draft, setDraft] = useState({
    name: '',
    subject: 'A little something for you, {{ customer.first_name }}',
    body: '<p>Hi {{ customer.first_name }},</p>\n{% if customer.stage == "trial" %}<p>Thanks for your first order.</p>{% else %}<p>Thank you for staying with us.</p>{% endif %}\n<p>You seem to like {{ customer.interests | join: ", " }}.</p>\n<p><a href="https://example.com/new">See what is new</a></p>',
  });
  const [customerId, setCustomerId] = useState('1');
  const [preview, setPreview] = useState<RenderedMail | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const show = () =>
    api<RenderedMail>('/v1/templates/preview', {
      method: 'POST',
      json: { subject: draft.subject, body: draft.body, customerId: Number(customerId) },
    }).then(
      (p) => {
        setPreview(p);
        setProblem(null);
      },
      (e) => setProblem(problemText(e)),
    );
  return (
    <section className="card">
      <h2>New template</h2>
      <div className="grid2">
        <form
          className="stack"
          onSubmit={(e) => {
            e.preventDefault();
            api('/v1/templates', { method: 'POST', json: draft }).then(
              () => {
                setProblem(null);
                onSaved();
              },
              (err) => setProblem(problemText(err)),
            );
          }}
        >
          <input
            aria-label="template name"
            placeholder="Name"
            value={draft.name}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
            required
          />
          <input
            aria-label="subject"
            value={draft.subject}
            onChange={(e) => setDraft({ ...draft, subject: e.target.value })}
            required
          />
          <textarea
            aria-label="body"
            rows={10}
            value={draft.body}
            onChange={(e) => setDraft({ ...draft, body: e.target.value })}
          />
          <div className="filters">
            <label className="inline">
              Preview as customer #{' '}
              <input
                aria-label="preview customer"
                type="number"
                value={customerId}
                onChange={(e) => setCustomerId(e.target.value)}
                style={{ width: 90 }}
              />
            </label>
            <button type="button" onClick={show}>
              Preview
            </button>
            <button type="submit">Save template</button>
          </div>
          {problem && (
            <p className="error" role="alert">
              {problem}
            </p>
          )}
        </form>
        {preview && (
          <div className="mail-preview">
            <p>
              <b>Subject:</b> {preview.subject}
            </p>
            <iframe title="HTML part" sandbox="" srcDoc={preview.html} />
            <pre aria-label="text part">{preview.text}</pre>
          </div>
        )}
      </div>
    </section>
  );
}

function NewCampaign({ templates, onCreated }: { templates: TemplateSummary[]; onCreated: (c: Campaign) => void }) {
  const [segments, setSegments] = useState<ShownSegment[]>([]);
  const [form, setForm] = useState({
    name: '',
    kind: 'newsletter',
    channel: 'email',
    segmentId: 0,
    holdout: 10,
    scheduledAt: '',
    timeZone: '',
    repeatEvery: '',
  });
  const [arms, setArms] = useState<Arm[]>([{ name: 'A', templateId: null, share: 1 }]);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    api<{ segments: ShownSegment[] }>('/v1/segments').then(
      (r) => {
        setSegments(r.segments);
        setForm((f) => ({ ...f, segmentId: r.segments[0]?.id ?? 0 }));
      },
      () => undefined,
    );
  }, []);
  const submit = async () => {
    try {
      const created = await api<Campaign>('/v1/campaigns', {
        method: 'POST',
        json: {
          name: form.name,
          kind: form.kind,
          channel: form.channel,
          segmentId: form.segmentId,
          holdoutShare: form.holdout / 100,
          arms: arms.map((a) => ({
            ...a,
            templateId: form.channel === 'email' ? (a.templateId ?? templates[0]?.id ?? null) : null,
          })),
          ...(form.scheduledAt
            ? { scheduledAt: form.scheduledAt, ...(form.timeZone ? { timeZone: form.timeZone } : {}) }
            : {}),
          ...(form.repeatEvery ? { repeatEvery: form.repeatEvery } : {}),
        },
      });
      onCreated(created);
    } catch (e) {
      setProblem(problemText(e));
    }
  };
  return (
    <section className="card">
      <h2>New campaign</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="filters">
          <input
            aria-label="campaign name"
            placeholder="Name, e.g. One last chance"
            value={form.name}
            onChange={(e) => setForm({ ...form, name: e.target.value })}
            required
          />
          <select aria-label="kind" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value })}>
            {kinds.map((k) => (
              <option key={k} value={k}>
                {words(k)}
              </option>
            ))}
          </select>
          <select
            aria-label="channel"
            value={form.channel}
            onChange={(e) => setForm({ ...form, channel: e.target.value })}
          >
            {channels.map((k) => (
              <option key={k} value={k}>
                {words(k)}
              </option>
            ))}
          </select>
          <select
            aria-label="segment"
            value={form.segmentId}
            onChange={(e) => setForm({ ...form, segmentId: Number(e.target.value) })}
          >
            {segments.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
          <label className="inline">
            holdout{' '}
            <input
              aria-label="holdout percent"
              type="number"
              min={0}
              max={90}
              value={form.holdout}
              onChange={(e) => setForm({ ...form, holdout: Number(e.target.value) })}
              style={{ width: 60 }}
            />{' '}
            %
          </label>
        </div>
        {arms.map((arm, i) => (
          <div key={i} className="filters">
            <input
              aria-label={`arm ${i + 1} name`}
              value={arm.name}
              onChange={(e) => setArms(arms.map((a, k) => (k === i ? { ...a, name: e.target.value } : a)))}
              style={{ width: 80 }}
            />
            {form.channel === 'email' && (
              <select
                aria-label={`arm ${i + 1} template`}
                value={arm.templateId ?? templates[0]?.id ?? ''}
                onChange={(e) =>
                  setArms(arms.map((a, k) => (k === i ? { ...a, templateId: Number(e.target.value) } : a)))
                }
              >
                {templates.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
              </select>
            )}
            <label className="inline">
              share{' '}
              <input
                aria-label={`arm ${i + 1} share`}
                type="number"
                min={0.01}
                step="any"
                value={arm.share}
                onChange={(e) => setArms(arms.map((a, k) => (k === i ? { ...a, share: Number(e.target.value) } : a)))}
                style={{ width: 60 }}
              />
            </label>
            {arms.length > 1 && (
              <button type="button" className="link" onClick={() => setArms(arms.filter((_, k) => k !== i))}>
                ✕
              </button>
            )}
          </div>
        ))}
        <div className="filters">
          <button
            type="button"
            onClick={() =>
              setArms([...arms, { name: String.fromCharCode(65 + arms.length), templateId: null, share: 1 }])
            }
          >
            + arm
          </button>
          <label className="inline">
            start at{' '}
            <input
              aria-label="scheduled at"
              type="datetime-local"
              value={form.scheduledAt}
              onChange={(e) => setForm({ ...form, scheduledAt: e.target.value })}
            />
          </label>
          <input
            aria-label="time zone"
            placeholder="time zone, e.g. Europe/Berlin"
            value={form.timeZone}
            onChange={(e) => setForm({ ...form, timeZone: e.target.value })}
          />
          <label className="inline">
            repeat{' '}
            <select
              aria-label="repeat"
              value={form.repeatEvery}
              onChange={(e) => setForm({ ...form, repeatEvery: e.target.value })}
            >
              <option value="">once</option>
              <option value="week">every week</option>
              <option value="month">every month</option>
            </select>
          </label>
          <button type="submit">Create campaign</button>
        </div>
        {problem && (
          <p className="error" role="alert">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}

export function CampaignsPage() {
  const [campaigns, setCampaigns] = useState<CampaignListItem[] | null>(null);
  const [templates, setTemplates] = useState<TemplateSummary[]>([]);
  const [mail, setMail] = useState<CapturedMail | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const can = useCan();
  const load = () => {
    api<{ campaigns: CampaignListItem[] }>('/v1/campaigns').then(
      (r) => setCampaigns(r.campaigns),
      (e) => setProblem(e.message),
    );
    if (can('GET /api/v1/templates'))
      api<{ templates: TemplateSummary[] }>('/v1/templates').then(
        (r) => setTemplates(r.templates),
        () => undefined,
      );
    if (can('GET /api/v1/mail/captured'))
      api<CapturedMail>('/v1/mail/captured?limit=20').then(setMail, () => undefined);
  };
  useEffect(load, []);
  if (problem)
    return (
      <p className="error" role="alert">
        {problem}
      </p>
    );
  if (!campaigns) return <p className="muted">Loading…</p>;
  return (
    <div>
      <h1>Campaigns</h1>
      <ProgrammeSection />
      <table className="list">
        <thead>
          <tr>
            <th>Campaign</th>
            <th>Kind</th>
            <th>Channel</th>
            <th>Status</th>
            <th className="num">Members</th>
            <th>Ledger</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {campaigns.map((c) => (
            <tr key={c.id} className="clickable" onClick={() => navigate(`/campaigns/${c.id}`)}>
              <td>
                <Link to={`/campaigns/${c.id}`}>{c.name}</Link>
              </td>
              <td>{words(c.kind)}</td>
              <td>{words(c.channel)}</td>
              <td>
                {words(c.status)}
                {c.statusReason && <small className="muted"> — {c.statusReason}</small>}
              </td>
              <td className="num">{c.members ?? '—'}</td>
              <td className="small">
                {Object.entries(c.counts ?? {})
                  .map(([k, n]) => `${n} ${k}`)
                  .join(' · ')}
              </td>
              <td>
                {c.startedAt ? formatTime(c.startedAt) : c.scheduledAt ? `scheduled ${formatTime(c.scheduledAt)}` : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {campaigns.length === 0 && (
        <p className="muted">No campaigns yet. Save a segment and a template, then create one below.</p>
      )}
      {can('POST /api/v1/campaigns') && (
        <NewCampaign templates={templates} onCreated={(c) => navigate(`/campaigns/${c.id}`)} />
      )}
      {can('POST /api/v1/templates') && <TemplateEditor onSaved={load} />}
      {templates.length > 0 && <p className="muted">Templates: {templates.map((t) => t.name).join(', ')}</p>}
      {mail && !mail.smtp && (
        <section className="card">
          <h2>Captured mail</h2>
          <p className="muted small">
            No SMTP server is configured (KEPT_SMTP_URL), so mail is kept here instead of sent.
          </p>
          <ul className="plain">
            {mail.messages.map((m) => (
              <li key={m.id}>
                <details>
                  <summary>
                    <time>{formatTime(m.at)}</time> to <b>{m.to}</b>: {m.subject}
                  </summary>
                  <pre>{m.text}</pre>
                </details>
              </li>
            ))}
          </ul>
          {mail.messages.length === 0 && <p className="muted">None yet.</p>}
        </section>
      )}
    </div>
  );
}

/** A measure of an arm against the holdout; shares' differences are in points. */
function ComparisonCell({
  c,
  format,
  share = false,
}: {
  c: Comparison | null;
  format: (v: number) => string;
  share?: boolean;
}) {
  if (!c) return <td>—</td>;
  const significant = c.p < 0.05;
  return (
    <td className={significant ? (c.difference > 0 ? 'good' : 'bad') : ''}>
      {format(c.treated)} vs {format(c.control)}
      <br />
      <small
        title={`The difference, with the range it likely lies in (95 % interval). p = ${c.p < 0.001 ? '< 0.001' : c.p.toFixed(3)}: the chance of a difference this large if the campaign changed nothing.`}
      >
        {share ? points(c.difference) : `${c.difference >= 0 ? '+' : ''}${format(c.difference)}`} (likely{' '}
        {share ? points(c.low) : format(c.low)} to {share ? points(c.high) : format(c.high)})
        {c.relative !== null && ` · ${c.relative >= 0 ? '+' : ''}${Math.round(100 * c.relative)} %`} ·{' '}
        {significant ? 'unlikely to be chance' : 'could be chance'}
      </small>
    </td>
  );
}

/** Each treated arm against the holdout, with the cumulative lift as a chart; for campaigns and journeys. */
export function HoldoutReport({
  report,
  days,
  onDays,
  since,
}: {
  report: HoldoutFigures;
  days: number;
  onDays: (days: number) => void;
  since: string;
}) {
  const money = useMoney();
  const dirty = report.contamination;
  return (
    <>
      {dirty && (dirty.holdoutTreated > 0 || dirty.treatedFromHoldouts > 0) && (
        <div className="warnings" role="note">
          {dirty.holdoutTreated > 0 && (
            <p>
              {dirty.holdoutTreated.toLocaleString()} of the holdout were marketed to by another programme within {days}{' '}
              days ({dirty.byProgramme.map((p) => `${p.programme}: ${p.n.toLocaleString()}`).join(', ')}): the lift
              below is understated by about that share.
            </p>
          )}
          {dirty.treatedFromHoldouts > 0 && (
            <p>
              {dirty.treatedFromHoldouts.toLocaleString()} of the treated were in another programme's holdout at the
              time: that programme's report counts them too.
            </p>
          )}
        </div>
      )}
      {report.arms.length > 0 && report.observedDays === 0 && (
        <p className="muted">
          Against the holdout: results come in from tomorrow, as members buy (or not) in the days after {since}.
        </p>
      )}
      {report.arms.length > 0 && report.observedDays > 0 && (
        <section className="card">
          <h2>
            Against the holdout{' '}
            <small className="muted">
              over{' '}
              <select aria-label="window" value={days} onChange={(e) => onDays(Number(e.target.value))}>
                {[7, 14, 30, 60, 90].map((d) => (
                  <option key={d} value={d}>
                    {d} days
                  </option>
                ))}
              </select>{' '}
              after {since} ({report.observedDays} observed)
            </small>
          </h2>
          <table className="list">
            <thead>
              <tr>
                <th>Arm</th>
                <th className="num">Members</th>
                <th className="num">Sent · opened · clicked</th>
                <th>Bought</th>
                <th>Revenue per customer</th>
                <th>Unsubscribed</th>
                <th>Still active (30 d)</th>
              </tr>
            </thead>
            <tbody>
              {report.arms.map((a) => (
                <tr key={a.arm}>
                  <td>
                    <b>{a.arm}</b>
                  </td>
                  <td className="num">{a.members}</td>
                  <td className="num">
                    {a.sent} · {a.opened} · {a.clicked}
                  </td>
                  <ComparisonCell c={a.purchase} format={(v) => percent(v)} share />
                  <ComparisonCell c={a.revenuePerCustomer} format={(v) => money(v)} />
                  <ComparisonCell c={a.unsubscribes} format={(v) => percent(v, 2)} share />
                  <ComparisonCell c={a.stillActive30} format={(v) => percent(v)} share />
                </tr>
              ))}
              {report.holdout && (
                <tr>
                  <td>
                    <b>holdout</b>
                  </td>
                  <td className="num">{report.holdout.members}</td>
                  <td className="num">—</td>
                  <td>{report.holdout.buyers} bought</td>
                  <td>{money(report.holdout.revenue)} in all</td>
                  <td>{report.holdout.unsubscribed}</td>
                  <td />
                </tr>
              )}
            </tbody>
          </table>
          {report.arms
            .filter((a) => a.warning)
            .map((a) => (
              <p key={a.arm} className="warn" role="note">
                {a.arm}: {a.warning}
              </p>
            ))}
          <p className="small muted">
            Bought: share of the arm who ordered, against the holdout; the difference with its 95 % interval, the
            relative lift and the p-value. Green: significantly better; red: significantly worse.
          </p>
          <LineChart
            yLabel="Points more who bought"
            title={`Cumulative lift: share who bought by each day since ${since}, arm minus holdout (points)`}
            xLabel={`days since ${since}`}
            format={(v) => `${(100 * v).toFixed(1)}`}
            series={report.cumulativeLift.map((l, i) => ({
              name: l.arm,
              color: palette[i % palette.length],
              points: l.points.map((p) => ({ x: p.day, y: p.lift })),
            }))}
          />
          {report.cumulativeLift[0]?.points.length ? (
            <p className="small muted">
              Latest: {report.cumulativeLift.map((l) => `${l.arm} ${points(l.points.at(-1)!.lift)}`).join(', ')}
            </p>
          ) : null}
        </section>
      )}
    </>
  );
}

export function CampaignPage({ id }: { id: number }) {
  const [state, setState] = useState<CampaignWithCounts | null>(null);
  const [report, setReport] = useState<CampaignReport | null>(null);
  const [days, setDays] = useState(30);
  const [problem, setProblem] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const can = useCan();
  const load = () => {
    api<CampaignWithCounts>(`/v1/campaigns/${id}`).then(setState, (e) => setProblem(e.message));
    api<CampaignReport>(`/v1/campaigns/${id}/report?days=${days}`).then(setReport, () => undefined);
  };
  useEffect(load, [id, days]);
  // Progress while sending.
  useEffect(() => {
    if (state?.campaign.status !== 'sending') return;
    const timer = setInterval(load, 1000);
    return () => clearInterval(timer);
  }, [state?.campaign.status]);
  if (!state)
    return problem ? (
      <p className="error" role="alert">
        {problem}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );
  const { campaign, counts } = state;
  const act = (action: string) =>
    api(`/v1/campaigns/${id}/${action}`, { method: 'POST' }).then(load, (e) => setProblem(problemText(e)));
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = total - (counts.queued ?? 0) - (counts.sending ?? 0);
  return (
    <div>
      <p>
        <Link to="/campaigns">← Campaigns</Link>
      </p>
      <h1>
        {campaign.name}{' '}
        <small className="muted">
          {words(campaign.kind)} · {words(campaign.channel)} · {words(campaign.status)}
        </small>
      </h1>
      {campaign.statusReason && <p className="error">{campaign.statusReason}</p>}
      <div className="filters">
        {can('POST /api/v1/campaigns/:id/start') && ['draft', 'scheduled'].includes(campaign.status) && !confirming && (
          <button type="button" onClick={() => setConfirming(true)}>
            Start now…
          </button>
        )}
        {can('POST /api/v1/campaigns/:id/pause') && campaign.status === 'sending' && (
          <button type="button" onClick={() => act('pause')}>
            Pause
          </button>
        )}
        {can('POST /api/v1/campaigns/:id/resume') && campaign.status === 'paused' && (
          <button type="button" onClick={() => act('resume')}>
            Resume
          </button>
        )}
        {can('POST /api/v1/campaigns/:id/cancel') &&
          ['draft', 'scheduled', 'sending', 'paused'].includes(campaign.status) && (
            <button type="button" onClick={() => act('cancel')}>
              Cancel
            </button>
          )}
        {can('GET /api/v1/campaigns/:id/list.csv') && campaign.channel !== 'email' && campaign.status === 'done' && (
          <a href={`/api/v1/campaigns/${id}/list.csv`}>Download the {words(campaign.channel)} list (CSV)</a>
        )}
      </div>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      {confirming && ['draft', 'scheduled'].includes(campaign.status) && (
        <StartConfirmation
          id={id}
          onStarted={() => {
            setConfirming(false);
            load();
          }}
          onClose={() => setConfirming(false)}
        />
      )}
      {(campaign.repeatEvery || campaign.scheduledAt) && (
        <p className="muted">
          {campaign.scheduledAt && (
            <>
              Scheduled for {formatTime(campaign.scheduledAt)} ({campaign.timeZone}).{' '}
            </>
          )}
          {campaign.repeatEvery && <>Repeats every {campaign.repeatEvery}, each time with a fresh holdout.</>}
        </p>
      )}
      {campaign.exclusions && Object.keys(campaign.exclusions).length > 0 && (
        <p className="small">
          Left out at the start:{' '}
          {Object.entries(campaign.exclusions)
            .map(([reason, n]) => `${reason} ${n.toLocaleString()}`)
            .join(' · ')}
          {campaign.overrideHoldouts && " (other programmes' holdouts were included on purpose)"}
        </p>
      )}
      {total > 0 && (
        <section className="card">
          <p>
            {done.toLocaleString()} of {total.toLocaleString()} done{campaign.status === 'sending' && '…'}
          </p>
          <progress max={total} value={done} style={{ width: '100%' }} />
          <BarChart
            xAxis="Members"
            yAxis="Send status"
            title="Members by send status"
            bars={Object.entries(counts)
              .sort((a, b) => b[1] - a[1])
              .map(([k, n]) => ({ label: k, value: n, color: statusColors[k] }))}
          />
        </section>
      )}
      {report && <HoldoutReport report={report} days={days} onDays={setDays} since="the start" />}
    </div>
  );
}
