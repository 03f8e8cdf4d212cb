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
  })
  .openapi('Principal');

export const sessionCookie = 'kept_session';
/** Idle timeout, renewed on use, and the absolute lifetime of a session. */
export const sessionIdleMs = 12 * 60 * 60 * 1000;
export const sessionMaxMs = 7 * 24 * 60 * 60 * 1000;
