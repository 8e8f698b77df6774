import { GENERATION_TTL_SECONDS, type CacheStore } from './cache-store.ts';

interface Entry {
  value: string | Set<string>;
  expiresAt: number;
}

/** The in-process cache (embedded default, single node). Bounded: oldest entries go first. */
export class MemoryCacheStore implements CacheStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  private read(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private write(key: string, value: Entry['value'], ttlSeconds: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  peek(key: string): string | undefined {
    const v = this.read(key)?.value;
    return typeof v === 'string' ? v : undefined;
  }

  get(key: string): Promise<string | undefined> {
    return Promise.resolve(this.peek(key));
  }

  async generation(genKey: string): Promise<string> {
    return (await this.get(genKey)) ?? '0';
  }

  async setIfGeneration(
    key: string,
    genKey: string,
    gen: string,
    value: string,
    ttlSeconds: number,
  ): Promise<boolean> {
    if ((await this.generation(genKey)) !== gen) return false;
    this.write(key, value, ttlSeconds);
    return true;
  }

  async invalidate(key: string, genKey: string): Promise<void> {
    this.entries.delete(key);
    this.write(genKey, String(Number(await this.generation(genKey)) + 1), GENERATION_TTL_SECONDS);
  }

  async writeThrough(key: string, genKey: string, value: string, ttlSeconds: number): Promise<void> {
    this.write(genKey, String(Number(await this.generation(genKey)) + 1), GENERATION_TTL_SECONDS);
    this.write(key, value, ttlSeconds);
  }

  tag(tag: string, member: string, ttlSeconds: number): Promise<void> {
    const e = this.read(tag);
    const set = e && e.value instanceof Set ? e.value : new Set<string>();
    set.add(member);
    this.write(tag, set, ttlSeconds);
    return Promise.resolve();
  }

  invalidateTag(tag: string): Promise<number> {
    const e = this.read(tag);
    this.entries.delete(tag);
    if (!e || !(e.value instanceof Set)) return Promise.resolve(0);
    for (const k of e.value) this.entries.delete(k);
    return Promise.resolve(e.value.size);
  }

  ttl(key: string): Promise<number> {
    const e = this.read(key);
    return Promise.resolve(e ? Math.ceil((e.expiresAt - this.now()) / 1000) : -2);
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.entries.clear();
    return Promise.resolve();
  }
}
