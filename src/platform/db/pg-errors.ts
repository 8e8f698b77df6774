/**
 * PostgreSQL error codes translated to domain errors, in one place.
 * https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
import { AppError } from '../errors.ts';

/**
 * A holder of unpaid orders stayed busy past the bounded wait of order_hold_lock (SFH03, see the
 * order-holds migration): 429 to try again in a moment. Undefined for any other error.
 */
export function holderBusy(error: unknown): AppError | undefined {
  if (pgCode(error) !== 'SFH03') return undefined;
  return new AppError(
    'rate_limited',
    'holder_busy',
    'Another order or payment of yours is being processed: try again in a moment',
    { retryAfter: 1 },
  );
}

export const PG = {
  UNIQUE_VIOLATION: '23505',
  FOREIGN_KEY_VIOLATION: '23503',
  CHECK_VIOLATION: '23514',
  NOT_NULL_VIOLATION: '23502',
  INVALID_TEXT_REPRESENTATION: '22P02',
  NUMERIC_VALUE_OUT_OF_RANGE: '22003',
  INVALID_DATETIME_FORMAT: '22007',
  DATETIME_FIELD_OVERFLOW: '22008',
  INVALID_PARAMETER_VALUE: '22023',
  UNTRANSLATABLE_CHARACTER: '22P05',
  CHARACTER_NOT_IN_REPERTOIRE: '22021',
  SERIALIZATION_FAILURE: '40001',
  DEADLOCK_DETECTED: '40P01',
  QUERY_CANCELED: '57014',
  LOCK_NOT_AVAILABLE: '55P03',
  ADMIN_SHUTDOWN: '57P01',
  CANNOT_CONNECT_NOW: '57P03',
  TOO_MANY_CONNECTIONS: '53300',
} as const;

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
  detail?: unknown;
  table?: unknown;
  message?: unknown;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
  'EHOSTUNREACH',
]);

export function pgCode(e: unknown): string | undefined {
  const code = (e as PgLikeError | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The constraint a PostgreSQL error names (a unique violation's index, for one). */
export function pgConstraint(e: unknown): string | undefined {
  const constraint = (e as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}

/** True for the errors a transaction may simply be retried after. */
export function isRetryableTxError(e: unknown): boolean {
  const code = pgCode(e);
  return code === PG.SERIALIZATION_FAILURE || code === PG.DEADLOCK_DETECTED;
}

/** True when the database could not be reached (as opposed to a query being wrong). */
export function isConnectionError(e: unknown): boolean {
  const code = pgCode(e);
  if (code !== undefined) {
    if (CONNECTION_CODES.has(code)) return true;
    if (code.startsWith('08')) return true; // connection_exception class
    if (code === PG.ADMIN_SHUTDOWN || code === PG.CANNOT_CONNECT_NOW || code === PG.TOO_MANY_CONNECTIONS)
      return true;
  }
  const message = (e as PgLikeError | null)?.message;
  return (
    typeof message === 'string' &&
    (message.includes('timeout exceeded when trying to connect') ||
      message.includes('Connection terminated') ||
      message.includes('connect ECONNREFUSED') ||
      message.includes('Query read timeout') ||
      message.includes('is not queryable'))
  );
}

/**
 * Maps a PostgreSQL (or pg driver) error to an {@link AppError}, or returns undefined when it is
 * not one we know how to explain to a client (it is then a 500 and gets logged).
 */
export function mapPgError(e: unknown): AppError | undefined {
  if (isConnectionError(e)) return AppError.unavailable('database', e);
  const err = e as PgLikeError;
  const constraint = typeof err.constraint === 'string' ? err.constraint : undefined;
  switch (pgCode(e)) {
    case PG.UNIQUE_VIOLATION:
      return new AppError('conflict', 'duplicate', 'A record with the same unique value already exists', {
        details: constraint ? { constraint } : undefined,
        cause: e,
      });
    case PG.FOREIGN_KEY_VIOLATION:
      return new AppError('invalid', 'invalid_reference', 'A referenced record does not exist', {
        details: constraint ? { constraint } : undefined,
        cause: e,
      });
    case PG.CHECK_VIOLATION:
      return new AppError('conflict', 'constraint_violation', 'The change violates a data constraint', {
        details: constraint ? { constraint } : undefined,
        cause: e,
      });
    // A value missing, or data that reached the database in a shape it refuses (an impossible
    // date, a number out of range, a byte sequence it cannot store): the client's input, a 400.
    case PG.NOT_NULL_VIOLATION:
    case PG.INVALID_TEXT_REPRESENTATION:
    case PG.NUMERIC_VALUE_OUT_OF_RANGE:
    case PG.INVALID_DATETIME_FORMAT:
    case PG.DATETIME_FIELD_OVERFLOW:
    case PG.INVALID_PARAMETER_VALUE:
    case PG.UNTRANSLATABLE_CHARACTER:
    case PG.CHARACTER_NOT_IN_REPERTOIRE:
      return new AppError('invalid', 'invalid_request', 'A value is missing or malformed', { cause: e });
    case PG.SERIALIZATION_FAILURE:
    case PG.DEADLOCK_DETECTED:
      return new AppError('unavailable', 'contention', 'Too much contention, retry shortly', {
        cause: e,
        retryAfter: 1,
      });
    case PG.QUERY_CANCELED:
      return new AppError('unavailable', 'timeout', 'The database took too long to answer', {
        cause: e,
        retryAfter: 1,
      });
    case undefined:
    default:
      return undefined;
  }
}
