/**
 * Sessions at the edge: the token comes from the `sid` cookie or `Authorization: Bearer <token>`.
 * Lookups are lazy (routes that need no session never touch the store) and memoised per request.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie'; // request.cookies, reply.setCookie
import { AppError } from '../platform/errors.ts';
import type { GuestSessions } from '../platform/sessions/guest-sessions.ts';
import { clientAddress } from './client-address.ts';
import { SESSION_TTL_SECONDS, type Session, type SessionStore } from '../platform/sessions/session-store.ts';

export const SESSION_COOKIE = 'sid';

export interface SessionHelpers {
  store: SessionStore;
  /** The caller's live session, if any. */
  current(request: FastifyRequest): Promise<Session | undefined>;
  /** A logged-in customer's session, or 401. */
  requireCustomer(request: FastifyRequest): Promise<Session & { customerId: string }>;
  /** The caller's session, creating a guest one (and setting its cookie) when there is none. */
  ensure(request: FastifyRequest, reply: FastifyReply): Promise<{ session: Session; newToken?: string }>;
  /** Sets the cookie carrying `token`. */
  setCookie(reply: FastifyReply, token: string): void;
  clearCookie(reply: FastifyReply): void;
  /** The raw token the caller presented, if any. */
  token(request: FastifyRequest): string | undefined;
}

export function createSessionHelpers(
  store: SessionStore,
  options: {
    secureCookie: boolean;
    /** Where guest sessions are made (within the client address's budget). */
    guests: GuestSessions;
  },
): SessionHelpers {
  const cache = new WeakMap<FastifyRequest, Promise<Session | undefined>>();

  const token = (request: FastifyRequest): string | undefined => {
    const header = request.headers.authorization;
    if (typeof header === 'string') {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (m?.[1] && !m[1].startsWith('sf_admin_')) return m[1];
    }
    // Parsed here, on demand (the cookie plugin does not parse every request).
    const cookieHeader = request.headers.cookie;
    if (!cookieHeader) return undefined;
    const cookies = request.cookies ?? request.server.parseCookie(cookieHeader);
    return cookies[SESSION_COOKIE] || undefined;
  };

  const current = (request: FastifyRequest): Promise<Session | undefined> => {
    let p = cache.get(request);
    if (!p) {
      const t = token(request);
      p = t ? store.get(t) : Promise.resolve(undefined);
      cache.set(request, p);
    }
    return p;
  };

  const setCookie = (reply: FastifyReply, value: string) => {
    void reply.setCookie(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'lax',
      secure: options.secureCookie,
      path: '/',
      maxAge: SESSION_TTL_SECONDS,
    });
  };

  return {
    store,
    current,
    token,
    setCookie,
    clearCookie: (reply) => void reply.clearCookie(SESSION_COOKIE, { path: '/' }),
    async requireCustomer(request) {
      const s = await current(request);
      if (!s?.customerId) throw AppError.unauthorized('Log in first');
      return s as Session & { customerId: string };
    },
    async ensure(request, reply) {
      const existing = await current(request);
      if (existing) return { session: existing };
      const created = await options.guests.create(clientAddress(request));
      cache.set(request, Promise.resolve(created.session));
      setCookie(reply, created.token);
      return { session: created.session, newToken: created.token };
    },
  };
}
