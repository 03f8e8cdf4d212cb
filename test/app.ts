import assert from 'node:assert/strict';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { createApiKey } from '../src/auth/auth.service.ts';
import type { Role } from '../src/auth/auth.ts';
import type { Config } from '../src/config.ts';
import type { Deps } from '../src/deps.ts';
import { createApp } from '../src/server.ts';
import type { AppEnv } from '../src/shared/http.ts';
import { createTestDeps } from './database.ts';

export interface TestApp {
  deps: Deps;
  app: OpenAPIHono<AppEnv>;
  /** An API key of the given role (admin by default). */
  key: string;
  /** app.request with the key, JSON body and content type filled in. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** The whole app on a fresh test database, called in-process through app.request(). */
export async function createTestApp(role: Role = 'admin', config: Partial<Config> = {}): Promise<TestApp> {
  const deps = await createTestDeps(config);
  const app = createApp(deps);
  const { key } = await createApiKey(deps, 'test', role);
  return {
    deps,
    app,
    key,
    call: (method, path, body, headers = {}) =>
      Promise.resolve(
        app.request(path, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    close: () => deps.close(),
  };
}

/** The JSON body of a response, after checking its status (the body is in the failure message). */
export async function expectJson(response: Response | Promise<Response>, status = 200) {
  const r = await response;
  const body = await r.json();
  assert.equal(r.status, status, JSON.stringify(body));
  return body;
}
