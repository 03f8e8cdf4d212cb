// Signed tokens for links that act without a sign-in (unsubscribe, open and click tracking): the
// payload is readable, the HMAC-SHA256 proves Kept made it. They do not expire: an unsubscribe link
// must work for at least a year (RFC 8058 practice), and a click link as long as the mail is kept.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../db/connection.ts';
import type { Deps } from '../deps.ts';
import { findSetting, insertSetting } from './auth.repository.ts';

const keys = new WeakMap<Deps, Promise<Buffer>>();

/** Makes the random key once (createDeps calls it), for when KEPT_SECRET is not set. */
export async function ensureSigningKey(db: Db): Promise<void> {
  await insertSetting(db, 'signing_key', randomBytes(32).toString('base64url'));
}

/** KEPT_SECRET, or the random key kept in the database; read through `db` when inside a transaction. */
function signingKey(deps: Deps, db: Db = deps.db): Promise<Buffer> {
  let key = keys.get(deps);
  if (!key) {
    key = deps.config.secret
      ? Promise.resolve(Buffer.from(deps.config.secret, 'utf8'))
      : (async () => {
          const value = await findSetting(db, 'signing_key');
          if (value === undefined) throw new Error('no signing key in settings: createDeps makes it');
          return Buffer.from(value, 'base64url');
        })();
    key.catch(() => keys.delete(deps));
    keys.set(deps, key);
  }
  return key;
}

const mac = (key: Buffer, purpose: string, payload: string) =>
  createHmac('sha256', key).update(`${purpose}\n${payload}`).digest('base64url').slice(0, 32);

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

/** A keyed hash of a value for one purpose (a whole HMAC-SHA256, hex), and which key made it. */
export async function keyedHash(
  deps: Deps,
  db: Db,
  purpose: string,
  value: string,
): Promise<{ hash: string; keyId: string }> {
  const key = await signingKey(deps, db);
  return {
    hash: createHmac('sha256', key).update(`${purpose}\n${value}`).digest('hex'),
    keyId: mac(key, 'key-id', '').slice(0, 12),
  };
}
