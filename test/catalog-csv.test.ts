import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, parseMoney } from '../src/modules/catalog/catalog-csv.model.ts';
import type { ImportOptions } from '../src/modules/catalog/catalog-import.service.ts';
import { createTestApp, type TestApp } from './app.ts';
import { shopflow } from './helpers/cli.ts';

const HEADER = CSV_COLUMNS.join(',');

/** One row in the export's column order (empty strings for the columns not given). */
function row(v: Partial<Record<(typeof CSV_COLUMNS)[number], string>>): string {
  return CSV_COLUMNS.map((c) => {
    const s = v[c] ?? '';
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }).join(',');
}

/**
 * 3 products x 4 variants (Tamanho x Cor), written exactly as the export writes them: the rows
 * (the header first), so rows[i] is line i + 1 (a row, as a spreadsheet numbers them).
 */
function catalogRows(over: { price?: string; stock?: string } = {}): string[] {
  const rows: string[] = [HEADER];
  const products = [
    { handle: 'camiseta-basica', name: 'Camiseta Básica', category: 'Roupas > Camisetas', base: 49 },
    { handle: 'moletom-canguru', name: 'Moletom Canguru, "Inverno"', category: 'Roupas', base: 189 },
    { handle: 'tenis-corrida', name: 'Tênis Corrida', category: 'Calçados', base: 299 },
  ];
  for (const p of products) {
    let position = 0;
    for (const size of ['P', 'M'])
      for (const colour of ['Azul', 'Preto']) {
        const sku = `${p.handle.slice(0, 3).toUpperCase()}-${size}-${colour.toUpperCase()}`;
        rows.push(
          row({
            handle: p.handle,
            name: p.name,
            description: p.handle === 'camiseta-basica' ? 'Algodão 100%\nmalha fria' : '',
            category: p.category,
            tags: 'algodão|básico',
            option1_name: 'Tamanho',
            option1_value: size,
            option2_name: 'Cor',
            option2_value: colour,
            sku,
            price: position === 0 && over.price && p.base === 49 ? over.price : `${p.base + position}.90`,
            compare_at_price: position === 3 ? `${p.base + 20}.00` : '',
            stock: position === 0 && over.stock && p.base === 49 ? over.stock : String(10 + position),
            gtin: position === 0 ? '7891234567895' : '',
            weight_grams: '300',
            length_cm: position === 1 ? '30.0' : '',
            width_cm: position === 1 ? '20.0' : '',
            height_cm: position === 1 ? '5.5' : '',
            position: String(position),
            images: '',
          }),
        );
        position++;
      }
  }
  return rows;
}

const csv = (rows: string[]) => rows.join('\n') + '\n';
const catalogCsv = (over: { price?: string; stock?: string } = {}) => csv(catalogRows(over));

const options = (o: Partial<ImportOptions> = {}): ImportOptions => ({ dryRun: false, partial: false, ...o });

