/**
 * The Melhor Envio adapter against Melhor Envio's sandbox: runs only when MELHORENVIO_TOKEN (a
 * sandbox token) and MELHORENVIO_URL (the sandbox's base URL) are set; skipped otherwise. Quotes
 * a real package between two CEPs through the adapter (no label is bought: the calculate endpoint
 * only prices) and checks what the adapter makes of the answer. The local suite
 * (test/brazil-checkout.test.ts) checks the request as the API documents it.
 *
 *   MELHORENVIO_TOKEN=... MELHORENVIO_URL=https://sandbox.melhorenvio.com.br \
 *     npx vitest run test/shipping-melhorenvio-live.test.ts
 *
 * MELHORENVIO_USER_AGENT: the User-Agent Melhor Envio asks for (an application name and a contact
 * e-mail); MELHORENVIO_ORIGIN_CEP: where the parcel leaves from (default 01310-100, São Paulo).
 */
import { describe, expect, it } from 'vitest';
import { TwoLevelCache } from '../src/platform/cache/two-level.cache.ts';
import { AppError } from '../src/platform/errors.ts';
import { MelhorEnvioShippingEngine } from '../src/modules/shipping/melhorenvio.shipping-engine.ts';
import type { QuoteRequest } from '../src/modules/shipping/shipping-engine.ts';

const TOKEN = process.env.MELHORENVIO_TOKEN;
const URL_ = process.env.MELHORENVIO_URL;
const USER_AGENT = process.env.MELHORENVIO_USER_AGENT ?? 'ShopFlow live suite (suporte@example.com)';
const ORIGIN = (process.env.MELHORENVIO_ORIGIN_CEP ?? '01310100').replace(/\D/g, '');

/** A 300 g book of 20 x 15 x 5 cm, R$ 89,90, two of them, to Rio de Janeiro (centro). */
const REQUEST: QuoteRequest = {
  destinationCep: '20040020',
  state: 'RJ',
  subtotal: 17980,
  lines: [
    {
      productId: 'live-suite-book',
      quantity: 2,
      unitPrice: 8990,
      weightGrams: 300,
      lengthCm: 20,
      widthCm: 15,
      heightCm: 5,
    },
  ],
};

const engine = (token: string) =>
  new MelhorEnvioShippingEngine({
    baseUrl: URL_ ?? 'https://sandbox.melhorenvio.com.br',
    token,
    userAgent: USER_AGENT,
    timeoutMs: 15_000,
    originCep: ORIGIN,
    cache: new TwoLevelCache(undefined, { namespace: 'freight-quote', maxEntries: 10, ttlSeconds: 60 }),
  });

describe.skipIf(!TOKEN || !URL_)('Melhor Envio sandbox (live)', () => {
  it('quotes a package between two CEPs: options with carrier, service, price in centavos and days, cheapest first', async () => {
    const me = engine(TOKEN!);
    const options = await me.quote(REQUEST);
    expect(options.length).toBeGreaterThan(0);
    for (const o of options) {
      expect(o.carrier).toEqual(expect.any(String));
      expect(o.carrier.length).toBeGreaterThan(0);
      expect(o.service.length).toBeGreaterThan(0);
      expect(Number.isInteger(o.price)).toBe(true);
      expect(o.price).toBeGreaterThan(0);
      expect(Number.isInteger(o.minDays) && Number.isInteger(o.maxDays)).toBe(true);
      expect(o.minDays).toBeGreaterThanOrEqual(0);
      expect(o.maxDays).toBeGreaterThanOrEqual(o.minDays);
    }
    const prices = options.map((o) => o.price);
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    // The same quote again: the same options, from the cache.
    expect(await me.quote(REQUEST)).toEqual(options);
    // A heavier package is priced on its own, not from the cache.
    const heavier = await me.quote({ ...REQUEST, lines: [{ ...REQUEST.lines[0]!, weightGrams: 4000 }] });
    expect(heavier.length).toBeGreaterThan(0);
  }, 60_000);

  it('maps a refused token to dependency_unavailable', async () => {
    const refused = await engine('not-a-valid-melhor-envio-token-0000')
      .quote(REQUEST)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('dependency_unavailable');
  }, 60_000);
});
