/**
 * The cache port. Besides get/set it has generations: `invalidate` bumps a key's generation, and
 * `setIfGeneration` writes only while the generation is still the one read before loading. A
 * loader that read the database before an update committed therefore cannot put the old value back
 * after the update's invalidation. In Redis Cluster an entry and its generation share a hash slot
 * (see {@link cacheKeys}).
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  /**
   * The value of `key` when this process holds it (no I/O), else undefined: the hot read path
   * answers from it without a promise. Stores with nothing in process do not implement it.
   */
  peek?(key: string): string | undefined;
  /** The current generation of `genKey` ("0" when never bumped). */
  generation(genKey: string): Promise<string>;
  /** Sets `key` only if `genKey` still holds `gen`. True when written. */
  setIfGeneration(
    key: string,
    genKey: string,
    gen: string,
    value: string,
    ttlSeconds: number,
  ): Promise<boolean>;
  /** Removes `key` and bumps its generation. */
  invalidate(key: string, genKey: string): Promise<void>;
  /** Bumps the generation and stores a fresh value (write-through after a committed change). */
  writeThrough(key: string, genKey: string, value: string, ttlSeconds: number): Promise<void>;
  /** Adds `member` (a key) to the tag set `tag`. */
  tag(tag: string, member: string, ttlSeconds: number): Promise<void>;
  /** Deletes every key of the tag set, then the set: pattern invalidation without KEYS. */
  invalidateTag(tag: string): Promise<number>;
  ttl(key: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** How long a generation outlives the entries it guards. */
export const GENERATION_TTL_SECONDS = 86_400;

/**
 * Cache key layout. `{...}` is a Redis Cluster hash tag: `<namespace>:{id}` and its generation
 * `<namespace>:{id}:gen` hash on the id alone, so they live in one slot and a script may touch
 * both. Namespaces are the callers' (e.g. the catalog's `product`).
 */
export const cacheKeys = {
  entry: (namespace: string, id: string) => `${namespace}:{${id}}`,
  generation: (namespace: string, id: string) => `${namespace}:{${id}}:gen`,
  tag: (name: string) => `tag:{${name}}`,
};
