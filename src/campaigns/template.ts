// Email templates: Liquid (the language Shopify and Klaviyo users know), every output HTML-escaped,
// no file access, and limits on template size, render time and memory, since marketers write them.
import { convert } from 'html-to-text';
import { Drop, Liquid, filters } from 'liquidjs';
import { z } from '@hono/zod-openapi';

/**
 * A share (0-1) such as `customer.p_alive`: compares and calculates as the number
 * (`{% if customer.p_alive > 0.5 %}`, `| times: 100`), prints as a whole percent ("88 %").
 */
export class Share extends Drop {
  constructor(readonly value: number) {
    super();
  }
  valueOf() {
    return this.value;
  }
  toJSON() {
    return this.value;
  }
  toString() {
    return `${Math.round(this.value * 100)} %`;
  }
}
export const share = (value: number | null) => (value === null ? null : new Share(value));

const escapeOutput = filters.escape as (this: unknown, value: unknown) => string;
const engine = new Liquid({
  // Every output is HTML-escaped; a share prints as a percent, not 0.882864222476668.
  outputEscape(this: unknown, value: unknown) {
    return escapeOutput.call(this, value instanceof Share ? value.toString() : value);
  },
  strictFilters: true,
  ownPropertyOnly: true,
  // Includes resolve only against this empty in-memory set: a template cannot read files.
  templates: {},
  relativeReference: false,
  parseLimit: 200_000,
  renderLimit: 500,
  memoryLimit: 10_000_000,
});
// `raw` would skip the escaping; here it is an ordinary filter, so its output is escaped too.
engine.registerFilter('raw', (value: unknown) => value);

export const templateBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    subject: z.string().trim().min(1).max(500),
    body: z.string().min(1).max(200_000).openapi({
      description: 'HTML with Liquid: {{ customer.first_name }}, {% if customer.stage == "best" %}…{% endif %}',
    }),
  })
  .openapi('TemplateBody');

/** What a template can say about its recipient (docs/campaigns.md lists it). */
export interface TemplateContext {
  customer: {
    id: number;
    name: string;
    first_name: string;
    email: string | null;
    stage: string;
    external_id: string | null;
    attributes: Record<string, string | number | boolean>;
    /** Top categories by what they bought, most first. */
    interests: string[];
    /** Their latest purchases, newest first. */
    purchases: { product: string; category: string | null; date: string }[];
    orders: number;
    last_order_date: string | null;
    /** From the latest analysis; null before one. */
    next_order_date: string | null;
    /** How likely they still buy, 0-1; prints as a percent. */
    p_alive: Share | null;
    satisfaction: number | null;
  };
  campaign: { name: string; arm: string };
  unsubscribe_url: string;
  /** The customer's page of every list they can choose. */
  preferences_url: string;
  /** Journeys: the order that started it, personal links (a survey, the problem report) and what happened. */
  order?: {
    id: string;
    date: string;
    total: string;
    currency: string | null;
    lines: { product: string | null; category: string | null; quantity: number; amount: string }[];
  };
  links?: { survey?: string; problem?: string };
  trigger?: { what: string | null };
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

/** A template that does not parse, with the line and what is wrong. */
export class TemplateError extends Error {}

/** Parses once; render many times. Throws TemplateError with the parser's words. */
export function compileTemplate(template: { subject: string; body: string }) {
  try {
    return { subject: engine.parse(template.subject), body: engine.parse(template.body) };
  } catch (error) {
    throw new TemplateError((error as Error).message);
  }
}

export async function renderMail(
  compiled: ReturnType<typeof compileTemplate>,
  context: TemplateContext,
): Promise<RenderedMail> {
  try {
    const [subject, body] = await Promise.all([
      engine.render(compiled.subject, context),
      engine.render(compiled.body, context),
    ]);
    // Every marketing mail carries a way out, whether or not the template has one.
    const html = body.includes(context.unsubscribe_url)
      ? body
      : `${body}\n<p style="font-size:12px;color:#666">Don't want these emails? <a href="${escapeAttribute(context.unsubscribe_url)}">Unsubscribe</a>` +
        ` or <a href="${escapeAttribute(context.preferences_url)}">choose which emails you get</a>.</p>`;
    return {
      subject: decodeEntities(subject).replace(/\s+/g, ' ').trim(),
      html,
      text: convert(html, { wordwrap: 78, selectors: [{ selector: 'img', format: 'skip' }] }),
    };
  } catch (error) {
    throw new TemplateError((error as Error).message);
  }
}

const escapeAttribute = (value: string) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
// The subject is a header, not HTML: undo the escaping the engine applied to its outputs.
const decodeEntities = (value: string) =>
  value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&amp;/g, '&');
