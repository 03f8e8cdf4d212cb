import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { audit } from '../audit/index.ts';
import type { Deps } from '../deps.ts';
import { AppError, sqlState, sqlStateOf } from '../shared/errors.ts';
import { heldScopes, roleCovers, scopeAreas } from './access.ts';
import {
  deleteSession,
  endSessionsOf,
  findActiveApiKey,
  findApiKey,
  findSession,
  findUser,
  findUserByEmail,
  insertApiKey,
  insertSession,
  insertUser,
  listUsers,
  lockActiveAdmins,
  revokeApiKey,
  touchApiKey,
  touchSession,
  updatePassword,
  updateUser,
} from './auth.repository.ts';
import { actorName, roles, sessionIdleMs, sessionMaxMs, type Actor, type Principal, type Role } from './auth.ts';
import { generatePassword, hashPassword, verifyPassword } from './password.ts';

export { findUser, listApiKeys, listUsers } from './auth.repository.ts';

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');
const normaliseLogin = (email: string) => email.normalize('NFC').trim().toLowerCase();

// A credential never makes or widens one that may do more than itself (docs/security.md, "API keys"
// and "People"). The operator at the console (a name, not a principal) holds the database and is not
// limited; a principal hands on only roles it covers, and a scoped key only its own scopes.

const coveredBy = (role: Role) => roles.filter((r) => roleCovers(role, r)).join(', ');
const holder = (by: Principal) => (by.kind === 'key' ? 'This key has' : 'You have');

/** Refuses `by` making (or revoking) a key with this role and scopes when that key could do what `by` cannot. */
function refuseWiderKey(by: Actor, verb: 'create' | 'revoke', role: Role, scopes: readonly string[] | null) {
  if (typeof by === 'string') return;
  if (!roleCovers(by.role, role)) {
    throw new AppError(
      'forbidden',
      `${holder(by)} the role ${by.role} and may ${verb} only keys of the roles ${coveredBy(by.role)}, whose routes it may call itself; not ${role}`,
    );
  }
  const held = heldScopes(by);
  if (!held) return;
  if (!scopes)
    throw new AppError(
      'forbidden',
      `This key is limited to ${held.join(', ')}; it may ${verb} only keys limited to some of those scopes (a key without scopes may call all its role may)`,
    );
  const beyond = scopes.filter((scope) => !held.includes(scope));
  if (beyond.length > 0)
    throw new AppError(
      'forbidden',
      `This key is limited to ${held.join(', ')}; it may not ${verb} a key with ${beyond.join(', ')}`,
    );
}

/**
 * Refuses a scoped key acting on people at all: a person holds all their role may and a new
 * password signs in as them, both more than the key holds; and anyone acting on a role it does not cover.
 */
function refusePeopleChange(by: Actor, what: string, ...affected: Role[]) {
  if (typeof by === 'string') return;
  const held = heldScopes(by);
  if (held) {
    throw new AppError(
      'forbidden',
      `This key is limited to ${held.join(', ')} and may not ${what}: a person holds all their role may, more than this key; use a key without scopes, or sign in`,
    );
  }
  const beyond = affected.find((role) => !roleCovers(by.role, role));
  if (beyond)
    throw new AppError(
      'forbidden',
      `${holder(by)} the role ${by.role} and may act only on people of the roles ${coveredBy(by.role)}, whose routes it may call itself; not ${beyond}`,
    );
}

/** Creates a user with a generated password, returned once and stored only as a scrypt hash; `by` is who does it (held to its own role; docs/security.md). */
export async function createUser(
  deps: Deps,
  email: string,
  role: Role,
  by: Actor = 'system',
): Promise<{ id: number; email: string; role: string; password: string }> {
  refusePeopleChange(by, 'add a person', role);
  const actor = actorName(by);
  const password = generatePassword();
  try {
    const user = await insertUser(deps.db, {
      email: normaliseLogin(email),
      role,
      passwordHash: await hashPassword(password),
    });
    await audit(deps.db, { actor, action: 'user.created', target: user.email, detail: { role } });
    return { ...user, password };
  } catch (error) {
    if (sqlStateOf(error) === sqlState.uniqueViolation)
      throw new AppError('conflict', `A user ${normaliseLogin(email)} already exists`);
    throw error;
  }
}

/** A new generated password for a person, returned once; their sessions end. It signs in as them, so `by` must hold what they hold. */
export async function resetPassword(deps: Deps, email: string, by: Actor = 'system'): Promise<string> {
  const what = "reset a person's password";
  refusePeopleChange(by, what);
  const user = await findUserByEmail(deps.db, normaliseLogin(email));
  if (!user) throw new AppError('not_found', `No user ${normaliseLogin(email)}`);
  refusePeopleChange(by, what, user.role as Role);
  const password = generatePassword();
  if (!(await updatePassword(deps.db, normaliseLogin(email), await hashPassword(password)))) {
    throw new AppError('not_found', `No user ${normaliseLogin(email)}`);
  }
  await audit(deps.db, { actor: actorName(by), action: 'user.password_reset', target: normaliseLogin(email) });
  return password;
}

