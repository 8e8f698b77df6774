import { describe, expect, it } from 'vitest';
import { AppError } from './errors.ts';
import { decodeCursor, encodeCursor, isTimeIdCursor } from './cursor.ts';

const position = { createdAt: '2026-10-31 13:44:12.641512+00', id: '8f6f2a8e-3c1b-4d0a-9a57-2f1d8c7e6b5a' };

describe('pagination cursors', () => {
  it('round-trip a keyset position, opaque to the client', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, isTimeIdCursor)).toEqual(position);
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['JSON of the wrong shape', encodeCursor({ createdAt: 5, id: position.id })],
    ['an id that is not a UUID', encodeCursor({ ...position, id: "1' OR '1'='1" })],
    ['a timestamp PostgreSQL would not print', encodeCursor({ ...position, createdAt: 'yesterday' })],
  ])('refuse %s with a 400 naming the cursor', (_what, cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor, isTimeIdCursor);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: 'invalid', details: [{ field: 'cursor' }] });
  });
});
