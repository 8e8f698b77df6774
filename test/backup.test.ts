/**
 * Logical backups: create streams a consistent dump with a manifest, verify restores it into a
 * scratch database and matches the manifest, restore makes a new database identical to the
 * source, an existing one is refused without --force, prune keeps the newest verified backup.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { shopflow } from './helpers/cli.ts';

describe('logical backups', () => {
  let t: TestApp;
  const target = `shopflow_restore_${Date.now().toString(36)}`;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t?.db.pool.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(target)} WITH (FORCE)`);
    await t?.close();
  });
  const { newProduct, order } = api(() => t);
  const env = () => ({ DATABASE_URL: t.db.url, SHOPFLOW_DATA_DIR: t.app.config.dataDir });

  it('creates, lists, verifies, restores and prunes, with counts and checksums that match', async () => {
    for (let i = 0; i < 5; i++) {
      const productId = await newProduct({ availableQuantity: 10 });
      expect((await order([{ productId, quantity: 1 }])).status).toBe(201);
    }
    const created = await shopflow(['backup', 'create'], env());
    expect(created.code, created.stderr).toBe(0);
    const id = /backup (\S+):/.exec(created.stdout)![1]!;
    expect(created.stdout).toContain('5 orders');

    const listed = await shopflow(['backup', 'list'], env());
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('not verified');

    const verified = await shopflow(['backup', 'verify'], env());
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`backup ${id}: verified; restore took \\d+ ms`));
    // It shows what it compared: every table's rows, restored and in the manifest.
    expect(verified.stdout).toContain('orders: 5 rows restored, 5 in the manifest');
    expect(verified.stdout).toMatch(/products: \d+ rows restored, \d+ in the manifest/);
    expect(verified.stdout).toMatch(/sample checksums compared: [1-9]\d* tables/);
    expect((await shopflow(['backup', 'list'], env())).stdout).toMatch(/verified ok/);

    // A restore into a new database: the same rows.
    const restored = await shopflow(['backup', 'restore', '--id', id, '--target-db', target], env());
    expect(restored.code, restored.stderr).toBe(0);
    const url = new URL(t.db.url);
    url.pathname = `/${target}`;
    const copy = new pg.Pool({ connectionString: url.toString(), max: 1 });
    try {
      const fingerprint = async (pool: pg.Pool) =>
        (
          await pool.query<{ h: string }>(
            `SELECT md5(string_agg(x, '|' ORDER BY x)) AS h FROM (
               SELECT row_to_json(o)::text AS x FROM orders o UNION ALL
               SELECT row_to_json(p)::text FROM products p UNION ALL
               SELECT row_to_json(i)::text FROM inventory i) rows`,
          )
        ).rows[0]!.h;
      expect(await fingerprint(copy)).toBe(await fingerprint(t.db.pool));
    } finally {
      await copy.end();
    }
    // Not over a database that holds tables, unless told to.
    const refused = await shopflow(['backup', 'restore', '--id', id, '--target-db', target], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--force');
    expect(
      (await shopflow(['backup', 'restore', '--id', id, '--target-db', target, '--force'], env())).code,
    ).toBe(0);

    // Prune keeps backups inside the retention and, past it, the newest verified one.
    await shopflow(['backup', 'create'], env());
    expect((await shopflow(['backup', 'prune'], env())).stdout).toContain('deleted 0 backups, kept 2');
  });

  it('verifies on the separate server BACKUP_VERIFY_DB_HOST names, never creating its scratch database on the primary', async () => {
    const scratchOnPrimary = async () =>
      (await t.db.pool.query("SELECT 1 FROM pg_database WHERE datname LIKE 'shopflow_verify_%'")).rowCount;
    // The same local server by another name stands in for the scratch instance.
    const elsewhere = await shopflow(['backup', 'verify'], { ...env(), BACKUP_VERIFY_DB_HOST: 'localhost' });
    expect(elsewhere.code, elsewhere.stdout + elsewhere.stderr).toBe(0);
    expect(elsewhere.stdout).toMatch(/restored on localhost\/shopflow_verify_[0-9a-f]+/);
    // A scratch server that cannot be reached: verify fails, and the primary got nothing.
    const unreachable = await shopflow(['backup', 'verify'], {
      ...env(),
      BACKUP_VERIFY_DB_HOST: 'verify.invalid',
    });
    expect(unreachable.code).toBe(1);
    expect(await scratchOnPrimary()).toBe(0);
  });

  it('lists no backup when pg_dump dies midway, and leaves no dump behind', async () => {
    const bin = await mkdtemp(path.join(tmpdir(), 'shopflow-fake-pg-'));
    try {
      // A pg_dump of the right version that writes part of a dump and then fails.
      await writeFile(
        path.join(bin, 'pg_dump'),
        '#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) 15.99"; exit 0; fi\n' +
          'head -c 300000 /dev/zero; echo "pg_dump: error: connection lost" >&2; exit 1\n',
        { mode: 0o755 },
      );
      const before = (await t.app.services.backup.list()).map((b) => b.id);
      const r = await shopflow(['backup', 'create'], { ...env(), PG_BIN_DIR: bin });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('connection lost');
      expect((await t.app.services.backup.list()).map((b) => b.id)).toEqual(before);
      const left: string[] = [];
      for await (const o of t.app.objects.list('backups', 'backups/')) left.push(o.key);
      expect(left.filter((k) => k.endsWith('dump.pgcustom'))).toHaveLength(before.length);
    } finally {
      await rm(bin, { recursive: true, force: true });
    }
  });

  it('fails with one line saying what to install when pg_dump cannot be found', async () => {
    const r = await shopflow(['backup', 'create'], {
      ...env(),
      PATH: '/nonexistent',
      PG_BIN_DIR: '/nonexistent',
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(/pg_dump of PostgreSQL 15 not found.*postgresql-client-15/);
  });
});
