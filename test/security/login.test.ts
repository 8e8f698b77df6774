/**
 * Attack: unlimited password guessing. Logins are now throttled per address, per account from one
 * address (consecutive failures), and per account from everywhere, with 429 + Retry-After, and an
 * unknown email is throttled exactly like a known one (no account enumeration through the limits).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { redisUnavailable, TEST_REDIS_URL } from '../redis.ts';

const redisSkip = await redisUnavailable();

const variants = [
  ['in-process', {}],
  ...(redisSkip === undefined ? [['Redis', { REDIS_URL: TEST_REDIS_URL }] as const] : []),
] as const;

describe.each(variants)('login throttling (%s)', (_name, env) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      ...env,
      LOGIN_CONSECUTIVE_FAILS: '5',
      LOGIN_FAILS_PER_ACCOUNT_PER_HOUR: '8',
      LOGIN_FAILS_PER_ADDRESS_PER_DAY: '12',
    });
    for (const email of ['victim@example.com', 'other@example.com']) {
      await t.server.inject({
        method: 'POST',
        url: '/store/customers',
        payload: { email, password: 'a-long-password-1', name: 'V' },
      });
    }
  });
  afterAll(async () => t?.close());

  const login = (ip: string, email: string, password: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/auth/login',
      remoteAddress: ip,
      payload: { email, password },
    });

  it('blocks an address after consecutive failures on an account, even for the right password', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await login('203.0.113.1', 'victim@example.com', 'wrong')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const blocked = await login('203.0.113.1', 'victim@example.com', 'a-long-password-1');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json()).toMatchObject({ error: { code: 'too_many_login_attempts' } });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(60);
    // Another address still logs in to the account.
    expect((await login('203.0.113.2', 'victim@example.com', 'a-long-password-1')).statusCode).toBe(200);
  });

  it('answers an unknown email exactly as a known one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await login('203.0.113.3', 'nobody@example.com', 'wrong')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429]);
  });

  it('blocks an account guessed from many addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await login(`192.0.2.${i + 1}`, 'other@example.com', 'wrong')).statusCode);
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(8)).toEqual([429, 429]);
  });

  it('blocks an address that fails across many accounts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++)
      statuses.push((await login('203.0.113.9', `guess${i}@example.com`, 'wrong')).statusCode);
    expect(statuses.slice(0, 12).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(12)).toEqual([429, 429]);
  });
});
