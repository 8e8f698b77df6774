/**
 * The HTTP client of the tests: requests go through the real server (Fastify's inject), with the
 * admin key by default or a customer's session token, and come back parsed.
 */
import type { TestApp } from '../app.ts';

export interface Res<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
}

/** The error body of the API contract. */
export type Err = { error: { code: string; message: string; details?: unknown } };

export const PASSWORD = 'senha-segura-9';

/** `app` is read at call time, so the helpers can be made before `beforeAll` built the app. */
export function api(app: () => TestApp) {
  const call = async <T = Record<string, unknown>>(
    method: string,
    url: string,
    body?: unknown,
    /** A session token or an admin key; the test app's admin key when absent, none when null. */
    token?: string | null,
    headers: Record<string, string> = {},
  ): Promise<Res<T>> => {
    const t = app();
    const bearer = token === null ? undefined : (token ?? t.adminKey);
    const res = await t.server.inject({
      method: method as 'GET',
      url,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...headers },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: (res.body ? res.json() : undefined) as T, headers: res.headers };
  };

  /**
   * A call as a store client: no credentials unless `token` is given, and the session cookie the
   * server set, if any.
   */
  const request = async <T = Record<string, unknown>>(
    method: string,
    url: string,
    opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Res<T> & { cookie: string | null }> => {
    const res = await app().server.inject({
      method: method as 'GET',
      url,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      ...(opts.body === undefined ? {} : { payload: opts.body as object }),
    });
    const setCookie = res.headers['set-cookie'];
    return {
      status: res.statusCode,
      body: (res.body ? res.json() : undefined) as T,
      headers: res.headers,
      cookie: Array.isArray(setCookie) ? setCookie[0]! : (setCookie ?? null),
    };
  };

  /** Registers a customer and logs in; returns the session token. */
  const customer = async (email: string): Promise<string> => {
    await call('POST', '/store/customers', { email, password: PASSWORD, name: email.split('@')[0] }, null);
    const login = await call<{ sessionToken: string }>(
      'POST',
      '/store/auth/login',
      { email, password: PASSWORD },
      null,
    );
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    return login.body.sessionToken;
  };

  /** Registers a customer with a name and phone and logs in; returns the session token and the id. */
  const person = async (p: {
    email: string;
    name: string;
    phone: string;
  }): Promise<{ token: string; customerId: string }> => {
    const created = await call('POST', '/store/customers', { ...p, password: PASSWORD }, null);
    if (created.status !== 201) throw new Error(`registration failed: ${created.status}`);
    const login = await call<{ sessionToken: string; customer: { id: string } }>(
      'POST',
      '/store/auth/login',
      { email: p.email, password: PASSWORD },
      null,
    );
    if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
    return { token: login.body.sessionToken, customerId: login.body.customer.id };
  };

  /** Creates a product through the admin API; returns its id. */
  const newProduct = async (body: {
    name?: string;
    basePrice?: number;
    availableQuantity?: number;
    categoryId?: string;
    tags?: string[];
    description?: string;
  }): Promise<string> => {
    const res = await call<{ id: string }>('POST', '/admin/products', {
      name: 'Produto de Teste',
      basePrice: 1990,
      ...body,
    });
    if (res.status !== 201) throw new Error(`product not created: ${res.status}`);
    return res.body.id;
  };

  /** Places an order as `token` (a guest without one); returns the response. */
  const order = (items: { productId: string; quantity: number }[], token?: string | null) =>
    call<{ id: string; status: string; totalAmount: number } & Err>(
      'POST',
      '/store/orders',
      { items },
      token ?? null,
    );

  return { call, request, customer, person, newProduct, order };
}
