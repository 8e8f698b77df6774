/**
 * The one place errors become HTTP responses: `{"error": {code, message, requestId, details?}}`.
 * Never a stack trace; never a 500 for bad input.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError, RecordedAnswer, type ErrorKind } from '../platform/errors.ts';
import { mapPgError } from '../platform/db/pg-errors.ts';

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  payment_required: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unprocessable: 422,
  rate_limited: 429,
  unavailable: 503,
};

/** Fastify's own client errors, by their code. */
const FASTIFY_CODES: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_request' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_request' },
};

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown };
}

/** Where a request carries its input: the query string (GET, HEAD, DELETE) or the body. */
export type InputLocation = 'querystring' | 'body';

export const inputLocation = (method: string): InputLocation =>
  method === 'GET' || method === 'HEAD' || method === 'DELETE' ? 'querystring' : 'body';

const LOCATED = /^(body|querystring|params|headers)(\.|$)/;

/**
 * Domain errors name the input fields they are about in the domain's words (`items.0.productId`);
 * clients get them where they sent them (`body.items.0.productId`).
 */
function locateFields(details: unknown, location: InputLocation): unknown {
  if (!Array.isArray(details)) return details;
  return details.map((d: unknown) => {
    const field = (d as { field?: unknown } | null)?.field;
    return typeof field === 'string' && !LOCATED.test(field)
      ? { ...(d as object), field: `${location}.${field}` }
      : d;
  });
}

export function toHttpError(
  error: unknown,
  requestId: string,
  location: InputLocation = 'body',
): { status: number; body: ErrorBody; retryAfter?: number; log: boolean } {
  const body = (code: string, message: string, details?: unknown): ErrorBody => ({
    error: { code, message, requestId, ...(details === undefined ? {} : { details }) },
  });

  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((v) => ({
      field: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'invalid',
    }));
    return { status: 400, body: body('invalid_request', 'The request is invalid', details), log: false };
  }
  const appError = error instanceof AppError ? error : mapPgError(error);
  if (appError) {
    return {
      status: STATUS[appError.kind],
      body: body(
        appError.code,
        appError.message,
        appError.kind === 'invalid' ? locateFields(appError.details, location) : appError.details,
      ),
      ...(appError.retryAfter === undefined ? {} : { retryAfter: appError.retryAfter }),
      log: appError.kind === 'unavailable',
    };
  }
  const fe = error as Partial<FastifyError>;
  const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (known) return { status: known.status, body: body(known.code, fe.message ?? 'Bad request'), log: false };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code =
      fe.statusCode === 404 ? 'not_found' : fe.statusCode === 413 ? 'payload_too_large' : 'invalid_request';
    return { status: fe.statusCode, body: body(code, fe.message ?? 'Bad request'), log: false };
  }
  return { status: 500, body: body('internal_error', 'Internal server error'), log: true };
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    // A refusal replayed for its Idempotency-Key: the first request's answer, as it was.
    if (error instanceof RecordedAnswer)
      return reply.header('idempotent-replayed', 'true').status(error.status).send(error.body);
    const mapped = toHttpError(error, request.id, inputLocation(request.method));
    if (mapped.status >= 500) request.log.error({ err: error }, 'request failed');
    else if (mapped.log) request.log.warn({ err: error }, 'request failed');
    if (mapped.retryAfter !== undefined) void reply.header('retry-after', String(mapped.retryAfter));
    return reply.status(mapped.status).send(mapped.body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: {
        code: 'not_found',
        message: `Route ${request.method} ${request.url.split('?')[0]} not found`,
        requestId: request.id,
      },
    }),
  );
}
