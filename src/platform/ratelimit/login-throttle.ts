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
   * Seconds the caller must wait before trying again, or 0 when a try is allowed. While Redis is
   * away, failures are counted per process by the insurance limiters (consume); a read that fails
   * here allows the try, and the count it adds still applies.
   */
  async retryAfter(address: string, email: string): Promise<number> {
    const k = this.keys(address, email);
    const [ip, pair, acct] = await Promise.all([
      this.byAddress.get(k.address).catch(() => null),
      this.byAccountAndAddress.get(k.pair).catch(() => null),
      this.byAccount.get(k.account).catch(() => null),
    ]);
    const blocked = (r: RateLimiterRes | null, limit: number) =>
      r !== null && r.consumedPoints > limit ? Math.max(1, Math.ceil(r.msBeforeNext / 1000)) : 0;
    return Math.max(
      blocked(ip, this.byAddress.points),
      blocked(pair, this.byAccountAndAddress.points),
      blocked(acct, this.byAccount.points),
    );
  }

  /** Counts a failed try; returns the wait now imposed (0 while under every limit). */
  async failed(address: string, email: string): Promise<number> {
    const k = this.keys(address, email);
    const waits = await Promise.all(
      [
        [this.byAddress, k.address],
        [this.byAccountAndAddress, k.pair],
        [this.byAccount, k.account],
      ].map(async ([limiter, key]) => {
        try {
          await (limiter as RateLimiterAbstract).consume(key as string);
          return 0;
        } catch (e) {
          return e instanceof RateLimiterRes ? Math.max(1, Math.ceil(e.msBeforeNext / 1000)) : 0;
        }
      }),
    );
    return Math.max(...waits);
  }

  /** A success ends the run of consecutive failures from that address. */
  async succeeded(address: string, email: string): Promise<void> {
    await this.byAccountAndAddress.delete(this.keys(address, email).pair).catch(() => undefined);
  }
}
