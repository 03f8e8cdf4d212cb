import path from 'node:path';

/** Everything Kept reads from its environment, read once here and nowhere else. */
export interface Config {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly port: number;
  readonly host: string;
  readonly timeZone: string;
  readonly defaultCountry: string;
  readonly logLevel: string;
  readonly publicUrl: string | undefined;
  readonly secureCookies: boolean;
}

export interface ConfigOverrides {
  dataDir?: string;
  port?: number;
}

function fail(message: string): never {
  throw new Error(`configuration: ${message}`);
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const port = overrides.port ?? Number(env.KEPT_PORT ?? env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`port must be 0-65535, got ${port}`);
  const timeZone = env.KEPT_TIME_ZONE ?? 'UTC';
  if (!validTimeZone(timeZone)) fail(`KEPT_TIME_ZONE "${timeZone}" is not an IANA time zone`);
  const defaultCountry = (env.KEPT_DEFAULT_COUNTRY ?? 'US').toUpperCase();
  if (!/^[A-Z]{2}$/.test(defaultCountry)) fail(`KEPT_DEFAULT_COUNTRY must be a two-letter country code`);
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) fail('DATABASE_URL must start with postgres://');
  return Object.freeze({
    databaseUrl,
    dataDir: path.resolve(overrides.dataDir ?? env.KEPT_DATA_DIR ?? 'data'),
    port,
    host: env.KEPT_HOST ?? '127.0.0.1',
    timeZone,
    defaultCountry,
    logLevel: env.KEPT_LOG_LEVEL ?? (env.NODE_ENV === 'test' ? 'silent' : 'info'),
    publicUrl: env.KEPT_PUBLIC_URL,
    secureCookies: env.KEPT_SECURE_COOKIES === 'true',
  });
}
