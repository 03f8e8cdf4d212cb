// Rules a person approves: what the outcome tables say, as sentences with their evidence, how that
// evidence moved across analyses, and what the worklist's suggestions from them achieved. Admins and
// marketers approve, edit and retire them; only approved rules drive the worklist.
import { useEffect, useState, type FormEvent } from 'react';
import type { RetentionRule } from '../../rules/rule.ts';
import { api, formatDate, formatTime, percent, points, problemText, words } from '../api.ts';
import { IntervalChart, WhatIsThis } from '../charts.tsx';
import { useCan } from '../session.tsx';

const ruleActions = ['call', 'apology_replacement', 'gift', 'offer'] as const;
const actionWords: Record<string, string> = {
  call: 'a call',
  apology_replacement: 'an apology with a replacement',
  gift: 'a small gift',
  offer: 'an offer',
};
const statusColors: Record<string, string> = { proposed: '#f2994a', approved: '#27ae60', retired: '#828282' };
const stageWords: Record<string, string> = { trial: 'trial customers (one order)', customer: 'repeat customers' };

function typeWords(rule: RetentionRule): string {
  const t = rule.customerType;
  return [
    t.stage ? (stageWords[t.stage] ?? words(t.stage)) : 'any customer',
    t.valueBand ? `${t.valueBand} value` : null,
    t.channel ? `acquired through ${words(t.channel)}` : null,
  ]
    .filter(Boolean)
    .join(', ');
}

/** The evidence of one analysis in a sentence. */
function evidenceWords(rule: RetentionRule): string {
  const e = rule.evidence;
  const what = words(rule.experience);
  const gap = `${points(e.difference)} points (95 % interval ${points(e.low)} to ${points(e.high)})`;
  if (e.comparison === 'follow_up')
    return `After a ${what}, ${percent(e.rate)} of the ${e.n.toLocaleString()} nobody followed up bought again within ${e.days} days, against ${percent(e.against)} of the ${e.againstN.toLocaleString()} who were followed up: following up went with ${gap}.`;
  if (e.comparison === 'harm')
    return `${percent(e.rate)} of ${e.n.toLocaleString()} customers bought again within ${e.days} days after a ${what}, against ${percent(e.against)} of ${e.againstN.toLocaleString()} of the same type right after an order without one: ${gap}.`;
  return `${percent(e.rate)} of ${e.n.toLocaleString()} customers bought again within ${e.days} days after a ${what}, against ${percent(e.against)} of ${e.againstN.toLocaleString()} of the same type without: ${gap}. Observed, not a random test.`;
}

