/**
 * The console's API client: typed from the server's OpenAPI document (console/openapi.json,
 * turned into ./api/schema.d.ts at build time), the admin key sent as a bearer header. The key
 * lives in session storage only: never in a URL, never logged, gone with the tab.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './api/schema';

export type Schemas = components['schemas'];
type Json<P extends keyof paths, M extends keyof paths[P], S extends number> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : never;
/** The JSON body of a GET route's 200 answer. */
export type Get<P extends keyof paths> = Json<P, 'get', 200>;

const KEY = 'shopflow.adminKey';

export type AuthEvent = 'signed-in' | 'signed-out' | 'revoked';
const listeners = new Set<(e: AuthEvent) => void>();

export const auth = {
  key: (): string | null => sessionStorage.getItem(KEY),
  signIn(key: string) {
    sessionStorage.setItem(KEY, key);
    listeners.forEach((l) => l('signed-in'));
  },
  signOut(reason: Exclude<AuthEvent, 'signed-in'> = 'signed-out') {
    sessionStorage.removeItem(KEY);
    listeners.forEach((l) => l(reason));
  },
  subscribe(listener: (e: AuthEvent) => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

const bearer: Middleware = {
  onRequest({ request }) {
    const key = auth.key();
    if (key) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
  onResponse({ request, response }) {
    // A key that stops working (revoked, or expired) ends the session with a clear screen.
    if (response.status === 401 && request.headers.has('authorization')) auth.signOut('revoked');
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(bearer);

export interface FieldError {
  field: string;
  message: string;
}

/** An answer other than 2xx: the API's stable error code, its message and per-field details. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldError[] = [],
  ) {
    super(message);
  }
}

/** The data of a call, or an {@link ApiError}. */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch {
    throw new ApiError(0, 'network_error', 'ShopFlow did not answer');
  }
  const { data, error, response } = result;
  if (!response.ok) {
    const body = (error ?? {}) as { error?: { code?: string; message?: string; details?: unknown } };
    // Field errors come as a list (400) or, for a conflict, as one object naming its field (409).
    const raw = body.error?.details;
    const details = Array.isArray(raw)
      ? (raw as FieldError[])
      : raw && typeof raw === 'object' && typeof (raw as { field?: unknown }).field === 'string'
        ? [{ field: (raw as { field: string }).field, message: body.error?.message ?? '' }]
        : [];
    throw new ApiError(
      response.status,
      body.error?.code ?? `http_${response.status}`,
      body.error?.message ?? response.statusText,
      details,
    );
  }
  return data as T;
}
