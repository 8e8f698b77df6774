/**
 * Sessions: an opaque random token (256 bits) held by the client; the store keys each session by
 * the hex SHA-256 of its token, so a dump of the store leaks no live token. 7-day sliding expiry,
 * within an absolute lifetime of 30 days.
 */
import { createHash, randomBytes } from 'node:crypto';

export const SESSION_TTL_SECONDS = 7 * 24 * 3600;
/** However active, a session ends this long after it began (then the customer logs in again). */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

/** When a session used now expires: a week on, but never past its absolute end. */
export function slidExpiry(createdAt: Date, now: number): Date {
  return new Date(
    Math.min(now + SESSION_TTL_SECONDS * 1000, createdAt.getTime() + SESSION_MAX_AGE_SECONDS * 1000),
  );
}
/** Activity refreshes the expiry, but at most once a minute (spares a write per request). */
export const SESSION_REFRESH_AFTER_SECONDS = 60;

export interface Session {
  /** hex SHA-256 of the token. */
  id: string;
  customerId: string | null;
  createdAt: Date;
  expiresAt: Date;
}

/** The port. Adapters: PostgreSQL (now), Redis and in-process (the Redis layer). */
export interface SessionStore {
  create(data: { customerId: string | null }): Promise<{ token: string; session: Session }>;
  /** The live session of `token` (its expiry pushed back to 7 days), or undefined. */
  get(token: string): Promise<Session | undefined>;
  destroy(token: string): Promise<void>;
  /** Ends every session of a customer (password change, GDPR erasure). */
  destroyForCustomer(customerId: string): Promise<number>;
  /** When each live session of a customer began (what a data export shows; never the tokens). */
  listForCustomer(customerId: string): Promise<{ createdAt: Date }[]>;
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Tokens we issue are 43 base64url characters; anything else cannot be one. */
export function looksLikeToken(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
