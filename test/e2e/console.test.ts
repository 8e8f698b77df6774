/**
 * The console in a real browser: Debian's Chromium driven by Playwright (playwright-core; its own
 * browser download does not exist here) against a real ShopFlow listening on a port. Signs in,
 * creates a product with an image, finds it in the list, watches an order placed through the
 * store API appear and the stock move without a reload, ships the order, anonymises a customer,
 * switches language, and is sent back to sign-in when its key is revoked. A screenshot of each
 * page goes to .shopflow/screenshots (the README shows a few of them, copied to docs/screenshots).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIR } from '../../src/assembly/console.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { freePort } from '../ports.ts';
import { skipUnless } from '../helpers/services.ts';
import { startReceiver, type WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { callApi } from './browser.ts';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((f) => existsSync(f));
const skip = !CHROMIUM
  ? 'Chromium is not installed (apt-get install chromium)'
  : !existsSync(path.join(CONSOLE_DIR, 'index.html'))
    ? 'the console is not built (npm run build:console)'
    : undefined;
skipUnless(skip);

/** expect.poll waits 1 s by default: a busy machine renders later than that. */
const POLL = { timeout: 15_000 };

/** What the functions run in the page use of it (the suite is type-checked without the DOM library). */
type PageGlobals = {
  sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void };
  document: { activeElement: { textContent: string | null } | null };
};

const SHOTS = new URL('../../.shopflow/screenshots/', import.meta.url).pathname;

