// The public pages a customer reaches without signing in: a survey link and the feedback form.
// Small server-rendered HTML (quick on a phone, no script), every value escaped by hono/html.
import { Hono, type Context } from 'hono';
import { publicRoute } from '../auth/access.ts';
import { html } from 'hono/html';
import type { Deps } from '../deps.ts';
import { clientOf, page, publicHeaders as headers } from '../shared/public-page.ts';
import { createRateLimiter } from '../shared/rate-limit.ts';
import type { SurveyQuestion } from './survey.schema.ts';
import { answerSurvey, leaveFeedback, maxAnswerLength, openSurveyLink } from './survey.service.ts';

const labelOf = (option: string) => option.charAt(0).toUpperCase() + option.slice(1).replace(/_/g, ' ');
const ends = {
  nps: ['Not at all likely', 'Extremely likely'],
  csat: ['Very unsatisfied', 'Very satisfied'],
  ces: ['Very difficult', 'Very easy'],
};
const ranges = { nps: [0, 10], csat: [1, 5], ces: [1, 7] };

function questionField(q: SurveyQuestion, value: string | undefined, error: string | undefined) {
  const message = error ? html`<p class="error" role="alert">${error}</p>` : '';
  if (q.kind === 'text') {
    return html`<fieldset><legend><label for="${q.id}">${q.text}</label></legend>
      <textarea id="${q.id}" name="${q.id}" maxlength="${maxAnswerLength}" ${q.required ? 'required' : ''}>${value ?? ''}</textarea>${message}</fieldset>`;
  }
  if (q.kind === 'choice') {
    return html`<fieldset class="choice"><legend>${q.text}</legend>
      ${(q.options ?? []).map((o) => html`<label><input type="radio" name="${q.id}" value="${o}" ${value === o ? 'checked' : ''} ${q.required ? 'required' : ''}> ${labelOf(o)}</label>`)}
      ${message}</fieldset>`;
  }
  const [low, high] = ranges[q.kind];
  const points = Array.from({ length: high - low + 1 }, (_, i) => String(low + i));
  return html`<fieldset><legend>${q.text}</legend>
    <div class="scale">${points.map((p) => html`<label>${p}<input type="radio" name="${q.id}" value="${p}" aria-label="${p}" ${value === p ? 'checked' : ''} ${q.required ? 'required' : ''}></label>`)}</div>
    <div class="ends"><span>${ends[q.kind][0]}</span><span>${ends[q.kind][1]}</span></div>${message}</fieldset>`;
}

const notFound = () =>
  page(
    'Link not valid',
    html`<h1>This link is not valid or has expired</h1><p>If you followed a link from one of our emails, it may be old. Thank you for wanting to tell us.</p>`,
  );

/** Public survey and feedback pages, rate-limited per client address. */
export function surveyPages(deps: Deps) {
  const app = new Hono();
  const requests = createRateLimiter({ limit: 60, windowMs: 60_000 });
  // Unknown links are what a guesser produces: a few per address, then everything waits.
  const misses = createRateLimiter({ limit: 10, windowMs: 10 * 60_000 });

  const guard = async (c: Context, next: () => Promise<void>) => {
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    const client = clientOf(c);
    const wait = Math.max(requests.hit(client), misses.blockedFor(client));
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return c.html(
        page('Too many requests', html`<h1>Too many requests</h1><p>Please wait a few minutes and try again.</p>`),
        429,
      );
    }
    return next();
  };
  // Only these pages: the app mounts this router at the root, next to the web UI.
  app.use('/s/*', guard);
  app.use('/feedback', guard);

  const form = async (c: Context) =>
    Object.fromEntries(
      Object.entries(await c.req.parseBody()).map(([k, v]) => [k, typeof v === 'string' ? v : undefined]),
    );

  const surveyForm = (
    token: string,
    survey: { title: string; intro: string | null; questions: SurveyQuestion[] },
    values: Record<string, string | undefined> = {},
    errors: Record<string, string> = {},
  ) =>
    page(
      survey.title,
      html`<h1>${survey.title}</h1>${survey.intro ? html`<p>${survey.intro}</p>` : ''}
      <form method="post" action="/s/${token}">${survey.questions.map((q) => questionField(q, values[q.id], errors[q.id]))}<button type="submit">Send</button></form>`,
    );

  /** The survey behind the link; an unknown or expired link counts as a miss for the client. */
  const open = async (c: Context) => {
    const opened = await openSurveyLink(deps, c.req.param('token')!);
    if (!opened) misses.hit(clientOf(c));
    return opened;
  };

  app.get('/s/:token', publicRoute, async (c) => {
    const opened = await open(c);
    if (!opened) return c.html(notFound(), 404);
    // A score clicked in the mail arrives chosen (?satisfied=4); only sending the form records it, since link scanners follow GETs.
    const chosen = Object.fromEntries(opened.survey.questions.map((q) => [q.id, c.req.query(q.id)?.slice(0, 100)]));
    return c.html(surveyForm(c.req.param('token'), opened.survey, chosen));
  });

  app.post('/s/:token', publicRoute, async (c) => {
    const token = c.req.param('token');
    const opened = await open(c);
    if (!opened) return c.html(notFound(), 404);
    const values = await form(c);
    const outcome = await answerSurvey(deps, token, values);
    if ('errors' in outcome) return c.html(surveyForm(token, opened.survey, values, outcome.errors), 400);
    const problem = opened.survey.purpose === 'problem';
    return c.html(
      page(
        'Thank you',
        html`<h1>Thank you</h1><p>${
          problem
            ? 'We have your report and someone from our team will get back to you shortly.'
            : 'Your answer helps us do better. You can close this page.'
        }</p>`,
      ),
    );
  });

  const feedbackForm = (values: Record<string, string | undefined> = {}, errors: Record<string, string> = {}) =>
    page(
      'Feedback',
      html`<h1>Tell us what you think</h1>
    <form method="post" action="/feedback"><input type="hidden" name="page" value="${values.page ?? ''}">
    ${questionField({ id: 'score', kind: 'csat', text: 'How was your visit?', required: true }, values.score, errors.score)}
    ${questionField({ id: 'comment', kind: 'text', text: 'Anything we should know?' }, values.comment, errors.comment)}
    <button type="submit">Send</button></form>`,
    );

  app.get('/feedback', publicRoute, (c) =>
    c.html(feedbackForm({ page: c.req.query('page') ?? c.req.header('referer') })),
  );
  app.post('/feedback', publicRoute, async (c) => {
    const values = await form(c);
    const outcome = await leaveFeedback(deps, values);
    if ('errors' in outcome) return c.html(feedbackForm(values, outcome.errors), 400);
    return c.html(page('Thank you', html`<h1>Thank you</h1><p>We read every message.</p>`));
  });
  return app;
}
