/**
 * One scenario's world: a database of its own, proxies in front of PostgreSQL, Redis and RabbitMQ,
 * the server process on them, an admin key and products with stock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../db.ts';
import { TEST_REDIS_URL } from '../redis.ts';
import { adminKey, AMQP_URL, baseEnv, createProducts, startServer, type ServerProcess } from './harness.ts';
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
