/**
 * The one error type of the domain. Services throw it; the HTTP layer maps its `kind` to a status
 * once (see http/error-handler.ts). Services never import anything from HTTP.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'payment_required'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'unprocessable'
  | 'too_large'
  | 'rate_limited'
  | 'unavailable';

export interface AppErrorOptions {
  details?: unknown;
  cause?: unknown;
  /** Seconds a client should wait before retrying (sent as `Retry-After`). */
  retryAfter?: number;
}

export class AppError extends Error {
  readonly details?: unknown;
  readonly retryAfter?: number;

  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable code, e.g. `insufficient_stock`. */
    readonly code: string,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    if (options.details !== undefined) this.details = options.details;
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
  }

  static notFound(what: string, details?: unknown): AppError {
    return new AppError('not_found', 'not_found', `${what} not found`, { details });
  }

  static invalid(message: string, details?: unknown): AppError {
    return new AppError('invalid', 'invalid_request', message, { details });
  }

  static unauthorized(message = 'Missing or invalid credentials'): AppError {
    return new AppError('unauthorized', 'unauthorized', message);
  }

  static conflict(code: string, message: string, details?: unknown): AppError {
    return new AppError('conflict', code, message, { details });
  }

  static unavailable(dependency: string, cause?: unknown): AppError {
    return new AppError('unavailable', 'dependency_unavailable', `${dependency} is unavailable`, {
      details: { dependency },
      cause,
      retryAfter: 5,
    });
  }
}

/**
 * An answer recorded for an earlier request and given again exactly as it was: the replay of a
 * refusal stored under an Idempotency-Key (its status and body are the first request's).
 */
export class RecordedAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`a recorded answer (${status}) given again`);
    this.name = 'RecordedAnswer';
  }
}
