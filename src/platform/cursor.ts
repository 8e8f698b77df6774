/** Opaque pagination cursors: base64url JSON, validated on the way back in. */
import { AppError } from './errors.ts';
import { isUuid } from './ids.ts';

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, isValid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) {
    throw AppError.invalid('The cursor is invalid', [{ field: 'cursor', message: 'invalid cursor' }]);
  }
  return value;
}

/** timestamptz as PostgreSQL prints it (ISO DateStyle), e.g. `2026-10-31 13:44:12.641+00`. */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

/** A keyset position on (created_at, id), the order of every "newest first" listing. */
export interface TimeIdCursor {
  createdAt: string;
  id: string;
}

/** A timestamp of that shape that names a real instant (no month 13, no 25:61). */
function isRealTimestamp(s: string): boolean {
  const [date, rest] = s.split(' ') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, sec] = rest.slice(0, 8).split(':').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return (
    day.getUTCFullYear() === y &&
    day.getUTCMonth() === mo - 1 &&
    day.getUTCDate() === d &&
    h < 24 &&
    mi < 60 &&
    sec < 60
  );
}

export function isTimeIdCursor(v: unknown): v is TimeIdCursor {
  const o = v as { createdAt?: unknown; id?: unknown } | null;
  return (
    typeof o?.createdAt === 'string' &&
    PG_TIMESTAMP.test(o.createdAt) &&
    isRealTimestamp(o.createdAt) &&
    typeof o.id === 'string' &&
    isUuid(o.id)
  );
}

/**
 * A keyset page from rows fetched with `limit + 1`: the extra row only says whether a next page
 * exists, and the cursor points after the page's last row.
 */
export function keysetPage<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  cursorOf: (last: R) => unknown,
): { items: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
