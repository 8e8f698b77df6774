import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { shopflow } from './helpers/cli.ts';

describe('shopflow CLI', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => db?.drop());

  it('has --help for every command', async () => {
    const top = await shopflow(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of [
      'serve',
      'start',
      'worker',
      'migrate',
      'seed',
      'admin',
      'inventory',
      'stats',
      'search',
      'storage',
    ])
      expect(top.stdout).toContain(cmd);
    for (const args of [
      ['serve'],
      ['start'],
      ['worker'],
      ['migrate'],
      ['migrate', 'up'],
      ['migrate', 'down'],
      ['migrate', 'create'],
      ['seed'],
      ['admin', 'create-key'],
      ['inventory', 'reconcile'],
      ['stats', 'refresh'],
      ['search', 'reindex'],
      ['search', 'reconcile'],
      ['storage', 'setup'],
    ]) {
      let res = await shopflow([...args, '--help']);
      // A start killed by the helper's 120 s timeout (code null: a signal) is tried once more: on
      // a clean-clone run under full parallel load, one Node 24 start stalled in the TypeScript
      // loader before any of our code ran (the same start takes 2 s alone). A real failure exits
      // with a code, and fails here at once.
      if (res.code === null) res = await shopflow([...args, '--help']);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.stdout).toContain('Usage: shopflow');
    }
  }, 400_000); // fifteen CLI starts in turn: a few seconds each on a busy machine (and one retry)

  it('migrates up, down --all and up again', async () => {
    const env = { DATABASE_URL: db.url };
    const up = await shopflow(['migrate', 'up'], env);
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/applied \d+_initial-schema/);
    expect((await shopflow(['migrate', 'up'], env)).stdout).toContain('nothing to apply');
    const down = await shopflow(['migrate', 'down', '--all'], env);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/rolled back \d+_initial-schema/);
    expect((await shopflow(['migrate', 'up'], env)).code).toBe(0);
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(rows[0]!.n).toBeGreaterThan(10);
  });

  it('creates an admin key with scopes and an expiry, printed as the last line, that is stored hashed', async () => {
    const res = await shopflow(
      ['admin', 'create-key', '--name', 'ops', '--scopes', 'catalog,orders', '--expires-in', '90d'],
      { DATABASE_URL: db.url },
    );
    expect(res.code).toBe(0);
    const key = res.stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^sf_admin_[A-Za-z0-9_-]{40,}$/);
    const { rows } = await db.pool.query<{ name: string; key_hash: string; scopes: string[]; days: number }>(
      `SELECT name, key_hash, scopes, round(extract(epoch FROM expires_at - created_at) / 86400)::int AS days
       FROM admin_api_keys`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash).not.toBe(key);
    expect(rows[0]!.scopes).toEqual(['catalog', 'orders']);
    expect(rows[0]!.days).toBe(90);
    // A second live key of the same name, an unknown scope or a bad duration: refused, nothing written.
    const again = await shopflow(['admin', 'create-key', '--name', 'OPS', '--scopes', '*'], {
      DATABASE_URL: db.url,
    });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('live key already has this name');
    expect(
      (await shopflow(['admin', 'create-key', '--name', 'x', '--scopes', 'root'], { DATABASE_URL: db.url }))
        .code,
    ).not.toBe(0);
    expect(
      (
        await shopflow(['admin', 'create-key', '--name', 'x', '--scopes', '*', '--expires-in', '3w'], {
          DATABASE_URL: db.url,
        })
      ).code,
    ).not.toBe(0);
    expect((await db.pool.query('SELECT 1 FROM admin_api_keys')).rowCount).toBe(1);
  });

  it('reconciles inventory and refreshes stats', async () => {
    const rec = await shopflow(['inventory', 'reconcile'], { DATABASE_URL: db.url });
    expect(rec.code).toBe(0);
    expect(rec.stdout).toContain('no drift');
    const stats = await shopflow(['stats', 'refresh'], { DATABASE_URL: db.url });
    expect(stats.code).toBe(0);
    expect(stats.stdout).toMatch(/product_stats refreshed/);
  });

  it('seeds products and reports them', async () => {
    const res = await shopflow(['seed', '--products', '500', '--seed', '3'], { DATABASE_URL: db.url });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/seeded 500 products \(0 already present\)/);
    // Seeding leaves the products searchable.
    const { rows } = await db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM search_documents');
    expect(rows[0]!.n).toBe(500);
    const rec = await shopflow(['search', 'reconcile'], { DATABASE_URL: db.url });
    expect(rec.code).toBe(0);
    expect(rec.stdout).toContain('missing: 0, stale: 0, should be gone: 0');
    const re = await shopflow(['search', 'reindex'], { DATABASE_URL: db.url });
    expect(re.code).toBe(0);
    expect(re.stdout).toMatch(/reindexed 500 products/);
  });

  it('fails with a one-line reason and a non-zero code', async () => {
    const bad = await shopflow(['migrate', 'up'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nothing',
    });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')[0]).toMatch(/^shopflow: /);

    const cfg = await shopflow(['migrate', 'up'], { DATABASE_URL: 'not a url', PORT: 'x' });
    expect(cfg.code).not.toBe(0);
    expect(cfg.stderr).toContain('DATABASE_URL');
    expect(cfg.stderr).toContain('PORT');

    const usage = await shopflow(['seed', '--products', 'many'], { DATABASE_URL: db.url });
    expect(usage.code).not.toBe(0);
    expect(usage.stderr).toContain('--products must be a non-negative integer');
  });
});
