import { describe, expect, it } from 'vitest';
import { connectionConfig } from './resolve.ts';

describe('connectionConfig', () => {
  const target = {
    mode: 'external' as const,
    host: 'db.example',
    port: 5432,
    database: 'shopflow',
    user: 'shopflow',
    password: 'p@ss',
  };

  it('connects by host without TLS settings when none are given', () => {
    const c = connectionConfig(target);
    expect(c).toMatchObject({ host: 'db.example', user: 'shopflow', password: 'p@ss' });
    expect(c.connectionString).toBeUndefined();
  });

  it('puts TLS settings in the URL, where pg and the PostgreSQL tools both read them', () => {
    const c = connectionConfig({ ...target, sslMode: 'verify-full', sslRootCert: '/etc/ssl/rds.pem' });
    const u = new URL(c.connectionString!);
    expect(u.searchParams.get('sslmode')).toBe('verify-full');
    expect(u.searchParams.get('sslrootcert')).toBe('/etc/ssl/rds.pem');
    expect(c.url).toBe(c.connectionString);
  });
});
