// The input rules (src/shared/input.ts) applied once, before any route: every path, query string and
// JSON or form body is checked for what no column can hold and for nesting, and a body is held to a
// size. Routes then validate their own fields with zod; nothing reaches them that could fail in the
// database for being text it cannot store.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from './errors.ts';
import { invalidRequest, type AppEnv } from './http.ts';
import { inputProblem, textProblem, type InputProblem } from './input.ts';

/** The largest JSON or form body a route takes; the event batch and the upload read their own bodies with their own limits. */
export const bodyBytes = 1024 * 1024;
const ownBodies = new Set(['POST /api/v1/events', 'POST /api/v1/imports']);

export const mediaTypeOf = (contentType: string | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase();
export const isJsonType = (mediaType: string) => /^application\/([\w.-]+\+)?json$/.test(mediaType);
const isFormType = (mediaType: string) =>
  mediaType === 'application/x-www-form-urlencoded' || mediaType === 'multipart/form-data';

const refuse = (problem: InputProblem, message?: string) => {
  throw invalidRequest([problem], message);
};

const limit = bodyLimit({
  maxSize: bodyBytes,
  onError: () => {
    throw new AppError('payload_too_large', `the request body is over ${bodyBytes} bytes; the limit is ${bodyBytes}`, {
      issues: [{ path: 'body', message: `at most ${bodyBytes} bytes` }],
    });
  },
});

function pathProblem(path: string): InputProblem | undefined {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    /* not percent-encoded UTF-8: checked as it is */
  }
  const problem = textProblem(decoded);
  return problem ? { path: 'path', message: `the address ${problem}` } : undefined;
}

/** Refuses, with the field named, any request whose path, query or body breaks the input rules. */
export const inputGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  const atPath = pathProblem(c.req.path);
  if (atPath) refuse(atPath);
  const query = inputProblem(c.req.queries());
  if (query) refuse({ path: query.path.replace(/\.0$/, ''), message: query.message });
  const mediaType = mediaTypeOf(c.req.header('content-type'));
  if (
    ownBodies.has(`${c.req.method} ${c.req.path}`) ||
    !c.req.raw.body ||
    !(isJsonType(mediaType) || isFormType(mediaType))
  )
    return next();
  return limit(c, async () => {
    // Both are cached by Hono: the route's validator or form reader gets the same parse.
    if (isJsonType(mediaType)) {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (error) {
        refuse({ path: 'body', message: `not valid JSON: ${(error as Error).message}` }, 'The body is not valid JSON');
      }
      const problem = inputProblem(body);
      if (problem) refuse({ path: problem.path || 'body', message: problem.message });
    } else {
      let form: FormData | undefined;
      try {
        form = await c.req.formData();
      } catch {
        refuse({ path: 'body', message: 'not a valid form' });
      }
      for (const [name, value] of form!.entries()) {
        const problem = textProblem(name) ?? (typeof value === 'string' ? textProblem(value) : textProblem(value.name));
        if (problem) refuse({ path: textProblem(name) ? 'body' : name, message: problem });
      }
    }
    await next();
  });
};
