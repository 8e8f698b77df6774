/**
 * NODE_ENV=production refuses every embedded default at start, each with its own one-line reason:
 * a store that ran on them would lose data, events, files or sessions when its one machine goes,
 * or confirm orders without money.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { shopflow } from '../helpers/cli.ts';

describe('production mode', () => {
  it('refuses the embedded defaults, naming each one', async () => {
    let problems: string[] = [];
    try {
      loadConfig({ NODE_ENV: 'production', PAYMENT_PROVIDER: 'test' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/PAYMENT_PROVIDER=test/);
    expect(problems.join('\n')).toMatch(/embedded PostgreSQL/);
    expect(problems.join('\n')).toMatch(/in-process event bus/);
    expect(problems.join('\n')).toMatch(/local object store/);
    expect(problems.join('\n')).toMatch(/in-memory sessions/);
    expect(problems.join('\n')).toMatch(/METRICS_TOKEN/);

    const r = await shopflow(['serve'], { NODE_ENV: 'production' });
    expect(r.code).not.toBe(0);
    // One line per reason after the summary line; no stack trace.
    const reasons = r.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(reasons).toHaveLength(5);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('starts with production engines named for each part', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db.example/shop',
      AMQP_URL: 'amqp://mq.example',
      S3_REGION: 'sa-east-1',
      REDIS_URL: 'redis://cache.example:6379',
      METRICS_TOKEN: 'a-metrics-token-of-16+',
    });
    expect(config.production).toBe(true);
    expect(config.storage.driver).toBe('s3');
    expect(config.sessionStore).toBe('redis');
  });

  it('needs METRICS_TOKEN: /metrics is never open in production', () => {
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db.example/shop',
      AMQP_URL: 'amqp://mq.example',
      S3_REGION: 'sa-east-1',
      REDIS_URL: 'redis://cache.example:6379',
    };
    expect(() => loadConfig(env)).toThrow(/NODE_ENV=production needs METRICS_TOKEN/);
    expect(loadConfig({ ...env, METRICS_TOKEN: 'a-metrics-token-of-16+' }).http.metricsToken).toBe(
      'a-metrics-token-of-16+',
    );
  });

  it('accepts PostgreSQL sessions instead of Redis', () => {
    expect(
      loadConfig({
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://db.example/shop',
        AMQP_URL: 'amqp://mq.example',
        S3_ENDPOINT: 'https://s3.example',
        SESSION_STORE: 'postgres',
        METRICS_TOKEN: 'a-metrics-token-of-16+',
      }).sessionStore,
    ).toBe('postgres');
  });
});
