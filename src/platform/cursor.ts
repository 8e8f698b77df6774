/** Opaque pagination cursors: base64url JSON, validated on the way back in. */
import { AppError } from './errors.ts';

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
    throw AppError.invalid('The cursor is invalid', [
      { field: 'querystring.cursor', message: 'invalid cursor' },
    ]);
  }
  return value;
}
