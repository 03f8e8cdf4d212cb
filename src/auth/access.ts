// Who may call each route. Every route carries one guard below as its first middleware; the
// suite builds the route matrix from them, compares it with docs/security.md and calls every
// route as every role (src/auth/access.test.ts). A route without a guard fails the suite.
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { AppError } from '../shared/errors.ts';
import type { AppEnv } from '../shared/http.ts';
import { roles, type Actor, type Principal, type Role } from './auth.ts';

/** Public routes answer without signing in; the others name the roles that may call them. */
export type Access = { public: true } | { public: false; roles: readonly Role[] };
export type Guard = MiddlewareHandler<AppEnv> & { access: Access };

/**
 * The scope an API key needs for a route: the area (the first path segment after /api/v1) and
 * `read` for GET or `write` for anything else, e.g. `events:write`, `customers:read`;
 * `openapi:read` for the OpenAPI document.
 */
export const scopeOf = (method: string, path: string) =>
  `${path.replace(/^\/api\/(v1\/)?/, '').split(/[/.]/)[0]}:${method === 'GET' ? 'read' : 'write'}`;

/**
 * The areas a key's scopes may name: the area of every signed-in route, `openapi` for the document.
 * src/auth/auth.test.ts checks this list against the app's routes, so a new area fails the suite
 * until it is added here (and to docs/security.md).
 */
export const scopeAreas = [
  'alerts',
  'analytics',
  'audit',
  'auth',
  'blueprint',
  'campaigns',
  'channels',
  'customers',
  'dead-letters',
  'duplicates',
  'events',
  'feedback',
  'glitches',
  'imports',
  'jobs',
  'journeys',
  'keys',
  'mail',
  'merges',
  'openapi',
  'overview',
  'programme',
  'quality',
  'recovery',
  'retention',
  'rules',
  'satisfaction',
  'segments',
  'settings',
  'surveys',
  'tasks',
  'templates',
  'tickets',
  'users',
  'webhooks',
  'worklist',
] as const;

// The roles of every guard made below, so that what two roles may call can be compared (roleCovers).
const guardRoles: (readonly Role[])[] = [];

function allow(...who: Role[]): Guard {
  guardRoles.push(who);
  const guard = (async (c, next) => {
    const principal = c.get('principal');
    if (!who.includes(principal.role)) {
      throw new AppError(
        'forbidden',
        `This needs the role ${who.join(' or ')}; ${principal.kind === 'key' ? 'this key has' : 'you have'} the role ${principal.role}`,
      );
    }
    if (principal.kind === 'key' && principal.scopes) {
      const scope = scopeOf(c.req.method, routePath(c));
      if (!principal.scopes.includes(scope))
        throw new AppError('forbidden', `This key is limited to ${principal.scopes.join(', ')}; this needs ${scope}`);
    }
    await next();
  }) as Guard;
  guard.access = { public: false, roles: who };
  return guard;
}

/** Reached from a link or before signing in: no principal. */
export const publicRoute = Object.assign(
  (async (_c, next) => {
    await next();
  }) as MiddlewareHandler<AppEnv>,
  { access: { public: true } as Access },
);
/** Any signed-in role: aggregates and what holds no personal data. */
export const anyone = allow(...roles);
/** Those who work with customers by name: the record, the timeline, tickets, lists of people. */
export const staff = allow('admin', 'marketer', 'agent');
/** Segments, templates, campaigns, journeys, imports: changing who gets what. */
export const marketing = allow('admin', 'marketer');
/** Running the analysis. */
export const analysis = allow('admin', 'marketer', 'analyst');
/** People, keys, the audit log, dead letters. */
export const admins = allow('admin');

/**
 * Whether `holder` may call every route `role` may, so that it may hand `role` on (to a key or a
 * person): admin covers every role, marketer covers agent and analyst, agent and analyst only
 * themselves. What an analyst sees and filters is further narrowed (namesFor), never widened, so a
 * role covering its routes holds at least as much.
 */
export const roleCovers = (holder: Role, role: Role) =>
  guardRoles.every((who) => !who.includes(role) || who.includes(holder));

/** Every guarded route of the app as "METHOD /api/v1/path" with the roles its guard names; noted once the app is built. */
let guardedRoutes: { route: string; roles: readonly Role[] }[] = [];

/** Notes the app's routes (createApp, after mounting them) so that grantsOf can answer from the guards. */
export function noteRoutes(routes: readonly { method: string; path: string; handler: unknown }[]): void {
  const found = new Map<string, readonly Role[]>();
  for (const r of routes) {
    const access = (r.handler as { access?: Access }).access;
    if (r.method !== 'ALL' && access && !access.public) found.set(`${r.method} ${r.path}`, access.roles);
  }
  guardedRoutes = [...found].map(([route, who]) => ({ route, roles: who }));
}

/**
 * The signed-in routes this principal may call, as "METHOD /api/v1/path" (path parameters as
 * `:name`), narrowed by a key's scopes: the UI shows a control only when the route behind it is
 * here, so a role never meets a button that answers 403.
 */
export function grantsOf(principal: Principal): string[] {
  const scopes = principal.kind === 'key' ? principal.scopes : null;
  return guardedRoutes
    .filter(({ route, roles: who }) => {
      const [method, path] = route.split(' ');
      return who.includes(principal.role) && (!scopes || scopes.includes(scopeOf(method, path)));
    })
    .map(({ route }) => route)
    .sort();
}

/** The scopes a key is limited to; null for a person, a key without scopes and the operator at the console. */
export const heldScopes = (actor: Actor): readonly string[] | null =>
  typeof actor !== 'string' && actor.kind === 'key' && actor.scopes ? actor.scopes : null;

/** Segment fields that name or reach a person: an analyst may not filter on them (a count would reveal who is a customer). */
export const personalRuleFields = new Set(['name', 'email', 'phone', 'external_id']);
/** The same in rows, as the API spells them. */
const personalFields = new Set([...personalRuleFields, 'externalId']);

/**
 * Rows about people as this principal may see them: an analyst gets each row without the fields
 * that name or reach a person (null), keeping the customer number, so lists of people become
 * pseudonymous lists of numbers.
 */
export function namesFor<T extends object>(principal: Principal, rows: T[]): T[] {
  if (principal.role !== 'analyst') return rows;
  return rows.map(
    (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, personalFields.has(k) ? null : v])) as T,
  );
}
