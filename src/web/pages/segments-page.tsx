import { useEffect, useRef, useState } from 'react';
import type {
  Catalogue,
  Condition,
  FieldName,
  Rule,
  SegmentPreview,
  ShownRule,
  ShownSegment,
} from '../../segments/segment.ts';
import { api, formatDate, problemText, words } from '../api.ts';
import { BarChart, stageColors } from '../charts.tsx';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';
import { useMoney } from '../plain.tsx';

const isGroup = (c: Condition | Rule): c is Rule => 'match' in c;
const opWords: Record<string, string> = {
  is: 'is',
  is_not: 'is not',
  contains: 'contains',
  starts_with: 'starts with',
  in: 'is one of',
  is_set: 'is set',
  is_not_set: 'is not set',
  has: 'has',
  has_not: 'has not',
  before: 'before',
  after: 'after',
  in_last_days: 'in the last … days',
  not_in_last_days: 'not in the last … days',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  at_least: 'at least',
  at_most: 'at most',
  exactly: 'exactly',
  is_true: 'is yes',
  is_false: 'is no',
  granted: 'given',
  not_granted: 'not given',
  withdrawn: 'withdrawn',
};
/** A saved rule to edit: whoever may save segments (admin, marketer) is shown every rule whole, values included. */
const editable = (rule: ShownRule) => rule as Rule;

function defaultCondition(catalogue: Catalogue, field: FieldName = 'stage'): Condition {
  const op = Object.keys(catalogue.fields[field].ops)[0];
  const key = field === 'score' ? 'p_alive' : field === 'attribute' ? catalogue.attributes[0]?.key : undefined;
  return { field, op, ...(key ? { key } : {}), ...valueFor(catalogue, field, op) };
}
function valueFor(catalogue: Catalogue, field: string, op: string): Pick<Condition, 'value'> {
  const type = catalogue.fields[field].ops[op];
  if (type === 'none') return {};
  if (type === 'number' || type === 'days') return { value: type === 'days' ? 30 : 1 };
  if (type === 'list') return { value: catalogue.fields[field].values?.slice(0, 1) ?? [] };
  if (type === 'date') return { value: new Date().toISOString().slice(0, 10) };
  return { value: catalogue.fields[field].values?.[0] ?? '' };
}

