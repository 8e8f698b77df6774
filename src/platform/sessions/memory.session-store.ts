import { LRUCache } from 'lru-cache';
import {
  SESSION_MAX_AGE_SECONDS,
  SESSION_TTL_SECONDS,
  looksLikeToken,
  newSessionToken,
  sessionIdOf,
  slidExpiry,
  type Session,
  type SessionStore,
} from './session-store.ts';

/**
 * In-process sessions (single node; lost on restart). Bounded: at most `maxSessions` are kept (the
 * least recently used go first) and expired ones are dropped as they are met and by the cache's
 * own timers, so a flood of guest sessions cannot grow memory without end.
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions: LRUCache<string, Session>;

  constructor(
    private readonly now: () => number = Date.now,
    options: { maxSessions?: number } = {},
  ) {
    this.sessions = new LRUCache<string, Session>({
      max: options.maxSessions ?? 100_000,
      ttl: SESSION_TTL_SECONDS * 1000,
      ttlAutopurge: true,
      perf: { now },
    });
  }

  create(data: { customerId: string | null }): Promise<{ token: string; session: Session }> {
    const token = newSessionToken();
    const session: Session = {
      id: sessionIdOf(token),
      customerId: data.customerId,
      createdAt: new Date(this.now()),
      expiresAt: new Date(this.now() + SESSION_TTL_SECONDS * 1000),
    };
    this.sessions.set(session.id, session);
    return Promise.resolve({ token, session: { ...session } });
  }

  get(token: string): Promise<Session | undefined> {
    if (!looksLikeToken(token)) return Promise.resolve(undefined);
    const s = this.sessions.get(sessionIdOf(token));
    if (!s) return Promise.resolve(undefined);
    const now = this.now();
    if (s.expiresAt.getTime() <= now || s.createdAt.getTime() + SESSION_MAX_AGE_SECONDS * 1000 <= now) {
      this.sessions.delete(s.id);
      return Promise.resolve(undefined);
    }
    s.expiresAt = slidExpiry(s.createdAt, now);
    this.sessions.set(s.id, s, { ttl: s.expiresAt.getTime() - now });
    return Promise.resolve({ ...s });
  }

  destroy(token: string): Promise<void> {
    this.sessions.delete(sessionIdOf(token));
    return Promise.resolve();
  }

  destroyForCustomer(customerId: string): Promise<number> {
    let n = 0;
    for (const [id, s] of this.sessions.entries())
      if (s.customerId === customerId && this.sessions.delete(id)) n++;
    return Promise.resolve(n);
  }

  listForCustomer(customerId: string): Promise<{ createdAt: Date }[]> {
    const found: { createdAt: Date }[] = [];
    for (const s of this.sessions.values())
      if (s.customerId === customerId) found.push({ createdAt: s.createdAt });
    return Promise.resolve(found);
  }

  /** How many sessions are held (for tests and metrics). */
  get size(): number {
    return this.sessions.size;
  }
}
