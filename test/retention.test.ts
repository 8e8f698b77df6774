/**
 * Retention: the purge jobs delete what the rules say and nothing else, from the worker's schedule,
 * the admin API or the CLI.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { shopflow } from './helpers/cli.ts';
import { eventually } from './helpers/eventually.ts';
import type { JobRun } from '../src/platform/jobs/runner.ts';

describe('retention purges', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, newProduct } = api(() => t);

  /** Guest carts 31 and 29 days untouched, customer carts 400 and 10 days untouched. */
  async function carts() {
    const { rows: customer } = await t.db.pool.query<{ id: string }>(
      `INSERT INTO customers (email, name) VALUES ($1, 'Cliente Antigo') RETURNING id`,
      [`${randomUUID()}@example.com`],
    );
    const insert = async (owner: { customer?: string; session?: string }, days: number) =>
      (
        await t.db.pool.query<{ id: string }>(
          `INSERT INTO carts (customer_id, session_id, created_at, updated_at)
           VALUES ($1, $2, NOW() - make_interval(days => $3), NOW() - make_interval(days => $3)) RETURNING id`,
          [owner.customer ?? null, owner.session ?? null, days],
        )
      ).rows[0]!.id;
    return {
      oldGuest: await insert({ session: randomUUID().replace(/-/g, '') }, 31),
      youngGuest: await insert({ session: randomUUID().replace(/-/g, '') }, 29),
      oldCustomer: await insert({ customer: customer[0]!.id }, 400),
      youngCustomer: await insert({ customer: customer[0]!.id }, 10),
    };
  }

  /** Failed attempts 91 and 89 days old, and a succeeded one 400 days old, on one order. */
  async function attempts() {
    const { rows: order } = await t.db.pool.query<{ id: string }>(
      `INSERT INTO orders (status, total_amount) VALUES ('cancelled', 1000) RETURNING id`,
    );
    const insert = async (status: string, days: number) =>
      (
        await t.db.pool.query<{ id: string }>(
          `INSERT INTO payment_attempts (order_id, provider, status, amount, created_at)
           VALUES ($1, 'test', $2, 1000, NOW() - make_interval(days => $3)) RETURNING id`,
          [order[0]!.id, status, days],
        )
      ).rows[0]!.id;
    return {
      oldFailed: await insert('failed', 91),
      youngFailed: await insert('failed', 89),
      oldSucceeded: await insert('succeeded', 400),
    };
  }

  const existing = async (table: 'carts' | 'payment_attempts', ids: Record<string, string>) => {
    const { rows } = await t.db.pool.query<{ id: string }>(
      `SELECT id FROM ${table} WHERE id = ANY($1::uuid[])`,
      [Object.values(ids)],
    );
    const left = new Set(rows.map((r) => r.id));
    return Object.entries(ids)
      .filter(([, id]) => left.has(id))
      .map(([name]) => name)
      .sort();
  };

  it('deletes old guest carts, idle customer carts and old failed attempts only, queued through the admin API', async () => {
    const c = await carts();
    const a = await attempts();
    const productId = await newProduct({ availableQuantity: 5 });
    await t.db.pool.query('INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, 1)', [
      c.oldGuest,
      productId,
    ]);
    await t.app.worker.start();
    const queued = await call<{ queued: { job: string }[] }>('POST', '/admin/retention/run');
    expect(queued.status).toBe(202);
    expect(queued.body.queued.map((q) => q.job)).toEqual([
      'archive-orders',
      'purge-guest-carts',
      'purge-customer-carts',
      'expire-uploads',
      'purge-failed-payments',
      'expire-transient-rows',
    ]);
    await eventually(
      async () => {
        const runs = await call<{ items: JobRun[] }>('GET', '/admin/jobs/runs?limit=10');
        const byJob = new Map(runs.body.items.map((r) => [r.job, r]));
        // Every queued job has finished (a run still in the worker would make the CLI test's skip).
        for (const q of queued.body.queued) expect(byJob.get(q.job)?.status, q.job).toBe('succeeded');
        expect(byJob.get('purge-guest-carts')).toMatchObject({ status: 'succeeded', result: { deleted: 1 } });
        expect(byJob.get('purge-customer-carts')).toMatchObject({
          status: 'succeeded',
          result: { deleted: 1 },
        });
        expect(byJob.get('purge-failed-payments')).toMatchObject({
          status: 'succeeded',
          result: { deleted: 1 },
        });
      },
      { timeoutMs: 20_000 },
    );
    expect(await existing('carts', c)).toEqual(['youngCustomer', 'youngGuest']);
    expect(await existing('payment_attempts', a)).toEqual(['oldSucceeded', 'youngFailed']);
    const { rows } = await t.db.pool.query('SELECT 1 FROM cart_items WHERE cart_id = $1', [c.oldGuest]);
    expect(rows).toHaveLength(0);
  });

  it('runs every retention job from the CLI, and a second run finds nothing more to do', async () => {
    const c = await carts();
    const a = await attempts();
    const first = await shopflow(['retention', 'run'], { DATABASE_URL: t.db.url });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/purge-guest-carts: succeeded .*"deleted":1/);
    expect(first.stdout).toMatch(/purge-customer-carts: succeeded .*"deleted":1/);
    expect(first.stdout).toMatch(/purge-failed-payments: succeeded .*"deleted":1/);
    expect(await existing('carts', c)).toEqual(['youngCustomer', 'youngGuest']);
    expect(await existing('payment_attempts', a)).toEqual(['oldSucceeded', 'youngFailed']);
    const second = await shopflow(['retention', 'run'], { DATABASE_URL: t.db.url });
    expect(second.stdout).toMatch(/purge-guest-carts: succeeded .*"deleted":0/);
    expect(second.stdout).toMatch(/purge-customer-carts: succeeded .*"deleted":0/);
    expect(second.stdout).toMatch(/purge-failed-payments: succeeded .*"deleted":0/);
  });
});
