/**
 * Webhooks cannot be turned against the inside of the network: without
 * WEBHOOK_ALLOW_INSECURE_URLS only https URLs are accepted, IP literals must be public, and a
 * host name is checked on every connection against the addresses it resolves to then, so a name
 * that resolves (or is re-pointed, DNS rebinding) to a private, loopback or link-local address is
 * refused before anything is sent. A local receiver proves that nothing arrives.
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { isPublicAddress } from '../../src/platform/net/public-address.ts';
import type { WebhookDelivery } from '../../src/modules/webhooks/webhooks.service.ts';

describe('webhook SSRF protection', () => {
  let t: TestApp;
  let receiver: WebhookReceiver;
  /** What each test host name resolves to, answer after answer (the last one repeats). */
  const dns = new Map<string, string[][]>();
  const lookups: string[] = [];
  const resolver = (hostname: string): Promise<LookupAddress[]> => {
    lookups.push(hostname);
    const answers = dns.get(hostname);
    if (!answers) return Promise.reject(new Error(`getaddrinfo ENOTFOUND ${hostname}`));
    const next = answers.length > 1 ? answers.shift()! : answers[0]!;
    return Promise.resolve(next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  const { call } = api(() => t);

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await createTestApp(
      { WEBHOOK_RETRY_BASE_MS: '60000', WEBHOOK_TIMEOUT_MS: '1000' },
      { webhookResolver: resolver },
    );
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const create = (url: string) =>
    call<Err & { id: string }>('POST', '/admin/webhooks', { url, events: ['order.placed'] });

  it('refuses http and internal IP literals without the development flag', async () => {
    for (const url of [
      receiver.url, // http://127.0.0.1:<port>/hook
      'http://example.com/hook',
      'https://127.0.0.1/hook',
      'https://10.1.2.3/hook',
      'https://172.16.0.1/hook',
      'https://192.168.0.10/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://100.64.0.1/hook',
      'https://[::1]/hook',
      'https://[fd00::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://0.0.0.0/hook',
      'https://localhost/hook',
      'https://user:pass@example.com/hook',
    ]) {
      const res = await create(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe('invalid_request');
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('classifies addresses: only public unicast passes', () => {
    for (const a of [
      '10.0.0.1',
      '127.0.0.1',
      '169.254.169.254',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.1.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '::1',
      '::',
      'fe80::1',
      'fc00::1',
      'fd12:3456::1',
      '::ffff:10.0.0.1',
      '::ffff:127.0.0.1',
      'not-an-ip',
    ])
      expect(isPublicAddress(a), a).toBe(false);
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(isPublicAddress(a), a).toBe(true);
  });

  const deliveryOf = async (endpointId: string) =>
    eventually(
      async () => {
        const d = (
          await call<{ items: WebhookDelivery[] }>('GET', `/admin/webhooks/${endpointId}/deliveries`)
        ).body.items[0]!;
        expect(d?.attempts).toBe(1);
        return d;
      },
      { timeoutMs: 5000 },
    );

  it('refuses, at connection time, a host name resolving to 10.x, 127.x or 169.254.x', async () => {
    const cases: [string, string][] = [
      ['erp.internal-ten.test', '10.0.0.7'],
      ['erp.loopback.test', '127.0.0.1'],
      ['erp.metadata.test', '169.254.169.254'],
      ['erp.v6-loopback.test', '::1'],
    ];
    for (const [host, address] of cases) {
      dns.set(host, [[address]]);
      // The receiver listens on 127.0.0.1 at this port: a connection that got through would reach it.
      const res = await create(`https://${host}:${receiver.port}/hook`);
      expect(res.status, host).toBe(201);
      const test = await call<WebhookDelivery>('POST', `/admin/webhooks/${res.body.id}/test`);
      expect(test.status).toBe(202);
      const d = await deliveryOf(res.body.id);
      expect(d.status).toBe('pending');
      expect(d.responseStatus).toBeNull();
      expect(d.error, host).toMatch(/not a public address/);
      expect(lookups).toContain(host);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('refuses a name whose answers mix a public and a private address, and one re-pointed after a first good answer', async () => {
    dns.set('mixed.test', [['93.184.216.34', '127.0.0.1']]);
    const mixed = await create(`https://mixed.test:${receiver.port}/hook`);
    await call('POST', `/admin/webhooks/${mixed.body.id}/test`);
    expect((await deliveryOf(mixed.body.id)).error).toMatch(/not a public address/);

    // Rebinding: the first resolution (the URL looked harmless) is public, the one at connection is not.
    dns.set('rebind.test', [['93.184.216.34'], ['127.0.0.1']]);
    await resolver('rebind.test'); // the check an attacker expects us to trust
    const rebound = await create(`https://rebind.test:${receiver.port}/hook`);
    await call('POST', `/admin/webhooks/${rebound.body.id}/test`);
    expect((await deliveryOf(rebound.body.id)).error).toMatch(/127\.0\.0\.1.*not a public address/);
    expect(receiver.received).toHaveLength(0);
  });
});
