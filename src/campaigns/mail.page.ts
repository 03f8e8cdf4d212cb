// What a recipient reaches from a campaign mail without signing in: the unsubscribe page (RFC 8058
// one-click: a POST unsubscribes with no cookie and no redirect; a GET only shows the button, since
// link scanners follow GETs), their preference page (every list, ticked or not; P17), the open
// pixel and the click redirect. Tokens are signed, so a click redirect goes only where the mail
// pointed. Nothing is recorded for a customer who is no longer there (erased).
import { Hono, type Context } from 'hono';
import { publicRoute } from '../auth/access.ts';
import { html } from 'hono/html';
import { verifyToken } from '../auth/signing.ts';
import { recordConsent } from '../customers/index.ts';
import { upsertTouchpoints } from '../channels/index.ts';
import type { Deps } from '../deps.ts';
import { consentChoices, customerExists, latestConsent, selectCampaign } from './campaign.repository.ts';
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
  app.use('/p/*', guard);
  app.use('/t/*', guard);

  const campaignOf = (campaignId: number) => selectCampaign(deps.db, campaignId);
  const exists = (customerId: number) => customerExists(deps.db, customerId);

  app.get('/u/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'unsubscribe', c.req.param('token'));
    if (!payload)
      return c.html(
        page(
          'Link not valid',
          html`<h1>This link is not valid</h1><p>Reply to the email and we will take you off the list by hand.</p>`,
        ),
        404,
      );
    const campaign = await campaignOf(ids(payload)[0]);
    return c.html(
      page(
        'Unsubscribe',
        html`<h1>Unsubscribe</h1><p>Stop emails about ${campaign?.consentList ?? 'news and offers'}?</p>
      <form method="post"><button type="submit">Unsubscribe</button></form>`,
      ),
    );
  });

  app.post('/u/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'unsubscribe', c.req.param('token'));
    if (!payload) return c.html(page('Link not valid', html`<h1>This link is not valid</h1>`), 404);
    const [campaignId, customerId] = ids(payload);
    const campaign = await campaignOf(campaignId);
    const list = campaign?.consentList ?? 'marketing';
    // Pressing twice records once.
    if ((await latestConsent(deps.db, customerId, list)) !== false && (await exists(customerId))) {
      const entry = {
        customerId,
        list,
        granted: false,
        at: deps.clock.now(),
        source: 'unsubscribe',
        wording: campaign ? `Unsubscribed from the link in "${campaign.name}"` : 'Unsubscribed from an email link',
      };
      await deps.db.transaction((tx) => recordConsent(tx, [entry]));
    }
    return c.html(
      page(
        'Unsubscribed',
        html`<h1>You are unsubscribed</h1><p>You will get no more of these emails. It may take a minute for a message already on its way.</p>`,
      ),
    );
  });

  const notValid = () =>
    page(
      'Link not valid',
      html`<h1>This link is not valid</h1><p>Reply to an email from us and we will change what you get by hand.</p>`,
    );
  const preferences = (customerId: number) => consentChoices(deps.db, customerId);
  const gets = (granted: boolean | null) =>
    granted === true || (granted === null && deps.config.mail.consent === 'unless-withdrawn');
  const label = (list: string) => `Emails about ${list === 'marketing' ? 'news and offers' : list}`;

  app.get('/p/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'preferences', c.req.param('token'));
    if (!payload) return c.html(notValid(), 404);
    const lists = await preferences(Number(payload));
    if (lists.length === 0)
      return c.html(
        page('Your emails', html`<h1>We hold nothing about you</h1><p>You will get no emails from us.</p>`),
      );
    const saved = c.req.query('saved') !== undefined;
    return c.html(
      page(
        'Your emails',
        html`<h1>Which emails do you want?</h1>
      ${saved ? html`<p role="status"><b>Saved.</b> It may take a minute for a message already on its way.</p>` : ''}
      <form method="post"><fieldset class="choice"><legend>Tick what you want to get</legend>
      ${lists.map((l) => html`<label><input type="checkbox" name="list" value="${l.list}"${gets(l.granted) ? html` checked` : ''}> ${label(l.list)}</label>`)}
      </fieldset><button type="submit" name="do" value="save">Save my choices</button></form>
      <form method="post"><p><button type="submit" name="do" value="none">Stop all emails</button></p></form>`,
      ),
    );
  });

  app.post('/p/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'preferences', c.req.param('token'));
    if (!payload) return c.html(notValid(), 404);
    const customerId = Number(payload);
    const form = await c.req.parseBody({ all: true });
    const none = form.do === 'none';
    const wanted = new Set(none ? [] : [form.list ?? []].flat().map(String));
    const at = deps.clock.now();
    // Only changes are recorded, each with the words the customer saw.
    const entries = (await preferences(customerId))
      .filter((l) => gets(l.granted) !== wanted.has(l.list))
      .map((l) => ({
        customerId,
        list: l.list,
        granted: wanted.has(l.list),
        at,
        source: 'preference page',
        wording: none
          ? 'Pressed "Stop all emails" on their preference page'
          : `${wanted.has(l.list) ? 'Ticked' : 'Unticked'} "${label(l.list)}" on their preference page`,
      }));
    if (entries.length > 0) await deps.db.transaction((tx) => recordConsent(tx, entries));
    return c.redirect(`${c.req.path}?saved`, 303);
  });

  app.get('/t/o/:token', publicRoute, async (c) => {
    const payload = await verifyToken(deps, 'open', c.req.param('token'));
    if (payload) {
      const [campaignId, customerId] = ids(payload);
      const campaign = await campaignOf(campaignId);
      if (campaign && (await exists(customerId))) {
        await upsertTouchpoints(deps.db, [
          {
            customerId,
            externalId: `campaign:${campaignId}:open`,
            at: deps.clock.now(),
            channel: 'email',
            direction: 'in',
            kind: 'email_opened',
            campaign: campaign.name,
            detail: { campaignId },
          },
        ]).catch((error) => deps.logger.warn({ err: error }, 'open not recorded'));
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
    if (campaign && (await exists(customerId))) {
      await upsertTouchpoints(deps.db, [
        {
          customerId,
          externalId: `campaign:${campaignId}:click:${encoded.slice(0, 120)}`,
          at: deps.clock.now(),
          channel: 'email',
          direction: 'in',
          kind: 'email_clicked',
          campaign: campaign.name,
          detail: { campaignId, url },
        },
      ]).catch((error) => deps.logger.warn({ err: error }, 'click not recorded'));
    }
    return c.redirect(url, 302);
  });
  return app;
}
