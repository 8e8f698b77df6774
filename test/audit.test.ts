/** The audit log: every successful admin change is recorded (who, what, target), never the values sent. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';

interface Entry {
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  status: number;
  details: unknown;
}

describe('audit log', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call } = api(() => t);

  it('records admin changes with the key name and the target, not reads, failures or the values sent', async () => {
    const created = await call<{ id: string }>('POST', '/admin/products', {
      name: 'Luminária Secreta 9000',
      basePrice: 12990,
      availableQuantity: 3,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await call('PATCH', `/admin/products/${id}`, { basePrice: 9990 })).status).toBe(200);
    expect((await call('GET', '/admin/orders')).status).toBe(200);
    expect((await call('PATCH', `/admin/products/${id}`, { basePrice: -1 })).status).toBe(400);
    expect((await call('DELETE', `/admin/products/${id}`)).status).toBe(204);

    const entries = await eventually(async () => {
      const res = await call<{ items: Entry[] }>('GET', `/admin/audit?targetId=${id}`);
      expect(res.body.items).toHaveLength(2);
      return res.body.items;
    });
    expect(entries.map((e) => [e.action, e.targetType, e.status, e.actorName])).toEqual([
      ['DELETE /admin/products/:id', 'products', 204, 'test'],
      ['PATCH /admin/products/:id', 'products', 200, 'test'],
    ]);
    const creation = await call<{ items: Entry[] }>('GET', '/admin/audit?action=POST%20%2Fadmin%2Fproducts');
    expect(creation.body.items.length).toBeGreaterThanOrEqual(1);
    const { rows } = await t.db.pool.query<{ text: string }>(
      'SELECT row_to_json(a)::text AS text FROM audit_log a',
    );
    expect(rows.map((r) => r.text).join('\n')).not.toContain('Secreta');
    expect((await call('GET', '/admin/audit', undefined, null)).status).toBe(401);
    expect((await call('GET', '/admin/audit?limit=0')).status).toBe(400);
  });
});
