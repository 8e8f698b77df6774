/**
 * Rate limiting, atomic, through rate-limiter-flexible (a Lua script on Redis; a map in-process).
 * A limiter that cannot reach its store fails open: the request passes and the outage is logged.
 */
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RedisClient } from '../redis/client.ts';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the budget is whole again. */
  resetSeconds: number;
  /** Set when the store failed and the request was let through. */
  failedOpen?: unknown;
}

export interface RateLimiter {
  consume(key: string): Promise<RateDecision>;
  /** Gives back a point taken by {@link consume} (best effort: a store failure is ignored). */
  reward(key: string): Promise<void>;
  /** Seconds until `key` may be served again when its budget is spent, else 0 (takes nothing). */
  blockedFor(key: string): Promise<number>;
}

export class FlexibleRateLimiter implements RateLimiter {
  private readonly limiter: RateLimiterAbstract;

  constructor(
    private readonly limit: number,
    options: {
      prefix: string;
      redis?: RedisClient;
      /** Window in seconds; default a minute. */ windowSeconds?: number;
    },
  ) {
    const base = { points: limit, duration: options.windowSeconds ?? 60, keyPrefix: options.prefix };
    this.limiter = options.redis
      ? new RateLimiterRedis({
          ...base,
          storeClient: options.redis,
          useRedisPackage: false,
          rejectIfRedisNotReady: true,
          // While Redis is away, each process counts on its own (a limit per instance, not none).
          insuranceLimiter: new RateLimiterMemory(base),
        })
      : new RateLimiterMemory(base);
  }

  async blockedFor(key: string): Promise<number> {
    const r = await this.limiter.get(key).catch(() => null);
    return r !== null && r.remainingPoints <= 0 ? Math.max(1, Math.ceil(r.msBeforeNext / 1000)) : 0;
  }

  async reward(key: string): Promise<void> {
    await this.limiter.reward(key, 1).catch(() => undefined);
  }

  async consume(key: string): Promise<RateDecision> {
    try {
      const r = await this.limiter.consume(key, 1);
      return {
        allowed: true,
        limit: this.limit,
        remaining: r.remainingPoints,
        resetSeconds: Math.ceil(r.msBeforeNext / 1000),
      };
    } catch (e) {
      if (e instanceof RateLimiterRes) {
        return {
          allowed: false,
          limit: this.limit,
          remaining: 0,
          resetSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)),
        };
      }
      return { allowed: true, limit: this.limit, remaining: this.limit, resetSeconds: 60, failedOpen: e };
    }
  }
}
