/**
 * The scheduled jobs run, on schedules from configuration, in a started worker: published outbox
 * rows older than the retention are pruned, search popularity follows product_stats, and index
 * drift is repaired, with nobody calling them by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';

describe('scheduled jobs in a running worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      OUTBOX_PRUNE_SECONDS: '1',
      OUTBOX_RETENTION_DAYS: '7',
      STATS_REFRESH_SECONDS: '1',
      SEARCH_POPULARITY_SECONDS: '1',
      SEARCH_RECONCILE_SECONDS: '1',
    });
  });
  afterAll(async () => t?.close());
  const { newProduct, order } = api(() => t);

  it('prunes published outbox rows past the retention and keeps younger ones', async () => {
    const { rows } = await t.db.pool.query<{ id: string; age: string }>(
      `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, created_at, published_at)
       VALUES ('test', 'old', 'test.old', '{}', NOW() - INTERVAL '9 days', NOW() - INTERVAL '8 days'),
              ('test', 'young', 'test.young', '{}', NOW() - INTERVAL '2 days', NOW() - INTERVAL '1 day')
       RETURNING id::text, aggregate_id AS age`,
    );
    const old = rows.find((r) => r.age === 'old')!.id;
    const young = rows.find((r) => r.age === 'young')!.id;
    await t.app.worker.start();
    await eventually(
      async () => {
        const { rows: left } = await t.db.pool.query<{ id: string }>(
          'SELECT id::text FROM outbox WHERE id = ANY($1::bigint[])',
          [[old, young]],
        );
        expect(left.map((r) => r.id)).toEqual([young]);
      },
      { timeoutMs: 15_000 },
    );
  });

  it('makes search popularity follow product_stats', async () => {
    await t.app.worker.start();
    const productId = await newProduct({ name: 'Chaleira Elétrica Inox', availableQuantity: 50 });
    for (let i = 0; i < 3; i++) expect((await order([{ productId, quantity: 2 }])).status).toBe(201);
    await eventually(
      async () => {
        const { rows } = await t.db.pool.query<{ stats: number | null; indexed: number | null }>(
          `SELECT (SELECT popularity_score FROM product_stats WHERE product_id = $1) AS stats,
                  (SELECT popularity FROM search_documents WHERE product_id = $1) AS indexed`,
          [productId],
        );
        expect(rows[0]!.stats).toBeGreaterThan(0);
        expect(rows[0]!.indexed).toBeCloseTo(rows[0]!.stats!, 3);
      },
      { timeoutMs: 20_000 },
    );
  });

  it('repairs index drift (a document lost behind the index) by itself', async () => {
    await t.app.worker.start();
    const productId = await newProduct({ name: 'Garrafa Térmica 1 Litro' });
    const indexed = async () =>
      (await t.db.pool.query('SELECT 1 FROM search_documents WHERE product_id = $1', [productId])).rowCount;
    await eventually(async () => expect(await indexed()).toBe(1));
    await t.db.pool.query('DELETE FROM search_documents WHERE product_id = $1', [productId]);
    await eventually(async () => expect(await indexed()).toBe(1), { timeoutMs: 15_000 });
  });
});
