import fs from 'node:fs';
import path from 'node:path';
import { serveStatic } from '@hono/node-server/serve-static';
import { OpenAPIHono } from '@hono/zod-openapi';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { analyticsRoutes } from './analytics/analytics.routes.ts';
import { retentionRoutes } from './analytics/retention.routes.ts';
import { ruleRoutes } from './rules/rule.routes.ts';
import { campaignRoutes } from './campaigns/campaign.routes.ts';
import { experimentRoutes } from './campaigns/experiment.routes.ts';
import { journeyRoutes } from './journeys/journey.routes.ts';
import { blueprintRoutes } from './journeys/blueprint.routes.ts';
import { auditRoutes } from './audit/audit.routes.ts';
import { peopleRoutes } from './auth/people.routes.ts';
import { privacyRoutes } from './privacy/privacy.routes.ts';
import { economicsRoutes } from './channels/economics.routes.ts';
import { liftRoutes } from './campaigns/lift.routes.ts';
import { overviewRoutes } from './overview/overview.routes.ts';
import { qualityRoutes } from './quality/quality.routes.ts';
import { duplicateRoutes } from './duplicates/duplicate.routes.ts';
import { webhookRoutes } from './webhooks/webhook.routes.ts';
import { mailPages } from './campaigns/mail.page.ts';
import { loginRoutes, meRoutes } from './auth/auth.routes.ts';
import { settingsRoutes } from './settings/settings.routes.ts';
import { anyone, noteRoutes, publicRoute } from './auth/access.ts';
import { sessionCookie } from './auth/auth.ts';
import { crossSiteProblem } from './auth/csrf.ts';
import { authenticate, noteKeyUse } from './auth/auth.service.ts';
import { createRateLimiter } from './shared/rate-limit.ts';
import { databaseAnswers } from './db/health.ts';
import { customerRoutes } from './customers/customer.routes.ts';
import { flagRoutes } from './customers/flags.routes.ts';
import { mergeRoutes } from './customers/merge.routes.ts';
import { editRoutes } from './customers/edit.routes.ts';
import { importRoutes } from './imports/import.routes.ts';
import { ingestRoutes } from './ingest/ingest.routes.ts';
import { satisfactionRoutes } from './satisfaction/satisfaction.routes.ts';
import { segmentRoutes } from './segments/segment.routes.ts';
import { supportRoutes } from './support/support.routes.ts';
import { ticketRoutes } from './support/ticket.routes.ts';
import { surveyPages } from './surveys/survey.page.ts';
import { surveyRoutes } from './surveys/survey.routes.ts';
import { worklistRoutes } from './worklist/worklist.routes.ts';
import type { Deps } from './deps.ts';
import { AppError, httpStatusOf, sqlStateOf, type ErrorCode } from './shared/errors.ts';
import { inputGuard } from './shared/edge.ts';
import { validationHook, type AppEnv } from './shared/http.ts';
import { packageRoot } from './shared/package-root.ts';

const webRoot = path.join(packageRoot, 'dist', 'web');
/** The web UI's content security policy: its own scripts, styles and data, nothing inline but style attributes, images also from https (in mail previews), no framing. */
const appPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/** Paths under /api that answer without signing in (`/api` itself is the UI's API page). */
const publicPaths = new Set([
  '/api',
  '/api/',
  '/api/health',
  '/api/v1/auth/login',
  '/api/v1/auth/logout',
  '/api/v1/auth/session',
]);
// SQLSTATE classes that mean "the database cannot take this now": connection, resources, shutdown.
const busyStates = /^(08|53|57)/;

function errorBody(code: ErrorCode, message: string, details?: unknown) {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } };
}

