// Editing a record (docs/record.md): profile and contact, a new dated address, custom attributes and
// the status flags, each with a required reason that the timeline and the audit log keep.
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Role } from '../../auth/auth.ts';
import type { CustomerRecord, TimelineEntry } from '../../customers/customer.ts';
import type { NewAddress, RecordEdit } from '../../customers/edit.ts';
import type { StatusFlag } from '../../customers/flags.ts';
import { api, ApiError, formatDate, words } from '../api.ts';

type Issues = Record<string, string>;
const channels = ['web', 'email', 'store', 'phone', 'chat', 'mobile', 'social', 'display', 'direct_mail'];
/** What each flag does, in plain words (src/customers/flags.ts holds the full meaning). */
const flagWords: Record<StatusFlag, { label: string; does: string }> = {
  do_not_contact: {
    label: 'Do not contact',
    does: 'they asked us not to: no marketing, lists, surveys, gifts or worklist calls; mail about their own orders still goes.',
  },
  moved: {
    label: 'Moved',
    does: 'they left the address on record: no post or list mailings until a new address arrives (adding one clears it).',
  },
  undeliverable: {
    label: 'Undeliverable',
    does: 'post to the address on record comes back: no post until a new address arrives (adding one clears it).',
  },
  deceased: {
    label: 'Deceased',
    does: 'nothing reaches them any more. Final: only an admin clears it, with a reason.',
  },
};

/** The server's problems by field ("email" → "not an email address"); the rest under `form`. */
function issuesOf(error: unknown): Issues {
  if (!(error instanceof ApiError)) return { form: 'The server did not answer' };
  const list = (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues ?? [];
  const byField: Issues = {};
  for (const issue of list) byField[issue.path] ??= issue.message;
  // A conflict names the other customer in its message, which says more than the field's issue.
  if (error.status === 409 || list.length === 0) byField[list[0]?.path ?? 'form'] = error.message;
  return byField;
}

function Problem({ issues, field }: { issues: Issues; field: string }) {
  return issues[field] ? (
    <small className="error field-error" role="alert" data-field={field}>
      {issues[field]}
    </small>
  ) : null;
}

function Field({
  label,
  field,
  issues,
  children,
}: {
  label: string;
  field: string;
  issues: Issues;
  children: ReactNode;
}) {
  // The problem sits beside the label, not in it, so the field keeps its plain name.
  return (
    <div className="field">
      <label>
        {label}
        {children}
      </label>
      <Problem issues={issues} field={field} />
    </div>
  );
}

function Reason({ issues, name = 'reason' }: { issues: Issues; name?: string }) {
  return (
    <Field label="Why (kept on the timeline)" field="reason" issues={issues}>
      <input name={name} required maxLength={500} placeholder="e.g. typo fixed, customer called" />
    </Field>
  );
}

/** Submits a form's JSON; on success clears the problems and reports, else shows them by field. */
function useSave(onSaved: (what: string) => void) {
  const [issues, setIssues] = useState<Issues>({});
  const save = async (form: HTMLFormElement, path: string, method: string, json: unknown, done: string) => {
    setIssues({});
    try {
      await api(path, { method, json });
      form.reset();
      onSaved(done);
    } catch (e) {
      setIssues(issuesOf(e));
    }
  };
  return { issues, setIssues, save };
}

function ProfileForm({
  record,
  role,
  onSaved,
}: {
  record: CustomerRecord;
  role: Role;
  onSaved: (what: string) => void;
}) {
  const { issues, setIssues, save } = useSave(onSaved);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const edit: Partial<RecordEdit> = { reason: text('reason') };
    if (text('name') && text('name') !== (record.name ?? '')) edit.name = text('name');
    if (text('email') && text('email') !== (record.email ?? '')) edit.email = text('email');
    if (text('phone') && text('phone') !== (record.phone ?? '')) edit.phone = text('phone');
    const channel = text('acquisitionChannel');
    if (channel && channel !== (record.acquisitionChannel ?? '')) edit.acquisitionChannel = channel as never;
    if (Object.keys(edit).length === 1) return setIssues({ form: 'Nothing changed: change a value first.' });
    void save(event.currentTarget, `/v1/customers/${record.id}`, 'PATCH', edit, 'The record is changed.');
  };
  const marketing = role === 'admin' || role === 'marketer';
  return (
    <form className="edit-form" aria-label="Profile and contact" onSubmit={submit}>
      <h3>Profile and contact</h3>
      <div className="inline-form">
        <Field label="Name" field="name" issues={issues}>
          <input name="name" defaultValue={record.name ?? ''} maxLength={300} />
        </Field>
        <Field label="Email" field="email" issues={issues}>
          <input name="email" type="text" defaultValue={record.email ?? ''} maxLength={320} />
        </Field>
        <Field label="Phone" field="phone" issues={issues}>
          <input name="phone" defaultValue={record.phone ?? ''} maxLength={50} />
        </Field>
        {marketing && (
          <Field label="Acquired through" field="acquisitionChannel" issues={issues}>
            <select name="acquisitionChannel" defaultValue={record.acquisitionChannel ?? ''}>
              <option value="">—</option>
              {channels.map((c) => (
                <option key={c} value={c}>
                  {words(c)}
                </option>
              ))}
            </select>
          </Field>
        )}
      </div>
      <p className="small muted">
        A new email or phone number becomes the record's; the old one stays known, so messages that name it still find
        this customer. One another customer already has is refused: merge the two instead.
      </p>
      <div className="inline-form">
        <Reason issues={issues} />
        <button type="submit">Save profile</button>
      </div>
      <Problem issues={issues} field="form" />
      <Problem issues={issues} field="body" />
    </form>
  );
}

