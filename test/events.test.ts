import { randomUUID } from 'node:crypto';
import amqplib from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/platform/logger.ts';
import { LocalEventBus } from '../src/platform/events/local.bus.ts';
import { RabbitMqEventBus } from '../src/platform/events/rabbitmq.bus.ts';
import { EXCHANGE } from '../src/platform/events/bus.ts';
import { OutboxRelay } from '../src/platform/events/relay.ts';
import { recordEvents, type EventEnvelope } from '../src/platform/events/outbox.ts';
import { createTestApp } from './app.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { TcpProxy } from './faults/tcp-proxy.ts';
import { eventually } from './helpers/eventually.ts';
import { AMQP_URL, amqpSkip as amqpSkipReason } from './helpers/amqp.ts';

const logger = createLogger('silent');
const amqpSkip = await amqpSkipReason();

describe('outbox relay', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('publishes every event once, in order per aggregate, with two relays at once', async () => {
    const aggregates = Array.from({ length: 12 }, () => randomUUID());
    for (let round = 0; round < 25; round++) {
      await recordEvents(
        db.pool,
        aggregates.map((a) => ({
          type: 'test.step',
          aggregateType: 'test',
          aggregateId: a,
          payload: { round },
        })),
      );
    }
    const seen: EventEnvelope[] = [];
    const bus = new LocalEventBus(logger);
    await bus.consume({
      name: 'recorder',
      bindings: ['#'],
      handler: (e) => Promise.resolve(void seen.push(e)),
    });
    const relays = [
      new OutboxRelay({ pool: db.pool, bus, logger }, { batchSize: 7 }),
      new OutboxRelay({ pool: db.pool, bus, logger }, { batchSize: 7 }),
    ];
    for (let pass = 0; pass < 50 && seen.length < 300; pass++)
      await Promise.all(relays.map((r) => r.runOnce()));
    expect(seen).toHaveLength(300);
    expect(new Set(seen.map((e) => e.id)).size).toBe(300);
    for (const a of aggregates) {
      const rounds = seen
        .filter((e) => e.aggregateId === a)
        .map((e) => (e.payload as { round: number }).round);
      expect(rounds).toEqual(Array.from({ length: 25 }, (_, i) => i));
    }
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM outbox WHERE published_at IS NULL',
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('keeps a failed event and everything behind it in its lane, and retries', async () => {
    const agg = randomUUID();
    await recordEvents(
      db.pool,
      [1, 2, 3].map((n) => ({ type: 'test.n', aggregateType: 'test', aggregateId: agg, payload: { n } })),
    );
    let fail = true;
    const got: number[] = [];
    const flaky = {
      publish: (e: EventEnvelope) =>
        fail
          ? Promise.reject(new Error('broker away'))
          : Promise.resolve(void got.push((e.payload as { n: number }).n)),
      consume: () => Promise.resolve(),
      ping: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
    const relay = new OutboxRelay({ pool: db.pool, bus: flaky, logger });
    expect(await relay.runOnce()).toBe(0);
    const { rows } = await db.pool.query<{ attempts: number; last_error: string }>(
      'SELECT attempts, last_error FROM outbox WHERE aggregate_id = $1 ORDER BY id LIMIT 1',
      [agg],
    );
    expect(rows[0]).toEqual({ attempts: 1, last_error: 'broker away' });
    fail = false;
    await relay.runOnce();
    expect(got).toEqual([1, 2, 3]);
  });

  /** A bus whose publishes wait until the test lets them go. */
  function gatedBus() {
    const sent: EventEnvelope[] = [];
    let open!: () => void;
    let gate = new Promise<void>((r) => (open = r));
    let waiting = 0;
    return {
      sent,
      get waiting() {
        return waiting;
      },
      release: () => open(),
      close: () => {
        gate = new Promise<void>((r) => (open = r));
      },
      bus: {
        publish: async (e: EventEnvelope) => {
          waiting++;
          await gate;
          waiting--;
          sent.push(e);
        },
        consume: () => Promise.resolve(),
        ping: () => Promise.resolve(),
        close: () => Promise.resolve(),
      },
    };
  }

  const record = (agg: string, n: number) =>
    recordEvents(
      db.pool,
      Array.from({ length: n }, (_, i) => ({
        type: 'test.n',
        aggregateType: 'test',
        aggregateId: agg,
        payload: { i },
      })),
    );
  const unpublished = async (agg: string) =>
    (
      await db.pool.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM outbox WHERE aggregate_id = $1 AND published_at IS NULL',
        [agg],
      )
    ).rows[0]!.n;

  it('holds no connection or transaction while it waits for the broker, and survives the database going away meanwhile', async () => {
    const agg = randomUUID();
    await record(agg, 5);
    const gated = gatedBus();
    const pool = new pg.Pool({ connectionString: db.url, max: 2, application_name: 'relay-under-test' });
    pool.on('error', () => undefined);
    const relay = new OutboxRelay({ pool, bus: gated.bus, logger });
    try {
      const pass = relay.runOnce();
      await eventually(() => expect(gated.waiting).toBe(1));
      const { rows: held } = await db.pool.query<{ n: number }>(
        `SELECT COUNT(*)::int AS n FROM pg_stat_activity
         WHERE application_name = 'relay-under-test' AND state <> 'idle'`,
      );
      expect(held[0]!.n).toBe(0);
      // The database drops every connection of the relay while the broker is slow.
      await db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'relay-under-test'`,
      );
      gated.release();
      // The write-back finds a fresh connection (the pool replaced the dead one): nothing lost.
      expect(await pass).toBe(5);
      expect(await unpublished(agg)).toBe(0);
      expect(gated.sent.map((e) => (e.payload as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
    } finally {
      await pool.end();
    }
  });

  it('keeps what the broker confirmed while the database was away and writes it back before the next claim', async () => {
    const agg = randomUUID();
    await record(agg, 3);
    const gated = gatedBus();
    const link = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) });
    const pool = new pg.Pool({ connectionString: link.via(db.url), max: 2, connectionTimeoutMillis: 500 });
    pool.on('error', () => undefined);
    const relay = new OutboxRelay({ pool, bus: gated.bus, logger });
    try {
      const pass = relay.runOnce();
      await eventually(() => expect(gated.waiting).toBe(1));
      await link.cut();
      gated.release();
      await expect(pass).rejects.toThrow();
      expect(await unpublished(agg)).toBe(3);
      await link.restore();
      // The next pass writes back the confirmed three first: nothing is sent twice by this relay.
      expect(await relay.runOnce()).toBe(0);
      expect(await unpublished(agg)).toBe(0);
      expect(gated.sent).toHaveLength(3);
    } finally {
      await pool.end();
      await link.cut();
    }
  });

  it('gives a lane to one relay at a time, and to another once the lease of a silent one expires', async () => {
    const agg = randomUUID();
    await record(agg, 4);
    const slow = gatedBus();
    const fast = gatedBus();
    fast.release();
    const stuck = new OutboxRelay({ pool: db.pool, bus: slow.bus, logger }, { leaseMs: 1500 });
    const other = new OutboxRelay({ pool: db.pool, bus: fast.bus, logger }, { leaseMs: 1500 });
    const pass = stuck.runOnce();
    await eventually(() => expect(slow.waiting).toBe(1));
    // While the lease holds, the other relay does not touch the lane: no reordering, no duplicate.
    expect(await other.runOnce()).toBe(0);
    expect(fast.sent).toHaveLength(0);
    // The first relay is gone for good (a frozen process): its lease runs out and the lane moves on.
    await eventually(async () => expect(await other.runOnce()).toBe(4), { timeoutMs: 5000 });
    expect(fast.sent.map((e) => (e.payload as { i: number }).i)).toEqual([0, 1, 2, 3]);
    slow.release();
    // The frozen relay wakes up: its late publish is a duplicate delivery, never a second mark.
    await pass;
    const { rows } = await db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM outbox WHERE aggregate_id = $1 AND published_at IS NOT NULL',
      [agg],
    );
    expect(rows[0]!.n).toBe(4);
  });
});

describe.skipIf(amqpSkip !== undefined)('RabbitMQ', () => {
  it('delivers an admin update to a queue bound to shopflow.events with key product.updated', async () => {
    const t = await createTestApp({ AMQP_URL });
    const conn = await amqplib.connect(AMQP_URL);
    try {
      await t.app.worker.start();
      const ch = await conn.createChannel();
      await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, EXCHANGE, 'product.updated');
      const product = await t.app.services.catalog.createProduct({ name: 'Mouse Sem Fio', basePrice: 9990 });
      await t.server.inject({
        method: 'PATCH',
        url: `/admin/products/${product.id}`,
        headers: { authorization: `Bearer ${t.adminKey}` },
        payload: { basePrice: 8990 },
      });
      const msg = await eventually(async () => {
        const m = await ch.get(queue, { noAck: true });
        if (!m) throw new Error('no message yet');
        return m;
      });
      const event = JSON.parse(msg.content.toString()) as EventEnvelope;
      expect(event).toMatchObject({
        type: 'product.updated',
        aggregateId: product.id,
        payload: { productId: product.id },
      });
      expect(msg.properties.deliveryMode).toBe(2);
    } finally {
      await conn.close();
      await t.close();
    }
  });

  it('keeps events in the outbox while the broker is away and delivers all of them when it returns', async () => {
    const db = await createTestDatabase();
    const link = await TcpProxy.start({
      host: new URL(AMQP_URL).hostname,
      port: Number(new URL(AMQP_URL).port || 5672),
    });
    const bus = new RabbitMqEventBus(link.via(AMQP_URL), logger, 1000);
    const relay = new OutboxRelay({ pool: db.pool, bus, logger }, { idleMs: 50 });
    const conn = await amqplib.connect(AMQP_URL);
    try {
      const ch = await conn.createChannel();
      await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
      const { queue } = await ch.assertQueue('', { exclusive: true });
      const key = `outage.${randomUUID()}`;
      await ch.bindQueue(queue, EXCHANGE, key);
      relay.start();

      await link.cut();
      await eventually(() => expect(bus.ping()).rejects.toThrow());
      const agg = randomUUID();
      await recordEvents(
        db.pool,
        Array.from({ length: 20 }, (_, n) => ({
          type: key,
          aggregateType: 'test',
          aggregateId: agg,
          payload: { n },
        })),
      );
      // The relay tried, failed, and kept all 20 (none published while the broker is away).
      await eventually(async () => {
        const { rows } = await db.pool.query<{ waiting: number; tried: number }>(
          `SELECT COUNT(*) FILTER (WHERE published_at IS NULL)::int AS waiting,
                  COUNT(*) FILTER (WHERE attempts > 0)::int AS tried
             FROM outbox WHERE aggregate_id = $1`,
          [agg],
        );
        expect(rows[0]!.tried).toBeGreaterThan(0);
        expect(rows[0]!.waiting).toBe(20);
      });

      await link.restore();
      // Delivery is at least once: a publish whose confirm is lost in the reconnect (the broker
      // slow under load) is sent again, so a repeat is allowed; a gap or a reordering is not.
      const got: number[] = [];
      await eventually(
        async () => {
          const m = await ch.get(queue, { noAck: true });
          if (m) got.push((JSON.parse(m.content.toString()) as EventEnvelope).payload.n as number);
          expect([...new Set(got)]).toEqual(Array.from({ length: 20 }, (_, n) => n));
        },
        { timeoutMs: 15_000 },
      );
      const firstSeen = got.map((n, i) => got.indexOf(n) === i);
      expect(got.filter((_, i) => firstSeen[i])).toEqual(Array.from({ length: 20 }, (_, n) => n));
      const { rows } = await db.pool.query<{ published: number }>(
        `SELECT COUNT(*) FILTER (WHERE published_at IS NOT NULL)::int AS published
           FROM outbox WHERE aggregate_id = $1`,
        [agg],
      );
      expect(rows[0]!.published).toBe(20);
    } finally {
      await relay.stop();
      await bus.close();
      await conn.close();
      await db.drop();
    }
  });

  it('dead-letters an event whose consumer keeps failing, after bounded retries', async () => {
    const bus = new RabbitMqEventBus(AMQP_URL, logger);
    const name = `test-${randomUUID()}`;
    let calls = 0;
    const conn = await amqplib.connect(AMQP_URL);
    try {
      await bus.consume({
        name,
        bindings: [`poison.${name}`],
        handler: () => {
          calls++;
          return Promise.reject(new Error('always fails'));
        },
      });
      await bus.publish({
        id: 1,
        type: `poison.${name}`,
        aggregateType: 'test',
        aggregateId: 'x',
        payload: {},
        occurredAt: new Date().toISOString(),
      });
      const ch = await conn.createChannel();
      await eventually(
        async () => expect(await ch.get(`shopflow.${name}.dead`, { noAck: true })).not.toBe(false),
        {
          timeoutMs: 15_000,
        },
      );
      expect(calls).toBeGreaterThanOrEqual(5);
      await ch.deleteQueue(`shopflow.${name}`);
      await ch.deleteQueue(`shopflow.${name}.dead`);
    } finally {
      await conn.close();
      await bus.close();
    }
  });
});

describe('outbox metrics', () => {
  it('shows the backlog and the age of the oldest waiting event, and their draining', async () => {
    const t = await createTestApp();
    try {
      await t.app.services.catalog.createProduct({ name: 'Caneca Esmaltada', basePrice: 3990 });
      const scrape = async () => {
        const text = (await t.server.inject('/metrics')).body;
        const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
        return {
          pending: value('shopflow_outbox_pending_events'),
          oldest: value('shopflow_outbox_oldest_pending_seconds'),
        };
      };
      const before = await scrape();
      expect(before.pending).toBe(1);
      expect(before.oldest).toBeGreaterThan(0);
      await t.app.worker.start();
      await eventually(async () => expect(await scrape()).toEqual({ pending: 0, oldest: 0 }));
    } finally {
      await t.close();
    }
  });
});

describe('search indexer', () => {
  it('is idempotent: the same event twice changes nothing the second time', async () => {
    const t = await createTestApp();
    try {
      const p = await t.app.services.catalog.createProduct({
        name: 'Quebra-Cabeça 1000 Peças',
        basePrice: 7990,
      });
      const handler = t.app.services.search.consumer().handler;
      const event: EventEnvelope = {
        id: 1,
        type: 'product.created',
        aggregateType: 'product',
        aggregateId: p.id,
        payload: { productId: p.id },
        occurredAt: new Date().toISOString(),
      };
      await handler(event);
      const snap = async () =>
        (
          await t.db.pool.query<{ product_id: string; name: string; source_updated_at: Date }>(
            'SELECT product_id, name, source_updated_at FROM search_documents ORDER BY product_id',
          )
        ).rows;
      const once = await snap();
      await handler(event);
      expect(await snap()).toEqual(once);
      expect(once.filter((r) => (r as { product_id: string }).product_id === p.id)).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});
