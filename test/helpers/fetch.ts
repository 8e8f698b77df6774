/**
 * An HTTP client over real sockets (fetch against a listening server), for tests where the
 * transport matters: hundreds of concurrent requests, connection handling. Most tests use the
 * in-process client of api.ts instead.
 */
export function httpClient(target: () => { base: string; adminKey: string }) {
  const json = (body: unknown) =>
    body === undefined
      ? {}
      : {
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' } as Record<string, string>,
        };

  /** An admin call (the test app's admin key). */
  const admin = async <T = unknown>(method: string, path: string, body?: unknown) => {
    const { base, adminKey } = target();
    const { headers, ...rest } = json(body);
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${adminKey}`, ...headers },
      ...rest,
    });
    return { status: res.status, body: (res.status === 204 ? undefined : await res.json()) as T };
  };

  /** A store call, with whatever headers (session, Idempotency-Key) the caller passes. */
  const store = async <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
  ) => {
    const { headers, ...rest } = json(body);
    const res = await fetch(target().base + path, { method, headers: { ...headers, ...extra }, ...rest });
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  };

  return { admin, store };
}
