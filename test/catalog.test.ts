import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';

describe('catalog (admin API)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call } = api(() => t);

  it('creates, updates and validates products; tags are normalised', async () => {
    const cat = await call<{ id: string; slug: string }>('POST', '/admin/categories', {
      name: 'Cafés Especiais',
    });
    expect(cat.status).toBe(201);
    expect(cat.body.slug).toBe('cafes-especiais');
    const created = await call<{
      id: string;
      tags: string[];
      availableQuantity: number;
      category: { slug: string };
    }>('POST', '/admin/products', {
      name: 'Café Especial Torra Média',
      description: 'Grãos do Cerrado Mineiro',
      basePrice: 4590,
      categoryId: cat.body.id,
      tags: ['Café', 'café', ' Orgânico '],
      availableQuantity: 12,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      tags: ['café', 'orgânico'],
      availableQuantity: 12,
      category: { slug: 'cafes-especiais' },
    });
    const patched = await call<{ basePrice: number; name: string; description: string }>(
      'PATCH',
      `/admin/products/${created.body.id}`,
      { basePrice: 3990 },
    );
    expect(patched.body).toMatchObject({
      basePrice: 3990,
      name: 'Café Especial Torra Média',
      description: 'Grãos do Cerrado Mineiro',
    });
    expect(
      (
        await call<{ description: null }>('PATCH', `/admin/products/${created.body.id}`, {
          description: null,
        })
      ).body.description,
    ).toBeNull();

    for (const bad of [
      { name: '', basePrice: 10 },
      { name: 'X', basePrice: -1 },
      { name: 'X', basePrice: 10.5 },
      { name: 'X', basePrice: 10, availableQuantity: -3 },
      { name: 'X', basePrice: 10, categoryId: '7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11' },
      { name: 'X', basePrice: 10, price: 10 },
    ]) {
      const res = await call<Err>('POST', '/admin/products', bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect((await call('PATCH', `/admin/products/${created.body.id}`, {})).status).toBe(400);
    expect(
      (await call('PATCH', '/admin/products/7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11', { name: 'Y' })).status,
    ).toBe(404);
  });

  it('keeps categories a tree: moves, no cycles, unique slugs', async () => {
    const root = (await call<{ id: string }>('POST', '/admin/categories', { name: 'Esportes' })).body.id;
    const child = (
      await call<{ id: string }>('POST', '/admin/categories', { name: 'Corrida', parentId: root })
    ).body.id;
    const grandchild = (
      await call<{ id: string }>('POST', '/admin/categories', { name: 'Tênis de Corrida', parentId: child })
    ).body.id;
    expect(
      (await call<Err>('PATCH', `/admin/categories/${root}`, { parentId: grandchild })).body.error.code,
    ).toBe('category_cycle');
    expect((await call<Err>('PATCH', `/admin/categories/${root}`, { parentId: root })).status).toBe(409);
    expect(
      (await call<Err>('POST', '/admin/categories', { name: 'Outra', slug: 'corrida' })).body.error.code,
    ).toBe('duplicate');
    expect((await call('POST', '/admin/categories', { name: 'Bad', slug: 'Not A Slug' })).status).toBe(400);
    const moved = await call<{ parentId: string | null }>('PATCH', `/admin/categories/${grandchild}`, {
      parentId: root,
    });
    expect(moved.body.parentId).toBe(root);
    const tree = await call<{ items: { id: string; children: { id: string }[] }[] }>(
      'GET',
      '/store/categories',
    );
    const esportes = tree.body.items.find((c) => c.id === root)!;
    expect(esportes.children.map((c) => c.id).sort()).toEqual([child, grandchild].sort());
  });
});
