/**
 * The deployment files, read and checked (there is no Docker here to run them): the compose stack
 * pins every image and gives api and worker every setting production mode needs; the Dockerfile
 * runs the Node version CI tests, as a non-root user, with a health check; its build context
 * leaves out what the image must not carry.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { RDS_CA_BUNDLE } from '../../infra/lib/shopflow-stack.ts';
import { loadConfig } from '../../src/config.ts';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  depends_on?: unknown;
}
const compose = parse(read('deploy/compose.yaml'), { merge: true }) as { services: Record<string, Service> };

/** Compose's `${NAME:-default}` substitution, with the variables unset (a fresh checkout). */
const substitute = (value: string) => value.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');

describe('deploy/compose.yaml', () => {
  it('has the production-like services', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'postgres-replica',
        'redis-1',
        'redis-6',
        'redis-cluster-init',
        'rabbitmq',
        'opensearch',
        'minio',
        'release',
        'api',
        'worker',
      ]),
    );
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.image, name).toBeDefined();
      const image = service.image!;
      if (service.build) continue; // built here from the Dockerfile
      expect(image, name).toMatch(/:[^:]*\d[^:]*$/); // a tag with a version in it
      expect(image, name).not.toMatch(/:(latest|stable|main)$/);
    }
  });

  for (const role of ['api', 'worker'] as const) {
    it(`gives the ${role} every setting production mode needs`, () => {
      const env = Object.fromEntries(
        Object.entries(compose.services[role]!.environment!).map(([k, v]) => [k, substitute(String(v))]),
      );
      expect(env.SHOPFLOW_ROLE).toBe(role);
      const config = loadConfig(env);
      expect(config.production).toBe(true);
      expect(config.database.mode).toBe('external');
      expect(config.readReplicaUrl).toContain('postgres-replica');
      // backup verify restores onto a scratch server of the stack, never the primary.
      expect(config.backupVerifyHost).toBe('postgres-verify');
      expect(compose.services[config.backupVerifyHost!]).toBeDefined();
      expect(config.redis).toMatchObject({
        clusterNodes: expect.arrayContaining([{ host: 'redis-1', port: 7001 }]) as unknown,
      });
      expect(config.amqpUrl).toContain('rabbitmq');
      expect(config.search).toMatchObject({ engine: 'opensearch', url: 'http://opensearch:9200' });
      expect(config.storage).toMatchObject({ driver: 's3', s3: { endpoint: 'http://minio:9000' } });
    });
  }

  it('names only hosts that are services of the stack', () => {
    const env = compose.services.api!.environment!;
    const hosts = [
      ...Object.values(env).flatMap((v) =>
        [...String(v).matchAll(/\/\/(?:[^@/]+@)?([a-z0-9-]+):\d+/g)].map((m) => m[1]!),
      ),
      ...String(env.REDIS_CLUSTER_NODES)
        .split(',')
        .map((n) => n.split(':')[0]!),
    ].filter((h) => h !== 'localhost');
    for (const host of hosts) expect(Object.keys(compose.services), host).toContain(host);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const ciNode = /NODE24_VERSION=(\S+)/.exec(read('.ci/run'))![1]!;

  it('runs on the Node version whose test run .ci/run does', () => {
    expect(dockerfile).toContain(`ARG NODE_IMAGE=node:${ciNode}-bookworm-slim`);
  });

  it('installs production dependencies only, and runs as a non-root user with a health check', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const stages = dockerfile.split(/^FROM /m);
    const runtime = stages.at(-1)!;
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime.indexOf('USER node')).toBeLessThan(runtime.indexOf('ENTRYPOINT'));
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/health\/live/m);
    expect(runtime).toMatch(/^CMD \["start"\]$/m);
    // Migrations are a separate one-shot command, not part of starting.
    expect(runtime).not.toMatch(/migrate/);
  });

  it('carries the RDS CA bundle where the infrastructure points DB_SSL_ROOT_CERT', () => {
    expect(dockerfile).toContain(RDS_CA_BUNDLE);
  });

  it('builds from a context without secrets, dependencies or local data', () => {
    const ignore = read('.dockerignore').split('\n');
    expect(ignore[ignore.findIndex((l) => !l.startsWith('#') && l.trim() !== '')]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!'));
    expect(allowed.sort()).toEqual([
      '!bin/',
      '!console/',
      '!migrations/',
      '!package-lock.json',
      '!package.json',
      '!src/',
    ]);
  });
});
