import pino, { type Logger } from 'pino';
import type { Config } from './config.ts';
import { openDatabase, unsafeStorageSettings, type Database, type Db } from './db/connection.ts';
import { AppError } from './shared/errors.ts';
import { ensureSigningKey } from './auth/signing.ts';
import { acquireDataLock } from './db/lock.ts';
import { createMailer, type Mailer } from './mail/mailer.ts';

export interface Clock {
  now(): Date;
}

/** Everything a service needs, built once per process. */
export interface Deps {
  readonly config: Config;
  readonly database: Database;
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly mailer: Mailer;
  close(): Promise<void>;
}

export interface DepsOptions {
  /** Which command holds the embedded database, for the message another process gets. */
  command: string;
  port?: number;
  /** Overrides the data folder (tests use 'memory://'). */
  dataDir?: string;
  clock?: Clock;
}

export async function createDeps(config: Config, options: DepsOptions): Promise<Deps> {
  const logger = pino({ level: config.logLevel, base: undefined });
  const dataDir = options.dataDir ?? config.dataDir;
  const release =
    !config.databaseUrl && dataDir !== 'memory://'
      ? acquireDataLock(dataDir, { command: options.command, port: options.port })
      : () => undefined;
  try {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir });
    const unsafe = database.kind === 'postgres' ? await unsafeStorageSettings(database.db) : [];
    if (unsafe.length > 0 && !config.allowUnsafeStorage) {
      await database.close();
      throw new AppError(
        'unsafe_storage',
        `PostgreSQL runs with ${unsafe.join(', ')}: a crash could lose or corrupt data Kept has confirmed as stored. ` +
          'Turn these settings on, or set KEPT_ALLOW_UNSAFE_STORAGE=true for a database you can afford to lose.',
      );
    }
    if (unsafe.length > 0)
      logger.warn({ settings: unsafe }, 'PostgreSQL storage settings are unsafe; allowed by KEPT_ALLOW_UNSAFE_STORAGE');
    await database.migrate();
    if (!config.secret) await ensureSigningKey(database.db);
    const mailer = createMailer(config.mail, database.db);
    return {
      config,
      database,
      db: database.db,
      clock: options.clock ?? { now: () => new Date() },
      logger,
      mailer,
      async close() {
        mailer.close();
        await database.close();
        release();
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}
