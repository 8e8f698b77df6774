/**
 * Search and the product list by option values and variant prices (issue 28, item 4): same-variant
 * matching, AND/OR semantics, facets, SKU search, the outbox-driven sync and the reindex filling the
 * variant fields, malformed filters; and a stock change of one variant seen at once on the product
 * reads and over the WebSocket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestApp, type TestApp } from './app.ts';
import { eventually } from './helpers/eventually.ts';
import { redisUnavailable, TEST_REDIS_URL } from './redis.ts';

interface Facets {
  options: { name: string; values: { value: string; count: number }[] }[];
  price: { min: number; max: number } | null;
  exact: boolean;
}
interface SearchBody {
  items: { id: string; name: string }[];
  total: number;
  facets?: Facets;
}
interface Detail {
  id: string;
  slug: string;
  availableQuantity: number;
  variants: { id: string; sku: string; options: Record<string, string>; availableQuantity: number }[];
}

const skipRedis = await redisUnavailable();
if (skipRedis) console.warn(`skipping the variant stock cache test: ${skipRedis}`);

describe('search and list by option values and variant prices', () => {
  let t: TestApp;
  /** Alfa: P/M x Azul/Preto, all at 4990 but M Azul at 6990. Beta: only P Azul and M Branco, 5990.
   * Gama: G Preto, 3990. Delta: no options, 2990. */
  const ids = { alfa: '', beta: '', gama: '', delta: '' };
  let betaSku = '';

  beforeAll(async () => {
    t = await createTestApp();
    const catalog = t.app.services.catalog;
    const sizesColours = (colours: string[]) => [
      { name: 'Tamanho', values: ['P', 'M'] },
      { name: 'Cor', values: colours },
    ];
    ids.alfa = (
      await catalog.createProduct({
        name: 'Camiseta Teste Alfa',
        basePrice: 4990,
        options: sizesColours(['Azul', 'Preto']),
        variants: [
          { options: { Tamanho: 'P', Cor: 'Azul' } },
          { options: { Tamanho: 'P', Cor: 'Preto' } },
          { options: { Tamanho: 'M', Cor: 'Azul' }, price: 6990 },
          { options: { Tamanho: 'M', Cor: 'Preto' } },
        ],
      })
    ).id;
    const beta = await catalog.createProduct({
      name: 'Camiseta Teste Beta',
      basePrice: 5990,
      options: sizesColours(['Azul', 'Branco']),
      variants: [
        { options: { Tamanho: 'P', Cor: 'Azul' }, sku: 'BETA-P-AZUL' },
        { options: { Tamanho: 'M', Cor: 'Branco' } },
      ],
    });
    ids.beta = beta.id;
    betaSku = beta.variants[0]!.sku;
    ids.gama = (
      await catalog.createProduct({
        name: 'Camiseta Teste Gama',
        basePrice: 3990,
        options: [
          { name: 'Tamanho', values: ['G'] },
          { name: 'Cor', values: ['Preto'] },
        ],
      })
    ).id;
    ids.delta = (await catalog.createProduct({ name: 'Caneca Teste Delta', basePrice: 2990 })).id;
    await t.app.services.search.sync(Object.values(ids));
    await t.app.worker.start();
  });
  afterAll(async () => t?.close());

  const get = async <T>(url: string) => {
    const res = await t.server.inject(url);
    expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    return res.json<T>();
  };
  const search = (qs: string) => get<SearchBody>(`/store/search?${qs}`);
  const found = async (qs: string) => new Set((await search(qs)).items.map((p) => p.id));
  const listed = async (qs: string) =>
    new Set((await get<{ items: { id: string }[] }>(`/store/products?${qs}`)).items.map((p) => p.id));

  it('filters by option value: only products with such a variant', async () => {
    expect(await found('option=Cor:Azul')).toEqual(new Set([ids.alfa, ids.beta]));
    expect(await found('option=Tamanho:G')).toEqual(new Set([ids.gama]));
    expect(await found('option=Cor:Verde')).toEqual(new Set());
    // Spaces around the name and the value do not count; the value is matched as spelt.
    expect(await found('option=%20Cor%20:%20Azul')).toEqual(new Set([ids.alfa, ids.beta]));
    expect(await found('q=camiseta&option=Cor:Branco')).toEqual(new Set([ids.beta]));
  });

  it('ORs the values of one option, ANDs different options, on one and the same variant', async () => {
    expect(await found('option=Cor:Azul&option=Cor:Preto')).toEqual(new Set([ids.alfa, ids.beta, ids.gama]));
    // Beta has a blue variant and an M variant, but no blue M: it is not offered.
    expect(await found('option=Cor:Azul&option=Tamanho:M')).toEqual(new Set([ids.alfa]));
    expect(await found('option=Cor:Azul&option=Cor:Preto&option=Tamanho:M')).toEqual(new Set([ids.alfa]));
    expect(await found('option=Cor:Branco&option=Tamanho:M')).toEqual(new Set([ids.beta]));
    expect(await found('option=Cor:Branco&option=Tamanho:P')).toEqual(new Set());
  });

  it('filters on variant prices: some live variant in range (with the options, the same one)', async () => {
    // Alfa's lowest price is 4990, but its M Azul costs 6990.
    expect(await found('minPrice=6000')).toEqual(new Set([ids.alfa]));
    // Alfa spans 4990..6990 but no variant of it costs 5000..6000; Beta's does.
    expect(await found('minPrice=5000&maxPrice=6000')).toEqual(new Set([ids.beta]));
    expect(await found('maxPrice=3000')).toEqual(new Set([ids.delta]));
    expect(await found('option=Cor:Azul&minPrice=6000')).toEqual(new Set([ids.alfa]));
    // Alfa's black variants cost 4990.
    expect(await found('option=Cor:Preto&minPrice=6000')).toEqual(new Set());
    expect(await found('option=Cor:Preto&maxPrice=4000')).toEqual(new Set([ids.gama]));
  });

  it('counts facets over the result set, each option without its own filter', async () => {
    /** `Name: value=count ...`, one entry per option, as the answer orders them. */
    const brief = (f: Facets) =>
      f.options.map((o) => `${o.name}: ${o.values.map((v) => `${v.value}=${v.count}`).join(' ')}`);
    const all = (await search('facets=true')).facets!;
    expect(brief(all)).toEqual(['Cor: Azul=2 Preto=2 Branco=1', 'Tamanho: M=2 P=2 G=1']);
    expect(all).toMatchObject({ price: { min: 2990, max: 6990 }, exact: true });
    const blue = await search('option=Cor:Azul&facets=true');
    expect(new Set(blue.items.map((p) => p.id))).toEqual(new Set([ids.alfa, ids.beta]));
    // Cor counted as if no colour were chosen (the other colours stay on offer); Tamanho among the
    // blue variants only: P (Alfa, Beta), M (Alfa); the price span of the blue variants.
    expect(brief(blue.facets!)).toEqual(['Cor: Azul=2 Preto=2 Branco=1', 'Tamanho: P=2 M=1']);
    expect(blue.facets).toMatchObject({ price: { min: 4990, max: 6990 }, exact: true });
    // The price filter narrows the option counts, not the price span.
    const dear = (await search('minPrice=6000&facets=true')).facets!;
    expect(dear.options).toEqual([
      { name: 'Cor', values: [{ value: 'Azul', count: 1 }] },
      { name: 'Tamanho', values: [{ value: 'M', count: 1 }] },
    ]);
    expect(dear.price).toEqual({ min: 2990, max: 6990 });
    // Without facets=true the answer carries none.
    expect((await search('option=Cor:Azul')).facets).toBeUndefined();
  });

  it('still finds a product by a SKU typed in the search box', async () => {
    for (const typed of [betaSku, betaSku.toLowerCase()]) {
      const r = await search(`q=${encodeURIComponent(typed)}`);
      expect(r.items[0]?.id).toBe(ids.beta);
    }
  });

  it('filters the product list by option values, on one variant with the price range', async () => {
    expect(await listed('option=Cor:Azul')).toEqual(new Set([ids.alfa, ids.beta]));
    expect(await listed('option=Cor:Azul&option=Tamanho:M')).toEqual(new Set([ids.alfa]));
    expect(await listed('option=Cor:Azul&option=Cor:Preto')).toEqual(new Set([ids.alfa, ids.beta, ids.gama]));
    expect(await listed('option=Cor:Azul&minPrice=6000')).toEqual(new Set([ids.alfa]));
    expect(await listed('option=Cor:Preto&minPrice=6000')).toEqual(new Set());
  });

  it('refuses malformed option filters with 400 invalid_option_filter (too many: invalid_request)', async () => {
    for (const base of ['/store/search', '/store/products']) {
      for (const [qs, code] of [
        ['option=Cor', 'invalid_option_filter'],
        ['option=:Azul', 'invalid_option_filter'],
        ['option=Cor:', 'invalid_option_filter'],
        ['option=Cor:%20', 'invalid_option_filter'],
        [`option=${'N'.repeat(51)}:Azul`, 'invalid_option_filter'],
        [`option=Cor:${'v'.repeat(51)}`, 'invalid_option_filter'],
        [`option=Cor:${'v'.repeat(101)}`, 'invalid_request'],
        [Array.from({ length: 11 }, (_, i) => `option=Cor:V${i}`).join('&'), 'invalid_request'],
      ] as const) {
        const res = await t.server.inject(`${base}?${qs}`);
        expect(res.statusCode, `${base}?${qs}`).toBe(400);
        expect(res.json<{ error: { code: string } }>().error.code, qs).toBe(code);
      }
    }
    expect((await t.server.inject('/store/search?facets=yes')).statusCode).toBe(400);
    // Ten is the bound.
    const ten = Array.from({ length: 10 }, (_, i) => `option=Cor:V${i}`).join('&');
    expect((await t.server.inject(`/store/search?${ten}`)).statusCode).toBe(200);
    expect((await t.server.inject(`/store/products?${ten}`)).statusCode).toBe(200);
  });

  it('follows variant changes through the outbox (repriced, deleted)', async () => {
    const gama = await t.app.services.catalog.getProduct(ids.gama, { fresh: true });
    await t.app.services.catalog.updateVariant(gama.variants[0]!.id, { price: 7990 });
    await eventually(async () => expect(await found('minPrice=7000')).toEqual(new Set([ids.gama])));
    const alfa = await t.app.services.catalog.getProduct(ids.alfa, { fresh: true });
    const mBlue = alfa.variants.find((v) => v.options.Tamanho === 'M' && v.options.Cor === 'Azul')!;
    await t.app.services.catalog.deleteVariant(mBlue.id);
    await eventually(async () => expect(await found('option=Cor:Azul&option=Tamanho:M')).toEqual(new Set()));
    expect(await listed('option=Cor:Azul&option=Tamanho:M')).toEqual(new Set());
    expect(await found('option=Cor:Azul')).toEqual(new Set([ids.alfa, ids.beta]));
  });

  it('fills the variant fields on reindex (documents indexed before them are found again)', async () => {
    // As documents indexed by the previous release are: no variant fields.
    await t.db.pool.query(
      "UPDATE search_documents SET variants = '[]'::jsonb, option_values = '{}', max_price = NULL",
    );
    // A query not asked before (not in the results cache): nothing has the fields yet.
    expect(await found('option=Cor:Azul&size=19')).toEqual(new Set());
    await t.app.services.search.reindex();
    expect(await found('option=Cor:Azul')).toEqual(new Set([ids.alfa, ids.beta]));
    const { rows } = await t.db.pool.query<{ option_values: string[]; max_price: number; variants: unknown }>(
      'SELECT option_values, max_price, variants FROM search_documents WHERE product_id = $1',
      [ids.beta],
    );
    expect(rows[0]).toEqual({
      option_values: ['Cor:Azul', 'Cor:Branco', 'Tamanho:M', 'Tamanho:P'],
      max_price: 5990,
      variants: [
        { p: 5990, o: ['Cor:Azul', 'Tamanho:P'] },
        { p: 5990, o: ['Cor:Branco', 'Tamanho:M'] },
      ],
    });
  });
});

