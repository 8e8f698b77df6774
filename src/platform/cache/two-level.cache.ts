/**
 * A read-through cache of answers from slow outside services (CEP lookups, freight quotes): an
 * in-process LRU in front of the shared {@link CacheStore} (Redis when configured). A failure of
 * the shared store is a miss, never an error: the answer is then fetched again.
 */
import { LRUCache } from 'lru-cache';
import { cacheKeys, type CacheStore } from './cache-store.ts';

export class TwoLevelCache {
  private readonly local: LRUCache<string, string>;

  constructor(
    private readonly shared: CacheStore | undefined,
    private readonly options: { namespace: string; maxEntries: number; ttlSeconds: number },
  ) {
    this.local = new LRUCache({ max: options.maxEntries, ttl: options.ttlSeconds * 1000 });
  }

  /** The cached value of `id`, from this process or the shared store; undefined on a miss. */
  async get(id: string): Promise<string | undefined> {
    const near = this.local.get(id);
    if (near !== undefined) return near;
    if (!this.shared || this.options.ttlSeconds === 0) return undefined;
    const far = await this.shared.get(cacheKeys.entry(this.options.namespace, id)).catch(() => undefined);
    if (far !== undefined) this.local.set(id, far);
    return far;
  }

  /** Keeps `value` for the configured time, here and in the shared store (best effort). */
  async set(id: string, value: string): Promise<void> {
    if (this.options.ttlSeconds === 0) return;
    this.local.set(id, value);
    if (!this.shared) return;
    const { namespace, ttlSeconds } = this.options;
    await this.shared
      .writeThrough(cacheKeys.entry(namespace, id), cacheKeys.generation(namespace, id), value, ttlSeconds)
      .catch(() => undefined);
  }

  /** Forgets what this process holds (tests: to see the shared store answer). */
  clearLocal(): void {
    this.local.clear();
  }
}
