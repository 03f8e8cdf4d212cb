import { listLimit } from '../shared/http.ts';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/connection.ts';
import { apiKeys, sessions, settings, users } from './auth.schema.ts';
import type { Role } from './auth.ts';

export async function insertUser(db: Db, user: { email: string; role: Role; passwordHash: string }) {
  const [row] = await db.insert(users).values(user).returning({ id: users.id, email: users.email, role: users.role });
  return row;
}

export async function findUserByEmail(db: Db, email: string) {
  const [row] = await db.select().from(users).where(eq(users.email, email));
  return row;
}

/** Sets a new password and ends the user's sessions; false when there is no such user. */
export async function updatePassword(db: Db, email: string, passwordHash: string): Promise<boolean> {
  const rows = await db.update(users).set({ passwordHash }).where(eq(users.email, email)).returning({ id: users.id });
  if (rows.length > 0) await endSessionsOf(db, rows[0].id);
  return rows.length > 0;
}

export async function listUsers(db: Db) {
  return db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      createdAt: users.createdAt,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .orderBy(users.id)
    .limit(listLimit);
}

export async function findUser(db: Db, id: number) {
  const [row] = await db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      createdAt: users.createdAt,
      disabledAt: users.disabledAt,
    })
    .from(users)
    .where(eq(users.id, id));
  return row;
}

export async function updateUser(db: Db, id: number, change: { role?: Role; disabledAt?: Date | null }) {
  await db.update(users).set(change).where(eq(users.id, id));
}

/** The active admins, locked until the transaction ends (so two changes cannot both remove the last one). */
export async function lockActiveAdmins(db: Db): Promise<number[]> {
  const rows = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.role, 'admin'), isNull(users.disabledAt)))
    .for('update');
  return rows.map((r) => r.id);
}

export async function endSessionsOf(db: Db, userId: number) {
  await db.delete(sessions).where(eq(sessions.userId, userId));
}

export async function insertSession(db: Db, session: { tokenHash: string; userId: number; expiresAt: Date }) {
  await db.insert(sessions).values(session);
}

export async function findSession(db: Db, tokenHash: string, now: Date) {
  const [row] = await db
    .select({ userId: users.id, email: users.email, role: users.role, createdAt: sessions.createdAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, tokenHash), gt(sessions.expiresAt, now), isNull(users.disabledAt)));
  return row;
}

export async function touchSession(db: Db, tokenHash: string, now: Date, expiresAt: Date) {
  await db.update(sessions).set({ lastSeenAt: now, expiresAt }).where(eq(sessions.tokenHash, tokenHash));
}

export async function deleteSession(db: Db, tokenHash: string) {
  await db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
}

export async function insertApiKey(
  db: Db,
  key: { name: string; role: Role; scopes: string[] | null; prefix: string; keyHash: string },
) {
  const [row] = await db
    .insert(apiKeys)
    .values(key)
    .returning({ id: apiKeys.id, name: apiKeys.name, role: apiKeys.role, scopes: apiKeys.scopes });
  return row;
}

export async function findApiKey(db: Db, keyHash: string) {
  const [row] = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
  return row;
}

export async function findActiveApiKey(db: Db, id: number) {
  const [row] = await db
    .select({ id: apiKeys.id, role: apiKeys.role, scopes: apiKeys.scopes })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)));
  return row;
}

export async function listApiKeys(db: Db) {
  return db
    .select({
      id: apiKeys.id,
      name: apiKeys.name,
      role: apiKeys.role,
      scopes: apiKeys.scopes,
      prefix: apiKeys.prefix,
      createdAt: apiKeys.createdAt,
      lastUsedAt: apiKeys.lastUsedAt,
      revokedAt: apiKeys.revokedAt,
    })
    .from(apiKeys)
    .orderBy(apiKeys.id)
    .limit(listLimit);
}

export async function touchApiKey(db: Db, id: number, now: Date) {
  await db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, id));
}

export async function revokeApiKey(db: Db, id: number, now: Date): Promise<boolean> {
  const rows = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  return rows.length > 0;
}

/** Keeps a value Kept makes for itself once: a value already kept under this key stays. */
export async function insertSetting(db: Db, key: string, value: string) {
  await db.insert(settings).values({ key, value }).onConflictDoNothing();
}

export async function findSetting(db: Db, key: string): Promise<string | undefined> {
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key));
  return row?.value;
}
