/**
 * Attack: behind a load balancer every guest shared one budget (one client could lock every guest
 * out), and a forged X-Forwarded-For must not buy a fresh one. TRUST_PROXY says which hops to
 * believe; IPv6 clients are keyed by their /64.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addressKey } from '../../src/http/client-address.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../app.ts';

const LB = '10.0.0.5';

describe.each([
  ['a hop count', '1'],
  ['a CIDR list', '10.0.0.0/8, 192.168.0.0/16'],
])('behind a trusted proxy (TRUST_PROXY as %s)', (_what, trust) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TRUST_PROXY: trust, RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => t?.close());

  const via = (forwardedFor: string) =>
    t.server.inject({
      url: '/store/categories',
      remoteAddress: LB,
      headers: { 'x-forwarded-for': forwardedFor },
    });

  it('gives each client its own budget, and a forged first hop changes nothing', async () => {
    for (let i = 0; i < 5; i++) expect((await via(`6.6.6.${i}, 198.51.100.20`)).statusCode).toBe(200);
    expect((await via('6.6.6.99, 198.51.100.20')).statusCode).toBe(429);
    // Another client behind the same balancer is unaffected.
    expect((await via('198.51.100.21')).statusCode).toBe(200);
  });
});

describe('without TRUST_PROXY', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => t?.close());

  it('ignores X-Forwarded-For: forged addresses do not buy new budgets', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (
          await t.server.inject({
            url: '/store/categories',
            remoteAddress: '203.0.113.50',
            headers: { 'x-forwarded-for': `198.51.100.${i}` },
          })
        ).statusCode,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });

  it('keys IPv6 clients by their /64', async () => {
    const from = (ip: string) => t.server.inject({ url: '/store/categories', remoteAddress: ip });
    for (let i = 1; i <= 5; i++) expect((await from(`2001:db8:1:2::${i.toString(16)}`)).statusCode).toBe(200);
    // Rotating the low 64 bits does not help...
    expect((await from('2001:db8:1:2:ffff:eeee:dddd:cccc')).statusCode).toBe(429);
    // ...while a different /64 is a different client.
    expect((await from('2001:db8:1:3::1')).statusCode).toBe(200);
  });
});

describe('client address keys', () => {
  it('are the IPv4 address, the /64 of an IPv6 one, and IPv4 for mapped addresses', () => {
    expect(addressKey('198.51.100.7')).toBe('198.51.100.7');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('::ffff:198.51.100.7')).toBe('198.51.100.7');
  });

  it('refuse an invalid TRUST_PROXY', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(ConfigError);
    expect(loadConfig({ TRUST_PROXY: '2' }).http.trustProxy).toBe(2);
    expect(loadConfig({}).http.trustProxy).toBe(false);
  });
});
