// What the entry checks found doubtful in a record, in words, each with the likely right value:
// warnings, not errors (the record was stored as it came). The data-quality page counts them.
import type { CustomerRecord } from '../../customers/customer.ts';
import { words } from '../api.ts';
import { Link } from '../router.tsx';

const fieldWords: Record<string, string> = {
  name: 'Name',
  email: 'Email',
  phone: 'Phone',
  postal_code: 'Postcode',
  address: 'Address',
  created_at: 'Customer since',
  first_order_at: 'First order',
};
const fieldLabel = (field: string) =>
  fieldWords[field] ?? (field.startsWith('attributes.') ? words(field.slice('attributes.'.length)) : words(field));

export function RecordWarnings({ warnings }: { warnings: CustomerRecord['warnings'] }) {
  if (warnings.length === 0) return null;
  return (
    <section className="warnings record-warnings" aria-label="Checks on this record">
      <b>{warnings.length === 1 ? 'One thing looks wrong' : `${warnings.length} things look wrong`} in this record</b>{' '}
      <small className="muted">
        (stored as it came; <Link to="/quality">data quality</Link>)
      </small>
      <ul className="plain">
        {warnings.map((w) => (
          <li key={`${w.field}|${w.code}`}>
            <small className="muted">{fieldLabel(w.field)}:</small> {w.message}
            {w.suggestion && (
              <>
                {' '}
                — probably <b className="suggestion">{w.suggestion}</b>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