describe('catalog CSV import and export', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp();
    dir = await mkdtemp(path.join(tmpdir(), 'shopflow-catalog-csv-'));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const files = () => t.app.services.catalogFiles;
  const importText = (text: string, o: Partial<ImportOptions> = {}) =>
    files().import(() => Readable.from([Buffer.from(text)]), options(o));
  const exportText = async (app = t) => {
    let out = '';
    for await (const part of app.app.services.catalogFiles.exportCsv(2)) out += part;
    return out;
  };
  const productCount = async () =>
    (await t.db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM products WHERE deleted_at IS NULL'))
      .rows[0]!.n;

  it('reads money in one format: a dot and at most 2 decimals, exactly to centavos', () => {
    expect(parseMoney('89.90')).toBe(8990);
    expect(parseMoney('0.1')).toBe(10);
    expect(parseMoney('1234')).toBe(123400);
    expect(parseMoney('19.99')).toBe(1999);
    for (const bad of ['89,90', '1.999', '-1.00', 'R$ 5', '1,000.00', '', '.50'])
      expect(parseMoney(bad)).toBeUndefined();
  });

  it('one bad row writes nothing and names its line and field', async () => {
    const lines = catalogRows();
    lines[6] = lines[6]!.replace('190.90', '"190,90"'); // line 7: moletom-canguru's 2nd variant
    const r = await importText(csv(lines));
    expect(r.written).toBe(false);
    expect(r.errors).toEqual([
      { line: 7, field: 'price', reason: 'money is written with a dot: 89.90, not 89,90' },
    ]);
    expect(await productCount()).toBe(0);
    // Unquoted, the comma makes one field more: the row is named, nothing written either.
    lines[6] = lines[6].replace('"190,90"', '190,90');
    expect(await importText(csv(lines))).toMatchObject({
      written: false,
      errors: [{ line: 7, reason: '23 fields where the header has 22 (an unquoted comma?)' }],
    });
    expect(await productCount()).toBe(0);
  });

  it('reports every bad row with its line before writing, and --partial writes the good products', async () => {
    const lines = catalogRows();
    lines[2] = lines[2]!.replace('CAM-P-PRETO', 'CAM-P-AZUL'); // duplicate SKU (line 3)
    lines[8] = lines[8]!.replace('Moletom Canguru', 'Moletom Outro'); // inconsistent name (line 9)
    lines[10] = lines[10]!.replace(',P,', ',,'); // missing option value (line 11)
    const text = csv(lines);
    const dry = await importText(text, { dryRun: true });
    expect(dry.errors.map((e) => [e.line, e.field])).toEqual([
      [3, 'sku'],
      [9, 'name'],
      [11, 'option1_value'],
    ]);
    expect(await productCount()).toBe(0);
    const partial = await importText(text, { partial: true });
    // camiseta-basica (SKU repeated), moletom-canguru (name) and tenis-corrida (option) are all bad.
    expect(partial).toMatchObject({ written: true, productsCreated: 0 });
    const fixed = catalogRows();
    fixed[8] = fixed[8]!.replace('Moletom Canguru', 'Moletom Outro');
    const some = await importText(csv(fixed), { partial: true });
    expect(some).toMatchObject({ written: true, productsCreated: 2, variantsCreated: 8 });
    expect(some.errors).toHaveLength(1);
    const slugs = await t.db.pool.query<{ slug: string }>(
      'SELECT slug FROM products WHERE deleted_at IS NULL ORDER BY slug',
    );
    expect(slugs.rows.map((r) => r.slug)).toEqual(['camiseta-basica', 'tenis-corrida']);
  });

  it('3 products x 4 variants: import, export, import into an empty store, export again: identical', async () => {
    const text = catalogCsv();
    const r = await importText(text);
    expect(r).toMatchObject({ written: true, rows: 12, errors: [] });
    expect(r.productsCreated).toBe(1); // the other two came with the partial import
    const first = await exportText();
    expect(first).toBe(text);
    // Importing the same file again changes nothing.
    expect(await importText(first)).toMatchObject({
      productsCreated: 0,
      productsUpdated: 0,
      variantsCreated: 0,
      variantsUpdated: 0,
    });
    const empty = await createTestApp();
    try {
      const again = await empty.app.services.catalogFiles.import(
        () => Readable.from([Buffer.from(first)]),
        options(),
      );
      expect(again).toMatchObject({ productsCreated: 3, variantsCreated: 12, errors: [] });
      expect(await exportText(empty)).toBe(first);
    } finally {
      await empty.close();
    }
    const product = await t.app.services.catalog.getProductBySlug('camiseta-basica');
    expect(product.options).toEqual([
      { name: 'Tamanho', values: ['P', 'M'] },
      { name: 'Cor', values: ['Azul', 'Preto'] },
    ]);
    expect(product.category?.name).toBe('Camisetas');
    expect(product.variants[1]).toMatchObject({ dimensionsCm: { length: 30, width: 20, height: 5.5 } });
  });

  it('upserts by SKU: price and stock of an existing variant change, through the inventory service', async () => {
    const r = await importText(catalogCsv({ price: '45.00', stock: '3' }));
    expect(r).toMatchObject({
      productsCreated: 0,
      productsUpdated: 1,
      variantsCreated: 0,
      variantsUpdated: 1,
    });
    const product = await t.app.services.catalog.getProductBySlug('camiseta-basica');
    const v = product.variants.find((x) => x.sku === 'CAM-P-AZUL')!;
    expect(v).toMatchObject({ price: 4500, availableQuantity: 3 });
    expect(product.basePrice).toBe(4500);
    const events = await t.db.pool.query<{ event_type: string }>(
      `SELECT event_type FROM outbox WHERE aggregate_id = $1 ORDER BY id DESC LIMIT 2`,
      [product.id],
    );
    expect(events.rows.map((e) => e.event_type).sort()).toEqual(['inventory.changed', 'product.updated']);
  });

  it('a SKU of another product, and a new SKU for a combination already sold, are refused', async () => {
    const lines = catalogRows();
    lines[5] = lines[5]!.replace('MOL-P-AZUL', 'CAM-M-AZUL'); // line 6: moletom takes camiseta's SKU
    lines[9] = lines[9]!.replace('TEN-P-AZUL', 'TEN-NEW'); // line 10: same combination, new SKU
    const r = await importText(csv(lines), { dryRun: true });
    expect(r.errors).toEqual([
      { line: 6, field: 'sku', reason: expect.stringContaining('SKU repeated in the file') as string },
      { line: 10, reason: 'combination already sold by SKU TEN-P-AZUL' },
    ]);
  });

  it('runs through the CLI: dry run, import, export (exit 1 on errors, nothing written)', async () => {
    const env = { DATABASE_URL: t.db.url, SEED_DEMO_PRODUCTS: '0' };
    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, `${HEADER}\n${row({ handle: 'x', name: 'X', sku: 'X-1', price: '1.999' })}\n`);
    const failed = await shopflow(['catalog', 'import', bad], env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('line 2 price: money has at most 2 decimals');
    expect(failed.stdout).toContain('nothing written');
    const good = path.join(dir, 'good.csv');
    await writeFile(
      good,
      `${HEADER}\n${row({ handle: 'caneca', name: 'Caneca', sku: 'CAN-1', price: '29.90', stock: '7', position: '0' })}\n`,
    );
    const dry = await shopflow(['catalog', 'import', good, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: 1 rows, products 1 created 0 updated');
    const done = await shopflow(['catalog', 'import', good], env);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('imported: 1 rows, products 1 created 0 updated, variants 1 created');
    const out = path.join(dir, 'out.csv');
    const exported = await shopflow(['catalog', 'export', '--output', out], env);
    expect(exported.code, exported.stderr).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(await exportText());
    expect(await readFile(out, 'utf8')).toContain('caneca,Caneca,,,,,,,,,,CAN-1,29.90,,7,');
  }, 120_000);

  it('HTTP: streamed export, import dry run and import, errors, limits and scopes', async () => {
    const exp = await t.server.inject({
      method: 'GET',
      url: '/admin/products/export',
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(exp.statusCode).toBe(200);
    expect(exp.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(exp.headers['content-disposition']).toBe('attachment; filename="catalog.csv"');
    expect(exp.body).toBe(await exportText());
    const post = (body: string | Buffer, query = '', key: string | null = t.adminKey, type = 'text/csv') =>
      t.server.inject({
        method: 'POST',
        url: `/admin/products/import${query}`,
        headers: { 'content-type': type, ...(key ? { authorization: `Bearer ${key}` } : {}) },
        payload: body,
      });
    const dry = await post(exp.body.replace('45.00', '44.00'), '?dryRun=true');
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({
      dryRun: true,
      written: false,
      variantsUpdated: 1,
      errors: [],
      errorsOmitted: 0,
    });
    expect((await t.app.services.catalog.getProductBySlug('camiseta-basica')).basePrice).toBe(4500);
    const bad = await post(exp.body.replace('45.00', '"45,00"'));
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      error: {
        code: 'import_invalid',
        details: { errors: [{ field: 'price', reason: expect.any(String) as string }] },
      },
    });
    const ok = await post(exp.body.replace('45.00', '44.00'), '?dryRun=false&partial=false');
    expect(ok.statusCode).toBe(200);
    expect((await t.app.services.catalog.getProductBySlug('camiseta-basica')).basePrice).toBe(4400);
    expect((await post('x', '?dryRun=maybe')).statusCode).toBe(400);
    expect((await post('{}', '', t.adminKey, 'application/json')).statusCode).toBe(415);
    expect((await post(Buffer.alloc(21 * 1024 * 1024, 'a'))).statusCode).toBe(413);
    expect((await post(exp.body, '', null)).statusCode).toBe(401);
    const { key } = await t.app.services.adminKeys.create({ name: 'orders-only', scopes: ['orders'] });
    expect((await post(exp.body, '', key)).statusCode).toBe(403);
    const noScope = await t.server.inject({
      method: 'GET',
      url: '/admin/products/export',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(noScope.statusCode).toBe(403);
    expect((await t.server.inject({ method: 'GET', url: '/admin/products/export' })).statusCode).toBe(401);
  });
});