function AddressForm({ record, onSaved }: { record: CustomerRecord; onSaved: (what: string) => void }) {
  const { issues, save } = useSave(onSaved);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const text = (name: string) => String(data.get(name) ?? '').trim() || undefined;
    const validFrom = text('validFrom');
    const body: Partial<NewAddress> = {
      kind: (text('kind') ?? 'postal') as NewAddress['kind'],
      line1: text('line1'),
      line2: text('line2'),
      postalCode: text('postalCode'),
      city: text('city'),
      region: text('region'),
      country: text('country'),
      validFrom: validFrom ? new Date(`${validFrom}T00:00:00Z`).toISOString() : undefined,
      reason: text('reason'),
    };
    void save(
      event.currentTarget,
      `/v1/customers/${record.id}/addresses`,
      'POST',
      body,
      'The new address is on record.',
    );
  };
  const current = record.addresses.filter((a) => a.current);
  return (
    <form className="edit-form" aria-label="New address" onSubmit={submit}>
      <h3>New address</h3>
      <p className="small muted">
        The current address of the same kind is closed and kept in the history with its end date (
        {record.addresses.length} on file{current.length ? `, current since ${formatDate(current[0].validFrom)}` : ''}).
        A new address clears moved and undeliverable.
      </p>
      <div className="inline-form">
        <Field label="Kind" field="kind" issues={issues}>
          <select name="kind" defaultValue="postal">
            <option value="postal">postal</option>
            <option value="billing">billing</option>
            <option value="shipping">shipping</option>
          </select>
        </Field>
        <Field label="Street and number" field="line1" issues={issues}>
          <input name="line1" required maxLength={300} />
        </Field>
        <Field label="Line 2" field="line2" issues={issues}>
          <input name="line2" maxLength={300} />
        </Field>
        <Field label="Postcode" field="postalCode" issues={issues}>
          <input name="postalCode" maxLength={40} size={8} />
        </Field>
        <Field label="City" field="city" issues={issues}>
          <input name="city" maxLength={200} />
        </Field>
        <Field label="Region" field="region" issues={issues}>
          <input name="region" maxLength={200} size={10} />
        </Field>
        <Field label="Country" field="country" issues={issues}>
          <input name="country" maxLength={2} size={3} placeholder="DE" />
        </Field>
        <Field label="Lives there since" field="validFrom" issues={issues}>
          <input name="validFrom" type="date" />
        </Field>
      </div>
      <div className="inline-form">
        <Reason issues={issues} />
        <button type="submit">Add address</button>
      </div>
      <Problem issues={issues} field="form" />
    </form>
  );
}

