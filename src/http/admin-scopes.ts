/**
 * Admin key scopes: what an admin API key may do. Each admin route needs one scope (or only a
 * valid key, `authenticated`); a key holding `*` holds every scope. Which route needs which scope
 * is declared in one table (src/assembly/admin-routes.ts) and checked by one hook (the admin
 * context of src/assembly/server.ts).
 */
import { AppError } from '../platform/errors.ts';

export const ADMIN_SCOPES = [
  'catalog',
  'inventory',
  'orders',
  'refunds',
  'customers',
  'privacy',
  'operations',
  'keys',
  'webhooks',
] as const;

export type AdminScope = (typeof ADMIN_SCOPES)[number];
/** What a key may hold: named scopes, or `*` (all of them, now and later). */
export type AdminKeyScope = AdminScope | '*';
export const ADMIN_KEY_SCOPES: readonly AdminKeyScope[] = ['*', ...ADMIN_SCOPES];

/** What a route needs: a scope, or only a valid key (`authenticated`, e.g. "who am I"). */
export type AdminRouteAccess = AdminScope | 'authenticated';

export interface AdminRouteRule {
  access: AdminRouteAccess;
  /** A read of personal data: a successful GET is written to the audit log with actor and target. */
  auditRead?: boolean;
}

export function holdsScope(held: readonly string[], needed: AdminRouteAccess): boolean {
  return needed === 'authenticated' || held.includes('*') || held.includes(needed);
}

/** True when `held` covers every scope in `wanted` (a key can grant only what it holds). */
export function coversScopes(held: readonly string[], wanted: readonly string[]): boolean {
  return held.includes('*') || wanted.every((s) => s !== '*' && held.includes(s));
}

export function forbidden(message: string, details?: unknown): AppError {
  return new AppError('forbidden', 'forbidden', message, details === undefined ? {} : { details });
}