function ConditionRow({
  condition,
  catalogue,
  onChange,
  onRemove,
}: {
  condition: Condition;
  catalogue: Catalogue;
  onChange: (c: Condition) => void;
  onRemove: () => void;
}) {
  const field = catalogue.fields[condition.field];
  const type = field.ops[condition.op];
  const options =
    condition.field === 'acquisition_channel'
      ? catalogue.channels
      : condition.field === 'category_bought'
        ? catalogue.categories
        : field.values;
  return (
    <div className="condition" role="group" aria-label="condition">
      <select
        aria-label="field"
        value={condition.field}
        onChange={(e) => onChange(defaultCondition(catalogue, e.target.value as FieldName))}
      >
        {Object.entries(catalogue.fields).map(([name, f]) => (
          <option key={name} value={name}>
            {f.label}
          </option>
        ))}
      </select>
      {condition.field === 'attribute' && (
        <select
          aria-label="attribute"
          value={condition.key}
          onChange={(e) => onChange({ ...condition, key: e.target.value })}
        >
          {catalogue.attributes.map((a) => (
            <option key={a.key} value={a.key}>
              {a.key} ({a.type})
            </option>
          ))}
        </select>
      )}
      {condition.field === 'score' && (
        <select
          aria-label="score"
          value={condition.key}
          onChange={(e) => onChange({ ...condition, key: e.target.value })}
        >
          {Object.entries(catalogue.scores).map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </select>
      )}
      {condition.field === 'survey_score' && (
        <select
          aria-label="survey"
          value={condition.key ?? ''}
          onChange={(e) => onChange({ ...condition, key: e.target.value || undefined })}
        >
          <option value="">any survey</option>
          {catalogue.surveys.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      )}
      <select
        aria-label="operator"
        value={condition.op}
        onChange={(e) =>
          onChange({
            field: condition.field,
            key: condition.key,
            days: condition.days,
            filter: condition.filter,
            op: e.target.value,
            ...valueFor(catalogue, condition.field, e.target.value),
          })
        }
      >
        {Object.keys(field.ops).map((op) => (
          <option key={op} value={op}>
            {opWords[op] ?? words(op)}
          </option>
        ))}
      </select>
      {type === 'list' ? (
        <select
          aria-label="values"
          multiple
          value={(condition.value as string[]) ?? []}
          onChange={(e) => onChange({ ...condition, value: [...e.target.selectedOptions].map((o) => o.value) })}
        >
          {(options ?? []).map((v) => (
            <option key={v} value={v}>
              {words(v)}
            </option>
          ))}
        </select>
      ) : type === 'text' && options ? (
        <select
          aria-label="value"
          value={String(condition.value ?? '')}
          onChange={(e) => onChange({ ...condition, value: e.target.value })}
        >
          {options.map((v) => (
            <option key={v} value={v}>
              {words(v)}
            </option>
          ))}
        </select>
      ) : (
        type !== 'none' && (
          <input
            aria-label="value"
            type={type === 'date' ? 'date' : type === 'text' ? 'text' : 'number'}
            value={String(condition.value ?? '')}
            step="any"
            onChange={(e) =>
              onChange({
                ...condition,
                value: type === 'text' || type === 'date' ? e.target.value : Number(e.target.value),
              })
            }
          />
        )
      )}
      {field.days && (
        <label className="inline">
          in the last{' '}
          <input
            aria-label="days"
            type="number"
            min={1}
            placeholder="any"
            value={condition.days ?? ''}
            style={{ width: 70 }}
            onChange={(e) => onChange({ ...condition, days: e.target.value ? Number(e.target.value) : undefined })}
          />{' '}
          days
        </label>
      )}
      {field.filter && (
        <input
          aria-label={field.filter}
          placeholder={field.filter}
          value={condition.filter ?? ''}
          style={{ width: 120 }}
          onChange={(e) => onChange({ ...condition, filter: e.target.value || undefined })}
        />
      )}
      <button type="button" className="link" aria-label="remove condition" onClick={onRemove}>
        ✕
      </button>
    </div>
  );
}

export function GroupEditor({
  rule,
  catalogue,
  onChange,
  onRemove,
  depth = 1,
}: {
  rule: Rule;
  catalogue: Catalogue;
  onChange: (r: Rule) => void;
  onRemove?: () => void;
  depth?: number;
}) {
  const set = (i: number, c: Condition | Rule) =>
    onChange({ ...rule, conditions: rule.conditions.map((old, k) => (k === i ? c : old)) });
  const remove = (i: number) => onChange({ ...rule, conditions: rule.conditions.filter((_, k) => k !== i) });
  return (
    <div className={`group depth${depth}`}>
      <div className="group-head">
        Customers matching{' '}
        <select
          aria-label="match"
          value={rule.match}
          onChange={(e) => onChange({ ...rule, match: e.target.value as Rule['match'] })}
        >
          <option value="all">all (AND)</option>
          <option value="any">any (OR)</option>
        </select>{' '}
        of:
        {onRemove && (
          <button type="button" className="link" onClick={onRemove}>
            remove group
          </button>
        )}
      </div>
      {rule.conditions.map((c, i) =>
        isGroup(c) ? (
          <GroupEditor
            key={i}
            rule={c}
            catalogue={catalogue}
            depth={depth + 1}
            onChange={(r) => set(i, r)}
            onRemove={() => remove(i)}
          />
        ) : (
          <ConditionRow
            key={i}
            condition={c}
            catalogue={catalogue}
            onChange={(n) => set(i, n)}
            onRemove={() => remove(i)}
          />
        ),
      )}
      <div className="group-actions">
        <button
          type="button"
          onClick={() => onChange({ ...rule, conditions: [...rule.conditions, defaultCondition(catalogue)] })}
        >
          + condition
        </button>
        {depth < 4 && (
          <button
            type="button"
            onClick={() =>
              onChange({
                ...rule,
                conditions: [
                  ...rule.conditions,
                  { match: rule.match === 'all' ? 'any' : 'all', conditions: [defaultCondition(catalogue)] },
                ],
              })
            }
          >
            + group
          </button>
        )}
      </div>
    </div>
  );
}

function SummaryView({ summary }: { summary: SegmentPreview }) {
  const money = useMoney();
  return (
    <div>
      <p className="count">
        <b>{summary.customers.toLocaleString()}</b> customers match now
      </p>
      <div className="tiles">
        <div className="tile">
          <b>{summary.meanPAlive === null ? '—' : `${Math.round(summary.meanPAlive * 100)} %`}</b>
          <span>mean probability still active</span>
        </div>
        <div className="tile">
          <b>{money(summary.predictedValue, 0)}</b>
          <span>predicted value, 365 days</span>
        </div>
        <div className="tile">
          <b>{money(summary.valueAtStake, 0)}</b>
          <span>value at stake</span>
        </div>
        <div className="tile">
          <b>
            {summary.withSatisfaction ? `${Math.round((100 * summary.satisfied) / summary.withSatisfaction)} %` : '—'}
          </b>
          <span>kept satisfied (of {summary.withSatisfaction} with an index)</span>
        </div>
        <div className="tile">
          <b>{summary.meanSatisfaction ?? '—'}</b>
          <span>mean satisfaction index</span>
        </div>
      </div>
      {!summary.scored && (
        <p className="muted small">No analysis yet: score conditions match nobody until one has run.</p>
      )}
      {summary.customers > 0 && (
        <BarChart
          xAxis="Customers"
          yAxis="Stage"
          title="By lifecycle stage"
          bars={Object.entries(summary.byStage)
            .sort((a, b) => b[1] - a[1])
            .map(([stage, n]) => ({ label: words(stage), value: n, color: stageColors[stage] }))}
        />
      )}
      {summary.sample && summary.sample.length > 0 && (
        <table className="list">
          <thead>
            <tr>
              <th>First customers</th>
              <th>Email</th>
              <th>Stage</th>
            </tr>
          </thead>
          <tbody>
            {summary.sample.map((m) => (
              <tr key={m.id}>
                <td>
                  <Link to={`/customers/${m.id}`}>{m.name ?? `#${m.id}`}</Link>
                </td>
                <td>{m.email}</td>
                <td>{words(m.stage)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function SegmentsPage() {
  const [catalogue, setCatalogue] = useState<Catalogue | null>(null);
  const [segments, setSegments] = useState<ShownSegment[]>([]);
  const [editing, setEditing] = useState<{ id?: number; name: string; kind: 'dynamic' | 'snapshot'; rule: Rule }>({
    name: '',
    kind: 'dynamic',
    rule: { match: 'all', conditions: [] },
  });
  const [summary, setSummary] = useState<SegmentPreview | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const can = useCan();
  const load = () =>
    api<{ segments: ShownSegment[] }>('/v1/segments').then(
      (r) => setSegments(r.segments),
      (e) => setProblem(e.message),
    );
  useEffect(() => {
    api<Catalogue>('/v1/segments/fields').then(
      (c) => {
        setCatalogue(c);
        setEditing((e) => ({ ...e, rule: { match: 'all', conditions: [defaultCondition(c)] } }));
      },
      (e) => setProblem(e.message),
    );
    load();
  }, []);
  // The live count follows the rule as it is edited, a moment after the last change.
  useEffect(() => {
    if (!catalogue) return;
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      api<SegmentPreview>('/v1/segments/preview', { method: 'POST', json: { rule: editing.rule } }).then(
        (s) => {
          setSummary(s);
          setProblem(null);
        },
        (e) => setProblem(problemText(e)),
      );
    }, 300);
  }, [editing.rule, catalogue]);
  if (!catalogue)
    return problem ? (
      <p className="error" role="alert">
        {problem}
      </p>
    ) : (
      <p className="muted">Loading…</p>
    );

  const save = async () => {
    try {
      const body = { name: editing.name, kind: editing.kind, rule: editing.rule };
      const segment = await api<ShownSegment>(editing.id ? `/v1/segments/${editing.id}` : '/v1/segments', {
        method: editing.id ? 'PUT' : 'POST',
        json: body,
      });
      setEditing({ id: segment.id, name: segment.name, kind: segment.kind, rule: editable(segment.rule) });
      setSaved(`Saved “${segment.name}”${segment.kind === 'snapshot' ? ` with ${segment.members} members` : ''}`);
      load();
    } catch (e) {
      setProblem(problemText(e));
    }
  };
  return (
    <div>
      <h1>Segments</h1>
      <div className="customers">
        <section className="card">
          <h2>Saved</h2>
          <button
            type="button"
            onClick={() => {
              setEditing({
                name: '',
                kind: 'dynamic',
                rule: { match: 'all', conditions: [defaultCondition(catalogue)] },
              });
              setSaved(null);
            }}
          >
            New segment
          </button>
          <ul className="plain segment-list">
            {segments.map((s) => (
              <li key={s.id}>
                <button
                  type="button"
                  className="link"
                  onClick={() => {
                    setEditing({ id: s.id, name: s.name, kind: s.kind, rule: editable(s.rule) });
                    setSaved(null);
                  }}
                >
                  <b>{s.name}</b>
                </button>{' '}
                <small className="muted">
                  {s.kind === 'snapshot' ? `snapshot of ${s.members} on ${formatDate(s.snapshotAt)}` : 'dynamic'}
                </small>
              </li>
            ))}
          </ul>
          {segments.length === 0 && <p className="muted">None yet.</p>}
        </section>
        <div>
          <section className="card">
            <GroupEditor
              rule={editing.rule}
              catalogue={catalogue}
              onChange={(rule) => setEditing({ ...editing, rule })}
            />
            {can('POST /api/v1/segments') && (
              <form
                className="filters"
                onSubmit={(e) => {
                  e.preventDefault();
                  void save();
                }}
              >
                <input
                  aria-label="segment name"
                  style={{ flex: 1 }}
                  placeholder="Name, e.g. Best customers who bought towels"
                  value={editing.name}
                  onChange={(e) => setEditing({ ...editing, name: e.target.value })}
                  required
                />
                <select
                  aria-label="kind"
                  value={editing.kind}
                  onChange={(e) => setEditing({ ...editing, kind: e.target.value as 'dynamic' | 'snapshot' })}
                >
                  <option value="dynamic">dynamic (re-evaluated)</option>
                  <option value="snapshot">snapshot (members fixed now)</option>
                </select>
                <button type="submit">{editing.id ? 'Save changes' : 'Save segment'}</button>
              </form>
            )}
            {problem && (
              <p className="error" role="alert">
                {problem}
              </p>
            )}
            {saved && <p role="status">{saved}</p>}
          </section>
          {summary && (
            <section className="card">
              <SummaryView summary={summary} />
            </section>
          )}
        </div>
      </div>
    </div>
  );
}
