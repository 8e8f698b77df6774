/** Redis (single node or cluster) and what lives on it: caches, sessions. */
import { z } from 'zod';
import { bool, ConfigError, int, type EnvOf } from './kit.ts';

export const cacheEnv = {
  REDIS_URL: z
    .string()
    .refine((u) => /^rediss?:\/\//.test(u), 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .refine(
      (v) => v.split(',').every((n) => /^[^:\s]+:\d+$/.test(n.trim())),
      'must be host:port[,host:port...]',
    )
    .optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000).default(250),
  REDIS_TLS: bool.default(false),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _.:- only (no braces: they are hash tags)')
    .optional(),
  SESSION_STORE: z.enum(['redis', 'postgres', 'memory']).optional(),
  CACHE_TTL_SECONDS: int(1, 31_536_000).default(3600),
  CACHE_NEGATIVE_TTL_SECONDS: int(1, 3600).default(30),
  CACHE_NEAR_MAX_ENTRIES: int(0, 10_000_000).default(50_000),
  CACHE_NEAR_TTL_SECONDS: int(1, 86_400).default(30),
  SEARCH_CACHE_MAX_ENTRIES: int(0, 1_000_000).default(10_000),
  SEARCH_CACHE_TTL_SECONDS: int(1, 86_400).default(60),
  LISTING_CACHE_TTL_SECONDS: int(1, 86_400).default(60),
};

export interface CacheSection {
  /** Absent: the in-process adapters (single node). */
  redis?:
    { url: string } | { clusterNodes: { host: string; port: number }[]; tls?: boolean; password?: string };
  redisCommandTimeoutMs: number;
  /** Put before every Redis key and pub/sub channel: several apps or environments share one Redis. */
  redisKeyPrefix: string;
  cache: {
    ttlSeconds: number;
    negativeTtlSeconds: number;
    listingTtlSeconds: number;
    /** The in-process near cache in front of Redis (product pages); 0 entries: off. */
    near: { maxEntries: number; ttlSeconds: number };
    /** Search answers and suggestions held in process, emptied everywhere on index writes; 0: off. */
    search: { maxEntries: number; ttlSeconds: number };
  };
  /** Where sessions live: Redis when configured, else in-process (or PostgreSQL, on request). */
  sessionStore: 'redis' | 'postgres' | 'memory';
}

type CacheEnv = EnvOf<typeof cacheEnv>;

/** The session store in force: the one named, else Redis when configured, else in process. */
export const sessionStoreOf = (e: CacheEnv) =>
  e.SESSION_STORE ?? (e.REDIS_URL || e.REDIS_CLUSTER_NODES ? 'redis' : 'memory');

export function cacheConfig(e: CacheEnv): CacheSection {
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES)
    throw new ConfigError(['REDIS_URL and REDIS_CLUSTER_NODES are both set: choose one']);
  if (e.SESSION_STORE === 'redis' && !e.REDIS_URL && !e.REDIS_CLUSTER_NODES)
    throw new ConfigError(['SESSION_STORE=redis needs REDIS_URL or REDIS_CLUSTER_NODES']);
  return {
    ...redisOf(e),
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX ?? '',
    cache: {
      ttlSeconds: e.CACHE_TTL_SECONDS,
      negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_SECONDS,
      listingTtlSeconds: e.LISTING_CACHE_TTL_SECONDS,
      near: { maxEntries: e.CACHE_NEAR_MAX_ENTRIES, ttlSeconds: e.CACHE_NEAR_TTL_SECONDS },
      search: { maxEntries: e.SEARCH_CACHE_MAX_ENTRIES, ttlSeconds: e.SEARCH_CACHE_TTL_SECONDS },
    },
    sessionStore: sessionStoreOf(e),
  };
}

function redisOf(e: CacheEnv): Pick<CacheSection, 'redis'> {
  if (e.REDIS_CLUSTER_NODES)
    return {
      redis: {
        clusterNodes: e.REDIS_CLUSTER_NODES.split(',').map((n) => {
          const [host, port] = n.trim().split(':');
          return { host: host!, port: Number(port) };
        }),
        ...(e.REDIS_TLS ? { tls: true } : {}),
        ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
      },
    };
  return e.REDIS_URL ? { redis: { url: e.REDIS_URL } } : {};
}
