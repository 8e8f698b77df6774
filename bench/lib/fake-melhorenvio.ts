/**
 * A stand-in for Melhor Envio's quote API on this machine (`POST /api/v2/me/shipment/calculate`),
 * so the freight workloads measure ShopFlow and its cache, not the internet. It answers two
 * services priced from the package's weight, after a short delay like a real round trip.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export const FAKE_MELHOR_ENVIO_TOKEN = 'bench-melhor-envio-token-000000';

export async function startFakeMelhorEnvio(
  delayMs = 40,
): Promise<{ url: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      calls++;
      const sent = JSON.parse(body || '{}') as { products?: { weight: number; quantity: number }[] };
      const kg = (sent.products ?? []).reduce((n, p) => n + p.weight * p.quantity, 0);
      const price = (base: number) => (base + Math.ceil(kg) * 3).toFixed(2);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify([
            {
              id: 1,
              name: 'PAC',
              price: price(18),
              delivery_range: { min: 5, max: 8 },
              company: { name: 'Correios' },
            },
            {
              id: 2,
              name: 'SEDEX',
              price: price(32),
              delivery_range: { min: 1, max: 3 },
              company: { name: 'Correios' },
            },
          ]),
        );
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
