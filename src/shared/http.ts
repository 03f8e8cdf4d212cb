import { OpenAPIHono, type Hook, type z } from '@hono/zod-openapi';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Env } from 'hono';
import { AppError } from './errors.ts';
import type { Principal } from './principal.ts';

/** At most this many definitions (segments, templates, journeys, surveys, people, keys, webhooks) in one list (P26). */
export const listLimit = 1000;

/** What every request carries once authenticated. */
export interface AppEnv extends Env {
  Variables: { principal: Principal };
}

/** A request refused for its fields, each named with why: the one shape every 400 of validation has. */
export const invalidRequest = (issues: { path: string; message: string }[], message = 'The request is not valid') =>
  new AppError('validation_failed', message, { issues });

/** zod's issues as named fields; a problem with the whole value (a rule across fields) is named `whole`. */
export const issuesOf = (error: z.ZodError, whole: string) =>
  error.issues.map((issue) => ({ path: issue.path.join('.') || whole, message: issue.message }));

/** A path parameter of a route declared without OpenAPI, checked by its schema: a 400 naming it when it does not fit. */
export function pathParam<T extends z.ZodType>(c: Context, name: string, schema: T): z.output<T> {
  const parsed = schema.safeParse(c.req.param(name));
  if (!parsed.success) throw invalidRequest(issuesOf(parsed.error, name).map((i) => ({ ...i, path: name })));
  return parsed.data;
}

/** Reports which fields failed and why, in the one error shape. */
export const validationHook: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success)
    throw invalidRequest(
      issuesOf(result.error, result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target),
    );
};

/** A domain's sub-app; server.ts mounts each one with app.route(). */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
}

/** A JSON response for a route's OpenAPI description. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** The caller's address as the server saw it (not a header a client can set); null in-process. */
export function clientIp(c: Context): string | null {
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null;
  }
}
