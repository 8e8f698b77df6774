import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test/ports.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.ts';
import { migrate } from './migrations.ts';

// The zero-config path: PostgreSQL 15 from npm, initialised in a fresh directory, as root or not.
describe('embedded PostgreSQL', () => {
  let dir: string | undefined;
  let first: EmbeddedPostgresHandle | undefined;
  afterAll(async () => {
    await first?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('initialises, starts, migrates, is reused by a second process, and stops', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'shopflow-embedded-'));
    const port = await freePort();
    const options = { dataDir: path.join(dir, 'pg'), port, database: 'shopflow' };
    first = await startEmbeddedPostgres(options);
    expect(first.owned).toBe(true);
    expect((await stat(path.join(dir, 'pg-password'))).mode & 0o077).toBe(0);

    await migrate({ databaseUrl: first.url, direction: 'up' });
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    const { rows } = await client.query<{ version: string }>(
      "SELECT current_setting('server_version') AS version",
    );
    expect(rows[0]!.version).toMatch(/^15\./);
    const ext = await client.query(
      "SELECT 1 FROM pg_available_extensions WHERE name IN ('pg_trgm', 'unaccent')",
    );
    expect(ext.rowCount).toBe(2);
    await client.query("INSERT INTO products (name, base_price) VALUES ('Caneca', 2990)");
    await client.end();

    // A second start against the same data directory finds the server running and reuses it.
    const second = await startEmbeddedPostgres(options);
    expect(second.owned).toBe(false);
    await second.stop(); // not the owner: leaves the server running
    const again = new pg.Client({ connectionString: first.url });
    await again.connect();
    expect((await again.query('SELECT COUNT(*)::int AS n FROM products')).rows[0]).toEqual({ n: 1 });
    await again.end();

    await first.stop();
    await first.stop(); // idempotent
    const refused = new pg.Client({ connectionString: first.url, connectionTimeoutMillis: 1000 });
    await expect(refused.connect()).rejects.toThrow();
    first = undefined;
  });
});
