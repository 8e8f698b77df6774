/** Schemas shared by many routes: pagination, the error body. */
import { z } from 'zod';

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