/** The whole HTTP surface: health, sign-in, every domain's API, the OpenAPI document and the web UI. */
export function createApp(deps: Deps) {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  // Every page the UI serves may run only Kept's own scripts and styles, and not be framed; public
  // pages set a stricter policy of their own. No response is sniffed as another type.
  app.use('*', async (c, next) => {
    await next();
    c.header('X-Content-Type-Options', 'nosniff');
    if (c.res.headers.get('content-type')?.startsWith('text/html') && !c.res.headers.has('Content-Security-Policy')) {
      c.header('Content-Security-Policy', appPolicy);
      c.header('X-Frame-Options', 'DENY');
      c.header('Referrer-Policy', 'same-origin');
    }
  });

  app.onError((error, c) => {
    if (error instanceof AppError) {
      const retryAfter = (error.details as { retryAfter?: number } | undefined)?.retryAfter;
      if (retryAfter) c.header('Retry-After', String(retryAfter));
      return c.json(
        errorBody(error.code, error.message, error.details),
        httpStatusOf[error.code] as ContentfulStatusCode,
      );
    }
    if (error instanceof HTTPException) {
      const status = error.status;
      const code: ErrorCode =
        status === 413
          ? 'payload_too_large'
          : status === 401
            ? 'unauthenticated'
            : status === 404
              ? 'not_found'
              : 'bad_request';
      // Hono's own refusals of a body (malformed, too large, a media type the route does not take) name what was wrong with it.
      const field = status === 415 ? 'content-type' : status === 400 || status === 413 ? 'body' : undefined;
      const message = status === 415 ? 'The body must be sent as application/json' : error.message || 'Bad request';
      return c.json(
        errorBody(code, message, field ? { issues: [{ path: field, message }] } : undefined),
        status as ContentfulStatusCode,
      );
    }
    const state = sqlStateOf(error);
    if (state === '57014') {
      // A statement timeout of the request's class (connection.ts routeClasses), or its client left and it was cancelled.
      return c.json(
        errorBody(
          'database_busy',
          'The request took too long and was stopped; narrow it (a longer search term) or retry',
        ),
        503,
      );
    }
    if (state && busyStates.test(state)) {
      c.header('Retry-After', '5');
      return c.json(errorBody('database_busy', 'The database is not available; retry shortly'), 503);
    }
    deps.logger.error({ err: error, path: c.req.path }, 'unhandled error');
    return c.json(errorBody('internal', 'Something went wrong on our side; it has been logged'), 500);
  });

  app.use('*', inputGuard);

  app.get('/api/health', publicRoute, async (c) => {
    if (await databaseAnswers(deps.db)) return c.json({ status: 'ok', database: deps.database.kind });
    return c.json({ status: 'unavailable', database: deps.database.kind }, 503);
  });

  // Each API key's requests per minute, so a leaked or looping key cannot swamp the server (P20).
  const keyRequests = createRateLimiter({ limit: deps.config.keyRequestsPerMinute, windowMs: 60_000 });
  app.use('/api/*', async (c, next) => {
    const header = c.req.header('authorization');
    const bearer = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const session = bearer ? undefined : getCookie(c, sessionCookie);
    const crossSite = session === undefined ? undefined : crossSiteProblem(c, deps.config.publicUrl);
    if (crossSite) throw new AppError('forbidden', crossSite);
    if (publicPaths.has(c.req.path)) return next();
    const principal = await authenticate(deps, { bearer, session });
    if (!principal) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json(errorBody('unauthenticated', 'Sign in or send an API key as Authorization: Bearer <key>'), 401);
    }
    if (principal.kind === 'key') {
      const wait = keyRequests.hit(`key:${principal.id}`);
      if (wait > 0)
        throw new AppError(
          'rate_limited',
          `This key made more than ${deps.config.keyRequestsPerMinute} requests in a minute; wait ${wait} s`,
          { retryAfter: wait },
        );
      await noteKeyUse(deps, principal.id);
    }
    c.set('principal', principal);
    return next();
  });

  app.route('/api/v1/auth', loginRoutes(deps));
  app.route('/api/v1/auth', meRoutes());
  app.route('/api/v1', settingsRoutes(deps));
  // Domain routes are mounted here, one line each.
  app.route('/api/v1', ingestRoutes(deps));
  app.route('/api/v1', customerRoutes(deps));
  app.route('/api/v1', flagRoutes(deps));
  app.route('/api/v1', mergeRoutes(deps));
  app.route('/api/v1', editRoutes(deps));
  app.route('/api/v1', importRoutes(deps));
  app.route('/api/v1', analyticsRoutes(deps));
  app.route('/api/v1', overviewRoutes(deps));
  app.route('/api/v1', retentionRoutes(deps));
  app.route('/api/v1', ruleRoutes(deps));
  app.route('/api/v1', surveyRoutes(deps));
  app.route('/api/v1', satisfactionRoutes(deps));
  app.route('/api/v1', worklistRoutes(deps));
  app.route('/api/v1', supportRoutes(deps));
  app.route('/api/v1', ticketRoutes(deps));
  app.route('/api/v1', webhookRoutes(deps));
  app.route('/api/v1', segmentRoutes(deps));
  app.route('/api/v1', campaignRoutes(deps));
  app.route('/api/v1', experimentRoutes(deps));
  app.route('/api/v1', journeyRoutes(deps));
  app.route('/api/v1', blueprintRoutes(deps));
  app.route('/api/v1', auditRoutes(deps));
  app.route('/api/v1', peopleRoutes(deps));
  app.route('/api/v1', privacyRoutes(deps));
  app.route('/api/v1', economicsRoutes(deps));
  app.route('/api/v1', liftRoutes(deps));
  app.route('/api/v1', qualityRoutes(deps));
  app.route('/api/v1', duplicateRoutes(deps));

  app.get('/api/openapi.json', anyone);
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  app.doc31('/api/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'Kept API',
      version: '1',
      description:
        'Customer retention: the customer record, ingest, import, the repeat-buying analytics, surveys, tickets, the satisfaction index, the agent worklist, segments and campaigns.',
    },
    security: [{ bearer: [] }],
  });

  noteRoutes(app.routes);
  // `/api` itself is the UI's API page (reloads must reach the UI); anything below it is the API.
  app.all('/api/*', (c, next) =>
    c.req.path === '/api' || c.req.path === '/api/'
      ? next()
      : c.json(errorBody('not_found', `No API route ${c.req.method} ${c.req.path}`), 404),
  );
  // Public pages a customer reaches from a link, without signing in.
  app.route('/', surveyPages(deps));
  app.route('/', mailPages(deps));

  const built = fs.existsSync(webRoot);
  if (built) app.use('/*', serveStatic({ root: path.relative(process.cwd(), webRoot) }));
  // The single-page app handles its own routes.
  app.get('/*', publicRoute, (c) =>
    built
      ? c.html(fs.readFileSync(path.join(webRoot, 'index.html'), 'utf8'))
      : c.text('The web UI is not built: run `npm run build`.', 503),
  );
  return app;
}
