/**
 * Attacks and gaps around sessions: guest sessions piling up without end (the in-process store
 * never swept; on Redis a flood could evict real sessions), sessions that lived for ever as long
 * as they were used, no way to log out everywhere, and a Redis index of a customer's sessions that
 * expired while its sessions lived on. Now: guest sessions are capped per address, the in-process
 * store is bounded, every session ends 30 days after it began, `POST /store/auth/logout-all`
 * exists, and the index follows the sessions.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/platform/sessions/memory.session-store.ts';
import { sessionIdOf } from '../../src/platform/sessions/session-store.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { redisUnavailable, TEST_REDIS_URL } from '../redis.ts';

const DAY = 86_400_000;
const redisSkip = await redisUnavailable();

describe('session lifetimes and bounds (in-process store)', () => {
  it('ends a session 30 days after it began, however active', async () => {
    let now = Date.now();
    const store = new MemorySessionStore(() => now);
    const { token } = await store.create({ customerId: null });
    for (let day = 6; day < 30; day += 6) {
      now += 6 * DAY;
      expect(await store.get(token), `day ${day}`).toBeDefined();
    }
    now += 6 * DAY; // day 30
    expect(await store.get(token)).toBeUndefined();
  });

  it('holds at most its bound of sessions', async () => {
    const store = new MemorySessionStore(Date.now, { maxSessions: 1000 });
    for (let i = 0; i < 5000; i++) await store.create({ customerId: null });
    expect(store.size).toBeLessThanOrEqual(1000);
  });
});

describe('sessions through the API (PostgreSQL store)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SESSION_STORE: 'postgres', GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: '5' });
    await t.server.inject({
      method: 'POST',
      url: '/store/customers',
      payload: { email: 'ana@example.com', password: 'a-long-password-1', name: 'Ana' },
    });
  });
  afterAll(async () => t?.close());
  const login = async () =>
    (
      await t.server.inject({
        method: 'POST',
        url: '/store/auth/login',
        payload: { email: 'ana@example.com', password: 'a-long-password-1' },
      })
    ).json<{ sessionToken: string }>().sessionToken;
  const me = (token: string) =>
    t.server.inject({ url: '/store/me', headers: { authorization: `Bearer ${token}` } });

  it('caps the guest sessions one address may create', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++)
      statuses.push(
        (await t.server.inject({ method: 'POST', url: '/store/carts', remoteAddress: '203.0.113.90' }))
          .statusCode,
      );
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
  });

  it('logs a customer out everywhere', async () => {
    const [a, b] = [await login(), await login()];
    expect((await me(a)).statusCode).toBe(200);
    const res = await t.server.inject({
      method: 'POST',
      url: '/store/auth/logout-all',
      headers: { authorization: `Bearer ${a}` },
    });
    expect(res.json()).toEqual({ ended: 2 });
    expect((await me(a)).statusCode).toBe(401);
    expect((await me(b)).statusCode).toBe(401);
  });

  it('never slides a session past 30 days from its start', async () => {
    const token = await login();
    const id = sessionIdOf(token);
    await t.db.pool.query(
      "UPDATE sessions SET created_at = NOW() - INTERVAL '29 days 23 hours', expires_at = NOW() + INTERVAL '10 seconds' WHERE id = $1",
      [id],
    );
    expect((await me(token)).statusCode).toBe(200);
    const { rows } = await t.db.pool.query<{ left: number }>(
      'SELECT EXTRACT(EPOCH FROM expires_at - NOW())::int AS left FROM sessions WHERE id = $1',
      [id],
    );
    expect(rows[0]!.left).toBeLessThanOrEqual(3600);
    await t.db.pool.query("UPDATE sessions SET created_at = NOW() - INTERVAL '31 days' WHERE id = $1", [id]);
    expect((await me(token)).statusCode).toBe(401);
  });
});

describe.skipIf(redisSkip !== undefined)('sessions on Redis', () => {
  let t: TestApp;
  let raw: Redis;
  beforeAll(async () => {
    t = await createTestApp({ REDIS_URL: TEST_REDIS_URL });
    raw = new Redis(TEST_REDIS_URL);
    await t.server.inject({
      method: 'POST',
      url: '/store/customers',
      payload: { email: 'bia@example.com', password: 'a-long-password-1', name: 'Bia' },
    });
  });
  afterAll(async () => {
    raw?.disconnect();
    await t?.close();
  });

  it('keeps the customer’s session index alive while a session is used, and ends old sessions', async () => {
    const token = (
      await t.server.inject({
        method: 'POST',
        url: '/store/auth/login',
        payload: { email: 'bia@example.com', password: 'a-long-password-1' },
      })
    ).json<{ sessionToken: string; customer: { id: string } }>();
    const index = `${t.redisPrefix}customer-sessions:{${token.customer.id}}`;
    await raw.expire(index, 100);
    const me = () =>
      t.server.inject({ url: '/store/me', headers: { authorization: `Bearer ${token.sessionToken}` } });
    expect((await me()).statusCode).toBe(200);
    expect(await raw.ttl(index)).toBeGreaterThan(604_800 - 60);

    // A session that began 31 days ago is over, however recently it was used.
    const key = `${t.redisPrefix}session:${sessionIdOf(token.sessionToken)}`;
    const stored = JSON.parse((await raw.get(key))!) as { createdAt: string };
    await raw.set(
      key,
      JSON.stringify({ ...stored, createdAt: new Date(Date.now() - 31 * DAY).toISOString() }),
      'EX',
      3600,
    );
    expect((await me()).statusCode).toBe(401);
    expect(await raw.exists(key)).toBe(0);
  });
});
