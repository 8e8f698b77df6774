/**
 * What the signed-in key may do: its scopes, read once from GET /admin/api-keys/me. Pages and
 * actions the key may not use are hidden (the server refuses them anyway, 403).
 */
import { createContext, useContext } from 'react';
import type { Schemas } from './api';

export type Scope = Schemas['AdminKey']['scopes'][number];

export const AccessContext = createContext<readonly Scope[]>([]);

export function may(scopes: readonly Scope[], scope: Exclude<Scope, '*'>): boolean {
  return scopes.includes('*') || scopes.includes(scope);
}

/** True when the signed-in key holds `scope` (or `*`). */
export function useMay(scope: Exclude<Scope, '*'>): boolean {
  return may(useContext(AccessContext), scope);
}
