import { useEffect, useState, type FormEvent } from 'react';
import type { ImportJob } from '../../imports/import.ts';
import { api, formatTime } from '../api.ts';

const kinds = ['customers', 'orders', 'returns', 'touchpoints', 'tickets', 'surveys', 'subscriptions', 'products'];

/** Sends the file as the request body, reporting upload progress (fetch cannot). */
function uploadFile(file: File, query: URLSearchParams, onProgress: (share: number) => void): Promise<ImportJob> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', `/api/v1/imports?${query}`);
    request.setRequestHeader('content-type', 'text/csv');
    request.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    request.onload = () => {
      const body = JSON.parse(request.responseText || '{}');
      if (request.status === 202) resolve(body);
      else
        reject(
          new Error(
            body?.error?.details?.issues
              ?.map((i: { path: string; message: string }) => `${i.path}: ${i.message}`)
              .join('; ') ||
              body?.error?.message ||
              `HTTP ${request.status}`,
          ),
        );
    };
    request.onerror = () => reject(new Error('The upload did not reach the server'));
    request.send(file);
  });
}

function Progress({ job }: { job: ImportJob }) {
  const share = job.status === 'done' ? 1 : job.total ? job.done / job.total : 0;
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuenow={Math.round(share * 100)}
      aria-valuemin={0}
      aria-valuemax={100}
    >
      <div style={{ width: `${share * 100}%` }} className={job.status} />
      <span>{job.status === 'running' || job.status === 'queued' ? `${Math.round(share * 100)} %` : job.status}</span>
    </div>
  );
}

export function ImportsPage() {
  const [jobs, setJobs] = useState<ImportJob[]>([]);
  const [uploading, setUploading] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = () =>
    api<{ imports: ImportJob[] }>('/v1/imports').then(
      (r) => setJobs(r.imports),
      (e) => setError(e.message),
    );
  useEffect(() => {
    refresh();
  }, []);
  // Poll while something runs.
  const active = jobs.some((j) => j.status === 'queued' || j.status === 'running');
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(refresh, 1000);
    return () => clearInterval(timer);
  }, [active]);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const element = event.currentTarget;
    const form = new FormData(element);
    const file = form.get('file') as File;
    const query = new URLSearchParams({ kind: String(form.get('kind')), fileName: file.name });
    for (const key of ['map', 'dateFormat', 'delimiter', 'encoding'])
      if (form.get(key)) query.set(key, String(form.get(key)));
    setError(null);
    setUploading(0);
    try {
      await uploadFile(file, query, setUploading);
      element.reset();
      await refresh();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setUploading(null);
    }
  };

  return (
    <div className="imports">
      <h1>Imports</h1>
      <form className="card upload" onSubmit={submit}>
        <label>
          What the file holds
          <select name="kind" defaultValue="orders">
            {kinds.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          CSV file
          <input name="file" type="file" accept=".csv,.tsv,.txt,text/csv" required />
        </label>
        <label>
          Column mapping <small className="muted">target=Column, e.g. customer=masterid,at=date,amount=sales</small>
          <input name="map" placeholder="optional" />
        </label>
        <label>
          Date format <small className="muted">e.g. yyyyMMdd or dd/MM/yyyy HH:mm; ISO 8601 when empty</small>
          <input name="dateFormat" placeholder="optional" />
        </label>
        <label>
          Separator
          <select name="delimiter" defaultValue="">
            <option value="">detect</option>
            <option value="comma">comma</option>
            <option value="semicolon">semicolon</option>
            <option value="tab">tab</option>
          </select>
        </label>
        <label>
          Encoding
          <select name="encoding" defaultValue="utf-8">
            <option>utf-8</option>
            <option>windows-1252</option>
            <option>latin1</option>
          </select>
        </label>
        <button type="submit" disabled={uploading !== null}>
          {uploading === null ? 'Upload and import' : `Uploading ${Math.round(uploading * 100)} %`}
        </button>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <table className="list">
        <thead>
          <tr>
            <th>File</th>
            <th>Kind</th>
            <th>Started</th>
            <th>Progress</th>
            <th className="num">Read</th>
            <th className="num">Imported</th>
            <th className="num">Updated</th>
            <th className="num">Unchanged</th>
            <th className="num">Rejected</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.jobId}>
              <td>
                {j.fileName}
                {j.error && <div className="error">{j.error}</div>}
              </td>
              <td>{j.kind}</td>
              <td>{formatTime(j.createdAt)}</td>
              <td>
                <Progress job={j} />
              </td>
              <td className="num">{j.counts?.read.toLocaleString() ?? '—'}</td>
              <td className="num">{j.counts?.imported.toLocaleString() ?? '—'}</td>
              <td className="num">{j.counts?.updated.toLocaleString() ?? '—'}</td>
              <td className="num">{j.counts?.unchanged.toLocaleString() ?? '—'}</td>
              <td className="num">
                {j.counts?.rejected ? (
                  <a href={`/api/v1/imports/${j.jobId}/rejected`}>{j.counts.rejected.toLocaleString()} (CSV)</a>
                ) : (
                  (j.counts?.rejected ?? '—')
                )}
              </td>
            </tr>
          ))}
          {jobs.length === 0 && (
            <tr>
              <td colSpan={9} className="muted">
                No uploads yet. The command line does the same: npx kept import orders file.csv
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
