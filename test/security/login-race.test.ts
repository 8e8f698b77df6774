/**
 * Attack: the login throttle race. The throttle was read before the password check and counted
 * after it, ~100 ms of scrypt later: 1,000 simultaneous guesses all passed the read, and 10
 * consecutive / 50 an hour / 100 a day became ~1,000 guesses in a burst. Now a point is taken from
 * every budget before the check (and given back on success), so a burst gets at most the budget
 * of password checks. Counted through the customers module's password-check counter, not timing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { redisUnavailable, TEST_REDIS_URL } from '../redis.ts';

const redisSkip = await redisUnavailable();
const variants = [
  ['in-process', {}],
  ...(redisSkip === undefined ? [['Redis', { REDIS_URL: TEST_REDIS_URL }] as const] : []),
] as const;

describe.each(variants)('password checks under a burst (%s)', (_name, env) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      ...env,
      LOGIN_CONSECUTIVE_FAILS: '5',
      LOGIN_FAILS_PER_ACCOUNT_PER_HOUR: '8',
      LOGIN_FAILS_PER_ADDRESS_PER_DAY: '12',
    });
    for (const email of ['burst-1@example.com', 'burst-2@example.com', 'erase-me@example.com'])
      await t.server.inject({
        method: 'POST',
        url: '/store/customers',
        payload: { email, password: 'a-long-password-1', name: 'V' },
      });
  });
  afterAll(async () => t?.close());
  const checks = () => t.app.services.customers.passwordChecks;
  const login = (ip: string, email: string, password: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/auth/login',
      remoteAddress: ip,
      payload: { email, password },
    });

  it('1,000 simultaneous wrong logins from one address: at most 5 password checks', async () => {
    const before = checks();
    const res = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => login('198.51.100.70', 'burst-1@example.com', `wrong-${i}`)),
    );
    expect(checks() - before).toBeLessThanOrEqual(5);
    expect(res.filter((r) => r.statusCode === 401).length).toBeLessThanOrEqual(5);
    expect(res.filter((r) => r.statusCode !== 401).every((r) => r.statusCode === 429)).toBe(true);
  });

  it('1,000 simultaneous wrong logins from 1,000 addresses: at most the account budget (8)', async () => {
    const before = checks();
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        login(`10.${Math.floor(i / 250)}.${i % 250}.9`, 'burst-2@example.com', `wrong-${i}`),
      ),
    );
    expect(checks() - before).toBeLessThanOrEqual(8);
  });

  it('a success gives its point back: logins that succeed never use up the budget', async () => {
    const before = checks();
    for (let i = 0; i < 10; i++)
      expect((await login('198.51.100.71', 'erase-me@example.com', 'a-long-password-1')).statusCode).toBe(
        200,
      );
    expect(checks() - before).toBe(10);
  });

  it('DELETE /store/customers/me: 1,000 simultaneous wrong passwords, at most 5 checks, nothing erased', async () => {
    const ok = await login('198.51.100.72', 'erase-me@example.com', 'a-long-password-1');
    const token = ok.json<{ sessionToken: string }>().sessionToken;
    const before = checks();
    const res = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        t.server.inject({
          method: 'DELETE',
          url: '/store/customers/me',
          remoteAddress: '198.51.100.72',
          headers: { authorization: `Bearer ${token}` },
          payload: { password: `wrong-${i}` },
        }),
      ),
    );
    expect(checks() - before).toBeLessThanOrEqual(5);
    expect(res.every((r) => r.statusCode === 401 || r.statusCode === 429)).toBe(true);
    const { rows } = await t.db.pool.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM customers WHERE email = 'erase-me@example.com'",
    );
    expect(rows[0]!.n).toBe(1);
  });
});
