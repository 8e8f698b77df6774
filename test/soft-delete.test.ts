/**
 * Soft delete where users expect it: deleted products and categories leave the store and search
 * at once and can be listed and restored by an admin; a deleted customer's email can register again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, PASSWORD, type Err } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';

describe('soft delete and restore', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.worker.start();
  });
  afterAll(async () => t?.close());
  const { call } = api(() => t);
  const found = async (q: string) =>
    (
      await call<{ items: { id: string }[] }>(
        'GET',
        `/store/search?q=${encodeURIComponent(q)}`,
        undefined,
        null,
      )
    ).body.items.map((i) => i.id);

  it('hides a deleted product from store and search, lists it for the admin, and restores it', async () => {
    const name = `Moedor Manual ${randomUUID().slice(0, 6)}`;
    const { id } = (
      await call<{ id: string }>('POST', '/admin/products', { name, basePrice: 15990, availableQuantity: 4 })
    ).body;
    await eventually(async () => expect(await found(name)).toContain(id));

    expect((await call('DELETE', `/admin/products/${id}`)).status).toBe(204);
    expect((await call('GET', `/store/products/${id}`, undefined, null)).status).toBe(404);
    await eventually(async () => expect(await found(name)).not.toContain(id));
    const deleted = await call<{ items: { id: string; deletedAt: string }[] }>(
      'GET',
      '/admin/products/deleted?limit=50',
    );
    expect(deleted.body.items.map((i) => i.id)).toContain(id);

    const restored = await call<{ id: string; availableQuantity: number }>(
      'POST',
      `/admin/products/${id}/restore`,
    );
    expect(restored.status).toBe(200);
    expect(restored.body.availableQuantity).toBe(4);
    expect((await call('GET', `/store/products/${id}`, undefined, null)).status).toBe(200);
    await eventually(async () => expect(await found(name)).toContain(id));
    expect((await call<Err>('POST', `/admin/products/${id}/restore`)).status).toBe(404); // not deleted now
    expect((await call('POST', `/admin/products/not-a-uuid/restore`)).status).toBe(404);
  });

  it('deletes only empty categories, and restores in order (parent before child, category before product)', async () => {
    const parent = (
      await call<{ id: string }>('POST', '/admin/categories', { name: `Cozinha ${randomUUID().slice(0, 6)}` })
    ).body.id;
    const child = (
      await call<{ id: string }>('POST', '/admin/categories', {
        name: `Panelas ${randomUUID().slice(0, 6)}`,
        parentId: parent,
      })
    ).body.id;
    const product = (
      await call<{ id: string }>('POST', '/admin/products', {
        name: 'Panela de Ferro',
        basePrice: 19990,
        categoryId: child,
      })
    ).body.id;

    const busy = await call<Err>('DELETE', `/admin/categories/${child}`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('category_not_empty');
    expect((await call<Err>('DELETE', `/admin/categories/${parent}`)).body.error.code).toBe(
      'category_not_empty',
    );

    expect((await call('DELETE', `/admin/products/${product}`)).status).toBe(204);
    expect((await call('DELETE', `/admin/categories/${child}`)).status).toBe(204);
    expect((await call('DELETE', `/admin/categories/${parent}`)).status).toBe(204);
    const tree = JSON.stringify((await call('GET', '/store/categories', undefined, null)).body);
    expect(tree).not.toContain(child);
    expect(tree).not.toContain(parent);
    // A deleted category takes no new products and no renames.
    expect(
      (await call('POST', '/admin/products', { name: 'Tampa', basePrice: 990, categoryId: child })).status,
    ).toBe(400);
    expect((await call('PATCH', `/admin/categories/${child}`, { name: 'Outro' })).status).toBe(404);
    const listed = await call<{ items: { id: string }[] }>('GET', '/admin/categories/deleted');
    expect(listed.body.items.map((c) => c.id)).toEqual(expect.arrayContaining([child, parent]));

    expect((await call<Err>('POST', `/admin/products/${product}/restore`)).body.error.code).toBe(
      'category_deleted',
    );
    expect((await call<Err>('POST', `/admin/categories/${child}/restore`)).body.error.code).toBe(
      'parent_deleted',
    );
    expect((await call('POST', `/admin/categories/${parent}/restore`)).status).toBe(200);
    expect((await call('POST', `/admin/categories/${child}/restore`)).status).toBe(200);
    expect((await call('POST', `/admin/products/${product}/restore`)).status).toBe(200);
    expect(JSON.stringify((await call('GET', '/store/categories', undefined, null)).body)).toContain(child);
  });

  it('lets the email of a deleted account register again, and only one live account per email', async () => {
    const email = `volta-${randomUUID().slice(0, 8)}@example.com`;
    const register = () => call('POST', '/store/customers', { email, password: PASSWORD, name: 'Ana' }, null);
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(409);
    await t.db.pool.query('UPDATE customers SET deleted_at = NOW() WHERE lower(email) = $1', [email]);
    expect((await register()).status).toBe(201);
    expect((await register()).status).toBe(409);
  });
});
