/**
 * The Brazilian checkout (issue 29): documents, the address book, CEP lookup, freight, totals,
 * fulfilments and the order's history, through the HTTP API against the real services. The CEP
 * lookup and Melhor Envio run against local fakes that check what they are sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { fakeEndpoint } from './helpers/fake-endpoint.ts';
import { maskDocument, parseDocument } from '../src/modules/customers/documents.ts';

const CPF = '123.456.789-09';
const CNPJ_ALPHA = '12.ABC.345/01DE-35';

describe('documents', () => {
  it('validates CPF and CNPJ (numeric and the 2026 alphanumeric) by their check digits, normalized', () => {
    expect(parseDocument(CPF)).toEqual({ type: 'cpf', number: '12345678909' });
    expect(parseDocument('123.456.789-08')).toBeUndefined();
    expect(parseDocument('111.111.111-11')).toBeUndefined();
    expect(parseDocument('11.222.333/0001-81')).toEqual({ type: 'cnpj', number: '11222333000181' });
    expect(parseDocument('12.abc.345/01de-35')).toEqual({ type: 'cnpj', number: '12ABC34501DE35' });
    expect(parseDocument('12.ABC.345/01DE-36')).toBeUndefined();
    expect(parseDocument(CPF, 'cnpj')).toBeUndefined();
    expect(maskDocument({ type: 'cpf', number: '12345678909' })).toBe('123.***.***-09');
    expect(maskDocument({ type: 'cnpj', number: '12ABC34501DE35' })).toBe('12.***.***/****-35');
  });
});

describe('customers: document, phone and the address book', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { request, customer } = api(() => t);

  const address = {
    label: 'Casa',
    recipient: 'Maria Silva',
    cep: '01310-100',
    street: 'Avenida Paulista',
    number: '1000',
    complement: 'apto 12',
    district: 'Bela Vista',
    city: 'São Paulo',
    state: 'sp',
    phone: '+55 11 99999-0000',
  };

  it('keeps a document on the profile: invalid is 400 naming the field, valid stored normalized, masked for the admin', async () => {
    const token = await customer('doc@example.com');
    const bad = await request<Err>('PATCH', '/store/me', {
      token,
      body: { document: { type: 'cpf', number: '123.456.789-00' } },
    });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain('document.number');
    const ok = await request<{ id: string; document: { type: string; number: string }; phone: string }>(
      'PATCH',
      '/store/me',
      { token, body: { document: { number: CNPJ_ALPHA.toLowerCase() }, phone: '11 98888-7777' } },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.document).toEqual({ type: 'cnpj', number: CNPJ_ALPHA });
    expect(ok.body.phone).toBe('11 98888-7777');
    const { rows } = await t.db.pool.query(
      'SELECT document_type, document_number FROM customers WHERE id = $1',
      [ok.body.id],
    );
    expect(rows[0]).toEqual({ document_type: 'cnpj', document_number: '12ABC34501DE35' });
    const listed = await request<{ items: { id: string; document: { number: string } | null }[] }>(
      'GET',
      '/admin/customers?limit=100',
      { token: t.adminKey },
    );
    const mine = listed.body.items.find((c) => c.id === ok.body.id)!;
    expect(mine.document!.number).toBe('12.***.***/****-35');
  });

  it('CRUDs addresses with one default, validating CEP, UF and lengths', async () => {
    const token = await customer('book@example.com');
    const other = await customer('other-book@example.com');
    const first = await request<{ id: string; cep: string; state: string; isDefault: boolean }>(
      'POST',
      '/store/customers/me/addresses',
      { token, body: address },
    );
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ cep: '01310100', state: 'SP', isDefault: true });
    for (const [field, value] of [
      ['cep', '1310-100'],
      ['state', 'XX'],
      ['street', 'x'.repeat(201)],
    ] as const) {
      const bad = await request<Err>('POST', '/store/customers/me/addresses', {
        token,
        body: { ...address, [field]: value },
      });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.error.details)).toContain(field);
    }
    const second = await request<{ id: string; isDefault: boolean }>(
      'POST',
      '/store/customers/me/addresses',
      {
        token,
        body: { ...address, label: 'Trabalho', number: '2000', isDefault: true },
      },
    );
    expect(second.body.isDefault).toBe(true);
    let list = await request<{ items: { id: string; isDefault: boolean }[] }>(
      'GET',
      '/store/customers/me/addresses',
      { token },
    );
    expect(list.body.items.map((a) => [a.id, a.isDefault])).toEqual([
      [second.body.id, true],
      [first.body.id, false],
    ]);
    const patched = await request<{ complement: string; isDefault: boolean }>(
      'PATCH',
      `/store/customers/me/addresses/${first.body.id}`,
      { token, body: { complement: 'fundos', isDefault: true } },
    );
    expect(patched.body).toMatchObject({ complement: 'fundos', isDefault: true });
    // Someone else's address is not found.
    expect(
      (
        await request('PATCH', `/store/customers/me/addresses/${first.body.id}`, {
          token: other,
          body: { number: '1' },
        })
      ).status,
    ).toBe(404);
    expect(
      (await request('DELETE', `/store/customers/me/addresses/${first.body.id}`, { token: other })).status,
    ).toBe(404);
    expect(
      (await request('DELETE', `/store/customers/me/addresses/${first.body.id}`, { token })).status,
    ).toBe(204);
    list = await request('GET', '/store/customers/me/addresses', { token });
    expect(list.body.items).toEqual([expect.objectContaining({ id: second.body.id, isDefault: true })]);
    // Without a session: 401.
    expect((await request('GET', '/store/customers/me/addresses')).status).toBe(401);
  });

  it('exports the document and the address book, and erasure removes them', async () => {
    const token = await customer('erase-book@example.com');
    const me = await request<{ id: string }>('PATCH', '/store/me', {
      token,
      body: { document: { number: CPF } },
    });
    await request('POST', '/store/customers/me/addresses', { token, body: address });
    const exported = await request<{ profile: { document: unknown }; addresses: { cep: string }[] }>(
      'GET',
      `/admin/customers/${me.body.id}/export`,
      { token: t.adminKey },
    );
    expect(exported.body.profile.document).toEqual({ type: 'cpf', number: '12345678909' });
    expect(exported.body.addresses.map((a) => a.cep)).toEqual(['01310100']);
    const erased = await request<{ counts: { addresses: number } }>(
      'POST',
      `/admin/customers/${me.body.id}/anonymize`,
      { token: t.adminKey },
    );
    expect(erased.body.counts.addresses).toBe(1);
    const { rows } = await t.db.pool.query(
      `SELECT document_number, (SELECT COUNT(*)::int FROM customer_addresses WHERE customer_id = $1) AS n
       FROM customers WHERE id = $1`,
      [me.body.id],
    );
    expect(rows[0]).toEqual({ document_number: null, n: 0 });
  });
});

