/**
 * Attack surface: images through the CDN share one client address (the edge's) for rate limiting,
 * so every shopper behind an edge shares one budget, and one client can spend it for all. Now a
 * request carrying the CDN's origin secret is keyed by the viewer address the CDN sends
 * (`CloudFront-Viewer-Address`); without the secret that header is ignored (anyone can send it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { viewerIp } from '../../src/http/client-address.ts';
import { createTestApp, type TestApp } from '../app.ts';

const SECRET = 'cdn-origin-secret-0123456789abcdef-xyz';
const EDGE = '10.9.9.9';

describe('the client address of requests through the CDN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ RATE_LIMIT_PER_MINUTE: '5', CDN_ORIGIN_SECRET: SECRET });
  });
  afterAll(async () => t?.close());
  const get = (headers: Record<string, string>) =>
    t.server.inject({ url: '/store/categories', remoteAddress: EDGE, headers });

  it('is the viewer address when the origin secret matches: each viewer has its own budget', async () => {
    const viewer = (ip: string) => ({
      'x-shopflow-origin-secret': SECRET,
      'cloudfront-viewer-address': `${ip}:50123`,
    });
    for (let i = 0; i < 5; i++) expect((await get(viewer('198.51.100.30'))).statusCode).toBe(200);
    expect((await get(viewer('198.51.100.30'))).statusCode).toBe(429);
    // Another shopper behind the same edge is unaffected, IPv6 included.
    expect((await get(viewer('198.51.100.31'))).statusCode).toBe(200);
    expect((await get(viewer('2001:db8::7'))).statusCode).toBe(200);
  });

  it('ignores the viewer header without the right secret: a forged one buys no new budget', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++)
      statuses.push(
        (
          await get({
            'x-shopflow-origin-secret': `${SECRET}-wrong`,
            'cloudfront-viewer-address': `203.0.113.${i}:443`,
          })
        ).statusCode,
      );
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // The edge's own address (socket) is what was counted: no secret at all is refused too.
    expect((await get({ 'cloudfront-viewer-address': '203.0.113.200:443' })).statusCode).toBe(429);
  });

  it('reads ip:port, IPv6 included, and nothing else', () => {
    expect(viewerIp('198.51.100.30:50123')).toBe('198.51.100.30');
    expect(viewerIp('2001:db8::7:443')).toBe('2001:db8::7');
    expect(viewerIp('not-an-address:1')).toBeUndefined();
    expect(viewerIp('198.51.100.30')).toBeUndefined();
  });
});
