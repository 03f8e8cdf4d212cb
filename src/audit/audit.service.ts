// Recording what a request did: the signed-in caller and their address go with each entry.
import type { Context } from 'hono';
import { principalName } from '../auth/auth.ts';
import type { Deps } from '../deps.ts';
import { clientIp, type AppEnv } from '../shared/http.ts';
import { audit } from './audit.repository.ts';

export { listAudit } from './audit.repository.ts';

/** Records what the signed-in caller did, with their address. */
export const auditBy = (
  deps: Deps,
  c: Context<AppEnv>,
  action: string,
  target: string | null,
  detail: Record<string, unknown> = {},
) => audit(deps.db, { actor: principalName(c.get('principal')), action, target, detail, ip: clientIp(c) });
