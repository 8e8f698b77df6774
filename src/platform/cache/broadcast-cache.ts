/**
 * An in-process cache of derived results (search pages, suggestions) that every instance empties
 * at once: after any change to what the results derive from, `clearEverywhere()` empties this
 * process's cache and publishes on the channel, and each instance empties its own on receipt.
 *
 * As with the near cache, entries are served only while this process is subscribed (a lost
 * subscription empties the cache and sends every read to its loader until it is back), and a
 * result whose load spanned a clear is not kept. `ttlMs` bounds the rest. Concurrent loads of one
 * key share one call.
 */
import { LRUCache } from 'lru-cache';
import type { Counter } from 'prom-client';
import type { PubSub } from '../pubsub/pubsub.ts';

export interface BroadcastCacheOptions {
  /** The cache's name in metrics; clears are announced on `shopflow:cache:clear:<name>`. */
  name: string;
  maxEntries: number;
  ttlMs: number;
  counter?: Counter<'cache' | 'result'>;
}

export class BroadcastCache<T extends object> {
  private readonly entries: LRUCache<string, T> | undefined;
  private readonly inflight = new Map<string, Promise<T>>();
  private epoch = 0;
  private live = false;
  private subscribed = false;
  private unsubscribe: (() => Promise<void>) | undefined;
  private readonly channel: string;

  constructor(
    private readonly pubsub: PubSub,
    private readonly options: BroadcastCacheOptions,
  ) {
    this.channel = `shopflow:cache:clear:${options.name}`;
    this.entries =
      options.maxEntries > 0 ? new LRUCache({ max: options.maxEntries, ttl: options.ttlMs }) : undefined;
  }

  async start(): Promise<void> {
    if (!this.entries) return;
    this.pubsub.onAvailability((up) => {
      this.clear();
      this.live = up && this.subscribed;
    });
    this.unsubscribe = await this.pubsub.subscribe(this.channel, () => this.clear());
    this.subscribed = true;
    this.live = this.pubsub.available();
  }

  get size(): number {
    return this.entries?.size ?? 0;
  }

  /**
   * The cached result for `key`, or `load()`'s (kept unless a clear happened meanwhile). A key
   * always names results of one type, so `V` is what `load` returns for it.
   */
  async get<V extends T>(key: string, load: () => Promise<V>): Promise<V> {
    const entries = this.entries;
    if (!entries || !this.live) return load();
    const hit = entries.get(key);
    if (hit !== undefined) {
      this.count('hit');
      return hit as V;
    }
    const running = this.inflight.get(key);
    if (running) return running as Promise<V>;
    this.count('miss');
    const epoch = this.epoch;
    const p = load()
      .then((value) => {
        if (this.live && epoch === this.epoch) entries.set(key, value);
        return value;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /** After a change the results derive from: empty this cache and every other instance's. */
  async clearEverywhere(): Promise<void> {
    if (!this.entries) return;
    this.clear();
    // Lost only if Redis is unreachable, and then the other instances are unsubscribed too.
    await this.pubsub.publish(this.channel, 'clear').catch(() => undefined);
  }

  async close(): Promise<void> {
    this.live = false;
    this.subscribed = false;
    this.clear();
    await this.unsubscribe?.();
  }

  private clear(): void {
    this.epoch++;
    this.entries?.clear();
    // Loads in flight finish for their callers but are not kept (the epoch moved).
    this.inflight.clear();
  }

  private count(result: 'hit' | 'miss'): void {
    this.options.counter?.inc({ cache: this.options.name, result });
  }
}
