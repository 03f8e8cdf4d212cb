// The one way the UI talks to the server: JSON over fetch with the session cookie.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const response = await fetch(`/api${path}`, {
    credentials: 'same-origin',
    ...rest,
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...rest.headers },
    body: json === undefined ? rest.body : JSON.stringify(json),
  });
  if (response.status === 204) return undefined as T;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401 && path !== '/v1/auth/login') window.dispatchEvent(new Event('kept:signed-out'));
    throw new ApiError(response.status, body?.error?.message ?? `HTTP ${response.status}`, body?.error?.details);
  }
  return body as T;
}

/** What went wrong, in words: each field's problem when the server named them, else the message. */
export function problemText(error: unknown): string {
  const issues =
    error instanceof ApiError
      ? (error.details as { issues?: { path: string; message: string }[] } | undefined)?.issues
      : undefined;
  return issues?.length ? issues.map((i) => `${i.path}: ${i.message}`).join('; ') : (error as Error).message;
}

export const formatDate = (iso: string | null) =>
  iso ? new Date(iso).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }) : '—';
export const formatTime = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
export const words = (text: string) => text.replace(/_/g, ' ');
/** A share as a percentage: whole by default, '—' when there is none (NaN arrives as null). */
export const percent = (share: number | null | undefined, digits = 0) =>
  typeof share === 'number' && Number.isFinite(share) ? `${(share * 100).toFixed(digits)} %` : '—';
/** A difference of two shares in percentage points, signed: +12, −3. */
export const points = (difference: number | null | undefined, digits = 0) =>
  typeof difference === 'number' && Number.isFinite(difference)
    ? `${difference < 0 ? '−' : '+'}${Math.abs(difference * 100).toFixed(digits)}`
    : '—';
