/**
 * Cache-aside over a {@link CacheStore}: one load per key at a time (in this process), absent
 * values cached briefly, writes only after commit, and graceful degradation. When the store fails,
 * reads go to the loader, and invalidations that could not be delivered are kept and retried; until
 * they are delivered the cache is bypassed, so an entry that should have been dropped is never
 * served after the store comes back.
 */
import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { CacheStore } from './cache-store.ts';

const ABSENT = '\u0000absent';

export interface CacheAsideOptions {
  ttlSeconds: number;
  negativeTtlSeconds: number;
  logger: Logger;
  counter: Counter<'cache' | 'result'>;
  /** Retry interval for undelivered invalidations. */
  retryMs?: number;
}

export class CacheAside {
  private readonly inflight = new Map<string, Promise<string | undefined>>();
  private readonly pending = new Map<string, string>(); // key -> genKey
  private readonly pendingTags = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private degraded = false;

  constructor(
    private readonly store: CacheStore,
    private readonly name: string,
    private readonly options: CacheAsideOptions,
  ) {}

  /** The cached value of `key`, or `load()`'s (cached afterwards); undefined when absent. */
  async get<T>(
    key: string,
    genKey: string,
    load: () => Promise<T | undefined>,
    ttlSeconds = this.options.ttlSeconds,
  ): Promise<T | undefined> {
    const text = await this.getJson(key, genKey, load, ttlSeconds);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  /**
   * The JSON text of `key` when the store holds it in this process (see CacheStore.peek), with no
   * promise and no I/O; undefined otherwise (then {@link getJson} answers). Counted as a hit.
   */
  peekJson(key: string): string | undefined {
    if (this.pending.size > 0 || this.pendingTags.size > 0) return undefined;
    const cached = this.store.peek?.(key);
    if (cached === undefined || cached === ABSENT) return undefined;
    this.count('hit');
    return cached;
  }

  /**
   * Like {@link get}, but the value's JSON text, as stored: a hit goes to the wire without being
   * parsed and serialised again.
   */
  getJson<T>(
    key: string,
    genKey: string,
    load: () => Promise<T | undefined>,
    ttlSeconds = this.options.ttlSeconds,
  ): Promise<string | undefined> {
    const existing = this.inflight.get(key);
    if (existing) return existing;
    const p = this.fetch(key, genKey, load, ttlSeconds).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  private async fetch<T>(
    key: string,
    genKey: string,
    load: () => Promise<T | undefined>,
    ttlSeconds: number,
  ): Promise<string | undefined> {
    const loadJson = async () => {
      const value = await load();
      return value === undefined ? undefined : JSON.stringify(value);
    };
    if (this.pending.size > 0 || this.pendingTags.size > 0) {
      this.count('bypass');
      return loadJson();
    }
    // A hit costs one read. On a miss the generation is read before the database is, so a
    // loader racing a committed change cannot store what it read (see CacheStore).
    let gen: string;
    try {
      const cached = await this.store.get(key);
      this.recovered();
      if (cached !== undefined) {
        this.count('hit');
        return cached === ABSENT ? undefined : cached;
      }
      gen = await this.store.generation(genKey);
    } catch (error) {
      this.failed(error);
      this.count('error');
      return loadJson();
    }
    this.count('miss');
    const text = await loadJson();
    try {
      await this.store.setIfGeneration(
        key,
        genKey,
        gen,
        text ?? ABSENT,
        text === undefined ? this.options.negativeTtlSeconds : ttlSeconds,
      );
    } catch (error) {
      this.failed(error);
    }
    return text;
  }

  /** After a committed change: drop the entry (and make racing loaders' writes fail). */
  async invalidate(key: string, genKey: string): Promise<void> {
    try {
      await this.store.invalidate(key, genKey);
    } catch (error) {
      this.failed(error);
      this.pending.set(key, genKey);
      this.scheduleRetry();
    }
  }

  /** After a committed change: store the fresh value. Falls back to invalidation. */
  async writeThrough(key: string, genKey: string, value: unknown): Promise<void> {
    try {
      await this.store.writeThrough(key, genKey, JSON.stringify(value), this.options.ttlSeconds);
    } catch (error) {
      this.failed(error);
      this.pending.set(key, genKey);
      this.scheduleRetry();
    }
  }

  async tag(tag: string, key: string, ttlSeconds: number): Promise<void> {
    await this.store.tag(tag, key, ttlSeconds).catch((e: unknown) => this.failed(e));
  }

  async invalidateTags(tags: string[]): Promise<void> {
    for (const tag of tags) {
      try {
        await this.store.invalidateTag(tag);
      } catch (error) {
        this.failed(error);
        this.pendingTags.add(tag);
        this.scheduleRetry();
      }
    }
  }

  /** True while undelivered invalidations keep the cache bypassed. */
  get bypassing(): boolean {
    return this.pending.size > 0 || this.pendingTags.size > 0;
  }

  close(): void {
    clearTimeout(this.retryTimer);
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.options.retryMs ?? 1000);
    this.retryTimer.unref();
  }

  private async flush(): Promise<void> {
    try {
      for (const [key, genKey] of [...this.pending]) {
        await this.store.invalidate(key, genKey);
        this.pending.delete(key);
      }
      for (const tag of [...this.pendingTags]) {
        await this.store.invalidateTag(tag);
        this.pendingTags.delete(tag);
      }
      this.recovered();
    } catch (error) {
      this.failed(error);
      this.scheduleRetry();
    }
  }

  /** One counter child per result, made once: no label object is built on every read. */
  private readonly counters = new Map<string, { inc(): void }>();
  private count(result: 'hit' | 'miss' | 'error' | 'bypass'): void {
    let counter = this.counters.get(result);
    if (!counter) {
      counter = this.options.counter.labels(this.name, result);
      this.counters.set(result, counter);
    }
    counter.inc();
  }

  private failed(error: unknown): void {
    if (!this.degraded) {
      this.degraded = true;
      this.options.logger.warn(
        { cache: this.name, err: error },
        'cache unavailable: reading through to the database',
      );
    }
  }

  private recovered(): void {
    if (this.degraded && !this.bypassing) {
      this.degraded = false;
      this.options.logger.info({ cache: this.name }, 'cache available again');
    }
  }
}