// Failed logins per address within the window; a small in-process guard against guessing.
const failures = new Map<string, { count: number; since: number }>();
const failureWindowMs = 15 * 60 * 1000;
const maxFailures = 10;

/** A signed-in person's session: the cookie token (only its hash is stored), whose it is, and until when. */
export interface Session {
  token: string;
  principal: Principal;
  expiresAt: Date;
}

/**
 * Checks the password and opens a session; returns the cookie token (only its hash is stored).
 * The sign-in, or the refusal and why, is in the audit log with the caller's address.
 */
export async function login(deps: Deps, email: string, password: string, ip: string | null): Promise<Session> {
  const session = await openSession(deps, email, password).catch(async (error: unknown) => {
    const reason = error instanceof AppError && error.code === 'rate_limited' ? 'throttled' : 'wrong email or password';
    await audit(deps.db, {
      actor: email.trim().toLowerCase(),
      action: 'login.failed',
      target: null,
      detail: { reason },
      ip,
    });
    throw error;
  });
  const actor = session.principal.kind === 'user' ? session.principal.email : email;
  await audit(deps.db, { actor, action: 'login', target: null, ip });
  return session;
}

async function openSession(deps: Deps, email: string, password: string): Promise<Session> {
  const login = normaliseLogin(email);
  const now = deps.clock.now();
  const record = failures.get(login);
  if (record && now.getTime() - record.since < failureWindowMs && record.count >= maxFailures) {
    const retryAfter = Math.ceil((record.since + failureWindowMs - now.getTime()) / 1000);
    throw new AppError('rate_limited', 'Too many failed sign-ins; try again later', { retryAfter });
  }
  const user = await findUserByEmail(deps.db, login);
  const ok =
    user && !user.disabledAt
      ? await verifyPassword(password, user.passwordHash)
      : await verifyPassword(password, dummyHash);
  if (!user || !ok || user.disabledAt) {
    const fresh = !record || now.getTime() - record.since >= failureWindowMs;
    failures.set(login, { count: fresh ? 1 : record.count + 1, since: fresh ? now.getTime() : record.since });
    throw new AppError('unauthenticated', 'Wrong email or password');
  }
  failures.delete(login);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + sessionIdleMs);
  await insertSession(deps.db, { tokenHash: sha256(token), userId: user.id, expiresAt });
  return { token, expiresAt, principal: { kind: 'user', id: user.id, email: user.email, role: user.role as Role } };
}
// Verifying against a fixed hash when the user does not exist keeps response times alike.
const dummyHash = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** Ends the session on the server; when it was one, its person's sign-out is in the audit log. */
export async function logout(deps: Deps, token: string, ip: string | null): Promise<void> {
  const session = await findSession(deps.db, sha256(token), deps.clock.now());
  await deleteSession(deps.db, sha256(token));
  if (session) await audit(deps.db, { actor: session.email, action: 'logout', target: null, ip });
}

/** The principal behind a bearer API key or a session cookie; undefined when neither is valid. */
export async function authenticate(
  deps: Deps,
  credentials: { bearer?: string; session?: string },
): Promise<Principal | undefined> {
  const now = deps.clock.now();
  if (credentials.bearer) {
    const key = await findApiKey(deps.db, sha256(credentials.bearer));
    return key ? { kind: 'key', id: key.id, name: key.name, role: key.role as Role, scopes: key.scopes } : undefined;
  }
  if (credentials.session) {
    const tokenHash = sha256(credentials.session);
    const session = await findSession(deps.db, tokenHash, now);
    if (!session || now.getTime() - session.createdAt.getTime() > sessionMaxMs) return undefined;
    await touchSession(deps.db, tokenHash, now, new Date(now.getTime() + sessionIdleMs));
    return { kind: 'user', id: session.userId, email: session.email, role: session.role as Role };
  }
  return undefined;
}

/** What is wrong with each scope that is not an area Kept has and read or write, as `scopes.N`. */
function scopeIssues(scopes: readonly string[]): { path: string; message: string }[] {
  return scopes.flatMap((scope, i) => {
    const area = /^([a-z][a-z-]*):(read|write)$/.exec(scope)?.[1];
    if (area === undefined)
      return [
        {
          path: `scopes.${i}`,
          message: `a scope is an area and read or write, e.g. events:write or customers:read; found ${scope}`,
        },
      ];
    if (!(scopeAreas as readonly string[]).includes(area))
      return [{ path: `scopes.${i}`, message: `there is no area ${area}; the areas are ${scopeAreas.join(', ')}` }];
    return [];
  });
}

/**
 * Creates an API key: 256 random bits, shown once, stored as SHA-256; scopes limit it further than
 * its role (none: all its role may). `by` may create only a key that holds no more than itself.
 */
