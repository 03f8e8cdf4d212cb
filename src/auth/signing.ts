// Signed tokens for links that act without a sign-in (unsubscribe, open and click tracking): the
// payload is readable, the HMAC-SHA256 proves Kept made it. They do not expire: an unsubscribe link
// must work for at least a year (RFC 8058 practice), and a click link as long as the mail is kept.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { queryRows, sql } from '../db/connection.ts';
import type { Deps } from '../deps.ts';

const keys = new WeakMap<Deps, Promise<Buffer>>();

/** KEPT_SECRET, or a random key made once and kept in the database. */
function signingKey(deps: Deps): Promise<Buffer> {
  let key = keys.get(deps);
  if (!key) {
    key = deps.config.secret ? Promise.resolve(Buffer.from(deps.config.secret, 'utf8')) : (async () => {
      await deps.db.execute(sql`insert into settings (key, value) values ('signing_key', ${randomBytes(32).toString('base64url')}) on conflict (key) do nothing`);
      const [row] = await queryRows<{ value: string }>(deps.db, sql`select value from settings where key = 'signing_key'`);
      return Buffer.from(row.value, 'base64url');
    })();
    keys.set(deps, key);
  }
  return key;
}

const mac = (key: Buffer, purpose: string, payload: string) => createHmac('sha256', key).update(`${purpose}\n${payload}`).digest('base64url').slice(0, 32);

/** `payload.signature`, for one purpose: a token for one purpose is worthless for another. */
export async function signToken(deps: Deps, purpose: string, payload: string): Promise<string> {
  return `${payload}.${mac(await signingKey(deps), purpose, payload)}`;
}

/** The payload of a token made by signToken for this purpose, or null. */
export async function verifyToken(deps: Deps, purpose: string, token: string): Promise<string | null> {
  const dot = token.lastIndexOf('.');
  if (dot <= 0 || token.length > 500) return null;
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(await signingKey(deps), purpose, payload));
  return given.length === expected.length && timingSafeEqual(given, expected) ? payload : null;
}