describe('CEP lookup against a local ViaCEP', () => {
  let t: TestApp;
  let via: Awaited<ReturnType<typeof fakeEndpoint>>;
  let down = false;
  beforeAll(async () => {
    via = await fakeEndpoint(({ url }) => {
      if (down) return { status: 503, body: { message: 'down' } };
      if (url === '/ws/01310100/json/')
        return {
          body: {
            cep: '01310-100',
            logradouro: 'Avenida Paulista',
            complemento: 'de 612 a 1510 - lado par',
            bairro: 'Bela Vista',
            localidade: 'São Paulo',
            uf: 'SP',
            ibge: '3550308',
          },
        };
      if (url === '/ws/99999999/json/') return { body: { erro: 'true' } };
      if (url === '/ws/22222222/json/') return { body: {}, delayMs: 2000 };
      return { status: 400, body: {} };
    });
    t = await createTestApp({
      CEP_LOOKUP_URL: via.url,
      CEP_LOOKUP_TIMEOUT_MS: '300',
      CEP_LOOKUPS_PER_MINUTE: '1000',
    });
  });
  afterAll(async () => {
    await t?.close();
    await via?.close();
  });
  const { request } = api(() => t);

  it('fills the address from the lookup, caches it, 404s an unknown CEP and 503s when the lookup is down', async () => {
    const found = await request('GET', '/store/cep/01310-100');
    expect(found.status).toBe(200);
    expect(found.body).toEqual({
      cep: '01310100',
      street: 'Avenida Paulista',
      district: 'Bela Vista',
      city: 'São Paulo',
      state: 'SP',
    });
    expect(via.requests.map((r) => r.url)).toEqual(['/ws/01310100/json/']);
    // A second lookup is served from the cache: the service is not asked again, even when down.
    down = true;
    expect((await request('GET', '/store/cep/01310100')).body).toEqual(found.body);
    expect(via.requests).toHaveLength(1);
    const unavailable = await request<Err>('GET', '/store/cep/04538133');
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error.code).toBe('dependency_unavailable');
    down = false;
    const unknown = await request<Err>('GET', '/store/cep/99999-999');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('cep_not_found');
    // A slow lookup is cut at the configured timeout.
    const started = Date.now();
    const slow = await request<Err>('GET', '/store/cep/22222222');
    expect(slow.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1500);
    // The lookup down never blocks checkout: a typed address goes through.
    down = true;
    await request('POST', '/admin/shipping/zones', { token: t.adminKey, body: SP_ZONE });
    const product = await t.app.services.catalog.createProduct({
      name: 'Vaso',
      basePrice: 2500,
      availableQuantity: 5,
    });
    const cart = await request<CartBody>('POST', '/store/carts');
    const token = cart.body.sessionToken!;
    await request('POST', `/store/carts/${cart.body.id}/items`, {
      token,
      body: { productId: product.id, quantity: 1 },
    });
    await request('PUT', `/store/carts/${cart.body.id}/shipping-address`, {
      token,
      body: { ...TYPED_ADDRESS, cep: '04538-133' },
    });
    const offered = await request<{ options: Option[] }>(
      'GET',
      `/store/carts/${cart.body.id}/shipping-options`,
      {
        token,
      },
    );
    await request('PUT', `/store/carts/${cart.body.id}/shipping-method`, {
      token,
      body: { optionId: offered.body.options[0]!.id },
    });
    const placed = await request<OrderBody>('POST', `/store/carts/${cart.body.id}/checkout`, {
      token,
      body: { buyer: BUYER },
    });
    expect(placed.status).toBe(201);
    expect(placed.body.totalAmount).toBe(2500 + 1990);
    down = false;
    // Malformed: 400, without asking the service.
    const before = via.requests.length;
    expect((await request('GET', '/store/cep/123')).status).toBe(400);
    expect(via.requests).toHaveLength(before);
  });
});