export async function createApiKey(
  deps: Deps,
  name: string,
  role: Role,
  scopes: string[] | null = null,
  by: Actor = 'system',
): Promise<{ id: number; name: string; role: string; scopes: string[] | null; key: string }> {
  const issues = scopeIssues(scopes ?? []);
  if (issues.length > 0)
    throw new AppError('validation_failed', issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '), {
      issues,
    });
  const limited = scopes && scopes.length > 0 ? [...new Set(scopes)].sort() : null;
  refuseWiderKey(by, 'create', role, limited);
  const key = `kept_${randomBytes(32).toString('base64url')}`;
  const row = await insertApiKey(deps.db, {
    name,
    role,
    scopes: limited,
    prefix: key.slice(0, 12),
    keyHash: sha256(key),
  });
  await audit(deps.db, {
    actor: actorName(by),
    action: 'key.created',
    target: `key #${row.id} ${name}`,
    detail: { role, scopes: row.scopes },
  });
  return { ...row, key };
}

/**
 * Changes a person's role or disables (or re-enables) them, at once: a disabled person's sessions
 * end. Kept keeps at least one active admin. Each change is in the audit log.
 */
export async function changeUser(deps: Deps, id: number, change: { role?: Role; disabled?: boolean }, by: Actor) {
  const what = change.role !== undefined ? "change a person's role" : 'disable or enable a person';
  refusePeopleChange(by, what);
  const actor = actorName(by);
  return deps.db.transaction(async (tx) => {
    const admins = await lockActiveAdmins(tx);
    const user = await findUser(tx, id);
    if (!user) throw new AppError('not_found', `No user ${id}`);
    refusePeopleChange(by, what, user.role as Role, ...(change.role ? [change.role] : []));
    const role = change.role ?? (user.role as Role);
    const disabled = change.disabled ?? user.disabledAt !== null;
    if (admins.includes(id) && (role !== 'admin' || disabled) && admins.length === 1) {
      throw new AppError('conflict', `${user.email} is the only active admin; make someone else an admin first`);
    }
    if (role !== user.role) {
      await updateUser(tx, id, { role });
      await audit(tx, {
        actor,
        action: 'user.role_changed',
        target: user.email,
        detail: { from: user.role, to: role },
      });
    }
    if (disabled !== (user.disabledAt !== null)) {
      await updateUser(tx, id, { disabledAt: disabled ? deps.clock.now() : null });
      if (disabled) await endSessionsOf(tx, id);
      await audit(tx, { actor, action: disabled ? 'user.disabled' : 'user.enabled', target: user.email });
    }
    return (await findUser(tx, id))!;
  });
}

// Per database, when each key's use was last written: a busy key costs one write a minute, not one per request.
const keyUseWritten = new WeakMap<object, Map<number, number>>();

/** Records that a key was used (its `last_used_at`), at most once a minute per key. */
export async function noteKeyUse(deps: Deps, id: number): Promise<void> {
  const now = deps.clock.now();
  const written = keyUseWritten.get(deps.db) ?? new Map<number, number>();
  keyUseWritten.set(deps.db, written);
  if (now.getTime() - (written.get(id) ?? 0) < 60_000) return;
  written.set(id, now.getTime());
  await touchApiKey(deps.db, id, now);
}

/** Stops a key at once; false when there is no such active key. A key may revoke only keys it could have created (itself among them). */
export async function revokeKey(deps: Deps, id: number, by: Actor): Promise<boolean> {
  const found = await findActiveApiKey(deps.db, id);
  if (!found) return false;
  refuseWiderKey(by, 'revoke', found.role as Role, found.scopes);
  const done = await revokeApiKey(deps.db, id, deps.clock.now());
  if (done) await audit(deps.db, { actor: actorName(by), action: 'key.revoked', target: `key #${id}` });
  return done;
}

/**
 * On first start with an empty users table: an admin with a generated password, written to
 * <data>/initial-admin-password (like Jenkins) so `npm start` can show it again until it is changed.
 */
export async function ensureInitialAdmin(
  deps: Deps,
): Promise<{ email: string; password?: string; passwordFile?: string }> {
  const email = 'admin@kept.local';
  const file = path.join(deps.config.dataDir, 'initial-admin-password');
  const users = await listUsers(deps.db);
  if (users.length === 0) {
    const user = await createUser(deps, email, 'admin');
    if (!deps.config.databaseUrl) {
      fs.mkdirSync(deps.config.dataDir, { recursive: true });
      fs.writeFileSync(file, `${user.password}\n`, { mode: 0o600 });
    }
    return { email, password: user.password, passwordFile: deps.config.databaseUrl ? undefined : file };
  }
  const admin = users.find((u) => u.email === email);
  if (admin && fs.existsSync(file)) {
    const password = fs.readFileSync(file, 'utf8').trim();
    const stored = await findUserByEmail(deps.db, email);
    if (stored && (await verifyPassword(password, stored.passwordHash))) return { email, password, passwordFile: file };
  }
  return { email: admin?.email ?? users[0].email };
}
