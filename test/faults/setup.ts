/**
 * One scenario's world: a database of its own, proxies in front of PostgreSQL, Redis and RabbitMQ,
 * the server process on them, an admin key and products with stock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../db.ts';
import { TEST_REDIS_URL } from '../redis.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  adminKey,
  AMQP_URL,
  baseEnv,
  checkInvariants,
  createProducts,
  recordPlacedEvents,
  report,
  runLoad,
  startServer,
  worstRecovery,
  type OrderRun,
  type ServerProcess,
} from './harness.ts';
import { TcpProxy } from './tcp-proxy.ts';

export const STOCK = 100_000;

export interface World {
  db: TestDatabase;
  proxies: { postgres: TcpProxy; redis: TcpProxy; rabbitmq: TcpProxy };
  env: Record<string, string>;
  dataDir: string;
  server: ServerProcess;
  adminKey: string;
  products: string[];
  /** Starts the server again (after a kill), on the same port. */
  restart(): Promise<ServerProcess>;
  close(): Promise<void>;
}

const target = (url: string, defaultPort: number) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || defaultPort) };
};

export async function createWorld(): Promise<World> {
  const db = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shopflow-faults-'));
  const proxies = {
    postgres: await TcpProxy.start(target(inject('pgAdminUrl'), 5432)),
    redis: await TcpProxy.start(target(TEST_REDIS_URL, 6379)),
    rabbitmq: await TcpProxy.start(target(AMQP_URL, 5672)),
  };
  const env = {
    ...baseEnv(dataDir),
    DATABASE_URL: proxies.postgres.via(db.url),
    REDIS_URL: proxies.redis.via(TEST_REDIS_URL),
    AMQP_URL: proxies.rabbitmq.via(AMQP_URL),
  };
  const key = await adminKey({ ...env, DATABASE_URL: db.url });
  let server = await startServer(env);
  const products = await createProducts(server.base, key, 3, STOCK);
  const world: World = {
    db,
    proxies,
    env,
    dataDir,
    get server() {
      return server;
    },
    adminKey: key,
    products,
    async restart() {
      server = await startServer(env, Number(new URL(server.base).port));
      return server;
    },
    async close() {
      await server.stop();
      await Promise.all(Object.values(proxies).map((p) => p.close()));
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return world;
}

export interface Probe {
  what: string;
  status: number;
  ms: number;
  code?: string;
}

/**
 * One scenario run on a world: the shoppers' load with our own queue recording `order.placed`,
 * the faults and probes the scenario adds, and the checks every scenario ends with.
 */
export class Scenario {
  readonly faults: { start: number; end: number }[] = [];
  readonly probes: Probe[] = [];
  private constructor(
    private readonly world: World,
    private readonly events: Awaited<ReturnType<typeof recordPlacedEvents>>,
    private readonly load: Promise<OrderRun[]>,
  ) {}

  static async start(world: World, load: { orders: number; thinkMs: number }): Promise<Scenario> {
    const events = await recordPlacedEvents();
    return new Scenario(
      world,
      events,
      runLoad({
        base: () => world.server.base,
        adminKey: world.adminKey,
        products: world.products,
        clients: 20,
        ...load,
      }),
    );
  }

  /** A request to the server during a fault: its status, error code and how long it took. */
  async probe(what: string, url: string): Promise<void> {
    const started = Date.now();
    const res = await fetch(this.world.server.base + url, { signal: AbortSignal.timeout(10_000) });
    const body = (await res.json().catch(() => ({}))) as { error?: { code: string } };
    this.probes.push({
      what,
      status: res.status,
      ms: Date.now() - started,
      ...(body.error ? { code: body.error.code } : {}),
    });
  }

  /** Cuts (or freezes) a dependency for `ms`, probing readiness and a catalog read after `probeAfterMs`. */
  async outage(
    proxy: keyof World['proxies'],
    ms: number,
    options: { kind?: 'cut' | 'freeze'; probeAfterMs?: number } = {},
  ): Promise<void> {
    const link = this.world.proxies[proxy];
    const kind = options.kind ?? 'cut';
    const start = Date.now();
    if (kind === 'cut') await link.cut();
    else link.freeze();
    if (options.probeAfterMs !== undefined) {
      await sleep(options.probeAfterMs);
      await Promise.all([
        this.probe(`ready during ${proxy} ${kind}`, '/health/ready'),
        this.probe(`products during ${proxy} ${kind}`, '/store/products?limit=5'),
      ]);
    }
    await sleep(Math.max(0, ms - (Date.now() - start)));
    await link.restore();
    this.faults.push({ start, end: Date.now() });
  }

  /** Records a fault the scenario made itself (a kill and restart). */
  fault(start: number): void {
    this.faults.push({ start, end: Date.now() });
  }

  /**
   * Waits for the load, then checks what every scenario must hold: the server up and never shut
   * down by an error, every interrupted order done within 20 s of its fault, and the invariants.
   */
  async finish(name: string): Promise<OrderRun[]> {
    const runs = await this.load;
    report(name, runs, this.faults, this.events.ids.length, this.probes);
    const server = this.world.server;
    expect(server.alive, server.output()).toBe(true);
    expect(server.output()).not.toMatch(/shutting down after an error/);
    expect(worstRecovery(runs, this.faults)).toBeLessThan(20_000);
    await checkInvariants({
      runs,
      db: this.world.db.pool,
      stock: STOCK,
      products: this.world.products,
      dataDir: this.world.dataDir,
      events: this.events,
    });
    await this.events.close();
    return runs;
  }
}
