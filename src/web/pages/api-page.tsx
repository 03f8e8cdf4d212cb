import { useEffect, useState } from 'react';
import { api } from '../api.ts';

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: { type?: string; enum?: string[] };
  }[];
}
interface Document {
  info: { title: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
}

/** The OpenAPI document, readable: every route with its summary, description and parameters. */
export function ApiPage() {
  const [doc, setDoc] = useState<Document | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<Document>('/openapi.json').then(setDoc, (e) => setError(e.message));
  }, []);
  if (error) return <p className="error">{error}</p>;
  if (!doc) return <p className="muted">Loading…</p>;
  const operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
  const tags = [...new Set(operations.map((o) => o.op.tags?.[0] ?? 'other'))];
  return (
    <div className="apidoc">
      <h1>{doc.info.title}</h1>
      <p>
        {doc.info.description} Authenticate with <code>Authorization: Bearer &lt;key&gt;</code> (create one with{' '}
        <code>npx kept keys create --name N --role R</code>). The machine-readable document is at{' '}
        <a href="/api/openapi.json">/api/openapi.json</a>.
      </p>
      {tags.map((tag) => (
        <section key={tag}>
          <h2>{tag}</h2>
          {operations
            .filter((o) => (o.op.tags?.[0] ?? 'other') === tag)
            .map(({ path, method, op }) => (
              <details key={`${method} ${path}`} className="card op">
                <summary>
                  <span className={`method ${method}`}>{method.toUpperCase()}</span> <code>{path}</code> {op.summary}
                </summary>
                {op.description && <p className="pre">{op.description}</p>}
                {op.parameters?.length ? (
                  <table className="list">
                    <thead>
                      <tr>
                        <th>Parameter</th>
                        <th>In</th>
                        <th>Type</th>
                        <th>Description</th>
                      </tr>
                    </thead>
                    <tbody>
                      {op.parameters.map((p) => (
                        <tr key={`${p.in}${p.name}`}>
                          <td>
                            <code>{p.name}</code>
                            {p.required ? ' *' : ''}
                          </td>
                          <td>{p.in}</td>
                          <td>{p.schema?.enum?.join(' | ') ?? p.schema?.type ?? ''}</td>
                          <td>{p.description ?? ''}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : null}
              </details>
            ))}
        </section>
      ))}
    </div>
  );
}
