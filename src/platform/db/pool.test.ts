import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { borrowClient, withClient } from './pool.ts';

describe('borrowed clients', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db?.drop());

  it('survive their connection being killed while held, and the pool recovers', async () => {
    const borrowed = await borrowClient(db.pool);
    const { rows } = await borrowed.client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    // Without a listener on the held client this 'error' event would end the test process.
    await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    await eventually(() => expect(borrowed.broken).toBe(true));
    await expect(borrowed.client.query('SELECT 1')).rejects.toThrow();
    borrowed.release();
    expect(
      await withClient(
        db.pool,
        async (c) => (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one,
      ),
    ).toBe(1);
  });
});
