import {
  SESSION_TTL_SECONDS,
  looksLikeToken,
  newSessionToken,
  sessionIdOf,
  type Session,
  type SessionStore,
} from './session-store.ts';

/** In-process sessions (single node; lost on restart). */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number = Date.now) {}

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
    if (s.expiresAt.getTime() <= this.now()) {
      this.sessions.delete(s.id);
      return Promise.resolve(undefined);
    }
    s.expiresAt = new Date(this.now() + SESSION_TTL_SECONDS * 1000);
    return Promise.resolve({ ...s });
  }

  destroy(token: string): Promise<void> {
    this.sessions.delete(sessionIdOf(token));
    return Promise.resolve();
  }

  destroyForCustomer(customerId: string): Promise<number> {
    let n = 0;
    for (const [id, s] of this.sessions) if (s.customerId === customerId && this.sessions.delete(id)) n++;
    return Promise.resolve(n);
  }
}
