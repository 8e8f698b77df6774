import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it("defaults to the embedded database and the original design's pool settings", () => {
    const c = loadConfig({});
    expect(c.database.mode).toBe('embedded');
    expect(c.pool).toMatchObject({ max: 20, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 2_000 });
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(c.rateLimit).toEqual({ enabled: true, perMinute: 1000, adminPerMinute: 6000 });
    expect(c.redis).toBeUndefined();
    expect(c.sessionStore).toBe('memory');
    expect(c.cache.ttlSeconds).toBe(3600);
    expect(Object.isFrozen(c) && Object.isFrozen(c.pool)).toBe(true);
  });

  it('accepts DATABASE_URL', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@db.example:6543/shop' });
    expect(c.database).toMatchObject({
      mode: 'external',
      connectionString: 'postgres://u:p@db.example:6543/shop',
    });
  });

  it('accepts DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD and pool overrides', () => {
    const c = loadConfig({
      DB_HOST: 'rds.local',
      DB_PORT: '6432',
      DB_NAME: 'shop',
      DB_USER: 'app',
      DB_PASSWORD: 's3cret',
      DB_POOL_MAX: '50',
      DB_IDLE_TIMEOUT_MS: '1000',
      DB_CONNECTION_TIMEOUT_MS: '500',
      DATABASE_READ_URL: 'postgres://replica/shop',
    });
    expect(c.database).toEqual({
      mode: 'external',
      host: 'rds.local',
      port: 6432,
      database: 'shop',
      user: 'app',
      password: 's3cret',
    });
    expect(c.pool).toMatchObject({ max: 50, idleTimeoutMillis: 1000, connectionTimeoutMillis: 500 });
    expect(c.readReplicaUrl).toBe('postgres://replica/shop');
  });

  it('takes managed-service settings as separate variables, as a secrets store hands them out', () => {
    const c = loadConfig({
      DB_HOST: 'primary.db.example',
      DB_READ_HOST: 'replica.db.example',
      DB_USER: 'shop flow',
      DB_PASSWORD: 'p@ss/word',
      DB_SSL_MODE: 'verify-full',
      DB_SSL_ROOT_CERT: '/etc/ssl/rds.pem',
      AMQP_URL: 'amqps://b-1.mq.example:5671',
      AMQP_USERNAME: 'shopflow',
      AMQP_PASSWORD: 'a:b@c',
      SEARCH_ENGINE: 'opensearch',
      OPENSEARCH_URL: 'https://search.example',
      OPENSEARCH_USERNAME: 'master',
      OPENSEARCH_PASSWORD: 'se/cret',
      REDIS_CLUSTER_NODES: 'cfg.cache.example:6379',
      REDIS_TLS: 'true',
      REDIS_PASSWORD: 'token',
    });
    expect(c.database).toMatchObject({
      host: 'primary.db.example',
      sslMode: 'verify-full',
      sslRootCert: '/etc/ssl/rds.pem',
    });
    const replica = new URL(c.readReplicaUrl!);
    expect(replica.hostname).toBe('replica.db.example');
    expect(decodeURIComponent(replica.username)).toBe('shop flow');
    expect(decodeURIComponent(replica.password)).toBe('p@ss/word');
    expect(replica.searchParams.get('sslmode')).toBe('verify-full');
    const amqp = new URL(c.amqpUrl!);
    expect([decodeURIComponent(amqp.username), decodeURIComponent(amqp.password), amqp.host]).toEqual([
      'shopflow',
      'a:b@c',
      'b-1.mq.example:5671',
    ]);
    expect(decodeURIComponent(new URL(c.search.url!).password)).toBe('se/cret');
    expect(c.redis).toEqual({
      clusterNodes: [{ host: 'cfg.cache.example', port: 6379 }],
      tls: true,
      password: 'token',
    });
  });

  it('reports every invalid variable at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DB_POOL_MAX: '0', SHOPFLOW_ROLE: 'boss', DATABASE_URL: 'mysql://x/y' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'DB_POOL_MAX', 'SHOPFLOW_ROLE', 'DATABASE_URL'])
      expect(problems).toContain(name);
  });

  it('refuses DATABASE_URL together with DB_HOST', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://a/b', DB_HOST: 'c' })).toThrow(ConfigError);
  });

  it('takes CRON_<JOB> variables as schedule overrides by job name; off is none; nonsense is refused', () => {
    expect(loadConfig({}).jobs).toEqual({
      scheduleOverrides: {},
      scheduleCheckSeconds: 30,
      outboxRetentionDays: 7,
    });
    const custom = loadConfig({
      CRON_PRUNE_OUTBOX: 'off',
      CRON_SEARCH_RECONCILE: '0 3 * * 1',
      OUTBOX_RETENTION_DAYS: '30',
    });
    expect(custom.jobs.scheduleOverrides).toEqual({ 'prune-outbox': null, 'search-reconcile': '0 3 * * 1' });
    expect(custom.jobs.outboxRetentionDays).toBe(30);
    for (const bad of ['every hour', '* * * *', '61 * * * *', '* * * * * *'])
      expect(() => loadConfig({ CRON_SEARCH_RECONCILE: bad }), bad).toThrow(/CRON_SEARCH_RECONCILE/);
    expect(() => loadConfig({ 'CRON_bad-name': '* * * * *' })).toThrow(ConfigError);
  });

  it('takes a Redis key prefix without hash-tag braces', () => {
    expect(loadConfig({}).redisKeyPrefix).toBe('');
    expect(loadConfig({ REDIS_KEY_PREFIX: 'staging:' }).redisKeyPrefix).toBe('staging:');
    expect(() => loadConfig({ REDIS_KEY_PREFIX: '{shop}:' })).toThrow(/REDIS_KEY_PREFIX/);
  });
});
