import { describe, expect, it } from 'vitest';
import { libpqEnv } from './pg-tools.ts';

describe('libpqEnv', () => {
  it("hands the database URL's TLS settings to pg_dump and pg_restore", () => {
    expect(
      libpqEnv(
        'postgres://shop%20flow:p%40ss@db.example:6432/shop?sslmode=verify-full&sslrootcert=%2Fetc%2Fssl%2Frds.pem',
      ),
    ).toMatchObject({
      PGHOST: 'db.example',
      PGPORT: '6432',
      PGUSER: 'shop flow',
      PGPASSWORD: 'p@ss',
      PGDATABASE: 'shop',
      PGSSLMODE: 'verify-full',
      PGSSLROOTCERT: '/etc/ssl/rds.pem',
    });
    expect(libpqEnv('postgres://u@db.example/shop')).not.toHaveProperty('PGSSLMODE');
  });
});
