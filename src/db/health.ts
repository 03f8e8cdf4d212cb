import { sql, type Db } from './connection.ts';

/** Whether the database answers at all: the one question of GET /api/health. */
export async function databaseAnswers(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
