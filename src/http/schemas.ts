/** Schemas shared by many routes: pagination, the error body. */
import { z } from 'zod';
import type { FastifyReply } from 'fastify';

export const LimitSchema = z.coerce.number().int().min(1).max(100).default(20);
export const CursorSchema = z.string().min(1).max(512).optional();
/** A path id. Not validated as a UUID here: a malformed id names no resource, so it is a 404. */
export const IdParams = z.object({ id: z.string().min(1).max(200) });

/** Every error answer: a stable code, a message, the request id, and details where they help. */
export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().describe('stable, e.g. insufficient_stock, invalid_request, rate_limited'),
    message: z.string(),
    requestId: z.string(),
    details: z.unknown().optional(),
  }),
});

type OpenApiDocument = {
  paths?: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  components?: { schemas?: Record<string, unknown> };
};

/**
 * The OpenAPI document with the error answers every route can give: a shared `Error` schema, and
 * on each operation a 4XX and a 5XX answer of that shape unless the route describes errors of
 * that class itself. Only the document changes: error replies are written by the one error
 * handler, not serialised through it.
 */
export function withErrorResponses<In, Out extends object>(
  transformObject: (input: In) => Out,
): (input: In) => Out {
  return (input) => {
    const doc = transformObject(input) as Out & OpenApiDocument;
    doc.components = {
      ...doc.components,
      schemas: { ...doc.components?.schemas, Error: z.toJSONSchema(ErrorSchema, { target: 'openapi-3.0' }) },
    };
    const error = (what: string) => ({
      description: what,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    });
    for (const operations of Object.values(doc.paths ?? {}))
      for (const operation of Object.values(operations)) {
        const codes = Object.keys(operation.responses ?? {});
        const has = (digit: string) => codes.some((c) => c.startsWith(digit));
        operation.responses = {
          ...operation.responses,
          ...(has('4')
            ? {}
            : { '4XX': error('Refused: `error.code` says why (invalid_request, not_found, ...)') }),
          ...(has('5')
            ? {}
            : { '5XX': error('A dependency is unavailable (`dependency_unavailable`, ...)') }),
        };
      }
    return doc;
  };
}

/**
 * Sends JSON text that was serialised from the route's response schema earlier (a cache entry):
 * as is, without parsing and serialising it again. Typed replies accept only the schema's shape,
 * hence the plain FastifyReply.
 */
export function sendJsonText(reply: FastifyReply, json: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(json);
}

/**
 * The nesting depth of a JSON value, walked without recursion (a 20,000-level document must not
 * overflow the stack), stopping as soon as it passes `limit`.
 */
export function jsonDepthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Free-form JSON, bounded: at most `maxDepth` levels of nesting and `maxBytes` bytes as JSON. */
export function boundedJson<T extends z.ZodType>(schema: T, limits: { maxDepth: number; maxBytes: number }) {
  return schema.superRefine((v, ctx) => {
    if (jsonDepthExceeds(v, limits.maxDepth)) {
      ctx.addIssue({ code: 'custom', message: `must nest at most ${limits.maxDepth} levels` });
      return;
    }
    if ((JSON.stringify(v) ?? '').length > limits.maxBytes)
      ctx.addIssue({ code: 'custom', message: `must be at most ${limits.maxBytes} bytes of JSON` });
  });
}
