/**
 * Redis for the tests: the machine's server (TEST_REDIS_URL, default 127.0.0.1:6379), and a local
 * 3-master Redis Cluster started from Debian's redis-server on free ports. Where neither can be
 * had, suites skip with the reason, unless SHOPFLOW_REQUIRE_SERVICES=1 makes that a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './ports.ts';
import { SERVICES_REQUIRED as REQUIRED } from './helpers/services.ts';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function redisReachable(url = TEST_REDIS_URL): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Why a Redis suite cannot run here, or undefined when it can. Throws when services are required. */
export async function redisUnavailable(): Promise<string | undefined> {
  if (await redisReachable()) return undefined;
  const reason = `Redis not reachable at ${TEST_REDIS_URL}`;
  if (REQUIRED) throw new Error(`SHOPFLOW_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}

export function redisServerBinary(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (r.status === 0) return 'redis-server';
  if (REQUIRED)
    throw new Error(
      'SHOPFLOW_REQUIRE_SERVICES=1 but redis-server is not installed (needed for the cluster suite)',
    );
  return undefined;
}

export interface LocalRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A private redis-server on a free port (so a test may stop and restart it): without persistence,
 * or with a configuration file (its port, address, directory and log overridden for the test).
 */
export async function startLocalRedis(options: { config?: string; dir?: string } = {}): Promise<LocalRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const args = options.config
    ? [
        options.config,
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        options.dir ?? tmpdir(),
        '--logfile',
        '',
        '--daemonize',
        'no',
        '--maxmemory',
        '256mb',
      ]
    : ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const start = async () => {
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    await waitPort(port);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      if (!proc || proc.exitCode !== null) return;
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface LocalCluster {
  nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** Three masters, no replicas, all slots covered; resolves once the cluster state is ok. */
export async function startLocalCluster(): Promise<LocalCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shopflow-redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const procs = ports.map((port) =>
    spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    ),
  );
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((resolve) => {
            if (p.exitCode !== null) return resolve();
            p.once('exit', () => resolve());
            p.kill('SIGKILL');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ports.map(waitPort));
    const create = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
    for (let i = 0; i < 100; i++) {
      const states = await Promise.all(ports.map((p) => clusterState(p)));
      if (states.every((s) => s === 'ok'))
        return { nodes: ports.map((port) => ({ host: '127.0.0.1', port })), stop };
      await sleep(100);
    }
    throw new Error('the test cluster did not reach cluster_state:ok');
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Runs `fn` on a short-lived, non-retrying connection to 127.0.0.1:port; undefined when it fails. */
async function probe<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T | undefined> {
  const c = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    return await fn(c);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

async function clusterState(port: number): Promise<string | undefined> {
  const info = await probe(port, (c) => c.call('CLUSTER', 'INFO') as Promise<string>);
  return info ? /cluster_state:(\w+)/.exec(info)?.[1] : undefined;
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await probe(port, (c) => c.ping())) === 'PONG') return;
    await sleep(50);
  }
  throw new Error(`redis-server did not come up on port ${port}`);
}
