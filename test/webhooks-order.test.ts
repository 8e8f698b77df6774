/**
 * Webhook order per resource with RabbitMQ as the bus (the production setting): the fan-out runs
 * inline in the relay's publish, in outbox order per aggregate, and the dispatcher sends only the
 * head of each (endpoint, resource) queue. No delay is involved: an order's later event is never
 * sent before an earlier one that is still being retried, while other orders' events flow.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import { AMQP_URL, amqpSkip as amqpSkipReason } from './helpers/amqp.ts';
import { webhookHarness, type Received, type WebhookReceiver } from './helpers/webhook-receiver.ts';
import type { WebhookEndpoint } from '../src/modules/webhooks/webhooks.service.ts';
import { recordEvents } from '../src/platform/events/outbox.ts';

const amqpSkip = await amqpSkipReason();

describe.skipIf(amqpSkip !== undefined)('webhook order per resource over RabbitMQ', () => {
  let t: TestApp;
  const { call, newProduct, order } = api(() => t);
  const hooks = webhookHarness(call);
  const endpoint = (events = ['order.placed', 'order.status_changed']) =>
    hooks.endpoint<WebhookEndpoint & { secret: string }>(events);

  beforeAll(async () => {
    t = await createTestApp({
      AMQP_URL,
      WEBHOOK_ALLOW_INSECURE_URLS: 'true',
      WEBHOOK_RETRY_BASE_MS: '1000',
      WEBHOOK_TIMEOUT_MS: '1500',
      WEBHOOK_CONCURRENCY: '16',
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: '8',
    });
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await hooks.close();
  });
  const of = (r: WebhookReceiver, orderId: string): Received[] =>
    r.received.filter((x) => x.body.data.orderId === orderId);

  it("holds an order's later event while its first is retried; another order's events flow meanwhile", async () => {
    const { r } = await endpoint();
    const slow = await newProduct({ availableQuantity: 5 });
    const other = await newProduct({ availableQuantity: 5 });
    // The first two attempts of order.placed for the order of `slow` fail.
    let refused = 0;
    r.decide((x) => {
      const items = x.body.data.items as { productId: string }[] | undefined;
      if (x.body.type === 'order.placed' && items?.[0]?.productId === slow && refused < 2) {
        refused++;
        return { status: 500, body: 'not now' };
      }
      return undefined;
    });
    const a = (await order([{ productId: slow, quantity: 1 }])).body.id;
    expect((await call('POST', `/admin/orders/${a}/transition`, { to: 'cancelled' })).status).toBe(200);
    const b = (await order([{ productId: other, quantity: 1 }])).body.id;
    expect((await call('POST', `/admin/orders/${b}/transition`, { to: 'cancelled' })).status).toBe(200);

    await eventually(() => expect(of(r, a).map((x) => x.body.type)).toContain('order.status_changed'), {
      timeoutMs: 15_000,
    });
    const seenA = of(r, a);
    expect(seenA.map((x) => [x.body.type, x.verified[0]])).toEqual([
      ['order.placed', true],
      ['order.placed', true],
      ['order.placed', true],
      ['order.status_changed', true],
    ]);
    // The same delivery three times (one webhook-id), and the later event only after its success.
    expect(new Set(seenA.slice(0, 3).map((x) => x.headers['webhook-id'])).size).toBe(1);
    const placedOk = seenA[2]!;
    expect(seenA[3]!.at).toBeGreaterThanOrEqual(placedOk.at);
    // Order b was not held back by a's retries: both its events arrived, in order, before a's
    // order.placed finally went through (its retries are spaced a second and more apart).
    const seenB = of(r, b);
    expect(seenB.map((x) => x.body.type)).toEqual(['order.placed', 'order.status_changed']);
    expect(seenB[1]!.at).toBeLessThan(placedOk.at);
  });

  it("keeps every order's events in order when many orders change at once", async () => {
    const { r } = await endpoint();
    const productId = await newProduct({ availableQuantity: 100 });
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const id = (await order([{ productId, quantity: 1 }])).body.id;
        const moved = await call('POST', `/admin/orders/${id}/transition`, { to: 'cancelled' });
        expect(moved.status).toBe(200);
        return id;
      }),
    );
    await eventually(() => expect(ids.every((id) => of(r, id).length === 2)).toBe(true), {
      timeoutMs: 15_000,
    });
    for (const id of ids)
      expect(of(r, id).map((x) => x.body.type)).toEqual(['order.placed', 'order.status_changed']);
  });

  it('fans out in outbox order: a burst of events of many resources arrives in order per resource', async () => {
    const { r } = await endpoint(['category.updated']);
    // 30 resources x 4 events each, committed together (interleaved): the relay publishes them in
    // one pass, the way a busy store's events reach the bus.
    const categories = Array.from({ length: 30 }, () => randomUUID());
    await recordEvents(
      t.db.pool,
      [0, 1, 2, 3].flatMap((step) =>
        categories.map((categoryId) => ({
          type: 'category.updated',
          aggregateType: 'category',
          aggregateId: categoryId,
          payload: { categoryId, step },
        })),
      ),
    );
    const steps = (id: string) =>
      r.received.filter((x) => x.body.data.categoryId === id).map((x) => x.body.data.step);
    await eventually(() => expect(categories.every((id) => steps(id).length === 4)).toBe(true), {
      timeoutMs: 15_000,
    });
    for (const id of categories) expect(steps(id)).toEqual([0, 1, 2, 3]);
  });

  it("does not send a resource's next event while the fan-out of its previous one is unfinished", async () => {
    const { r, e } = await endpoint(['category.updated']);
    const categoryId = randomUUID();
    const writer = await t.db.pool.connect();
    const blocker = await t.db.pool.connect();
    try {
      // Two events of one category, and the first one's delivery row held by an open transaction:
      // the fan-out of the first waits on that row's unique key until it ends.
      await writer.query('BEGIN');
      await recordEvents(
        writer,
        [0, 1].map((step) => ({
          type: 'category.updated',
          aggregateType: 'category',
          aggregateId: categoryId,
          payload: { categoryId, step },
        })),
      );
      const { rows } = await writer.query<{ id: string }>(
        'SELECT id FROM outbox WHERE aggregate_id = $1 ORDER BY id',
        [categoryId],
      );
      await blocker.query('BEGIN');
      await blocker.query(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, message_id, event_type, resource_key, payload)
         VALUES ($1, $2, 'msg_blocker', 'category.updated', 'blocker', '{}')`,
        [e.id, rows[0]!.id],
      );
      await writer.query('COMMIT');
      // The first event's fan-out is waiting now.
      await eventually(async () => {
        const waiting = await t.db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
             AND query LIKE 'INSERT INTO webhook_deliveries%'`,
        );
        expect(waiting.rowCount).toBe(1);
      });
      // Meanwhile the second event was not even fanned out: nothing of the category was sent.
      const { rows: fanned } = await t.db.pool.query('SELECT 1 FROM webhook_deliveries WHERE event_id = $1', [
        rows[1]!.id,
      ]);
      expect(fanned).toHaveLength(0);
      expect(r.received.filter((x) => x.body.data.categoryId === categoryId)).toHaveLength(0);
      await blocker.query('ROLLBACK');
    } finally {
      writer.release();
      blocker.release();
    }
    const steps = () =>
      r.received.filter((x) => x.body.data.categoryId === categoryId).map((x) => x.body.data.step);
    await eventually(() => expect(steps()).toHaveLength(2), { timeoutMs: 15_000 });
    expect(steps()).toEqual([0, 1]);
  });
});
