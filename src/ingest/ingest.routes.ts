import { createRoute, z } from '@hono/zod-openapi';
import { admins, marketing } from '../auth/access.ts';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter } from '../shared/http.ts';
import { ingestEvent } from './event.ts';
import { deadLetters, ingestEvents, ingestLimits, replayDeadLetter } from './ingest.service.ts';
import { id } from '../shared/input.ts';

const eventResult = z.object({
  index: z.number(),
  id: z.string().nullable(),
  status: z.enum(['accepted', 'duplicate', 'rejected']),
  customerId: z.number().optional(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
const ingestResult = z
  .object({ accepted: z.number(), duplicate: z.number(), rejected: z.number(), results: z.array(eventResult) })
  .openapi('IngestResult');
const errorBody = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .openapi('Error');

// Batches in flight at once; past this a client is asked to come back (429) instead of queueing without bound.
const maxInFlight = 8;
let inFlight = 0;

/** Reads the body counting bytes, so a chunked body without Content-Length is held to the limit too. */
async function readLimited(request: Request, limit: number): Promise<string> {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > limit)
    throw new AppError('payload_too_large', `request body is ${declared} bytes; the limit is ${limit}`, {
      issues: [{ path: 'body', message: `at most ${limit} bytes` }],
    });
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new AppError('payload_too_large', `request body is over ${limit} bytes; the limit is ${limit}`, {
        issues: [{ path: 'body', message: `at most ${limit} bytes` }],
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function ingestRoutes(deps: Deps) {
  const app = createRouter();
  // Documented in the registry but handled by hand (limits first, then per-event validation), so
  // one bad event cannot fail the whole batch the way the generic body validator would.
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/events',
    tags: ['ingest'],
    security: [{ bearer: [] }],
    summary: 'Send a batch of events (idempotent per event id)',
    description: `Each event carries your own id: an id already stored is not applied again and is answered \`duplicate\`.
A 200 answer means every accepted event is committed. Limits: ${ingestLimits.eventBytes} bytes per event (a larger event is
rejected, the others still accepted), ${ingestLimits.batchBytes} bytes per request body and ${ingestLimits.batchEvents} events per
batch (413). Malformed JSON or a body that is not \`{"events": [...]}\`: 400. Too many batches at once: 429 with Retry-After.
Database unavailable: 503 with Retry-After. When every event of a non-empty batch is rejected the answer is 400
(validation_failed) with the per-event results in \`error.details\`.`,
    request: {
      body: { content: { 'application/json': { schema: z.object({ events: z.array(ingestEvent) }) } }, required: true },
    },
    responses: {
      200: { description: 'Per-event results', content: { 'application/json': { schema: ingestResult } } },
      400: {
        description: 'Malformed body, or every event rejected',
        content: { 'application/json': { schema: errorBody } },
      },
      413: { description: 'Body or batch over the limit', content: { 'application/json': { schema: errorBody } } },
      429: {
        description: 'Too many batches in flight; retry after the given seconds',
        content: { 'application/json': { schema: errorBody } },
      },
    },
  });
  app.post('/events', marketing, async (c) => {
    if (inFlight >= maxInFlight)
      throw new AppError('rate_limited', 'Too many batches in flight; retry shortly', { retryAfter: 1 });
    inFlight++;
    try {
      const text = await readLimited(c.req.raw, ingestLimits.batchBytes);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (error) {
        throw new AppError('bad_request', `body is not valid JSON: ${(error as Error).message}`, {
          issues: [{ path: 'body', message: 'not valid JSON' }],
        });
      }
      const events = (body as { events?: unknown } | null)?.events;
      if (typeof body !== 'object' || body === null || Array.isArray(body) || !Array.isArray(events)) {
        throw new AppError('bad_request', 'body must be a JSON object {"events": [...]}', {
          issues: [{ path: 'events', message: 'an array of events' }],
        });
      }
      if (events.length > ingestLimits.batchEvents) {
        throw new AppError(
          'payload_too_large',
          `batch has ${events.length} events; the limit is ${ingestLimits.batchEvents}`,
          { issues: [{ path: 'events', message: `at most ${ingestLimits.batchEvents} events` }] },
        );
      }
      const result = await ingestEvents(deps, events, { source: 'api' });
      if (events.length > 0 && result.rejected === events.length) {
        throw new AppError('validation_failed', 'every event in the batch was rejected', result);
      }
      return c.json(result, 200);
    } finally {
      inFlight--;
    }
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/dead-letters',
      middleware: admins,
      tags: ['ingest'],
      summary: 'Events that failed after they were accepted, with the reason',
      responses: {
        200: {
          description: 'Newest first',
          content: {
            'application/json': {
              schema: z.object({
                deadLetters: z.array(
                  z.object({
                    id: z.number(),
                    source: z.string(),
                    eventId: z.string().nullable(),
                    reason: z.string(),
                    createdAt: z.string(),
                    replayedAt: z.string().nullable(),
                    payload: z.unknown(),
                  }),
                ),
              }),
            },
          },
        },
      },
    }),
    async (c) => {
      const rows = await deadLetters(deps, 500);
      return c.json(
        {
          deadLetters: rows.map((r) => ({
            id: r.id,
            source: r.source,
            eventId: r.event_id,
            reason: r.reason,
            createdAt: new Date(r.created_at).toISOString(),
            replayedAt: r.replayed_at ? new Date(r.replayed_at).toISOString() : null,
            payload: r.payload,
          })),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/dead-letters/{id}/replay',
      middleware: admins,
      tags: ['ingest'],
      summary: 'Apply a dead-lettered event again',
      request: { params: z.object({ id: id }) },
      responses: {
        200: { description: 'The event result', content: { 'application/json': { schema: ingestResult } } },
      },
    }),
    async (c) => {
      return c.json(await replayDeadLetter(deps, c.req.valid('param').id), 200);
    },
  );
  return app;
}
