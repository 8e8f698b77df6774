/**
 * The disaster-recovery runbook, executed: a small seeded store is backed up and verified, its
 * database is dropped, and the commands of docs/runbooks/disaster-recovery.md (taken from the file,
 * not copied here) restore it; the server then answers ready, and the data is equal (row counts and
 * checksums) to what it was.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it, inject } from 'vitest';
import { createTestDatabase } from './db.ts';
import { withDbUrl } from './global-setup.ts';
import { shopflow } from './helpers/cli.ts';
import { baseEnv, startServer } from './faults/harness.ts';

const run = promisify(execFile);
const RUNBOOK = new URL('../docs/runbooks/disaster-recovery.md', import.meta.url).pathname;
const BIN = new URL('../bin/shopflow.js', import.meta.url).pathname;

/** The commands of the runbook block titled `title`. */
async function block(title: string): Promise<string> {
  const text = await readFile(RUNBOOK, 'utf8');
  const m = new RegExp('```bash title="' + title + '"\\n([\\s\\S]*?)```').exec(text);
  if (!m) throw new Error(`no block ${title} in the runbook`);
  return m[1]!;
}

async function fingerprint(url: string): Promise<Record<string, string>> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const out: Record<string, string> = {};
    for (const table of ['products', 'inventory', 'orders', 'order_items', 'categories']) {
      // Fixed table names (identifiers, quoted).
      const { rows } = await pool.query<{ n: string; h: string }>(
        `SELECT COUNT(*)::text AS n, md5(COALESCE(string_agg(t::text, '|' ORDER BY t::text), '')) AS h
         FROM ${pg.escapeIdentifier(table)} t`,
      );
      out[table] = `${rows[0]!.n}:${rows[0]!.h}`;
    }
    return out;
  } finally {
    await pool.end();
  }
}

describe('the disaster-recovery runbook', () => {
  it('restores a dropped database with the documented commands: ready again, the same data', async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'shopflow-runbook-'));
    const shim = await mkdtemp(path.join(tmpdir(), 'shopflow-bin-'));
    const newDb = `shopflow_runbook_${Date.now().toString(36)}`;
    const newUrl = withDbUrl(inject('pgAdminUrl'), newDb);
    await writeFile(path.join(shim, 'shopflow'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    await chmod(path.join(shim, 'shopflow'), 0o755);
    const env = { DATABASE_URL: db.url, SHOPFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    try {
      expect((await shopflow(['seed', '--products', '2000', '--seed', '7'], env)).code).toBe(0);
      // A few orders on top, through the API.
      const server = await startServer({ ...baseEnv(dataDir), DATABASE_URL: db.url });
      const { items } = (await (await fetch(`${server.base}/store/products?limit=5`)).json()) as {
        items: { id: string }[];
      };
      for (const p of items) {
        // The demo catalog has products in sizes and colours: order the variant with the most stock.
        const page = (await (await fetch(`${server.base}/store/products/${p.id}`)).json()) as {
          variants: { id: string; availableQuantity: number }[];
        };
        const [variant] = [...page.variants].sort((x, y) => y.availableQuantity - x.availableQuantity);
        expect(
          (
            await fetch(`${server.base}/store/orders`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ items: [{ variantId: variant!.id, quantity: 1 }] }),
            })
          ).status,
        ).toBe(201);
      }
      await server.stop();
      // The daily jobs' work: a backup, verified.
      expect((await shopflow(['backup', 'create'], env)).code).toBe(0);
      expect((await shopflow(['backup', 'verify'], env)).code).toBe(0);
      const before = await fingerprint(db.url);
      expect(before.orders!.startsWith('5:')).toBe(true);

      // The disaster.
      await db.drop();

      const restore = await run('bash', ['-euo', 'pipefail', '-c', await block('restore-database')], {
        env: {
          PATH: `${shim}:${process.env.PATH ?? ''}`,
          SHOPFLOW_DATA_DIR: dataDir,
          LOG_LEVEL: 'warn',
          SERVER_URL: inject('pgAdminUrl'),
          NEW_DB: newDb,
          NEW_DATABASE_URL: newUrl,
        },
        timeout: 300_000,
      });
      expect(restore.stdout).toContain(`restored into ${newDb}`);
      expect(await fingerprint(newUrl)).toEqual(before);

      const restarted = await startServer({ ...baseEnv(dataDir), DATABASE_URL: newUrl });
      try {
        const verify = await run('bash', ['-euo', 'pipefail', '-c', await block('verify')], {
          env: {
            PATH: `${shim}:${process.env.PATH ?? ''}`,
            SHOPFLOW_DATA_DIR: dataDir,
            LOG_LEVEL: 'warn',
            DATABASE_URL: newUrl,
            SHOPFLOW_URL: restarted.base,
          },
        });
        expect(verify.stdout).toContain('"status":"ok"');
        // Search works on the restored data (the runbook reindexed it).
        const found = (await (await fetch(`${restarted.base}/store/search?q=a`)).json()) as { total: number };
        expect(found.total).toBeGreaterThan(0);
      } finally {
        await restarted.stop();
      }
    } finally {
      const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(newDb)} WITH (FORCE)`);
      await admin.end();
      await db.drop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
      await rm(shim, { recursive: true, force: true });
    }
  }, 180_000); // a dozen CLI processes in turn: about 20 s alone, several times that on a busy machine
});
