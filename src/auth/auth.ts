import { z } from '@hono/zod-openapi';
import { roles, type Principal } from '../shared/principal.ts';

export { roles, type Principal, type Role } from '../shared/principal.ts';
export const role = z.enum(roles);

/** How a principal is named where its actions are recorded (agent, author, assignee). */
export const principalName = (principal: Principal) =>
  principal.kind === 'user' ? principal.email : `key:${principal.name}`;

/**
 * Who makes a change to people, keys or webhooks: a principal calling the API, held to what it holds
 * itself (docs/security.md), or the operator at the console named like `cli:ana`, who holds the
 * database itself and so is not limited.
 */
export type Actor = Principal | string;
export const actorName = (actor: Actor) => (typeof actor === 'string' ? actor : principalName(actor));

export const loginBody = z
  .object({
    email: z.string().trim().min(3).max(320),
    password: z.string().min(1).max(1000),
  })
  .openapi('LoginRequest');

export const me = z
  .object({
    kind: z.enum(['user', 'key']),
    id: z.number(),
    role,
    email: z.string().optional(),
    name: z.string().optional(),
    /** The routes the caller may call ("POST /api/v1/segments"): the UI hides what it may not use. */
    may: z.array(z.string()),
  })
  .openapi('Principal');
/** The caller as the API names it (GET /auth/me, POST /auth/login). */
export type Me = z.infer<typeof me>;
export const signedIn = z.object({ user: me });
export type SignedIn = z.infer<typeof signedIn>;

/** A person who signs in, as the people API lists them. */
export const personSchema = z
  .object({
    id: z.number(),
    email: z.string(),
    role: z.string(),
    createdAt: z.string(),
    disabledAt: z.string().nullable(),
  })
  .openapi('Person');
export type Person = z.infer<typeof personSchema>;
/** An API key as listed: never the key itself. */
export const apiKeySchema = z
  .object({
    id: z.number(),
    name: z.string(),
    role: z.string(),
    scopes: z.array(z.string()).nullable(),
    prefix: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');
export type ApiKey = z.infer<typeof apiKeySchema>;
/** A new key, shown this once. */
export const createdKeySchema = z.object({
  id: z.number(),
  name: z.string(),
  role: z.string(),
  scopes: z.array(z.string()).nullable(),
  key: z.string(),
});
export type CreatedKey = z.infer<typeof createdKeySchema>;

export const sessionCookie = 'kept_session';
/** Idle timeout, renewed on use, and the absolute lifetime of a session. */
export const sessionIdleMs = 12 * 60 * 60 * 1000;
export const sessionMaxMs = 7 * 24 * 60 * 60 * 1000;
