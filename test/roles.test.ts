/**
 * The container command `shopflow start` runs what SHOPFLOW_ROLE says: the API, or the worker,
 * which answers health and metrics only (so a container health check and Prometheus reach it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { shopflow } from './helpers/cli.ts';
import { baseEnv, startServer } from './faults/harness.ts';

describe('shopflow start', () => {
  let db: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'shopflow-roles-'));
    expect((await shopflow(['migrate', 'up'], { DATABASE_URL: db.url })).code).toBe(0);
  });
  afterAll(async () => {
    await db?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('with SHOPFLOW_ROLE=worker runs the worker and answers health and metrics only', async () => {
    const worker = await startServer(
      { ...baseEnv(dataDir), DATABASE_URL: db.url, SHOPFLOW_ROLE: 'worker' },
      undefined,
      'start',
    );
    try {
      expect((await fetch(`${worker.base}/health/live`)).status).toBe(200);
      const ready = await fetch(`${worker.base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { dependencies: Record<string, unknown> }).dependencies).toHaveProperty(
        'database',
      );
      expect(await (await fetch(`${worker.base}/metrics`)).text()).toContain(
        'shopflow_outbox_pending_events',
      );
      expect((await fetch(`${worker.base}/store/products`)).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });

  it('with SHOPFLOW_ROLE=api serves the API', async () => {
    const api = await startServer(
      { ...baseEnv(dataDir), DATABASE_URL: db.url, SHOPFLOW_ROLE: 'api' },
      undefined,
      'start',
    );
    try {
      expect((await fetch(`${api.base}/store/products`)).status).toBe(200);
    } finally {
      await api.stop();
    }
  });
});