/** Approve, edit (text and action) or retire (with a reason): the buttons admins and marketers get. */
function Decide({ rule, onChanged }: { rule: RetentionRule; onChanged: (rule: RetentionRule) => void }) {
  const [mode, setMode] = useState<'edit' | 'retire' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const send = async (body: Record<string, unknown>) => {
    setError(null);
    try {
      onChanged(await api<RetentionRule>(`/v1/rules/${rule.id}`, { method: 'PATCH', json: body }));
      setMode(null);
    } catch (e) {
      setError(problemText(e));
    }
  };
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const reason = String(form.get('reason') ?? '').trim();
    if (mode === 'retire') void send({ status: 'retired', reason });
    else
      void send({
        text: String(form.get('text') ?? '').trim(),
        action: form.get('action'),
        ...(reason ? { reason } : {}),
      });
  };
  return (
    <div className="decide">
      <div className="buttons">
        {rule.status !== 'approved' && (
          <button type="button" onClick={() => send({ status: 'approved' })}>
            Approve
          </button>
        )}
        <button type="button" className="secondary" onClick={() => setMode(mode === 'edit' ? null : 'edit')}>
          Edit…
        </button>
        {rule.status !== 'retired' && (
          <button type="button" className="secondary" onClick={() => setMode(mode === 'retire' ? null : 'retire')}>
            Retire…
          </button>
        )}
      </div>
      {mode && (
        <form onSubmit={submit} className="stack rule-form" key={mode}>
          {mode === 'edit' && (
            <>
              <label>
                The rule in your words
                <textarea name="text" required maxLength={1000} defaultValue={rule.text} rows={3} />
              </label>
              <label className="inline">
                What to do{' '}
                <select name="action" defaultValue={rule.action}>
                  {ruleActions.map((a) => (
                    <option key={a} value={a}>
                      {actionWords[a]}
                    </option>
                  ))}
                </select>
              </label>
            </>
          )}
          <label>
            {mode === 'retire' ? 'Why retire it' : 'Why (optional)'}
            <input
              name="reason"
              required={mode === 'retire'}
              maxLength={1000}
              placeholder={mode === 'retire' ? 'e.g. the carrier changed; late deliveries are rare now' : ''}
            />
          </label>
          <div className="buttons">
            <button type="submit">{mode === 'retire' ? 'Retire the rule' : 'Save'}</button>
            <button type="button" className="link" onClick={() => setMode(null)}>
              Cancel
            </button>
          </div>
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

function RuleCard({
  rule,
  canDecide,
  onChanged,
}: {
  rule: RetentionRule;
  canDecide: boolean;
  onChanged: (rule: RetentionRule) => void;
}) {
  const o = rule.outcomes;
  return (
    <li className="card rule" id={`rule-${rule.id}`}>
      <div className="rule-head">
        <span className="stage" style={{ background: statusColors[rule.status] }}>
          {rule.status}
        </span>
        {rule.stale && (
          <span className="flag" title="The latest analysis no longer found this evidence">
            stale: not found by the latest analysis
          </span>
        )}
        <span className="muted">
          Rule #{rule.id} · for {typeWords(rule)} · after a {words(rule.experience)} · {actionWords[rule.action]}
        </span>
      </div>
      <p className="rule-text">{rule.text}</p>
      {rule.text !== rule.proposedText && (
        <p className="small muted">As the analysis proposed it: {rule.proposedText}</p>
      )}
      <div className="rule-body">
        <div>
          <p>
            <b>Evidence</b> (analysis as of {formatDate(rule.evidence.asOf)}): {evidenceWords(rule)}
          </p>
          <p>
            <b>What it achieved:</b>{' '}
            {o.decisions === 0
              ? `no worklist decision from it has passed its ${rule.evidence.days} days yet.`
              : `suggested on the worklist ${o.decisions.toLocaleString()} times (decided at least ${rule.evidence.days} days ago); ${o.bought.toLocaleString()} of those customers bought again (${percent(o.boughtShare)}).`}
          </p>
          {rule.decidedAt && (
            <p className="small muted">
              {rule.status === 'approved' ? 'Approved' : rule.status === 'retired' ? 'Retired' : 'Changed'} by{' '}
              {rule.decidedBy ?? 'someone'} on {formatTime(rule.decidedAt)}
              {rule.decisionReason ? `: ${rule.decisionReason}` : ''}
            </p>
          )}
        </div>
        <IntervalChart
          xAxis="Analysis"
          yAxis="Difference (points)"
          title="The difference at each analysis (points)"
          format={(v) => points(v)}
          points={rule.history.map((h) => ({
            label: formatDate(h.asOf),
            value: h.difference,
            low: h.low,
            high: h.high,
          }))}
        />
      </div>
      {canDecide && <Decide rule={rule} onChanged={onChanged} />}
    </li>
  );
}

export function RulesPage() {
  const can = useCan();
  const [rules, setRules] = useState<RetentionRule[] | null>(null);
  const [status, setStatus] = useState('');
  const [error, setError] = useState<string | null>(null);
  const canDecide = can('PATCH /api/v1/rules/:ruleId');
  useEffect(() => {
    setRules(null);
    api<{ rules: RetentionRule[] }>(`/v1/rules${status ? `?status=${status}` : ''}`).then(
      (r) => setRules(r.rules),
      (e) => setError(problemText(e)),
    );
  }, [status]);
  // A link from a worklist suggestion names its rule: /rules#rule-3.
  useEffect(() => {
    if (rules && window.location.hash) document.querySelector(window.location.hash)?.scrollIntoView();
  }, [rules]);
  const changed = (rule: RetentionRule) =>
    setRules(
      (list) => list?.map((r) => (r.id === rule.id ? rule : r)).filter((r) => !status || r.status === status) ?? null,
    );
  return (
    <div className="rules">
      <header className="page-head">
        <h1>Rules</h1>
        <label className="inline">
          Show{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="Status">
            <option value="">every rule</option>
            <option value="proposed">proposed</option>
            <option value="approved">approved</option>
            <option value="retired">retired</option>
          </select>
        </label>
      </header>
      <p className="muted">
        Each analysis reads what customers did after their experiences and proposes a rule where the difference is
        clear. Only approved rules drive the worklist's suggestions; a rule the latest analysis no longer finds is
        marked stale.{' '}
        {canDecide
          ? 'Approve, edit or retire them here; every change is in the audit log.'
          : 'Admins and marketers approve them.'}
      </p>
      <WhatIsThis>
        The evidence compares how many customers bought again within the window after the experience: followed up
        against not, or with the experience against the same type of customer without it. A difference in percentage
        points comes with its 95 % interval, the range the true difference very likely lies in. The small chart shows
        that difference at each analysis that found the rule, oldest first: a rule whose interval drifts towards zero is
        weakening.
      </WhatIsThis>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {rules === null && !error && <p className="muted">Loading…</p>}
      {rules?.length === 0 && (
        <p className="muted empty">
          {status
            ? `No ${status} rules.`
            : 'No rules yet. An analysis proposes one when its outcome tables show a clear difference (say, that following up a late delivery within two days brings more customers back). Run an analysis, then look again.'}
        </p>
      )}
      <ol className="rule-list">
        {rules?.map((rule) => (
          <RuleCard key={rule.id} rule={rule} canDecide={canDecide} onChanged={changed} />
        ))}
      </ol>
    </div>
  );
}
