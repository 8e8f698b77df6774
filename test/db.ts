/** Per-file databases cloned from the migrated template (fast: no migrations per file). */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDbUrl } from './global-setup.ts';
import { typeParsers } from '../src/platform/db/pool.ts';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new database: a copy of the migrated template, or an empty one with `{ empty: true }`. */
export async function createTestDatabase(options: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `shopflow_t_${inject('runId')}_${randomBytes(4).toString('hex')}`;
  const template = options.empty ? 'template0' : inject('templateDb');
  // Identifiers cannot be bound as parameters; both names are generated here, and quoted.
  await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(name)} TEMPLATE ${pg.escapeIdentifier(template)}`);
  const url = withDbUrl(inject('pgAdminUrl'), name);
  const pool = new pg.Pool({ connectionString: url, max: 10, types: typeParsers });
  pool.on('error', () => undefined);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end();
      await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    },
  };
}
