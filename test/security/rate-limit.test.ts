/**
 * Attack: any `Authorization: Bearer sf_admin_<anything>` used to get a fresh admin budget without
 * the key being checked, so a new junk key per request gave unlimited login attempts. Now a key
 * earns the admin budget only once it authenticated; junk keys count against the address.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';

describe('rate limits cannot be bypassed with made-up admin keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '20', ADMIN_RATE_LIMIT_PER_MINUTE: '1000' });
  });
  afterAll(async () => t?.close());

  const login = (ip: string, adminKey: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/auth/login',
      remoteAddress: ip,
      headers: { authorization: `Bearer ${adminKey}` },
      payload: { email: 'victim@example.com', password: 'guess' },
    });

  const junk = () => `sf_admin_${randomBytes(16).toString('hex')}`;

  it('counts requests with a new junk admin key each against their address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await t.server.inject({
        url: '/store/categories',
        remoteAddress: '198.51.100.6',
        headers: { authorization: `Bearer ${junk()}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
  });

  it('throttles 1,000 login attempts that each bring a new junk admin key', async () => {
    const ip = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) statuses.push((await login(ip, junk())).statusCode);
    // The address budget (20) or the login throttle (10 failures on one account), whichever first.
    expect(statuses.filter((s) => s !== 429).length).toBeLessThanOrEqual(20);
    expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
  });

  it('still gives a real admin key its own budget, not charged to its address', async () => {
    const ip = '198.51.100.8';
    for (let i = 0; i < 30; i++) {
      const res = await t.server.inject({
        url: '/admin/api-keys',
        remoteAddress: ip,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers['ratelimit-limit']).toBe('1000');
    }
    // The address's own (store) budget is untouched.
    const store = await t.server.inject({ url: '/store/categories', remoteAddress: ip });
    expect(store.headers['ratelimit-remaining']).toBe('19');
  });

  it('answers a junk key on an admin route 401, counted by address', async () => {
    const res = await t.server.inject({
      url: '/admin/api-keys',
      remoteAddress: '198.51.100.9',
      headers: { authorization: 'Bearer sf_admin_not-a-key' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['ratelimit-limit']).toBe('20');
  });
});