/** A zone delivering to SP by weight, free above R$ 500, and one for RJ by CEP range. */
const SP_ZONE = {
  name: 'São Paulo (capital e interior)',
  carrier: 'Correios',
  service: 'SEDEX',
  states: ['SP'],
  brackets: [
    { maxGrams: 1000, price: 1990, minDays: 1, maxDays: 2 },
    { maxGrams: 5000, price: 2990, minDays: 2, maxDays: 3 },
  ],
  freeAbove: 50000,
};
const RJ_ZONE = {
  name: 'Rio capital',
  carrier: 'Jadlog',
  service: '.Package',
  cepRanges: [{ from: '20000000', to: '23799999' }],
  brackets: [{ maxGrams: 30000, price: 4590, minDays: 3, maxDays: 5 }],
};
const TYPED_ADDRESS = {
  recipient: 'João Souza',
  cep: '01310-100',
  street: 'Avenida Paulista',
  number: '1578',
  district: 'Bela Vista',
  city: 'São Paulo',
  state: 'SP',
};
const BUYER = { name: 'João Souza', email: 'Joao@Example.com', document: { number: CPF } };

interface CartBody {
  id: string;
  sessionToken?: string;
  totals: { subtotal: number; discount: number; shipping: number; total: number };
  shippingMethod: { id: string; price: number } | null;
}
interface Option {
  id: string;
  carrier: string;
  service: string;
  price: number;
  deliveryDays: { min: number; max: number };
  expiresAt: string;
}
interface OrderBody {
  id: string;
  status: string;
  totalAmount: number;
  totals: { subtotal: number; discount: number; shipping: number; total: number };
  shippingAddress: { cep: string; recipient: string } | null;
  buyer: { name: string; email: string; document: { type: string; number: string } | null } | null;
  shipping: { carrier: string; service: string; price: number } | null;
  items: { id: string; productId: string; quantity: number }[];
  fulfillments: {
    id: string;
    carrier: string;
    trackingCode: string;
    trackingUrl: string | null;
    items: unknown[];
  }[];
  history: { type: string; actor: { type: string; name: string | null }; data: Record<string, unknown> }[];
}