type AttributeType = 'text' | 'number' | 'date' | 'boolean';
const valueOf = (type: AttributeType, raw: FormDataEntryValue | null): string | number | boolean =>
  type === 'boolean' ? raw === 'on' : type === 'number' ? Number(raw) : String(raw ?? '');

function AttributesForm({ record, onSaved }: { record: CustomerRecord; onSaved: (what: string) => void }) {
  const { issues, setIssues, save } = useSave(onSaved);
  const [newType, setNewType] = useState<AttributeType>('text');
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    const attributes: Record<string, string | number | boolean | null> = {};
    for (const a of record.attributes) {
      const type = a.type as AttributeType;
      if (data.get(`remove.${a.key}`) === 'on') attributes[a.key] = null;
      else {
        const value = valueOf(type, data.get(`value.${a.key}`));
        if (value !== a.value) attributes[a.key] = value;
      }
    }
    const key = String(data.get('newKey') ?? '').trim();
    if (key) attributes[key] = valueOf(newType, data.get('newValue'));
    if (Object.keys(attributes).length === 0) return setIssues({ form: 'Nothing changed: change a value first.' });
    const reason = String(data.get('reason') ?? '').trim();
    void save(
      event.currentTarget,
      `/v1/customers/${record.id}`,
      'PATCH',
      { attributes, reason },
      'The attributes are changed.',
    );
  };
  const input = (type: AttributeType, name: string, value?: string | number | boolean) =>
    type === 'boolean' ? (
      <input name={name} type="checkbox" defaultChecked={value === true} />
    ) : (
      <input
        name={name}
        type={type === 'number' ? 'number' : type === 'date' ? 'date' : 'text'}
        step={type === 'number' ? 'any' : undefined}
        defaultValue={value === undefined ? '' : String(value)}
      />
    );
  return (
    <form className="edit-form" aria-label="Custom attributes" onSubmit={submit}>
      <h3>Custom attributes</h3>
      <p className="small muted">Each attribute keeps the type it was first given; segments can select on them.</p>
      {record.attributes.map((a) => (
        <div className="inline-form" key={a.key}>
          <Field label={`${words(a.key)} (${a.type})`} field={`attributes.${a.key}`} issues={issues}>
            {input(a.type as AttributeType, `value.${a.key}`, a.value)}
          </Field>
          <label className="inline">
            <input type="checkbox" name={`remove.${a.key}`} /> remove
          </label>
        </div>
      ))}
      <div className="inline-form">
        <Field label="New attribute (snake_case)" field="newKey" issues={issues}>
          <input name="newKey" pattern="[a-z][a-z0-9_]{0,62}" placeholder="e.g. shoe_size" />
        </Field>
        <label>
          Type
          <select value={newType} onChange={(e) => setNewType(e.target.value as AttributeType)}>
            <option value="text">text</option>
            <option value="number">number</option>
            <option value="date">date</option>
            <option value="boolean">yes / no</option>
          </select>
        </label>
        <label>
          Value
          {input(newType, 'newValue')}
        </label>
      </div>
      {Object.entries(issues)
        .filter(
          ([field]) =>
            field.startsWith('attributes.') && !record.attributes.some((a) => `attributes.${a.key}` === field),
        )
        .map(([field, message]) => (
          <p key={field} className="error" role="alert">
            {words(field.slice('attributes.'.length))}: {message}
          </p>
        ))}
      <div className="inline-form">
        <Reason issues={issues} />
        <button type="submit">Save attributes</button>
      </div>
      <Problem issues={issues} field="form" />
    </form>
  );
}

