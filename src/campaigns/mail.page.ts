// What a recipient reaches from a campaign mail without signing in: the unsubscribe page (RFC 8058
// one-click: a POST unsubscribes with no cookie and no redirect; a GET only shows the button, since
// link scanners follow GETs), the open pixel and the click redirect. Tokens are signed, so a click
// redirect goes only where the mail pointed.
import { Hono, type Context } from 'hono';
import { publicRoute } from '../auth/access.ts';
import { html } from 'hono/html';
import { verifyToken } from '../auth/signing.ts';
import { recordConsent } from '../customers/consent.repository.ts';
import { upsertTouchpoints } from '../channels/touchpoint.repository.ts';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { clientOf, page, publicHeaders } from '../shared/public-page.ts';
import { createRateLimiter } from '../shared/rate-limit.ts';

const pixel = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const ids = (payload: string) => payload.split('.').slice(0, 2).map(Number) as [number, number];

export function mailPages(deps: Deps) {
  const app = new Hono();
  // Mail providers send one-click unsubscribes for many people from few addresses: valid tokens are
  // never limited; bad tokens (a guesser) are, per address.
  const misses = createRateLimiter({ limit: 20, windowMs: 10 * 60_000 });
  const guard = async (c: Context, next: () => Promise<void>) => {
    for (const [name, value] of Object.entries(publicHeaders)) c.header(name, value);
    const wait = misses.blockedFor(clientOf(c));
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return c.text('Too many requests', 429);
    }
    await next();
    if (c.res.status === 404) misses.hit(clientOf(c));
  };
  app.use('/u/*', guard);
  app.use('/t/*', guard);

  const campaignOf = async (campaignId: number) =>
    (await queryRows<{ name: string; consent_list: string }>(deps.db, sql`select name, consent_list from campaigns where id = ${campaignId}`))[0];

  app.get('/u/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'unsubscribe', c.req.param('token'));
    if (!payload) return c.html(page('Link not valid', html`<h1>This link is not valid</h1><p>Reply to the email and we will take you off the list by hand.</p>`), 404);
    const campaign = await campaignOf(ids(payload)[0]);
    return c.html(page('Unsubscribe', html`<h1>Unsubscribe</h1><p>Stop emails about ${campaign?.consent_list ?? 'news and offers'}?</p>
      <form method="post"><button type="submit">Unsubscribe</button></form>`));
  });

  app.post('/u/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'unsubscribe', c.req.param('token'));
    if (!payload) return c.html(page('Link not valid', html`<h1>This link is not valid</h1>`), 404);
    const [campaignId, customerId] = ids(payload);
    const campaign = await campaignOf(campaignId);
    const list = campaign?.consent_list ?? 'marketing';
    const [latest] = await queryRows<{ granted: boolean }>(deps.db, sql`select granted from consent_ledger where customer_id = ${customerId} and list = ${list} order by at desc, id desc limit 1`);
    // Pressing twice records once.
    if (latest?.granted !== false && (await queryRows(deps.db, sql`select 1 from customers where id = ${customerId}`)).length > 0) {
      const entry = { customerId, list, granted: false, at: deps.clock.now(), source: 'unsubscribe', wording: campaign ? `Unsubscribed from the link in "${campaign.name}"` : 'Unsubscribed from an email link' };
      await deps.db.transaction((tx) => recordConsent(tx, [entry]));
    }
    return c.html(page('Unsubscribed', html`<h1>You are unsubscribed</h1><p>You will get no more of these emails. It may take a minute for a message already on its way.</p>`));
  });

  app.get('/t/o/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'open', c.req.param('token'));
    if (payload) {
      const [campaignId, customerId] = ids(payload);
      const campaign = await campaignOf(campaignId);
      if (campaign) {
        await upsertTouchpoints(deps.db, [{ customerId, externalId: `campaign:${campaignId}:open`, at: deps.clock.now(), channel: 'email', direction: 'in', kind: 'email_opened', campaign: campaign.name, detail: { campaignId } }])
          .catch((error) => deps.logger.warn({ err: error }, 'open not recorded'));
      }
    }
    return c.body(pixel, 200, { 'Content-Type': 'image/gif', 'Cache-Control': 'no-store' });
  });

  app.get('/t/c/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'click', c.req.param('token'));
    if (!payload) return c.text('This link is not valid', 404);
    const [campaignId, customerId] = ids(payload);
    const encoded = payload.split('.')[2] ?? '';
    const url = Buffer.from(encoded, 'base64url').toString('utf8');
    if (!/^https?:\/\//.test(url)) return c.text('This link is not valid', 404);
    const campaign = await campaignOf(campaignId);
    if (campaign) {
      await upsertTouchpoints(deps.db, [{ customerId, externalId: `campaign:${campaignId}:click:${encoded.slice(0, 120)}`, at: deps.clock.now(), channel: 'email', direction: 'in', kind: 'email_clicked', campaign: campaign.name, detail: { campaignId, url } }])
        .catch((error) => deps.logger.warn({ err: error }, 'click not recorded'));
    }
    return c.redirect(url, 302);
  });
  return app;
}