describe('freight with the table engine, totals, checkout, payment, fulfilment and history', () => {
  let t: TestApp;
  let product: string; // 500 g per unit (SHIPPING_DEFAULT_WEIGHT_GRAMS)
  let pricey: string;
  beforeAll(async () => {
    t = await createTestApp({ SHIPPING_DEFAULT_WEIGHT_GRAMS: '500' });
    product = (
      await t.app.services.catalog.createProduct({
        name: 'Caneca Esmaltada',
        basePrice: 4990,
        availableQuantity: 100,
      })
    ).id;
    pricey = (
      await t.app.services.catalog.createProduct({
        name: 'Cafeteira Italiana',
        basePrice: 30000,
        availableQuantity: 100,
      })
    ).id;
    for (const zone of [SP_ZONE, RJ_ZONE])
      expect((await request('POST', '/admin/shipping/zones', { token: t.adminKey, body: zone })).status).toBe(
        201,
      );
  });
  afterAll(async () => t?.close());
  const { request, customer } = api(() => t);

  /** A guest cart with these lines and the typed address; its token. */
  async function guestCart(lines: [string, number][], address: object = TYPED_ADDRESS) {
    const created = await request<CartBody>('POST', '/store/carts');
    const token = created.body.sessionToken!;
    const id = created.body.id;
    for (const [productId, quantity] of lines)
      expect(
        (await request('POST', `/store/carts/${id}/items`, { token, body: { productId, quantity } })).status,
      ).toBe(200);
    expect(
      (await request('PUT', `/store/carts/${id}/shipping-address`, { token, body: address })).status,
    ).toBe(200);
    return { id, token };
  }
  const options = async (id: string, token: string) =>
    request<{ options: Option[]; unavailable: unknown[] }>('GET', `/store/carts/${id}/shipping-options`, {
      token,
    });

  it('prices a 2 kg cart to SP by UF and weight, a CEP range to RJ, and free shipping above the threshold', async () => {
    const { id, token } = await guestCart([[product, 4]]); // 4 x 500 g = 2 kg
    const sp = await options(id, token);
    expect(sp.status).toBe(200);
    expect(sp.body.options).toEqual([
      expect.objectContaining({
        carrier: 'Correios',
        service: 'SEDEX',
        price: 2990,
        deliveryDays: { min: 2, max: 3 },
      }),
    ]);
    expect(new Date(sp.body.options[0]!.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const rj = await guestCart([[product, 1]], {
      ...TYPED_ADDRESS,
      cep: '22041-001',
      city: 'Rio de Janeiro',
      state: 'RJ',
    });
    expect((await options(rj.id, rj.token)).body.options).toEqual([
      expect.objectContaining({ carrier: 'Jadlog', price: 4590, deliveryDays: { min: 3, max: 5 } }),
    ]);
    // R$ 600 of goods: above R$ 500, the SP freight is free.
    const free = await guestCart([[pricey, 2]]);
    expect((await options(free.id, free.token)).body.options).toEqual([
      expect.objectContaining({ carrier: 'Correios', price: 0 }),
    ]);
    // Nowhere the zones cover: no options.
    const far = await guestCart([[product, 1]], {
      ...TYPED_ADDRESS,
      cep: '69005-000',
      city: 'Manaus',
      state: 'AM',
    });
    expect((await options(far.id, far.token)).body.options).toEqual([]);
  });

  it('asked again for the same cart, answers the same options without writing; a changed cart gets new ones', async () => {
    const { id, token } = await guestCart([[product, 4]]);
    const first = await options(id, token);
    const written = async () =>
      (
        await t.db.pool.query<{ ids: string[] }>(
          'SELECT array_agg(id::text ORDER BY id) AS ids FROM shipping_quotes WHERE cart_id = $1',
          [id],
        )
      ).rows[0]!.ids;
    const before = await written();
    const again = await options(id, token);
    expect(again.body.options).toEqual(first.body.options);
    expect(await written()).toEqual(before);
    // One more unit (2.5 kg, another basis): new options, and the old one is no longer choosable.
    expect(
      (
        await request('POST', `/store/carts/${id}/items`, {
          token,
          body: { productId: product, quantity: 1 },
        })
      ).status,
    ).toBe(200);
    const changed = await options(id, token);
    expect(changed.body.options[0]!.id).not.toBe(first.body.options[0]!.id);
    const stale = await request<Err>('PUT', `/store/carts/${id}/shipping-method`, {
      token,
      body: { optionId: first.body.options[0]!.id },
    });
    expect(stale.status).toBe(400);
    expect(stale.body.error.code).toBe('invalid_shipping_option');
  });

  it('refuses checkout without a method (shipping_required), a tampered option, and a guest without a valid buyer', async () => {
    const { id, token } = await guestCart([[product, 4]]);
    const noMethod = await request<Err>('POST', `/store/carts/${id}/checkout`, {
      token,
      body: { buyer: BUYER },
    });
    expect(noMethod.status).toBe(409);
    expect(noMethod.body.error.code).toBe('shipping_required');
    // An option id that was never offered to this cart (another cart's) is refused.
    const other = await guestCart([[product, 1]]);
    const theirs = (await options(other.id, other.token)).body.options[0]!;
    const tampered = await request<Err>('PUT', `/store/carts/${id}/shipping-method`, {
      token,
      body: { optionId: theirs.id },
    });
    expect(tampered.status).toBe(400);
    expect(tampered.body.error.code).toBe('invalid_shipping_option');
    // A price in the body is not part of the contract: refused, nothing changed.
    const mine = (await options(id, token)).body.options[0]!;
    const priced = await request<Err>('PUT', `/store/carts/${id}/shipping-method`, {
      token,
      body: { optionId: mine.id, price: 0 },
    });
    expect(priced.status).toBe(400);
    const chosen = await request<CartBody>('PUT', `/store/carts/${id}/shipping-method`, {
      token,
      body: { optionId: mine.id },
    });
    expect(chosen.body.totals).toEqual({ subtotal: 19960, discount: 0, shipping: 2990, total: 22950 });
    // A change of the lines after choosing: the choice no longer holds for the cart as it is.
    // Guest without a buyer: 400 naming it; with an invalid CPF: 400 naming buyer.document.number.
    const noBuyer = await request<Err>('POST', `/store/carts/${id}/checkout`, { token });
    expect(noBuyer.status).toBe(400);
    expect(JSON.stringify(noBuyer.body.error.details)).toContain('buyer');
    const badCpf = await request<Err>('POST', `/store/carts/${id}/checkout`, {
      token,
      body: { buyer: { ...BUYER, document: { number: '123.456.789-00' } } },
    });
    expect(badCpf.status).toBe(400);
    expect(JSON.stringify(badCpf.body.error.details)).toContain('buyer.document.number');
    // Nothing was placed by the refusals.
    const { rows } = await t.db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM orders');
    expect(rows[0]!.n).toBe(0);
  });

  it('places the order with address, buyer and freight; totalAmount = subtotal + freight; the payment charges exactly that', async () => {
    const { id, token } = await guestCart([[product, 4]]);
    const option = (await options(id, token)).body.options[0]!;
    await request('PUT', `/store/carts/${id}/shipping-method`, { token, body: { optionId: option.id } });
    // The alphanumeric CNPJ as buyer, set on the cart.
    const buyer = await request<CartBody>('PUT', `/store/carts/${id}/buyer`, {
      token,
      body: { name: 'Loja Exemplo Ltda', email: 'compras@exemplo.com.br', document: { number: CNPJ_ALPHA } },
    });
    expect(buyer.status).toBe(200);
    const placed = await request<OrderBody>('POST', `/store/carts/${id}/checkout`, { token });
    expect(placed.status).toBe(201);
    expect(placed.body.totals).toEqual({ subtotal: 19960, discount: 0, shipping: 2990, total: 22950 });
    expect(placed.body.totalAmount).toBe(22950);
    expect(placed.body.shipping).toEqual({
      carrier: 'Correios',
      service: 'SEDEX',
      price: 2990,
      deliveryDays: { min: 2, max: 3 },
    });
    expect(placed.body.shippingAddress).toMatchObject({
      cep: '01310100',
      recipient: 'João Souza',
      state: 'SP',
    });
    expect(placed.body.buyer).toEqual({
      name: 'Loja Exemplo Ltda',
      email: 'compras@exemplo.com.br',
      document: { type: 'cnpj', number: CNPJ_ALPHA },
    });
    const { rows } = await t.db.pool.query(
      'SELECT buyer, total_amount, shipping_amount FROM orders WHERE id = $1',
      [placed.body.id],
    );
    expect((rows[0] as { buyer: { document: unknown } }).buyer.document).toEqual({
      type: 'cnpj',
      number: '12ABC34501DE35',
    });
    expect(rows[0]).toMatchObject({ total_amount: 22950, shipping_amount: 2990 });
    // The admin's list masks the document; the admin's detail shows it.
    const list = await request<{ items: OrderBody[] }>('GET', '/admin/orders?limit=100', {
      token: t.adminKey,
    });
    expect(list.body.items.find((o) => o.id === placed.body.id)!.buyer!.document!.number).toBe(
      '12.***.***/****-35',
    );
    const paid = await request<{ attempt: { amount: number; status: string }; order: { status: string } }>(
      'POST',
      `/store/orders/${placed.body.id}/payments`,
      { token, body: { paymentMethod: 'tok_visa' } },
    );
    expect(paid.status).toBe(201);
    expect(paid.body.attempt).toMatchObject({ amount: 22950, status: 'succeeded' });
    expect(paid.body.order.status).toBe('confirmed');
    // The dashboard's revenue counts the freight.
    const overview = await request<{ today: { revenueCents: number } }>('GET', '/admin/orders/overview', {
      token: t.adminKey,
    });
    expect(overview.body.today.revenueCents).toBeGreaterThanOrEqual(22950);
  });

  it('re-prices an expired quote at checkout, and a direct order (no cart) still works without freight', async () => {
    const { id, token } = await guestCart([[product, 1]]);
    const option = (await options(id, token)).body.options[0]!;
    await request('PUT', `/store/carts/${id}/shipping-method`, { token, body: { optionId: option.id } });
    // The zone's price went up (through the admin API: the zones are cached in process and
    // emptied on every change made there) and the quote expired meanwhile.
    const zones = await request<{ items: { id: string; name: string }[] }>('GET', '/admin/shipping/zones', {
      token: t.adminKey,
    });
    const sp = zones.body.items.find((z) => z.name === SP_ZONE.name)!;
    const reprice = (price: number) =>
      request('PATCH', `/admin/shipping/zones/${sp.id}`, {
        token: t.adminKey,
        body: { brackets: [{ ...SP_ZONE.brackets[0]!, price }, SP_ZONE.brackets[1]!] },
      });
    expect((await reprice(2190)).status).toBe(200);
    await t.db.pool.query(
      `UPDATE carts SET shipping_method = jsonb_set(shipping_method, '{expiresAt}', to_jsonb((NOW() - INTERVAL '1 minute')::text))
       WHERE id = $1`,
      [id],
    );
    const placed = await request<OrderBody>('POST', `/store/carts/${id}/checkout`, {
      token,
      body: { buyer: BUYER },
    });
    expect(placed.status).toBe(201);
    expect(placed.body.shipping!.price).toBe(2190);
    expect(placed.body.totalAmount).toBe(4990 + 2190);
    expect((await reprice(1990)).status).toBe(200);
    const direct = await request<OrderBody & { sessionToken: string }>('POST', '/store/orders', {
      body: { items: [{ productId: product, quantity: 2 }] },
    });
    expect(direct.status).toBe(201);
    expect(direct.body).toMatchObject({
      totalAmount: 9980,
      totals: { subtotal: 9980, discount: 0, shipping: 0, total: 9980 },
      shipping: null,
      shippingAddress: null,
      buyer: null,
    });
  });

  it('archives an order with its address, buyer, freight, fulfilments and history, and restores them', async () => {
    const token = await customer('arquivo@example.com');
    await request('PATCH', '/store/me', { token, body: { document: { number: CPF } } });
    const cart = await request<CartBody>('POST', '/store/carts', { token });
    const id = cart.body.id;
    await request('POST', `/store/carts/${id}/items`, { token, body: { productId: product, quantity: 4 } });
    await request('PUT', `/store/carts/${id}/shipping-address`, { token, body: TYPED_ADDRESS });
    const option = (await options(id, token)).body.options[0]!;
    await request('PUT', `/store/carts/${id}/shipping-method`, { token, body: { optionId: option.id } });
    const placed = await request<OrderBody>('POST', `/store/carts/${id}/checkout`, { token });
    await request('POST', `/store/orders/${placed.body.id}/payments`, {
      token,
      body: { paymentMethod: 'tok_visa' },
    });
    await request('POST', `/admin/orders/${placed.body.id}/fulfillments`, {
      token: t.adminKey,
      body: { carrier: 'Correios', trackingCode: 'AB111111111BR' },
    });
    await request('POST', `/admin/orders/${placed.body.id}/transition`, {
      token: t.adminKey,
      body: { to: 'delivered' },
    });
    await t.db.pool.query("UPDATE orders SET created_at = NOW() - INTERVAL '800 days' WHERE id = $1", [
      placed.body.id,
    ]);
    const before = await request<OrderBody>('GET', `/store/orders/${placed.body.id}`, { token });
    const archive = t.app.services.archive;
    expect((await archive.archiveBatch(500)).archived).toBeGreaterThanOrEqual(1);
    expect((await request('GET', `/store/orders/${placed.body.id}`, { token })).status).toBe(404);
    // Indexed in the archive, gone from the hot tables.
    const objects = await t.db.pool.query('SELECT object_key FROM order_archive WHERE order_id = $1', [
      placed.body.id,
    ]);
    expect(objects.rows).toHaveLength(1);
    expect((await archive.restoreOrder(placed.body.id)).status).toBe('restored');
    const after = await request<OrderBody>('GET', `/store/orders/${placed.body.id}`, { token });
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(after.body.totalAmount).toBe(19960 + 2990);
    expect(after.body.buyer!.document).toEqual({ type: 'cpf', number: CPF });
  });

  it('a customer checks out with a book address and the profile buyer; partial fulfilment keeps it confirmed, the second ships it; history lists every event with its actor; erasure clears the address and document', async () => {
    const token = await customer('cliente@example.com');
    const me = await request<{ id: string }>('PATCH', '/store/me', {
      token,
      body: { document: { number: CPF } },
    });
    const book = await request<{ id: string }>('POST', '/store/customers/me/addresses', {
      token,
      body: { ...TYPED_ADDRESS, recipient: 'Cliente Fiel' },
    });
    const cart = await request<CartBody>('POST', '/store/carts', { token });
    const id = cart.body.id;
    await request('POST', `/store/carts/${id}/items`, { token, body: { productId: product, quantity: 2 } });
    await request('POST', `/store/carts/${id}/items`, { token, body: { productId: pricey, quantity: 1 } });
    // A guest cannot use a book address; the customer can.
    expect(
      (
        await request('PUT', `/store/carts/${id}/shipping-address`, {
          token,
          body: { addressId: book.body.id },
        })
      ).status,
    ).toBe(200);
    const option = (await options(id, token)).body.options[0]!;
    await request('PUT', `/store/carts/${id}/shipping-method`, { token, body: { optionId: option.id } });
    const placed = await request<OrderBody>('POST', `/store/carts/${id}/checkout`, { token });
    expect(placed.status).toBe(201);
    expect(placed.body.buyer).toEqual({
      name: 'cliente',
      email: 'cliente@example.com',
      document: { type: 'cpf', number: CPF },
    });
    expect(placed.body.shippingAddress).toMatchObject({ recipient: 'Cliente Fiel' });
    expect(placed.body.totalAmount).toBe(2 * 4990 + 30000 + 2990); // 1.5 kg: second bracket
    const orderId = placed.body.id;
    await request('POST', `/store/orders/${orderId}/payments`, {
      token,
      body: { paymentMethod: 'tok_visa' },
    });

    const mugs = placed.body.items.find((i) => i.productId === product)!;
    const pot = placed.body.items.find((i) => i.productId === pricey)!;
    const first = await request<OrderBody>('POST', `/admin/orders/${orderId}/fulfillments`, {
      token: t.adminKey,
      body: {
        carrier: 'Correios',
        trackingCode: 'AA123456789BR',
        items: [{ orderItemId: mugs.id, quantity: 1 }],
      },
    });
    expect(first.status).toBe(201);
    expect(first.body.status).toBe('confirmed');
    expect(first.body.fulfillments).toEqual([
      expect.objectContaining({
        carrier: 'Correios',
        trackingCode: 'AA123456789BR',
        trackingUrl: 'https://rastreamento.correios.com.br/app/index.php?objeto=AA123456789BR',
        items: [{ orderItemId: mugs.id, quantity: 1 }],
      }),
    ]);
    // More than is left of a line: 400 naming it.
    const tooMany = await request<Err>('POST', `/admin/orders/${orderId}/fulfillments`, {
      token: t.adminKey,
      body: {
        carrier: 'Correios',
        trackingCode: 'AA000000000BR',
        items: [{ orderItemId: mugs.id, quantity: 2 }],
      },
    });
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body.error.details)).toContain('items.0.quantity');
    // The rest (no items: every unit left) ships the order.
    const second = await request<OrderBody>('POST', `/admin/orders/${orderId}/fulfillments`, {
      token: t.adminKey,
      body: { carrier: 'Jadlog', trackingCode: 'JD987654321' },
    });
    expect(second.body.status).toBe('shipped');
    expect(second.body.fulfillments[1]!.items).toEqual(
      expect.arrayContaining([
        { orderItemId: mugs.id, quantity: 1 },
        { orderItemId: pot.id, quantity: 1 },
      ]),
    );
    expect(second.body.fulfillments[1]!.items).toHaveLength(2);
    expect(
      (
        await request<Err>('POST', `/admin/orders/${orderId}/fulfillments`, {
          token: t.adminKey,
          body: { carrier: 'Jadlog', trackingCode: 'JD1' },
        })
      ).body.error.code,
    ).toBe('invalid_transition');
    const outbox = await t.db.pool.query<{ payload: { trackingCode: string } }>(
      "SELECT payload FROM outbox WHERE event_type = 'fulfillment.created' AND aggregate_id = $1 ORDER BY id",
      [orderId],
    );
    expect(outbox.rows.map((r) => r.payload.trackingCode)).toEqual(['AA123456789BR', 'JD987654321']);

    // The customer sees the shipments and the history on their order.
    const mine = await request<OrderBody>('GET', `/store/orders/${orderId}`, { token });
    expect(mine.body.fulfillments).toHaveLength(2);
    const events = await request<{ items: OrderBody['history'] }>('GET', `/admin/orders/${orderId}/events`, {
      token: t.adminKey,
    });
    expect(events.body.items.map((e) => [e.type, e.actor.type, e.actor.name, e.data.status ?? null])).toEqual(
      [
        ['order.placed', 'customer', me.body.id, null],
        ['payment.succeeded', 'provider', 'test', null],
        ['order.status_changed', 'provider', 'test', 'confirmed'],
        ['fulfillment.created', 'admin', 'test', null],
        ['fulfillment.created', 'admin', 'test', null],
        ['order.status_changed', 'admin', 'test', 'shipped'],
      ],
    );
    expect(mine.body.history.map((e) => e.type)).toEqual(events.body.items.map((e) => e.type));

    // Erasure removes the address and the document from the order and its history.
    await request('POST', `/admin/customers/${me.body.id}/anonymize`, { token: t.adminKey });
    const after = await request<OrderBody>('GET', `/admin/orders/${orderId}`, { token: t.adminKey });
    expect(after.body.shippingAddress).toBeNull();
    expect(after.body.buyer).toBeNull();
    expect(after.body.shipping!.price).toBe(2990);
    const history = await request<{ items: OrderBody['history'] }>('GET', `/admin/orders/${orderId}/events`, {
      token: t.adminKey,
    });
    const text = JSON.stringify(history.body.items);
    expect(text).not.toContain(me.body.id);
    expect(text).not.toContain('12345678909');
    expect(text).not.toContain('Paulista');
  });
});

