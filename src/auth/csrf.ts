// A browser sends the session cookie with any request another site makes it send. SameSite=Lax
// stops most of that, but not a same-site subdomain, an old browser or a top-level form. So a
// request that changes something and is signed in by the cookie must also show it comes from Kept's
// own pages: a same-origin Origin (or Sec-Fetch-Site), and a content type a cross-site form cannot
// send. API keys travel in a header no other site can set, so they are not held to this.
import type { Context } from 'hono';
import { isJsonType, mediaTypeOf } from '../shared/edge.ts';

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The upload sends the file itself; every other body is JSON. */
const uploadTypes = new Set(['text/csv', 'application/octet-stream']);

/** Why a state-changing request signed in by cookie is refused as possibly cross-site, or undefined when it may go on. */
export function crossSiteProblem(c: Context, publicUrl: string | undefined): string | undefined {
  if (safeMethods.has(c.req.method)) return undefined;
  const fetchSite = c.req.header('sec-fetch-site');
  const origin = c.req.header('origin');
  if (fetchSite !== undefined) {
    if (fetchSite !== 'same-origin')
      return `this request comes from another site (Sec-Fetch-Site: ${fetchSite}); signed in by cookie, Kept takes changes only from its own pages`;
  } else if (!origin) {
    return 'a change signed in by cookie needs an Origin header naming this server (or use an API key)';
  } else if (!sameOrigin(origin, new URL(c.req.url).host, publicUrl)) {
    return `this request comes from ${origin}; signed in by cookie, Kept takes changes only from its own pages`;
  }
  // A body comes with its length or in chunks (a browser sends no body on a DELETE without one).
  const hasBody = Number(c.req.header('content-length') ?? 0) > 0 || c.req.header('transfer-encoding') !== undefined;
  const mediaType = mediaTypeOf(c.req.header('content-type'));
  if (
    (hasBody || mediaType) &&
    !isJsonType(mediaType) &&
    !(c.req.path === '/api/v1/imports' && uploadTypes.has(mediaType))
  ) {
    return `a change signed in by cookie must send its body as application/json${c.req.path === '/api/v1/imports' ? ' (an upload: text/csv)' : ''}, not ${mediaType || 'without a content type'}`;
  }
  return undefined;
}

/** The Origin names this server: the host the request was sent to (the Host header), or KEPT_PUBLIC_URL behind a proxy. */
function sameOrigin(origin: string, host: string, publicUrl: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (publicUrl && url.origin === new URL(publicUrl).origin) return true;
  return url.host === host;
}
