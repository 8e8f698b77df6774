/**
 * The console's product editor with options and the variant grid, and its promotions page, in
 * Chromium against a real ShopFlow: a product with 2 options (3 x 2) shows 6 rows, a bulk price
 * and stock edit is saved variant by variant and read back through the API, a duplicate SKU is
 * refused on its row; the options are edited (a value in use refused, a value renamed and one
 * added); a promotion is created, 5 codes generated, listed and downloaded as CSV,
 * a redemption appears with its customer, the window is typed in the store's time zone.
 */
import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction } from '../../src/platform/db/transaction.ts';
import { skipUnless } from '../helpers/services.ts';
import { browserSkip, POLL, startConsole, type ConsoleUnderTest } from './browser.ts';

skipUnless(browserSkip);

interface Variant {
  id: string;
  sku: string;
  options: Record<string, string>;
  price: number;
  availableQuantity: number;
}

describe.skipIf(browserSkip !== undefined)('console: variant grid and promotions (Chromium)', () => {
  let c: ConsoleUnderTest;
  beforeAll(async () => {
    c = await startConsole();
  });
  afterAll(async () => {
    await c?.close();
  });
  const variantsOf = async (id: string) =>
    (await c.api<{ variants: Variant[] }>('GET', `/store/products/${id}`)).body.variants;
  const grid = () => c.page.getByRole('table', { name: 'Variantes' });

  let productId = '';
  it('creates a product with 2 options: one grid row per combination', async () => {
    const { page } = c;
    await page.getByRole('link', { name: 'Produtos', exact: true }).click();
    await page.getByRole('link', { name: 'Novo produto' }).click();
    await page.getByRole('heading', { name: 'Novo produto' }).waitFor();
    await page.getByLabel('Nome', { exact: true }).fill('Camiseta Básica');
    await page.getByLabel('Preço (R$)').fill('59,90');
    await page.getByRole('button', { name: 'Adicionar opção' }).click();
    await page.getByLabel('Opção 1', { exact: true }).fill('Tamanho');
    await page.getByLabel('Valores da opção 1').fill('P, M, G');
    await page.getByRole('button', { name: 'Adicionar opção' }).click();
    await page.getByLabel('Opção 2', { exact: true }).fill('Cor');
    // A value typed twice: the API's refusal is shown (its field is no field of the form).
    await page.getByLabel('Valores da opção 2').fill('Azul, azul');
    await page.getByRole('button', { name: 'Criar' }).click();
    await page.getByRole('alert').filter({ hasText: 'Option values must be unique' }).waitFor();
    await page.getByLabel('Valores da opção 2').fill('Azul, Preto');
    await page.getByText('6 variantes serão criadas.').waitFor();
    // With options the stock is per variant, set in the grid.
    expect(await page.getByLabel('Estoque inicial').count()).toBe(0);
    await page.getByRole('button', { name: 'Criar' }).click();
    await page.waitForURL(/\/console\/products\/[0-9a-f-]{36}$/);
    productId = page.url().split('/').pop()!;
    await expect.poll(() => grid().locator('tbody tr').count(), POLL).toBe(6);
    expect(await grid().locator('tbody th').allTextContents()).toEqual([
      'P / Azul',
      'P / Preto',
      'M / Azul',
      'M / Preto',
      'G / Azul',
      'G / Preto',
    ]);
    expect(await page.getByLabel('Preço (R$) M / Preto', { exact: true }).inputValue()).toBe('59,90');
  });

  it('bulk-edits the price and adds stock to the selected rows, saves, and the API has them', async () => {
    const { page } = c;
    await page.getByLabel('Selecionar todas as variantes').check();
    const bulk = page.getByRole('form', { name: 'Alterar as linhas selecionadas' });
    await bulk.getByLabel('Valor').fill('64,90');
    await bulk.getByRole('button', { name: 'Aplicar às selecionadas' }).click();
    await bulk.getByLabel('Coluna').selectOption({ label: 'Estoque' });
    await bulk.getByLabel('Operação').selectOption('add');
    await bulk.getByLabel('Valor').fill('7');
    await bulk.getByRole('button', { name: 'Aplicar às selecionadas' }).click();
    expect(await page.getByLabel('Preço (R$) G / Azul', { exact: true }).inputValue()).toBe('64,90');
    expect(await page.getByLabel('Estoque G / Azul', { exact: true }).inputValue()).toBe('7');
    // One row edited by hand on top: a compare-at price (R$ 79,90 -> 7990 centavos) and a GTIN.
    await page.getByLabel('Preço "de" (R$) P / Azul', { exact: true }).fill('79,90');
    await page.getByLabel('GTIN/EAN P / Azul', { exact: true }).fill('7891234567895');
    await page.getByRole('button', { name: 'Salvar variantes (6 alteradas)' }).click();
    await page.getByText('6 variantes salvas.').waitFor();
    const variants = await variantsOf(productId);
    expect(variants.map((v) => [v.price, v.availableQuantity])).toEqual(Array(6).fill([6490, 7]));
    expect(variants.find((v) => v.options.Tamanho === 'P' && v.options.Cor === 'Azul')).toMatchObject({
      compareAtPrice: 7990,
      gtin: '7891234567895',
    });
    await c.shot('product-variants');
  });

  it('shows the API refusal of a duplicate SKU on its row, and saves a stock adjustment', async () => {
    const { page } = c;
    const before = await variantsOf(productId);
    const pAzul = before.find((v) => v.options.Tamanho === 'P' && v.options.Cor === 'Azul')!;
    const pPreto = before.find((v) => v.options.Tamanho === 'P' && v.options.Cor === 'Preto')!;
    await page.getByLabel('SKU P / Preto', { exact: true }).fill(pAzul.sku);
    await page.getByLabel('Estoque M / Azul', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Salvar variantes (2 alteradas)' }).click();
    await page.getByText('1 variantes salvas.').waitFor();
    const rowAlert = grid()
      .getByRole('row', { name: /P \/ Preto/ })
      .getByRole('alert');
    expect(await rowAlert.textContent()).toMatch(/^sku: /);
    // The refused row keeps what was typed; the API kept its SKU; the other row was saved.
    expect(await page.getByLabel('SKU P / Preto', { exact: true }).inputValue()).toBe(pAzul.sku);
    const after = await variantsOf(productId);
    expect(after.find((v) => v.id === pPreto.id)!.sku).toBe(pPreto.sku);
    expect(after.find((v) => v.options.Tamanho === 'M' && v.options.Cor === 'Azul')!.availableQuantity).toBe(
      3,
    );
    await page.getByRole('button', { name: 'Descartar alterações' }).click();
    expect(await page.getByLabel('SKU P / Preto', { exact: true }).inputValue()).toBe(pPreto.sku);
  });

  it('removes a variant (soft delete) and adds it back with its own SKU', async () => {
    const { page } = c;
    await grid()
      .getByRole('row', { name: /G \/ Preto/ })
      .getByRole('button', { name: 'Excluir' })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirmar' }).click();
    await expect.poll(() => grid().locator('tbody tr').count(), POLL).toBe(5);
    expect((await variantsOf(productId)).length).toBe(5);
    const add = page.getByRole('form', { name: 'Adicionar variante' });
    await add.getByLabel('Tamanho').selectOption('G');
    await add.getByLabel('Cor').selectOption('Preto');
    await add.getByLabel('SKU').fill('CAM-G-PRETO');
    await add.getByLabel('Preço (R$)').fill('69,90');
    await add.getByLabel('Estoque').fill('4');
    await add.getByRole('button', { name: 'Adicionar variante' }).click();
    await expect.poll(() => grid().locator('tbody tr').count(), POLL).toBe(6);
    expect((await variantsOf(productId)).find((v) => v.sku === 'CAM-G-PRETO')).toMatchObject({
      options: { Tamanho: 'G', Cor: 'Preto' },
      price: 6990,
      availableQuantity: 4,
    });
  });

  it('edits the options: a removal a variant needs is refused on the page; a rename and a new value are saved', async () => {
    const { page } = c;
    await page.getByRole('button', { name: 'Editar opções' }).click();
    const form = page.getByRole('form', { name: 'Editar opções' });
    await form.getByRole('button', { name: 'Remover valor Preto' }).click();
    await form.getByRole('button', { name: 'Salvar opções' }).click();
    await form.getByRole('alert').filter({ hasText: 'option_value_in_use' }).waitFor();
    expect(await form.getByRole('alert').textContent()).toContain('Cor: Preto');
    await form.getByRole('button', { name: 'Cancelar' }).click();

    await page.getByRole('button', { name: 'Editar opções' }).click();
    await form.getByLabel('Valor 3 da opção 1', { exact: true }).fill('GG');
    await form.getByRole('button', { name: 'Adicionar valor à opção 1' }).click();
    await form.getByLabel('Valor 4 da opção 1', { exact: true }).fill('XG');
    await c.shot('product-options-form');
    await form.getByRole('button', { name: 'Salvar opções' }).click();
    await expect.poll(() => grid().locator('tbody th').allTextContents(), POLL).toContain('GG / Preto');
    const product = await c.api<{ options: { name: string; values: string[] }[]; variants: Variant[] }>(
      'GET',
      `/store/products/${productId}`,
    );
    expect(product.body.options).toEqual([
      { name: 'Tamanho', values: ['P', 'M', 'GG', 'XG'] },
      { name: 'Cor', values: ['Azul', 'Preto'] },
    ]);
    expect(product.body.variants.find((v) => v.sku === 'CAM-G-PRETO')!.options).toEqual({
      Tamanho: 'GG',
      Cor: 'Preto',
    });
    // The form to add a variant offers the new value.
    const add = page.getByRole('form', { name: 'Adicionar variante' });
    await add.getByLabel('Tamanho').selectOption('XG');
    await c.shot('product-options-edit');
  });

  let promotionId = '';
  it('creates a promotion with single-use codes, generates 5, lists them and downloads the CSV', async () => {
    const { page } = c;
    await page.getByRole('link', { name: 'Promoções', exact: true }).click();
    await page.getByRole('heading', { name: 'Promoções' }).waitFor();
    await page.getByRole('link', { name: 'Nova promoção' }).click();
    await page.getByLabel('Nome', { exact: true }).fill('Black Friday');
    await page.getByLabel('Desconto percentual (1 a 100)').fill('20');
    await page.getByLabel('Como se aplica').selectOption('codes');
    // Only the camiseta: found by name and added (Enter searches, it does not submit the form).
    await page.getByLabel('Encontrar um produto para adicionar').fill('camiseta');
    await page.getByLabel('Encontrar um produto para adicionar').press('Enter');
    await page
      .getByRole('list', { name: 'Encontrar um produto para adicionar' })
      .getByRole('listitem')
      .filter({ hasText: 'Camiseta Básica' })
      .getByRole('button', { name: 'Adicionar' })
      .click();
    expect(await page.getByLabel('Ids de produtos').inputValue()).toBe(productId);
    await page.getByLabel('Subtotal mínimo (R$)').fill('99,90');
    await page.getByLabel('Usos no total (vazio: sem limite)').fill('100');
    await page.getByLabel('Acumula com outras promoções').check();
    await page.getByRole('button', { name: 'Criar' }).click();
    await page.waitForURL(/\/console\/promotions\/[0-9a-f-]{36}$/);
    promotionId = page.url().split('/').pop()!;
    const created = await c.api<Record<string, unknown>>('GET', `/admin/promotions/${promotionId}`);
    expect(created.body).toMatchObject({
      name: 'Black Friday',
      kind: 'percentage',
      value: 20,
      code: null,
      automatic: false,
      minSubtotal: 9990,
      appliesTo: { productIds: [productId] },
      usageLimit: 100,
      combinable: true,
    });

    const gen = page.getByRole('form', { name: 'Gerar cupons' });
    await gen.getByLabel('Quantos').fill('5');
    await gen.getByLabel('Prefixo').fill('BF');
    await gen.getByRole('button', { name: 'Gerar cupons' }).click();
    await page.getByText('5 cupons gerados.').waitFor();
    const codesTable = page.getByRole('table', { name: 'Cupons de uso único' });
    await expect.poll(() => codesTable.locator('tbody tr').count(), POLL).toBe(5);
    const shown = (await codesTable.locator('tbody code').allTextContents()).sort();
    const listed = await c.api<{ items: { code: string }[] }>(
      'GET',
      `/admin/promotions/${promotionId}/codes?limit=100`,
    );
    expect(shown).toEqual(listed.body.items.map((x) => x.code).sort());
    for (const code of shown) expect(code).toMatch(/^BF-[2-9A-HJKMNP-Z]{10}$/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Baixar cupons (CSV)' }).click(),
    ]);
    const csv = (await readFile(await download.path(), 'utf8')).trim().split(/\r?\n/);
    expect(csv[0]).toBe('code,redeemed,order_id,created_at');
    expect(
      csv
        .slice(1)
        .map((l) => l.split(',')[0])
        .sort(),
    ).toEqual(shown);
    await c.shot('promotion');
  });

  it("lists a promotion's redemptions with order, customer and amount", async () => {
    const { page, t } = c;
    const promotions = t.app.services.promotions;
    const code = (
      await c.api<{ items: { code: string }[] }>('GET', `/admin/promotions/${promotionId}/codes?limit=1`)
    ).body.items[0]!.code;
    const customerId = randomUUID();
    const orderId = randomUUID();
    // The redemption as checkout writes it in the order's transaction (R$ 200,00 at 20 %).
    const pricing = await promotions.quote({
      lines: [{ key: '0', productId, unitPrice: 20000, quantity: 1 }],
      shipping: 0,
      codes: [code.toLowerCase()],
      buyer: { customerId },
    });
    expect(pricing.discounts.map((d) => d.amount)).toEqual([4000]);
    await withTransaction(t.app.db.primary, (tx) =>
      promotions.redeem(tx, { orderId, buyer: { customerId }, pricing }),
    );
    await page.reload();
    const row = page.getByRole('table', { name: 'Usos' }).locator('tbody tr');
    await expect.poll(() => row.count(), POLL).toBe(1);
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(1, 5)).toEqual([orderId.slice(0, 8), customerId.slice(0, 8), code, 'R$\u00a040,00']);
    await page.getByRole('heading', { name: 'Usos (1)' }).waitFor();
  });

  it('edits the window in the store time zone (scheduled in the list), then deletes the promotion', async () => {
    const { page } = c;
    // A shared code another promotion holds: the API's 409 shown next to the code field.
    expect(
      (
        await c.api('POST', '/admin/promotions', {
          name: 'Natal',
          code: 'NATAL10',
          kind: 'fixed',
          value: 1000,
        })
      ).status,
    ).toBe(201);
    await page.getByLabel('Como se aplica').selectOption('code');
    await page.getByLabel('Cupom', { exact: true }).fill('natal10');
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('already used by a promotion').waitFor();
    await page.getByLabel('Como se aplica').selectOption('codes');
    await page.getByLabel('Começa em').fill('2030-01-01T10:00');
    await page.getByRole('button', { name: 'Salvar' }).click();
    await page.getByText('Promoção salva.').waitFor();
    const saved = await c.api<{ startsAt: string }>('GET', `/admin/promotions/${promotionId}`);
    // 10:00 in São Paulo (UTC-3) is 13:00 UTC.
    expect(saved.body.startsAt).toBe('2030-01-01T13:00:00.000Z');
    await page.getByRole('link', { name: '← Promoções' }).click();
    await expect
      .poll(() => page.getByTestId(`promotion-status-${promotionId}`).textContent(), POLL)
      .toBe('agendada');
    await c.shot('promotions');
    await page
      .getByRole('row', { name: /Black Friday/ })
      .getByRole('button', { name: 'Excluir' })
      .click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirmar' }).click();
    await page.getByRole('link', { name: 'Black Friday' }).waitFor({ state: 'detached' });
    expect((await c.api('GET', `/admin/promotions/${promotionId}`)).status).toBe(404);
  });

  it('shows stock read-only to a key without the inventory scope', async () => {
    const { page } = c;
    const other = await c.api<{ key: string }>('POST', '/admin/api-keys', {
      name: 'catalog-only',
      scopes: ['catalog'],
    });
    expect(other.status).toBe(201);
    await page.evaluate(
      (key) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem('shopflow.adminKey', key),
      other.body.key,
    );
    await page.goto(`${c.base}/console/products/${productId}`);
    await expect.poll(() => grid().locator('tbody tr').count(), POLL).toBe(6);
    expect(await page.getByLabel('Preço (R$) P / Azul', { exact: true }).count()).toBe(1);
    expect(await page.getByLabel('Estoque P / Azul', { exact: true }).count()).toBe(0);
    const nav = page.getByRole('navigation', { name: 'main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Painel',
      'Produtos',
      'Promoções',
      'Importar/exportar',
    ]);
  });
});
