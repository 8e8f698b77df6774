/**
 * Makes a cart ready for checkout (issue 29: a cart's order needs a shipping address, a chosen
 * freight option and a buyer): a free catch-all zone of the table engine (once per app), a typed
 * address, the first option, and a guest buyer. For tests about something else than freight.
 */
import type { TestApp } from '../app.ts';
import { UFS } from '../../src/modules/customers/brazil.schemas.ts';

const zoned = new WeakSet<TestApp>();

export const TEST_ADDRESS = {
  recipient: 'Cliente Teste',
  cep: '01310-100',
  street: 'Avenida Paulista',
  number: '1000',
  district: 'Bela Vista',
  city: 'São Paulo',
  state: 'SP',
};
export const TEST_BUYER = {
  name: 'Cliente Teste',
  email: 'cliente@example.com',
  document: { number: '123.456.789-09' },
};

export async function readyToShip(
  t: TestApp,
  cartId: string,
  token: string,
  options: { buyer?: boolean } = {},
) {
  const call = async (method: string, url: string, body?: object, auth = token) => {
    const res = await t.server.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${auth}` },
      ...(body ? { payload: body } : {}),
    });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json<Record<string, unknown>>();
  };
  if (!zoned.has(t)) {
    await call(
      'POST',
      '/admin/shipping/zones',
      {
        name: 'Brasil (grátis, testes)',
        carrier: 'Correios',
        service: 'PAC',
        states: [...UFS],
        brackets: [{ maxGrams: 1_000_000, price: 1500, minDays: 3, maxDays: 8 }],
        freeAbove: 0,
      },
      t.adminKey,
    );
    zoned.add(t);
  }
  await call('PUT', `/store/carts/${cartId}/shipping-address`, TEST_ADDRESS);
  const { options: offered } = (await call('GET', `/store/carts/${cartId}/shipping-options`)) as {
    options: { id: string }[];
  };
  await call('PUT', `/store/carts/${cartId}/shipping-method`, { optionId: offered[0]!.id });
  if (options.buyer !== false) await call('PUT', `/store/carts/${cartId}/buyer`, TEST_BUYER);
}
