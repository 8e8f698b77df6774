/**
 * A near cache: an in-process LRU in front of a shared {@link CacheStore} (Redis), for the entries
 * read most (product pages). A hit costs no network round trip.
 *
 * Every instance drops an entry as soon as any instance changes it: invalidations and
 * write-throughs are published on {@link EVICTIONS}, and each instance evicts on receipt. Entries
 * are served only while this process is subscribed; a lost subscription empties the near cache
 * and reads go to the shared store until the subscription is back (messages sent meanwhile would
 * have been missed). A read that was in flight while an eviction arrived is not kept. So the near
 * cache is as fresh as the shared store, give or take the delivery time of one pub/sub message;
 * `ttlMs` bounds the rest.
 */
import { LRUCache } from 'lru-cache';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { CacheStore } from './cache-store.ts';

export const EVICTIONS = 'shopflow:cache:evict';

export interface NearCacheOptions {
  maxEntries: number;
  ttlMs: number;
  /** Which keys the near cache holds (the rest pass through to the shared store). */
  holds: (key: string) => boolean;
}

export class NearCacheStore implements CacheStore {
  private readonly entries: LRUCache<string, string>;
  /** Bumped on every eviction: a read that spans one does not fill. */
  private epoch = 0;
  private live = false;
  private subscribed = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(
    private readonly shared: CacheStore,
    private readonly pubsub: PubSub,
    private readonly options: NearCacheOptions,
  ) {
    this.entries = new LRUCache({ max: options.maxEntries, ttl: options.ttlMs });
  }

  /** Subscribes to evictions; until then (and whenever unsubscribed) every read goes to the shared store. */
  async start(): Promise<void> {
    this.pubsub.onAvailability((up) => {
      this.clear();
      this.live = up && this.subscribed;
    });
    this.unsubscribe = await this.pubsub.subscribe(EVICTIONS, (key) => this.evict(key));
    this.subscribed = true;
    this.live = this.pubsub.available();
  }

  get size(): number {
    return this.entries.size;
  }

  peek(key: string): string | undefined {
    return this.live && this.options.holds(key) ? this.entries.get(key) : undefined;
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.live || !this.options.holds(key)) return this.shared.get(key);
    const near = this.entries.get(key);
    if (near !== undefined) return near;
    const epoch = this.epoch;
    const value = await this.shared.get(key);
    if (value !== undefined && this.live && epoch === this.epoch) this.entries.set(key, value);
    return value;
  }

  generation(genKey: string): Promise<string> {
    return this.shared.generation(genKey);
  }

  setIfGeneration(key: string, genKey: string, gen: string, value: string, ttl: number): Promise<boolean> {
    return this.shared.setIfGeneration(key, genKey, gen, value, ttl);
  }

  async invalidate(key: string, genKey: string): Promise<void> {
    await this.changed(key, () => this.shared.invalidate(key, genKey));
  }

  async writeThrough(key: string, genKey: string, value: string, ttlSeconds: number): Promise<void> {
    await this.changed(key, () => this.shared.writeThrough(key, genKey, value, ttlSeconds));
  }

  tag(tag: string, member: string, ttlSeconds: number): Promise<void> {
    return this.shared.tag(tag, member, ttlSeconds);
  }

  invalidateTag(tag: string): Promise<number> {
    // Tagged entries (listings) are never held near: nothing to evict here.
    return this.shared.invalidateTag(tag);
  }

  ttl(key: string): Promise<number> {
    return this.shared.ttl(key);
  }

  ping(): Promise<void> {
    return this.shared.ping();
  }

  async close(): Promise<void> {
    this.live = false;
    this.subscribed = false;
    this.clear();
    await this.unsubscribe?.();
    await this.shared.close();
  }

  /** Evicts here before and after the shared change, then tells the other instances. */
  private async changed(key: string, change: () => Promise<void>): Promise<void> {
    if (!this.options.holds(key)) return change();
    this.evict(key);
    await change();
    this.evict(key);
    // Lost only if Redis is unreachable, and then the other instances are unsubscribed too.
    await this.pubsub.publish(EVICTIONS, key).catch(() => undefined);
  }

  private evict(key: string): void {
    this.epoch++;
    this.entries.delete(key);
  }

  private clear(): void {
    this.epoch++;
    this.entries.clear();
  }
}
