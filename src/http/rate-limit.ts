import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { AppError } from '../platform/errors.ts';
import type { RateDecision, RateLimiter } from '../platform/ratelimit/rate-limiter.ts';
import type { SessionHelpers } from './session.ts';
import { clientAddress } from './client-address.ts';

const EXEMPT = /^\/(health\/|metrics|docs|images\/|webhooks\/)/;
const IMAGES = /^\/images\//;

export interface RateLimitDeps {
  store: RateLimiter;
  admin: RateLimiter;
  sessions: SessionHelpers;
  /** Resolves a presented admin key to its id; throws when it is not a live key. */
  authenticateAdmin: (key: string) => Promise<{ keyId: string }>;
  logger: Logger;
}

/**
 * Counts every request except health, metrics, docs, /images (the CDN origin: its renditions
 * are bounded, three sizes rendered once, and a CDN edge would otherwise exhaust an IP budget) and
 * /webhooks (a payment provider delivers bursts from few addresses; a delivery costs one HMAC over
 * at most 256 KiB before anything else, and an unsigned one is refused): per customer when logged in, per IP for
 * guests, per key for the admin API (its own, larger budget, once the key authenticated). Answers 429 rate_limited with
 * Retry-After past the limit; sends RateLimit-Limit/-Remaining/-Reset always.
 */
export function registerRateLimit(app: FastifyInstance, deps: RateLimitDeps): void {
  let lastOutageLog = 0;

  const tooMany = (limit: number, retryAfter: number) =>
    new AppError(
      'rate_limited',
      'rate_limited',
      limit ? `Too many requests: the limit is ${limit} per minute` : 'Too many requests',
      {
        retryAfter,
      },
    );

  const apply = (reply: FastifyReply, d: RateDecision): void => {
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
    if (!d.allowed) throw tooMany(d.limit, d.resetSeconds);
  };

  // Keys that authenticated lately (by SHA-256): for budgeting only. Whether a request may use the
  // admin API is decided by the admin routes, which authenticate every request.
  const known = new LRUCache<string, string>({ max: 1000, ttl: 60_000 });

  /**
   * An admin key earns the admin budget only once it authenticated. Until then the request counts
   * against its address like any anonymous one (and is refused with the address's 429), so
   * inventing a new key per request buys nothing.
   */
  const admin = async (request: FastifyRequest, reply: FastifyReply, key: string): Promise<void> => {
    const digest = createHash('sha256').update(key).digest('hex');
    let keyId = known.get(digest);
    if (keyId === undefined) {
      const address = `ip:${clientAddress(request)}`;
      const anonymous = await deps.store.consume(address);
      if (!anonymous.allowed) return apply(reply, anonymous);
      try {
        keyId = (await deps.authenticateAdmin(key)).keyId;
      } catch {
        // Not a live key (or the database is away): counted by address; the admin routes answer 401/503.
        return apply(reply, anonymous);
      }
      known.set(digest, keyId);
      await deps.store.reward(address);
    }
    apply(reply, await deps.admin.consume(`key:${keyId}`));
  };

  // Image renditions are the CDN origin: a hit is not counted (an edge would exhaust a budget),
  // but a miss (an unknown image: a render that never happens, a probe) is, against the address;
  // an address whose budget is spent gets 429 for images too. A callback hook: it runs on every
  // answer, and only a miss does any work.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode !== 404 || !IMAGES.test(request.url)) return done();
    deps.store.consume(`ip:${clientAddress(request)}`).then(
      () => done(),
      () => done(),
    );
  });

  app.addHook('onRequest', async (request, reply) => {
    if (IMAGES.test(request.url)) {
      const wait = await deps.store.blockedFor(`ip:${clientAddress(request)}`);
      if (wait > 0) throw tooMany(0, wait);
      return;
    }
    if (EXEMPT.test(request.url)) return;
    const auth = request.headers.authorization;
    const adminKey = typeof auth === 'string' ? /^Bearer\s+(sf_admin_\S+)$/i.exec(auth)?.[1] : undefined;
    if (adminKey) return admin(request, reply, adminKey);
    // A session store outage must not block requests that need no session: count by address then.
    const session = await deps.sessions.current(request).catch(() => undefined);
    apply(
      reply,
      await deps.store.consume(
        session?.customerId ? `customer:${session.customerId}` : `ip:${clientAddress(request)}`,
      ),
    );
  });
}
