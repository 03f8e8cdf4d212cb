// People who sign in and API keys, for admins: the same as `kept users` and `kept keys`, each
// change in the audit log.
import { createRoute, z } from '@hono/zod-openapi';
import type { Deps } from '../deps.ts';
import { AppError } from '../shared/errors.ts';
import { createRouter, json } from '../shared/http.ts';
import { admins } from './access.ts';
import {
  changeUser,
  createApiKey,
  createUser,
  findUser,
  listApiKeys,
  listUsers,
  resetPassword,
  revokeKey,
} from './auth.service.ts';
import { apiKeySchema, createdKeySchema, personSchema, role, type Person } from './auth.ts';
import { id } from '../shared/input.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const toPerson = (u: {
  id: number;
  email: string;
  role: string;
  createdAt: Date;
  disabledAt: Date | null;
}): Person => ({
  ...u,
  createdAt: iso(u.createdAt)!,
  disabledAt: iso(u.disabledAt),
});
const idParam = z.object({ id: id });
const body = <T extends z.ZodType>(schema: T) => ({
  body: { required: true, content: { 'application/json': { schema } } },
});
// A change naming nothing known (`{}`, a misspelt `rol`) would answer 200 having changed nothing:
// refused, as a problem with the body, naming the unknown fields.
const personChange = z
  .strictObject(
    { role: role.optional(), disabled: z.boolean().optional() },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown field ${issue.keys.join(', ')}; a change takes role, disabled or both`
          : undefined,
    },
  )
  .refine((change) => change.role !== undefined || change.disabled !== undefined, {
    message: 'names no change; send role, disabled or both',
    when: (payload) => payload.issues.length === 0,
  });

export function peopleRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/users',
      middleware: admins,
      tags: ['people'],
      summary: 'People who sign in, with their role',
      responses: { 200: json(z.object({ users: z.array(personSchema) }), 'By id') },
    }),
    async (c) => c.json({ users: (await listUsers(deps.db)).map(toPerson) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users',
      middleware: admins,
      tags: ['people'],
      summary: 'Add a person; the answer carries a generated password, shown once',
      request: body(z.object({ email: z.string().trim().email().max(320), role })),
      responses: { 201: json(z.object({ user: personSchema, password: z.string() }), 'Added') },
    }),
    async (c) => {
      const { email, role: chosen } = c.req.valid('json');
      const { id, password } = await createUser(deps, email, chosen, c.get('principal'));
      return c.json({ user: toPerson((await findUser(deps.db, id))!), password }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/users/{id}',
      middleware: admins,
      tags: ['people'],
      summary:
        "Change a person's role, or disable them (their sessions end at once) or enable them again; there is always an active admin",
      request: { params: idParam, ...body(personChange) },
      responses: { 200: json(personSchema, 'The person now') },
    }),
    async (c) => {
      const { role: chosen, disabled } = c.req.valid('json');
      return c.json(
        toPerson(await changeUser(deps, c.req.valid('param').id, { role: chosen, disabled }, c.get('principal'))),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/users/{id}/password',
      middleware: admins,
      tags: ['people'],
      summary: 'Give a person a new generated password, shown once; their sessions end',
      request: { params: idParam },
      responses: { 200: json(z.object({ password: z.string() }), 'The new password') },
    }),
    async (c) => {
      const user = await findUser(deps.db, c.req.valid('param').id);
      if (!user) throw new AppError('not_found', `No user ${c.req.valid('param').id}`);
      return c.json({ password: await resetPassword(deps, user.email, c.get('principal')) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/keys',
      middleware: admins,
      tags: ['people'],
      summary: 'API keys (never the keys themselves)',
      responses: { 200: json(z.object({ keys: z.array(apiKeySchema) }), 'By id') },
    }),
    async (c) =>
      c.json(
        {
          keys: (await listApiKeys(deps.db)).map((k) => ({
            ...k,
            createdAt: iso(k.createdAt)!,
            lastUsedAt: iso(k.lastUsedAt),
            revokedAt: iso(k.revokedAt),
          })),
        },
        200,
      ),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/keys',
      middleware: admins,
      tags: ['people'],
      summary:
        'Create an API key, shown once (only its hash is kept); scopes (area:read|write) limit it below its role',
      description:
        'A key never holds more than its creator: a role the creator covers and, from a scoped key, a non-empty subset of its scopes (docs/security.md). A person or an unscoped admin key may create any key.',
      request: body(
        z.object({
          name: z.string().trim().min(1).max(100),
          role,
          scopes: z.array(z.string().max(60)).max(50).optional(),
        }),
      ),
      responses: {
        201: json(createdKeySchema, 'Created'),
      },
    }),
    async (c) => {
      const { name, role: chosen, scopes } = c.req.valid('json');
      return c.json(await createApiKey(deps, name, chosen, scopes ?? null, c.get('principal')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/keys/{id}',
      middleware: admins,
      tags: ['people'],
      summary: 'Revoke a key at once',
      request: { params: idParam },
      responses: { 204: { description: 'Revoked' } },
    }),
    async (c) => {
      if (!(await revokeKey(deps, c.req.valid('param').id, c.get('principal'))))
        throw new AppError('not_found', `No active key ${c.req.valid('param').id}`);
      return c.body(null, 204);
    },
  );
  return app;
}
