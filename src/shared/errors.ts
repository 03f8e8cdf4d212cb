/** The closed set of error codes Kept reports; each maps to one HTTP status in server.ts. */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'rate_limited'
  | 'database_busy'
  | 'database_locked'
  | 'unsafe_storage'
  | 'erasure_key_changed'
  | 'internal';

export const httpStatusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  database_busy: 503,
  database_locked: 503,
  unsafe_storage: 503,
  erasure_key_changed: 503,
  internal: 500,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

/** SQLSTATE of a database error (pg and PGlite both expose `code`), or undefined. */
export function sqlStateOf(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  if (error instanceof Error && error.cause) return sqlStateOf(error.cause);
  return undefined;
}

export const sqlState = {
  uniqueViolation: '23505',
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  cannotConnect: '08006',
  tooManyConnections: '53300',
  adminShutdown: '57P01',
} as const;

/** The innermost message of an error chain (drizzle wraps the database's own message in `cause`). */
export function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
