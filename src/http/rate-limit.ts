import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError } from '../platform/errors.ts';
import type { RateLimiter } from '../platform/ratelimit/rate-limiter.ts';
import type { SessionHelpers } from './session.ts';

const EXEMPT = /^\/(health\/|metrics|docs|images\/)/;

export interface RateLimitDeps {
  store: RateLimiter;
  admin: RateLimiter;
  sessions: SessionHelpers;
  logger: Logger;
}

/**
 * Counts every request except health, metrics, docs and /images (the CDN origin: its renditions
 * are bounded, three sizes rendered once, and a CDN edge would otherwise exhaust an IP budget): per customer when logged in, per IP for
 * guests, per key for the admin API (its own, larger budget). Answers 429 rate_limited with
 * Retry-After past the limit; sends RateLimit-Limit/-Remaining/-Reset always.
 */
export function registerRateLimit(app: FastifyInstance, deps: RateLimitDeps): void {
  let lastOutageLog = 0;

  const identify = async (request: FastifyRequest): Promise<{ limiter: RateLimiter; key: string }> => {
    const auth = request.headers.authorization;
    const admin = typeof auth === 'string' ? /^Bearer\s+(sf_admin_\S+)$/i.exec(auth) : null;
    if (admin?.[1])
      return {
        limiter: deps.admin,
        key: `key:${createHash('sha256').update(admin[1]).digest('hex').slice(0, 32)}`,
      };
    // A session store outage must not block requests that need no session: count by address then.
    const session = await deps.sessions.current(request).catch(() => undefined);
    return {
      limiter: deps.store,
      key: session?.customerId ? `customer:${session.customerId}` : `ip:${request.ip}`,
    };
  };

  app.addHook('onRequest', async (request, reply) => {
    if (EXEMPT.test(request.url)) return;
    const { limiter, key } = await identify(request);
    const d = await limiter.consume(key);
    if (d.failedOpen !== undefined) {
      if (Date.now() - lastOutageLog > 60_000) {
        lastOutageLog = Date.now();
        deps.logger.warn({ err: d.failedOpen }, 'rate limiter store unavailable: letting requests through');
      }
      return;
    }
    void reply.header('ratelimit-limit', d.limit);
    void reply.header('ratelimit-remaining', d.remaining);
    void reply.header('ratelimit-reset', d.resetSeconds);
    if (!d.allowed) {
      throw new AppError(
        'rate_limited',
        'rate_limited',
        `Too many requests: the limit is ${d.limit} per minute`,
        {
          retryAfter: d.resetSeconds,
        },
      );
    }
  });
}
