/** Schemas shared by many routes: pagination, the error body. */
import { z } from 'zod';
import type { FastifyReply } from 'fastify';

export const LimitSchema = z.coerce.number().int().min(1).max(100).default(20);
export const CursorSchema = z.string().min(1).max(512).optional();
/** A path id. Not validated as a UUID here: a malformed id names no resource, so it is a 404. */
export const IdParams = z.object({ id: z.string().min(1).max(200) });
export const MoneySchema = z.number().int().min(0).describe('Integer centavos (BRL)');

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    details: z.unknown().optional(),
  }),
});

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
