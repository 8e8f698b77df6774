/**
 * Editing a product's options after it exists (PUT /admin/products/:id/options, issue 28): add a
 * value, rename values and options, reorder, remove a value (409 option_value_in_use while a live
 * variant uses it), add an option (existing variants get its default value), remove one (409
 * duplicate when two live variants would collide); the product page (cached) and the search index
 * follow (on a second instance sharing the Redis cache too), placed orders keep what they sold, and
 * the audit log names what changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from './app.ts';
import { eventually } from './helpers/eventually.ts';
import { redisUnavailable, TEST_REDIS_URL } from './redis.ts';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/platform/logger.ts';

const skipRedis = await redisUnavailable();
if (skipRedis) console.warn(`skipping the cache test across instances: ${skipRedis}`);

interface Variant {
  id: string;
  sku: string;
  options: Record<string, string>;
}
interface ProductBody {
  id: string;
  options: { name: string; values: string[] }[];
  variants: Variant[];
}
interface ErrorBody {
  error: { code: string; details?: Record<string, unknown> };
}

describe('editing the options of a product', () => {
  let t: TestApp;
  beforeAll(async () => {
    // The product cache on Redis, as deployed (without Redis it is in process only).
    t = await createTestApp(skipRedis ? {} : { REDIS_URL: TEST_REDIS_URL });
    await t.app.worker.start();
  });
  afterAll(async () => t?.close());

  const call = async <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await t.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${t.adminKey}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, body: (res.body ? res.json() : undefined) as T };
  };
  /** A guest order of one line; 201 expected. */
  const placeOrder = async (line: object) => {
    const res = await t.server.inject({
      method: 'POST',
      url: '/store/orders',
      headers: { 'idempotency-key': randomUUID() },
      payload: { items: [line] },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>();
  };
  const putOptions = (id: string, options: unknown[]) =>
    call<ProductBody & ErrorBody>('PUT', `/admin/products/${id}/options`, { options });
  /** A product in P and M (Tamanho): two variants, no other option. */
  const camiseta = async (name: string) => {
    const created = await call<ProductBody>('POST', '/admin/products', {
      name,
      basePrice: 4990,
      options: [{ name: 'Tamanho', values: ['P', 'M'] }],
    });
    expect(created.status).toBe(201);
    return created.body;
  };
  const sizes = (p: ProductBody) => p.variants.map((v) => v.options.Tamanho).sort();

  it('adds a value, then a variant with it; reorders values; renames a value and the option', async () => {
    const p = await camiseta('Camiseta Opções Um');
    const skus = p.variants.map((v) => v.sku).sort();
    const added = await putOptions(p.id, [{ name: 'Tamanho', values: ['P', 'M', 'XG'] }]);
    expect(added.status).toBe(200);
    expect(added.body.options).toEqual([{ name: 'Tamanho', values: ['P', 'M', 'XG'] }]);
    const xg = await call<ProductBody>('POST', `/admin/products/${p.id}/variants`, {
      options: { Tamanho: 'XG' },
    });
    expect(xg.status).toBe(201);
    expect(sizes(xg.body)).toEqual(['M', 'P', 'XG']);

    const reordered = await putOptions(p.id, [{ name: 'Tamanho', values: ['XG', 'M', 'P'] }]);
    expect(reordered.body.options[0]!.values).toEqual(['XG', 'M', 'P']);

    // P and M swap names, XG becomes GG, the option becomes Size: every variant follows.
    const renamed = await putOptions(p.id, [
      {
        name: 'Size',
        renamedFrom: 'Tamanho',
        values: ['GG', 'P', 'M'],
        renamedValues: [
          { from: 'XG', to: 'GG' },
          { from: 'P', to: 'M' },
          { from: 'M', to: 'P' },
        ],
      },
    ]);
    expect(renamed.status, JSON.stringify(renamed.body)).toBe(200);
    expect(renamed.body.options).toEqual([{ name: 'Size', values: ['GG', 'P', 'M'] }]);
    const before = new Map(xg.body.variants.map((v) => [v.id, v.options.Tamanho]));
    const swap: Record<string, string> = { P: 'M', M: 'P', XG: 'GG' };
    for (const v of renamed.body.variants) expect(v.options).toEqual({ Size: swap[before.get(v.id)!] });
    // SKUs are identities: they stay.
    expect(renamed.body.variants.filter((v) => skus.includes(v.sku))).toHaveLength(2);
  });

  it('refuses to remove a value a live variant uses (409 option_value_in_use naming it), then removes it', async () => {
    const p = await camiseta('Camiseta Opções Dois');
    const refused = await putOptions(p.id, [{ name: 'Tamanho', values: ['P'] }]);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('option_value_in_use');
    const m = p.variants.find((v) => v.options.Tamanho === 'M')!;
    expect(refused.body.error.details).toEqual({
      values: [{ option: 'Tamanho', value: 'M', variantIds: [m.id] }],
    });
    expect((await call('DELETE', `/admin/variants/${m.id}`)).status).toBe(204);
    const removed = await putOptions(p.id, [{ name: 'Tamanho', values: ['P'] }]);
    expect(removed.status).toBe(200);
    expect(removed.body.options).toEqual([{ name: 'Tamanho', values: ['P'] }]);
  });

  it('adds an option (live variants get its default value) and removes one unless variants collide', async () => {
    const p = await camiseta('Camiseta Opções Três');
    const withColour = await putOptions(p.id, [
      { name: 'Tamanho', values: ['P', 'M'] },
      { name: 'Cor', values: ['Azul', 'Preto'], defaultValue: 'Azul' },
    ]);
    expect(withColour.status).toBe(200);
    expect(withColour.body.variants.map((v) => v.options.Cor)).toEqual(['Azul', 'Azul']);
    const black = await call<ProductBody>('POST', `/admin/products/${p.id}/variants`, {
      options: { Tamanho: 'P', Cor: 'Preto' },
    });
    expect(black.status).toBe(201);

    // Without Cor, P Azul and P Preto would be one and the same: 409 duplicate naming the option.
    const collide = await putOptions(p.id, [{ name: 'Tamanho', values: ['P', 'M'] }]);
    expect(collide.status).toBe(409);
    expect(collide.body.error.code).toBe('duplicate');
    expect(collide.body.error.details).toMatchObject({ field: 'options', removedOptions: ['Cor'] });
    // Without Tamanho, P Azul and M Azul collide too; once P Preto is gone, Cor alone may go.
    const pBlack = black.body.variants.find((v) => v.options.Cor === 'Preto')!;
    expect((await call('DELETE', `/admin/variants/${pBlack.id}`)).status).toBe(204);
    const without = await putOptions(p.id, [{ name: 'Tamanho', values: ['P', 'M'] }]);
    expect(without.status).toBe(200);
    expect(without.body.variants.map((v) => v.options)).toEqual([{ Tamanho: 'P' }, { Tamanho: 'M' }]);

    // Down to one variant, the last option may go too: a product without options, sold by its id.
    expect((await putOptions(p.id, [])).status).toBe(409);
    const m = without.body.variants.find((v) => v.options.Tamanho === 'M')!;
    expect((await call('DELETE', `/admin/variants/${m.id}`)).status).toBe(204);
    const plain = await putOptions(p.id, []);
    expect(plain.status).toBe(200);
    expect(plain.body.options).toEqual([]);
    expect(plain.body.variants.map((v) => v.options)).toEqual([{}]);
    expect((await call('PUT', `/admin/inventory/${p.id}`, { availableQuantity: 2 })).status).toBe(200);
    await placeOrder({ productId: p.id, quantity: 1 });
  });

  it('serialises with adding a variant: a removed value and a variant of it never both land', async () => {
    for (let round = 0; round < 8; round++) {
      const p = await camiseta(`Camiseta Opções Corrida ${round}`);
      const m = p.variants.find((v) => v.options.Tamanho === 'M')!;
      await call('DELETE', `/admin/variants/${m.id}`);
      const [removed, added] = await Promise.all([
        putOptions(p.id, [{ name: 'Tamanho', values: ['P'] }]),
        call<ErrorBody>('POST', `/admin/products/${p.id}/variants`, { options: { Tamanho: 'M' } }),
      ]);
      // One of them wins; the other is refused for what the winner did.
      if (removed.status === 200) expect(added.status).toBe(400);
      else {
        expect(added.status).toBe(201);
        expect(removed.status).toBe(409);
        expect(removed.body.error.code).toBe('option_value_in_use');
      }
      const now = (await call<ProductBody>('GET', `/store/products/${p.id}`)).body;
      for (const v of now.variants) expect(now.options[0]!.values).toContain(v.options.Tamanho);
    }
  });

  it('renames a value on a product with 250 variants (the most it may have)', async () => {
    const created = await call<ProductBody>('POST', '/admin/products', {
      name: 'Camiseta Opções Grande',
      basePrice: 4990,
      options: [
        { name: 'Tamanho', values: Array.from({ length: 10 }, (_, i) => `T${i}`) },
        { name: 'Cor', values: Array.from({ length: 5 }, (_, i) => `C${i}`) },
        { name: 'Estampa', values: Array.from({ length: 5 }, (_, i) => `E${i}`) },
      ],
    });
    expect(created.body.variants).toHaveLength(250);
    const renamed = await putOptions(created.body.id, [
      { name: 'Estampa', values: ['E0', 'E1', 'E2', 'E3', 'E4'] },
      { name: 'Tamanho', values: created.body.options[0]!.values },
      {
        name: 'Cor',
        values: ['Vermelho', 'C1', 'C2', 'C3', 'C4'],
        renamedValues: [{ from: 'C0', to: 'Vermelho' }],
      },
    ]);
    expect(renamed.status).toBe(200);
    expect(renamed.body.options.map((o) => o.name)).toEqual(['Estampa', 'Tamanho', 'Cor']);
    expect(renamed.body.variants.filter((v) => v.options.Cor === 'Vermelho')).toHaveLength(50);
    expect(renamed.body.variants.filter((v) => v.options.Cor === 'C0')).toHaveLength(0);
  });

  it('validates the body: 400 for renames and defaults that do not fit, limits, 404 for no product', async () => {
    const p = await camiseta('Camiseta Opções Quatro');
    for (const options of [
      [
        { name: 'Cor', values: ['Azul'] },
        { name: 'Tamanho', values: ['P', 'M'] },
      ], // new option, no default
      [{ name: 'Tamanho', values: ['P', 'M'], defaultValue: 'P' }], // default on an existing option
      [{ name: 'Size', renamedFrom: 'Peso', values: ['P', 'M'] }], // no such option
      [{ name: 'Tamanho', values: ['P', 'G'], renamedValues: [{ from: 'X', to: 'G' }] }],
      [{ name: 'Tamanho', values: ['P'], renamedValues: [{ from: 'M', to: 'P' }] }], // a merge
      [{ name: 'Tamanho', values: ['P', 'p'] }], // values unique case-insensitively
      [{ name: 'Tamanho', values: [] }],
      [{ name: 'Tamanho', values: Array.from({ length: 101 }, (_, i) => `V${i}`) }],
      ['A', 'B', 'C', 'D'].map((name) => ({ name, values: ['x'], defaultValue: 'x' })),
      [{ name: 'x'.repeat(51), values: ['P'], defaultValue: 'P' }],
      [{ name: 'Tamanho', values: ['P', 'M'], extra: true }],
    ]) {
      const res = await putOptions(p.id, options);
      expect(res.status, JSON.stringify(options).slice(0, 200)).toBe(400);
    }
    expect((await putOptions('00000000-0000-4000-8000-000000000000', [])).status).toBe(404);
    expect((await putOptions('not-a-uuid', [])).status).toBe(404);
    // Nothing changed.
    const now = await call<ProductBody>('GET', `/store/products/${p.id}`);
    expect(now.body.options).toEqual([{ name: 'Tamanho', values: ['P', 'M'] }]);
  });

  it('shows the change on the cached product page, in search by the new name, on the audit log; orders keep theirs', async () => {
    const created = await call<ProductBody>('POST', '/admin/products', {
      name: 'Moletom Opções Cinco',
      basePrice: 9990,
      options: [
        { name: 'Tamanho', values: ['P'] },
        { name: 'Color', values: ['Blue', 'Black'] },
      ],
    });
    const p = created.body;
    await t.app.services.search.sync([p.id]);
    const blue = p.variants.find((v) => v.options.Color === 'Blue')!;
    expect((await call('PUT', `/admin/inventory/variants/${blue.id}`, { availableQuantity: 3 })).status).toBe(
      200,
    );
    const order = await placeOrder({ variantId: blue.id, quantity: 1 });
    // Read twice: the second answer is the cache's.
    await call('GET', `/store/products/${p.id}`);
    expect((await call<ProductBody>('GET', `/store/products/${p.id}`)).body.options[1]!.name).toBe('Color');
    const found = async (qs: string) =>
      (await call<{ items: { id: string }[] }>('GET', `/store/search?${qs}`)).body.items.map((i) => i.id);
    expect(await found('option=Color:Blue')).toEqual([p.id]);

    const renamed = await putOptions(p.id, [
      { name: 'Tamanho', values: ['P'] },
      {
        name: 'Cor',
        renamedFrom: 'Color',
        values: ['Azul', 'Preto'],
        renamedValues: [
          { from: 'Blue', to: 'Azul' },
          { from: 'Black', to: 'Preto' },
        ],
      },
    ]);
    expect(renamed.status).toBe(200);
    const page = await call<ProductBody>('GET', `/store/products/${p.id}`);
    expect(page.body.options).toEqual([
      { name: 'Tamanho', values: ['P'] },
      { name: 'Cor', values: ['Azul', 'Preto'] },
    ]);
    expect(page.body.variants.find((v) => v.id === blue.id)!.options).toEqual({ Tamanho: 'P', Cor: 'Azul' });
    const listed = await call<{ items: { id: string }[] }>('GET', '/store/products?option=Cor:Azul');
    expect(listed.body.items.map((i) => i.id)).toContain(p.id);
    await eventually(async () => expect(await found('option=Cor:Azul')).toEqual([p.id]));
    expect(await found('option=Color:Blue')).toEqual([]);

    const placed = await call<{ items: { options: Record<string, string> }[] }>(
      'GET',
      `/admin/orders/${order.id}`,
    );
    expect(placed.body.items[0]!.options).toEqual({ Tamanho: 'P', Color: 'Blue' });
    await eventually(async () => {
      const audit = await call<{ items: { action: string; details: Record<string, unknown> }[] }>(
        'GET',
        `/admin/audit?targetId=${p.id}&action=${encodeURIComponent('PUT /admin/products/:id/options')}`,
      );
      expect(audit.body.items[0]).toMatchObject({
        action: 'PUT /admin/products/:id/options',
        details: { renamed: [{ from: 'Color', to: 'Cor' }] },
      });
    });
  });
  it.skipIf(skipRedis !== undefined)(
    'a second instance sharing the cache serves the new options (its near copy evicted by the change)',
    async () => {
      const other: App = await createApp(
        loadConfig({
          DATABASE_URL: t.db.url,
          REDIS_URL: TEST_REDIS_URL,
          REDIS_KEY_PREFIX: t.redisPrefix, // the same keys and channels as the test app
          LOG_LEVEL: 'silent',
        }),
        { logger: createLogger('silent') },
      );
      try {
        const server = await other.buildServer();
        await server.ready();
        const readThere = async (id: string) =>
          (await server.inject(`/store/products/${id}`)).json<ProductBody>().options;
        const p = await camiseta('Camiseta Opções Seis');
        // Cached on both instances (Redis and each one's near cache).
        expect(await readThere(p.id)).toEqual([{ name: 'Tamanho', values: ['P', 'M'] }]);
        await call('GET', `/store/products/${p.id}`);
        const renamed = await putOptions(p.id, [
          {
            name: 'Size',
            renamedFrom: 'Tamanho',
            values: ['S', 'M'],
            renamedValues: [{ from: 'P', to: 'S' }],
          },
        ]);
        expect(renamed.status).toBe(200);
        await eventually(async () =>
          expect(await readThere(p.id)).toEqual([{ name: 'Size', values: ['S', 'M'] }]),
        );
        await server.close();
      } finally {
        await other.close();
      }
    },
  );
});