describe.skipIf(skipRedis !== undefined)('a stock change of one variant, through the caches', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ REDIS_URL: TEST_REDIS_URL });
    base = await t.server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => t?.close());

  it('is seen at once on the product read by id and by slug, and over the WebSocket', async () => {
    const created = await t.app.services.catalog.createProduct({
      name: 'Bermuda Sarja',
      basePrice: 8990,
      options: [{ name: 'Tamanho', values: ['P', 'M', 'G'] }],
      variants: [
        { options: { Tamanho: 'P' }, availableQuantity: 4 },
        { options: { Tamanho: 'M' }, availableQuantity: 5 },
        { options: { Tamanho: 'G' }, availableQuantity: 6 },
      ],
    });
    const byId = async () => (await t.server.inject(`/store/products/${created.id}`)).json<Detail>();
    const bySlug = async () =>
      (await t.server.inject(`/store/products/by-slug/${created.slug}`)).json<Detail>();
    // Both reads cached (twice each: the second is a cache hit).
    for (const read of [byId, bySlug, byId, bySlug]) expect((await read()).availableQuantity).toBe(15);

    const ws = new WebSocket(`${base.replace('http', 'ws')}/store/ws`);
    const messages: { channel?: string; availableQuantity?: number; variants?: unknown[] }[] = [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as (typeof messages)[number]));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: [`inventory:${created.id}`] }));
    await eventually(() => expect(messages.length).toBeGreaterThan(0), { timeoutMs: 2000 });

    const m = created.variants.find((v) => v.options.Tamanho === 'M')!;
    const put = await t.server.inject({
      method: 'PUT',
      url: `/admin/inventory/variants/${m.id}`,
      headers: { authorization: `Bearer ${t.adminKey}` },
      payload: { availableQuantity: 1 },
    });
    expect(put.statusCode, put.body).toBe(200);
    // At once: the very next reads, no waiting.
    for (const read of [byId, bySlug]) {
      const p = await read();
      expect(p.availableQuantity).toBe(11);
      expect(Object.fromEntries(p.variants.map((v) => [v.options.Tamanho, v.availableQuantity]))).toEqual({
        P: 4,
        M: 1,
        G: 6,
      });
    }
    const update = await eventually(
      () => {
        const found = messages.find((x) => x.channel === `inventory:${created.id}`);
        expect(found).toBeDefined();
        return found!;
      },
      { timeoutMs: 2000, intervalMs: 10 },
    );
    expect(update).toMatchObject({
      channel: `inventory:${created.id}`,
      availableQuantity: 11,
      variants: [{ variantId: m.id, availableQuantity: 1 }],
    });
    ws.close();
  });
});