describe.skipIf(skip !== undefined)('operations console (Chromium)', () => {
  let t: TestApp;
  let browser: Browser;
  let receiver: WebhookReceiver | undefined;
  let page: Page;
  let base: string;

  const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  const api = <T>(method: string, url: string, body?: unknown, token?: string) =>
    callApi<T>(base, token ?? t.adminKey, method, url, body);

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Webhooks reach a receiver on 127.0.0.1 (http) in the webhooks step.
    t = await createTestApp({
      PORT: String(port),
      PUBLIC_BASE_URL: base,
      WEBHOOK_ALLOW_INSECURE_URLS: 'true',
    });
    await t.server.listen({ port, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'pt-BR',
      timezoneId: 'America/Sao_Paulo',
    });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterAll(async () => {
    await browser?.close();
    await t?.app.services.webhookDispatcher.stop();
    await t?.close();
    await receiver?.close();
  });

  it('signs in with an admin key, refusing a wrong one', async () => {
    await page.goto(`${base}/console`);
    await expect
      .poll(() => page.getByRole('heading', { name: 'Console ShopFlow' }).isVisible(), POLL)
      .toBe(true);
    await shot('sign-in');
    await page.getByLabel('Chave de API de administrador').fill('sf_wrong_key');
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByText('Esta chave não foi aceita.').waitFor();
    await page.getByLabel('Chave de API de administrador').fill(t.adminKey);
    await page.getByRole('button', { name: 'Entrar' }).click();
    await page.getByRole('heading', { name: 'Painel' }).waitFor();
    // The key is in session storage, never in the address.
    expect(page.url()).not.toContain(t.adminKey);
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).sessionStorage.getItem('shopflow.adminKey'),
      ),
    ).toBe(t.adminKey);
    await page.getByText('database: ok').waitFor();
    // The test app's key holds every scope: the console says so, with a warning.
    expect(await page.getByTestId('key-scopes').textContent()).toBe('test: Esta chave pode: tudo');
    await page.getByRole('alert').filter({ hasText: 'todos os escopos (*)' }).waitFor();
    await shot('dashboard-start');
  });

  let productId = '';
  it('creates a product with an image, its renditions previewed, and finds it in the list', async () => {
    await page.getByRole('link', { name: 'Produtos' }).click();
    await page.getByRole('link', { name: 'Novo produto' }).click();
    // The list's filters are labelled "Nome contém…" and "Ordem: … Nome …": wait for the form.
    await page.getByRole('heading', { name: 'Novo produto' }).waitFor();
    await page.getByLabel('Nome', { exact: true }).fill('Cafeteira Italiana Moka');
    await page.getByLabel('Preço (R$)').fill('abc');
    await page.getByRole('button', { name: 'Criar' }).click();
    await page.getByText('Digite um preço como 45,90').waitFor();
    await page.getByLabel('Preço (R$)').fill('189,90');
    await page.getByLabel('Estoque inicial').fill('10');
    await page.getByRole('button', { name: 'Criar' }).click();
    await page.waitForURL(/\/console\/products\/[0-9a-f-]{36}$/);
    productId = page.url().split('/').pop()!;
    const png = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#8a5a44' } })
      .png()
      .toBuffer();
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'moka.png', mimeType: 'image/png', buffer: png });
    const preview = page.locator('.renditions img');
    await expect.poll(() => preview.count(), POLL).toBe(3);
    // Every rendition loaded in the browser at its size (150, 600 and 1200 px wide).
    await expect
      .poll(() =>
        preview.evaluateAll((imgs) =>
          imgs.map((i) => (i as unknown as { naturalWidth: number }).naturalWidth),
        ),
      )
      .toEqual([150, 600, 1200]);
    await page.locator('.thumbs img').first().waitFor();
    await shot('product-edit');

    await page
      .getByRole('link', { name: /Produtos/ })
      .first()
      .click();
    await page.getByLabel('Nome contém…').fill('moka');
    await page.getByRole('button', { name: 'Buscar' }).click();
    await page.getByRole('link', { name: 'Cafeteira Italiana Moka' }).waitFor();
    expect(await page.getByTestId(`stock-${productId}`).textContent()).toBe('10');
    await page.locator('.live.on').waitFor();
    await shot('products');
  });

  let orderId = '';
  it('shows an order placed through the store API, and its stock change live without a reload', async () => {
    const placedAt = Date.now();
    const placed = await api<{ id: string }>('POST', '/store/orders', {
      items: [{ productId, quantity: 3 }],
    });
    expect(placed.status).toBe(201);
    orderId = placed.body.id;
    await expect
      .poll(() => page.getByTestId(`stock-${productId}`).textContent(), { timeout: 5_000 })
      .toBe('7');
    const seenAfter = Date.now() - placedAt;
    console.log(`console: stock change seen ${seenAfter} ms after the order was placed`);
    expect(seenAfter).toBeLessThan(5_000);

    await page.getByRole('link', { name: 'Pedidos' }).click();
    await page.getByRole('link', { name: orderId.slice(0, 8) }).waitFor();
    await shot('orders');
  });

  it('moves the order along the transitions its status allows, and only those', async () => {
    await page.getByRole('link', { name: orderId.slice(0, 8) }).click();
    await page.getByRole('button', { name: 'Marcar como confirmado' }).waitFor();
    const moves = async () =>
      (await page.locator('main .row button').allTextContents()).filter((s) => s.startsWith('Marcar'));
    expect(await moves()).toEqual(['Marcar como confirmado', 'Marcar como cancelado']);
    await page.getByRole('button', { name: 'Marcar como confirmado' }).click();
    await page.getByRole('button', { name: 'Marcar como enviado' }).click();
    await page.getByRole('button', { name: 'Marcar como entregue' }).waitFor();
    expect(await moves()).toEqual(['Marcar como entregue']);
    expect((await api<{ status: string }>('GET', `/admin/orders/${orderId}`)).body.status).toBe('shipped');
    await shot('order-detail');
    // The dashboard counts the order in its minute and the shipped order's money in today's revenue.
    await page.getByRole('link', { name: 'Painel' }).click();
    await expect.poll(() => page.getByTestId('revenue-today').textContent(), POLL).toBe('R$\u00a0569,70');
    await shot('dashboard');
  });

  it("shows a card payment's installment plan on the order page", async () => {
    const product = await api<{ id: string }>('POST', '/admin/products', {
      name: 'Cafeteira Parcelada',
      basePrice: 18990,
      availableQuantity: 50,
    });
    const placed = await api<{ id: string; sessionToken: string }>('POST', '/store/orders', {
      items: [{ productId: product.body.id, quantity: 1 }],
    });
    const paid = await api<{ attempt: { installments: { count: number } } }>(
      'POST',
      `/store/orders/${placed.body.id}/payments`,
      { method: 'card', token: 'tok_visa', installments: 3 },
      placed.body.sessionToken,
    );
    expect(paid.status).toBe(201);
    await page.getByRole('link', { name: 'Pedidos' }).click();
    await page.getByRole('link', { name: placed.body.id.slice(0, 8) }).click();
    await expect
      .poll(() => page.locator('main').textContent(), POLL)
      .toContain('3 × R$\u00a063,30 (sem juros)');
    await shot('order-installments');
  });

  it('shows the order history and delivery, and edits the freight zones', async () => {
    await page.getByRole('link', { name: 'Pedidos', exact: true }).click();
    await page.getByRole('link', { name: orderId.slice(0, 8) }).click();
    await page.getByRole('heading', { name: 'Histórico' }).waitFor();
    // A direct order: no address; its history lists the placing and the moves made above.
    await page.getByText('Sem endereço de entrega', { exact: false }).waitFor();
    await expect
      .poll(() => page.getByRole('cell', { name: /order.status_changed/ }).count(), POLL)
      .toBeGreaterThanOrEqual(2);
    await page.getByRole('link', { name: 'Frete', exact: true }).click();
    await page.getByRole('heading', { name: 'Zonas de frete' }).waitFor();
    await page.getByLabel('Nome', { exact: true }).fill('Sudeste');
    await page.getByLabel('UFs (separadas por vírgula)').fill('SP, RJ, MG, ES');
    await page.getByLabel('Frete grátis acima de').fill('299,90');
    await page.getByRole('button', { name: 'Adicionar zona' }).click();
    await page.getByRole('cell', { name: 'Sudeste', exact: true }).waitFor();
    const zones = await api<{ items: { name: string; states: string[]; freeAbove: number }[] }>(
      'GET',
      '/admin/shipping/zones',
    );
    expect(zones.body.items).toEqual([
      expect.objectContaining({ name: 'Sudeste', states: ['SP', 'RJ', 'MG', 'ES'], freeAbove: 29990 }),
    ]);
    await shot('shipping-zones');
  });

  it('adjusts stock with a reason on the inventory page', async () => {
    await page.getByRole('link', { name: 'Estoque' }).click();
    await page.getByLabel('Encontrar um produto').fill('moka');
    await page.getByRole('button', { name: 'Buscar' }).click();
    // In the search's table (the product, 7 left, is also in the low-stock one).
    const row = page
      .getByRole('table', { name: 'Encontrar um produto' })
      .getByRole('row', { name: /Cafeteira Italiana Moka/ });
    await row.getByLabel('Unidades livres para venda').fill('25');
    await row.getByLabel('Motivo').fill('reposição do fornecedor');
    await row.getByRole('button', { name: 'Aplicar' }).click();
    await page.getByText('Estoque definido em 25.').waitFor();
    await expect.poll(() => page.getByTestId(`available-${productId}`).textContent(), POLL).toBe('25');
    await page.getByRole('button', { name: 'Verificar' }).click();
    await page.getByText('As reservas batem com os pedidos em aberto.').waitFor();
    await shot('inventory');
  });

  it('anonymises a customer after a confirmation that names what is erased', async () => {
    const email = 'beatriz.lima@example.com';
    expect(
      (await api('POST', '/store/customers', { email, password: 'senha-segura-9', name: 'Beatriz Lima' }, ''))
        .status,
    ).toBe(201);
    await page.getByRole('link', { name: 'Clientes' }).click();
    await page.getByLabel('E-mail começa com, ou nome contém…').fill('beatriz');
    await page.getByRole('button', { name: 'Buscar' }).click();
    await page.getByRole('link', { name: 'Beatriz Lima' }).click();
    await page.getByTestId('customer-email').getByText(email).waitFor();
    await page.getByRole('button', { name: 'Anonimizar' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('nome, e-mail, telefone, endereço e senha', { exact: false }).waitFor();
    const confirm = dialog.getByRole('button', { name: 'Confirmar' });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.getByRole('textbox').fill(email);
    await shot('customer-anonymise');
    await confirm.click();
    await page.getByText('Dados pessoais apagados.').waitFor();
    await expect.poll(() => page.getByTestId('customer-email').textContent(), POLL).not.toContain('beatriz');
    await shot('customer');
  });

  it('lists webhook endpoints and shows a test delivery arriving', async () => {
    receiver = await startReceiver();
    const created = await api<{ id: string; secret: string }>('POST', '/admin/webhooks', {
      url: receiver.url,
      events: ['order.placed'],
      description: 'ERP',
    });
    expect(created.status).toBe(201);
    receiver.verifyWith([created.body.secret]);
    // Only the sender, not the whole worker (whose schedules would move this suite's orders).
    t.app.services.webhookDispatcher.start();
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await page.getByText(receiver.url).waitFor();
    await page.getByRole('button', { name: 'Entregas' }).click();
    await page.getByRole('button', { name: 'Enviar evento de teste' }).click();
    const row = page.getByRole('row').filter({ hasText: 'webhook.test' });
    await expect.poll(() => row.textContent(), POLL).toContain('entregue');
    expect(receiver.received.map((r) => [r.body.type, r.verified[0]])).toEqual([['webhook.test', true]]);
    await shot('webhooks');
  });

  it('imports a catalog CSV: a dry run shows the bad row, then the fixed file imports', async () => {
    await page.getByRole('link', { name: 'Importar/exportar', exact: true }).click();
    await page.getByRole('heading', { name: 'Importação e exportação do catálogo (CSV)' }).waitFor();
    const file = (price: string) => ({
      name: 'catalogo.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`handle,name,sku,price,stock\ncaneca-e2e,Caneca E2E,CAN-E2E-1,${price},5\n`),
    });
    await page.getByLabel('Arquivo CSV').setInputFiles(file('"29,90"'));
    await page.getByRole('button', { name: 'Conferir (simulação)' }).click();
    const errors = page.getByRole('table', { name: 'Erros' });
    await errors.getByText('money is written with a dot: 89.90, not 89,90').waitFor();
    expect(await errors.getByRole('row').nth(1).textContent()).toContain('2price');
    await shot('catalog-import');
    await page.getByLabel('Arquivo CSV').setInputFiles(file('29.90'));
    await page.getByRole('button', { name: 'Conferir (simulação)' }).click();
    await page.getByTestId('import-summary').filter({ hasText: 'produtos 1 criados' }).waitFor();
    await page.getByRole('button', { name: 'Importar', exact: true }).click();
    await page.getByRole('heading', { name: 'Relatório da importação' }).waitFor();
    const product = await t.app.services.catalog.getProductBySlug('caneca-e2e');
    expect(product.variants[0]).toMatchObject({ sku: 'CAN-E2E-1', price: 2990, availableQuantity: 5 });
  });

  it('shows search, jobs and backups, in English too, and at tablet width', async () => {
    for (const [link, heading, name] of [
      ['Busca', 'Índice de busca', 'search'],
      ['Tarefas', 'Tarefas', 'jobs'],
      ['Backups', 'Backups', 'backups'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.locator('.loading').first().waitFor({ state: 'detached' });
      await shot(name);
    }
    await page.getByRole('link', { name: 'Busca', exact: true }).click();
    await page.getByRole('button', { name: 'Reconstruir o índice' }).click();
    await page.getByRole('status').filter({ hasText: 'produtos' }).waitFor();

    await page.getByLabel('Idioma').selectOption('en');
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    expect(await page.getByTestId('revenue-today').textContent()).toMatch(/^R\$/);
    await page.setViewportSize({ width: 820, height: 1180 });
    await shot('dashboard-tablet');
    await page.setViewportSize({ width: 1280, height: 800 });
    // Keyboard: on a fresh page the skip link is the first stop.
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent),
    ).toBe('Skip to content');
  });

  it('hides what a scoped key may not do, and returns to sign-in when its key is revoked', async () => {
    const other = await api<{ key: string; apiKey: { id: string } }>('POST', '/admin/api-keys', {
      name: 'console-e2e',
      scopes: ['catalog'],
    });
    expect(other.status).toBe(201);
    await page.evaluate(
      (key) => (globalThis as unknown as PageGlobals).sessionStorage.setItem('shopflow.adminKey', key),
      other.body.key,
    );
    await page.reload();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    // A catalog key: its scopes shown, no warning, and only the pages it may use in the navigation.
    await page.getByTestId('key-scopes').filter({ hasText: 'console-e2e: This key may: catalog' }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    const nav = page.getByRole('navigation', { name: 'main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Dashboard',
      'Products',
      'Promotions',
      'Import/export',
    ]);
    expect(await page.getByTestId('revenue-today').count()).toBe(0);
    await shot('scoped-key');
    expect((await api('DELETE', `/admin/api-keys/${other.body.apiKey.id}`)).status).toBe(204);
    await page.getByText('Your key was revoked or has expired').waitFor({ timeout: 15_000 });
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as PageGlobals).sessionStorage.getItem('shopflow.adminKey'),
      ),
    ).toBeNull();
  });
});
