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
