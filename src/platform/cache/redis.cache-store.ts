import { createHash } from 'node:crypto';
import { closeRedis, type RedisClient } from '../redis/client.ts';
import { GENERATION_TTL_SECONDS, type CacheStore } from './cache-store.ts';

// KEYS[1] entry, KEYS[2] its generation (same hash slot). ARGV: expected gen, value, ttl.
const SET_IF_GENERATION = `
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0`;
// KEYS[1] entry, KEYS[2] generation. ARGV: generation ttl.
const INVALIDATE = `
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1])
return 1`;
// KEYS[1] entry, KEYS[2] generation. ARGV: value, ttl, generation ttl.
const WRITE_THROUGH = `
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

const sha1 = (script: string) => createHash('sha1').update(script).digest('hex');
const SHAS = new Map([SET_IF_GENERATION, INVALIDATE, WRITE_THROUGH].map((s) => [s, sha1(s)]));

/** The cache on Redis (standalone or cluster). Multi-key scripts only touch same-slot keys. */
export class RedisCacheStore implements CacheStore {
  constructor(private readonly redis: RedisClient) {}

  /** Runs a script by its SHA (the script text is sent only when the server does not know it yet). */
  private async script(
    script: string,
    keys: [string, string],
    ...args: (string | number)[]
  ): Promise<unknown> {
    try {
      return await this.redis.evalsha(SHAS.get(script)!, 2, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return this.redis.eval(script, 2, ...keys, ...args);
    }
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.get(key)) ?? undefined;
  }

  async generation(genKey: string): Promise<string> {
    return (await this.redis.get(genKey)) ?? '0';
  }

  async setIfGeneration(
    key: string,
    genKey: string,
    gen: string,
    value: string,
    ttlSeconds: number,
  ): Promise<boolean> {
    return (await this.script(SET_IF_GENERATION, [key, genKey], gen, value, ttlSeconds)) === 1;
  }

  async invalidate(key: string, genKey: string): Promise<void> {
    await this.script(INVALIDATE, [key, genKey], GENERATION_TTL_SECONDS);
  }

  async writeThrough(key: string, genKey: string, value: string, ttlSeconds: number): Promise<void> {
    await this.script(WRITE_THROUGH, [key, genKey], value, ttlSeconds, GENERATION_TTL_SECONDS);
  }

  async tag(tag: string, member: string, ttlSeconds: number): Promise<void> {
    await Promise.all([this.redis.sadd(tag, member), this.redis.expire(tag, ttlSeconds)]);
  }

  async invalidateTag(tag: string): Promise<number> {
    const members = await this.redis.smembers(tag);
    // One DEL per key: members hash to different slots, which a multi-key DEL in a cluster refuses.
    await Promise.all(members.map((k) => this.redis.del(k)));
    await this.redis.del(tag);
    return members.length;
  }

  ttl(key: string): Promise<number> {
    return this.redis.ttl(key);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await closeRedis(this.redis);
  }
}