describe('freight with Melhor Envio against a local endpoint', () => {
  let t: TestApp;
  let me: Awaited<ReturnType<typeof fakeEndpoint>>;
  let product: string;
  let mode: 'ok' | 'down' | 'slow' = 'ok';
  const TOKEN = 'me-test-token-0123456789abcdef';
  beforeAll(async () => {
    me = await fakeEndpoint(({ method, url, headers }) => {
      if (method !== 'POST' || url !== '/api/v2/me/shipment/calculate') return { status: 404, body: {} };
      if (headers.authorization !== `Bearer ${TOKEN}`)
        return { status: 401, body: { message: 'Unauthenticated.' } };
      if (mode === 'down') return { status: 500, body: { message: 'Server Error' } };
      if (mode === 'slow') return { body: [], delayMs: 2000 };
      return {
        body: [
          {
            id: 1,
            name: 'PAC',
            price: '23.45',
            custom_price: '23.45',
            delivery_time: 7,
            delivery_range: { min: 5, max: 7 },
            company: { id: 1, name: 'Correios' },
          },
          {
            id: 2,
            name: 'SEDEX',
            price: '41.07',
            delivery_time: 2,
            delivery_range: { min: 1, max: 2 },
            company: { id: 1, name: 'Correios' },
          },
          {
            id: 3,
            name: '.Package',
            error: 'Transportadora não atende este trecho.',
            company: { name: 'Jadlog' },
          },
        ],
      };
    });
    t = await createTestApp({
      SHIPPING_PROVIDER: 'melhorenvio',
      MELHOR_ENVIO_URL: me.url,
      MELHOR_ENVIO_TOKEN: TOKEN,
      MELHOR_ENVIO_TIMEOUT_MS: '300',
      SHIPPING_ORIGIN_CEP: '04538-133',
      SHIPPING_DEFAULT_WEIGHT_GRAMS: '300',
      SHIPPING_DEFAULT_LENGTH_CM: '20',
      SHIPPING_DEFAULT_WIDTH_CM: '15',
      SHIPPING_DEFAULT_HEIGHT_CM: '5',
    });
    product = (
      await t.app.services.catalog.createProduct({
        name: 'Livro de Receitas',
        basePrice: 8990,
        availableQuantity: 50,
      })
    ).id;
  });
  afterAll(async () => {
    await t?.close();
    await me?.close();
  });
  const { request } = api(() => t);

  async function cartTo(cep: string) {
    const created = await request<CartBody>('POST', '/store/carts');
    const token = created.body.sessionToken!;
    const id = created.body.id;
    await request('POST', `/store/carts/${id}/items`, { token, body: { productId: product, quantity: 2 } });
    await request('PUT', `/store/carts/${id}/shipping-address`, { token, body: { ...TYPED_ADDRESS, cep } });
    return { id, token };
  }

  it('sends the origin and destination CEP and the package as documented, serves a second identical quote from the cache, and 503s when it is down', async () => {
    const { id, token } = await cartTo('01310-100');
    const first = await request<{ options: Option[] }>('GET', `/store/carts/${id}/shipping-options`, {
      token,
    });
    expect(first.status).toBe(200);
    expect(first.body.options.map((o) => [o.carrier, o.service, o.price, o.deliveryDays])).toEqual([
      ['Correios', 'PAC', 2345, { min: 5, max: 7 }],
      ['Correios', 'SEDEX', 4107, { min: 1, max: 2 }],
    ]);
    expect(me.requests).toHaveLength(1);
    const sent = me.requests[0]!;
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.accept).toBe('application/json');
    expect(sent.headers['user-agent']).toBeTruthy();
    expect(JSON.parse(sent.body)).toEqual({
      from: { postal_code: '04538133' },
      to: { postal_code: '01310100' },
      products: [
        { id: product, width: 15, height: 5, length: 20, weight: 0.3, insurance_value: 89.9, quantity: 2 },
      ],
      options: { receipt: false, own_hand: false },
    });
    // The same origin, destination and package from another cart: from the cache.
    const again = await cartTo('01310100');
    const cached = await request<{ options: Option[] }>('GET', `/store/carts/${again.id}/shipping-options`, {
      token: again.token,
    });
    expect(cached.body.options.map((o) => o.price)).toEqual([2345, 4107]);
    expect(cached.body.options[0]!.id).not.toBe(first.body.options[0]!.id);
    expect(me.requests).toHaveLength(1);
    // The chosen option checks out at the quoted price.
    await request('PUT', `/store/carts/${id}/shipping-method`, {
      token,
      body: { optionId: first.body.options[0]!.id },
    });
    const placed = await request<OrderBody>('POST', `/store/carts/${id}/checkout`, {
      token,
      body: { buyer: BUYER },
    });
    expect(placed.status).toBe(201);
    expect(placed.body.totals).toEqual({ subtotal: 17980, discount: 0, shipping: 2345, total: 20325 });
    // Down or slow (another destination, not cached): 503 for the freight, nothing else.
    for (const m of ['down', 'slow'] as const) {
      mode = m;
      const other = await cartTo(m === 'down' ? '20040-002' : '30130-010');
      const started = Date.now();
      const refused = await request<Err>('GET', `/store/carts/${other.id}/shipping-options`, {
        token: other.token,
      });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('dependency_unavailable');
      expect(Date.now() - started).toBeLessThan(1500);
      expect((await request('GET', `/store/carts/${other.id}`, { token: other.token })).status).toBe(200);
    }
    mode = 'ok';
  });
});
