import { createRoute, z } from '@hono/zod-openapi';
import { anyone, grantsOf, publicRoute } from './access.ts';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { Deps } from '../deps.ts';
import { clientIp, createRouter } from '../shared/http.ts';
import { loginBody, me, signedIn, sessionCookie, type Me, type Principal } from './auth.ts';
import { authenticate, login, logout } from './auth.service.ts';

const principalOut = (p: Principal): Me => ({ ...p, may: grantsOf(p) });

/** Sign-in and sign-out; mounted before the authentication middleware. */
export function loginRoutes(deps: Deps) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'post',
      path: '/login',
      middleware: publicRoute,
      tags: ['auth'],
      summary: 'Sign in with email and password; sets an HttpOnly session cookie',
      request: { body: { content: { 'application/json': { schema: loginBody } }, required: true } },
      responses: {
        200: { description: 'Signed in', content: { 'application/json': { schema: signedIn } } },
      },
    }),
    async (c) => {
      const { email, password } = c.req.valid('json');
      const session = await login(deps, email, password, clientIp(c));
      setCookie(c, sessionCookie, session.token, {
        httpOnly: true,
        sameSite: 'Lax',
        path: '/',
        secure: deps.config.secureCookies || new URL(c.req.url).protocol === 'https:',
        expires: session.expiresAt,
      });
      return c.json({ user: principalOut(session.principal) }, 200);
    },
  );
  app.openapi(
    createRoute({
      method: 'post',
      path: '/logout',
      middleware: publicRoute,
      tags: ['auth'],
      summary: 'Sign out: the session ends on the server',
      responses: { 204: { description: 'Signed out' } },
    }),
    async (c) => {
      const token = getCookie(c, sessionCookie);
      if (token) await logout(deps, token, clientIp(c));
      deleteCookie(c, sessionCookie, { path: '/' });
      return c.body(null, 204);
    },
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/session',
      middleware: publicRoute,
      tags: ['auth'],
      summary: 'Who is signed in, if anyone: the UI asks this on load, so nobody signed in is an answer, not a 401',
      responses: {
        200: {
          description: 'The caller, or null when nobody is signed in',
          content: { 'application/json': { schema: z.object({ user: me.nullable() }) } },
        },
      },
    }),
    async (c) => {
      const bearer = c.req.header('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
      const principal = await authenticate(deps, { bearer, session: bearer ? undefined : getCookie(c, sessionCookie) });
      return c.json({ user: principal ? principalOut(principal) : null }, 200);
    },
  );
  return app;
}

export function meRoutes() {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/me',
      middleware: anyone,
      tags: ['auth'],
      summary: 'Who is signed in',
      responses: {
        200: { description: 'The caller', content: { 'application/json': { schema: signedIn } } },
      },
    }),
    (c) => c.json({ user: principalOut(c.get('principal')) }, 200),
  );
  return app;
}
