import type { RedisClient } from '../redis/client.ts';
import { AppError } from '../errors.ts';
import {
  SESSION_MAX_AGE_SECONDS,
  SESSION_TTL_SECONDS,
  looksLikeToken,
  newSessionToken,
  sessionIdOf,
  type Session,
  type SessionStore,
} from './session-store.ts';

interface Stored {
  customerId: string | null;
  createdAt: string;
}

const key = (id: string) => `session:${id}`;
/** The sessions of one customer (for logout-everywhere and GDPR erasure). */
const customerKey = (customerId: string) => `customer-sessions:{${customerId}}`;

/**
 * Sessions in Redis under `session:<sha256 of token>`, 7-day TTL pushed back on each read (GETEX).
 * Without Redis a session cannot be checked: callers get 503 dependency_unavailable.
 */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly redis: RedisClient) {}

  private async guard<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      throw AppError.unavailable('redis', error);
    }
  }

  async create(data: { customerId: string | null }): Promise<{ token: string; session: Session }> {
    const token = newSessionToken();
    const id = sessionIdOf(token);
    const now = new Date();
    const stored: Stored = { customerId: data.customerId, createdAt: now.toISOString() };
    await this.guard(async () => {
      await this.redis.set(key(id), JSON.stringify(stored), 'EX', SESSION_TTL_SECONDS);
      if (data.customerId) {
        await this.redis.sadd(customerKey(data.customerId), id);
        await this.redis.expire(customerKey(data.customerId), SESSION_TTL_SECONDS);
      }
    });
    return {
      token,
      session: {
        id,
        customerId: data.customerId,
        createdAt: now,
        expiresAt: new Date(now.getTime() + SESSION_TTL_SECONDS * 1000),
      },
    };
  }

  async get(token: string): Promise<Session | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const id = sessionIdOf(token);
    const raw = await this.guard(() => this.redis.getex(key(id), 'EX', SESSION_TTL_SECONDS));
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Stored;
    const createdAt = new Date(s.createdAt);
    const left = Math.floor((createdAt.getTime() + SESSION_MAX_AGE_SECONDS * 1000 - Date.now()) / 1000);
    if (left <= 0) {
      await this.guard(() => this.redis.del(key(id)));
      return undefined;
    }
    const ttl = Math.min(SESSION_TTL_SECONDS, left);
    await this.guard(async () => {
      // In its last week the session's TTL is its absolute end, not a week on.
      if (ttl < SESSION_TTL_SECONDS) await this.redis.expire(key(id), ttl);
      // The customer's index of sessions lives as long as their longest-lived session.
      if (s.customerId) await this.redis.expire(customerKey(s.customerId), SESSION_TTL_SECONDS, 'GT');
    });
    return {
      id,
      customerId: s.customerId,
      createdAt,
      expiresAt: new Date(Date.now() + ttl * 1000),
    };
  }

  async destroy(token: string): Promise<void> {
    await this.guard(() => this.redis.del(key(sessionIdOf(token))));
  }

  async listForCustomer(customerId: string): Promise<{ createdAt: Date }[]> {
    return this.guard(async () => {
      const ids = await this.redis.smembers(customerKey(customerId));
      const found = await Promise.all(ids.map((id) => this.redis.get(key(id))));
      return found
        .filter((raw): raw is string => raw !== null)
        .map((raw) => ({ createdAt: new Date((JSON.parse(raw) as Stored).createdAt) }));
    });
  }

  async destroyForCustomer(customerId: string): Promise<number> {
    return this.guard(async () => {
      const ids = await this.redis.smembers(customerKey(customerId));
      // One DEL per key: in a cluster the sessions hash to different slots.
      const deleted = await Promise.all(ids.map((id) => this.redis.del(key(id))));
      await this.redis.del(customerKey(customerId));
      return deleted.reduce((n, d) => n + d, 0);
    });
  }
}
