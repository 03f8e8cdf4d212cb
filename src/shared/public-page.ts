// The shell of the pages a customer reaches from a link without signing in (surveys, feedback,
// unsubscribe): small server-rendered HTML, no script, strict headers.
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';

export const publicHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  // The link is the secret: it must not leak to other sites, caches or search engines.
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Robots-Tag': 'noindex',
  'X-Content-Type-Options': 'nosniff',
};

const style = raw(`<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:34rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.35rem}fieldset{border:0;margin:0 0 1.25rem;padding:0}legend{font-weight:600;margin-bottom:.5rem}
.scale{display:flex;flex-wrap:wrap;gap:.35rem}.scale label{flex:1 0 2.4rem;text-align:center;border:1px solid #c8ced8;border-radius:.4rem;padding:.5rem 0;background:#fff}
.scale input{display:block;margin:0 auto}.ends{display:flex;justify-content:space-between;font-size:.85rem;color:#5b6475}
.choice label{display:block;padding:.45rem .6rem;border:1px solid #c8ced8;border-radius:.4rem;margin-bottom:.35rem;background:#fff}
textarea{width:100%;box-sizing:border-box;min-height:6rem;font:inherit;padding:.5rem;border:1px solid #c8ced8;border-radius:.4rem}
button{font:inherit;font-weight:600;background:#2457d6;color:#fff;border:0;border-radius:.4rem;padding:.7rem 1.4rem}
.error{color:#b3261e;margin:.35rem 0 0}
</style>`);

export const page = (title: string, body: HtmlEscapedString | Promise<HtmlEscapedString>) => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title>${style}</head>
<body><main>${body}</main></body></html>`;

/** The client's address, for rate limits on the public pages. */
export const clientOf = (c: Context) => {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
};
