/**
 * Brute-force protection for logins, after rate-limiter-flexible's login-protection recipe:
 * - failures per client address in a day (slow brute force from one place),
 * - consecutive failures per account from one address (reset by a success),
 * - failures per account from anywhere in an hour (guessing one account from many addresses).
 * Past a limit the caller is blocked for a while. Accounts are keyed by a SHA-256 of the
 * normalised email, so the store holds no address of anyone. Unknown and known emails count alike.
 */
import { createHash } from 'node:crypto';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type IRateLimiterOptions,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RedisClient } from '../redis/client.ts';

export interface LoginLimits {
  /** Failed logins per address per day before it is blocked for a day. */
  perAddressPerDay: number;
  /** Consecutive failures on one account from one address before a block of an hour. */
  consecutivePerAccount: number;
  /** Failures on one account from all addresses in an hour before a block of 15 minutes. */
  perAccountPerHour: number;
}

export class LoginThrottle {
  private readonly byAddress: RateLimiterAbstract;
  private readonly byAccountAndAddress: RateLimiterAbstract;
  private readonly byAccount: RateLimiterAbstract;

  constructor(limits: LoginLimits, options: { redis?: RedisClient } = {}) {
    const make = (o: IRateLimiterOptions) =>
      options.redis
        ? new RateLimiterRedis({
            ...o,
            storeClient: options.redis,
            useRedisPackage: false,
            rejectIfRedisNotReady: true,
            // While Redis is away, each process throttles on its own instead of not at all.
            insuranceLimiter: new RateLimiterMemory(o),
          })
        : new RateLimiterMemory(o);
    this.byAddress = make({
      keyPrefix: 'login:ip',
      points: limits.perAddressPerDay,
      duration: 86_400,
      blockDuration: 86_400,
    });
    this.byAccountAndAddress = make({
      keyPrefix: 'login:acct-ip',
      points: limits.consecutivePerAccount,
      // A week (the in-process store keeps its windows in timers, which cannot exceed 24.8 days).
      duration: 7 * 86_400,
      blockDuration: 3600,
    });
    this.byAccount = make({
      keyPrefix: 'login:acct',
      points: limits.perAccountPerHour,
      duration: 3600,
      blockDuration: 900,
    });
  }

  private keys(address: string, email: string) {
    const account = createHash('sha256').update(email.trim().toLowerCase()).digest('hex').slice(0, 32);
    return { address, account, pair: `${account}:${address}` };
  }

  /**
   * Takes one try from every budget before the password is checked, so that simultaneous tries
   * are counted as they arrive (the check takes ~100 ms of scrypt: counting after it let a burst
   * of 1,000 pass a read of the limits). Returns 0 when the try may go ahead, or the seconds to
   * wait: then no budget keeps the point (those that allowed it get it back) and nothing may be
   * checked. A success gives the point back ({@link succeeded}); a failure keeps it. While Redis is
   * away the insurance limiters count per process; a store that fails outright allows the try.
   */
  async take(address: string, email: string): Promise<number> {
    const k = this.keys(address, email);
    const budgets: [RateLimiterAbstract, string][] = [
      [this.byAddress, k.address],
      [this.byAccountAndAddress, k.pair],
      [this.byAccount, k.account],
    ];
    const waits = await Promise.all(
      budgets.map(async ([limiter, key]) => {
        try {
          await limiter.consume(key);
          return 0;
        } catch (e) {
          return e instanceof RateLimiterRes ? Math.max(1, Math.ceil(e.msBeforeNext / 1000)) : 0;
        }
      }),
    );
    const wait = Math.max(...waits);
    if (wait > 0)
      await Promise.all(
        budgets.filter((_, i) => waits[i] === 0).map(([limiter, key]) => limiter.reward(key, 1)),
      ).catch(() => undefined);
    return wait;
  }

  /** @deprecated Takes the try, as {@link take} does (the name of the read-then-count API). */
  retryAfter(address: string, email: string): Promise<number> {
    return this.take(address, email);
  }

  /**
   * A failed check: its point was taken by {@link take} already, so nothing more is counted.
   * Returns 0 (the caller answers 401; the next try is refused once a budget is spent).
   */
  failed(_address: string, _email: string): Promise<number> {
    return Promise.resolve(0);
  }

  /**
   * A success gives its point back to the per-address and per-account budgets and ends the run
   * of consecutive failures from that address.
   */
  async succeeded(address: string, email: string): Promise<void> {
    const k = this.keys(address, email);
    await Promise.all([
      this.byAddress.reward(k.address, 1),
      this.byAccount.reward(k.account, 1),
      this.byAccountAndAddress.delete(k.pair),
    ]).catch(() => undefined);
  }
}