function FlagsForm({ record, role, onSaved }: { record: CustomerRecord; role: Role; onSaved: (what: string) => void }) {
  const [issues, setIssues] = useState<Issues>({});
  const [reason, setReason] = useState('');
  const change = async (flag: StatusFlag, active: boolean) => {
    setIssues({});
    if (!reason.trim()) return setIssues({ reason: 'Say why before setting or clearing a flag.' });
    try {
      await api(`/v1/customers/${record.id}/flags`, { method: 'POST', json: { flag, active, reason: reason.trim() } });
      setReason('');
      onSaved(`${flagWords[flag].label} is ${active ? 'set' : 'cleared'}.`);
    } catch (e) {
      setIssues(issuesOf(e));
    }
  };
  return (
    <section className="edit-form" aria-label="Status flags">
      <h3>Status flags</h3>
      <ul className="plain flags-edit">
        {(Object.keys(flagWords) as StatusFlag[]).map((flag) => {
          const set = record.flags.includes(flag);
          const canClear = flag !== 'deceased' || role === 'admin';
          return (
            <li key={flag}>
              <b>{flagWords[flag].label}</b>: {flagWords[flag].does}{' '}
              {set ? (
                canClear && (
                  <button type="button" className="secondary" onClick={() => change(flag, false)}>
                    Clear {flagWords[flag].label.toLowerCase()}
                  </button>
                )
              ) : (
                <button type="button" className="secondary" onClick={() => change(flag, true)}>
                  Set {flagWords[flag].label.toLowerCase()}
                </button>
              )}
              {set && <span className="flag">set</span>}
            </li>
          );
        })}
      </ul>
      <div className="inline-form">
        <Field label="Why (kept on the timeline)" field="reason" issues={issues}>
          <input
            name="flagReason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            maxLength={500}
            placeholder="e.g. asked on the phone not to be called"
          />
        </Field>
      </div>
      <Problem issues={issues} field="form" />
      <Problem issues={issues} field="active" />
      <Problem issues={issues} field="flag" />
    </section>
  );
}

/**
 * The Edit action of a record: forms for what the signed-in role may change (docs/security.md);
 * nothing for roles that may not edit. `onSaved` reloads the record and the timeline.
 */
export function EditRecord({
  record,
  role,
  onSaved,
}: {
  record: CustomerRecord;
  role: Role | null;
  onSaved: () => void;
}) {
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  if (role === null || role === 'analyst') return null;
  if (!open)
    return (
      <button type="button" className="secondary" onClick={() => setOpen(true)}>
        Edit record…
      </button>
    );
  const saved = (what: string) => {
    setDone(what);
    onSaved();
  };
  return (
    <section className="card record-edit" aria-label="Edit this record">
      <h2>
        Edit this record{' '}
        <button type="button" className="link" onClick={() => setOpen(false)}>
          Close
        </button>
      </h2>
      <p className="small muted">Every change is kept on the timeline and in the audit log with who made it and why.</p>
      {done && (
        <p className="notice" role="status">
          {done}
        </p>
      )}
      <ProfileForm key={`p${record.updatedAt}`} record={record} role={role} onSaved={saved} />
      <AddressForm key={`a${record.addresses.length}`} record={record} onSaved={saved} />
      {(role === 'admin' || role === 'marketer') && (
        <AttributesForm key={`t${record.updatedAt}`} record={record} onSaved={saved} />
      )}
      <FlagsForm record={record} role={role} onSaved={saved} />
    </section>
  );
}

const shown = (value: unknown) =>
  value === null || value === undefined
    ? 'nothing'
    : typeof value === 'object'
      ? Object.values(value as Record<string, unknown>)
          .filter((v) => v !== null && v !== '')
          .join(', ')
      : String(value);

/** An `edit` entry's before and after, under its title. */
export function EditDetail({ entry }: { entry: TimelineEntry }) {
  return (
    <p className="muted">
      {shown(entry.detail.before)} → <b>{shown(entry.detail.after)}</b>
    </p>
  );
}
