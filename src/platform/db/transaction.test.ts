import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { withTransaction } from './transaction.ts';
import { mapPgError } from './pg-errors.ts';

describe('withTransaction', () => {
  let db: TestDatabase;
  let a: string;
  let b: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    const { rows } = await db.pool.query<{ id: string }>(
      "INSERT INTO products (name, base_price) VALUES ('A', 100), ('B', 200) RETURNING id",
    );
    [a, b] = rows.map((r) => r.id) as [string, string];
  });
  afterAll(async () => db?.drop());

  it('commits when the callback resolves', async () => {
    await withTransaction(db.pool, (tx) => tx.query("UPDATE products SET name = 'A1' WHERE id = $1", [a]));
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM products WHERE id = $1', [a]);
    expect(rows[0]!.name).toBe('A1');
  });

  it('rolls back every statement when the callback throws', async () => {
    await expect(
      withTransaction(db.pool, async (tx) => {
        await tx.query("UPDATE products SET name = 'changed' WHERE id = $1", [a]);
        await tx.query("INSERT INTO orders (status, total_amount) VALUES ('nonsense', 1)");
      }),
    ).rejects.toMatchObject({ code: '23514' });
    const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM products WHERE id = $1', [a]);
    expect(rows[0]!.name).toBe('A1');
    // The client went back to the pool: none is left checked out.
    expect(db.pool.totalCount - db.pool.idleCount).toBe(0);
  });

  it('runs after-commit effects once, after the commit, and never those of a rollback', async () => {
    const seen: string[] = [];
    await withTransaction(db.pool, async (tx) => {
      await tx.query("UPDATE products SET name = 'A2' WHERE id = $1", [a]);
      tx.afterCommit(async () => {
        // Runs after COMMIT: another connection sees the change already.
        const { rows } = await db.pool.query<{ name: string }>('SELECT name FROM products WHERE id = $1', [
          a,
        ]);
        seen.push(`committed:${rows[0]!.name}`);
      });
      tx.afterCommit(() => void seen.push('second'));
    });
    expect(seen).toEqual(['committed:A2', 'second']);

    await expect(
      withTransaction(db.pool, async (tx) => {
        tx.afterCommit(() => void seen.push('rolled back'));
        await tx.query("INSERT INTO orders (status, total_amount) VALUES ('nonsense', 1)");
      }),
    ).rejects.toMatchObject({ code: '23514' });
    expect(seen).toEqual(['committed:A2', 'second']);
  });

  it('keeps the result when an after-commit effect fails, and reports the failure', async () => {
    const failures: unknown[] = [];
    const result = await withTransaction(
      db.pool,
      async (tx) => {
        tx.afterCommit(() => {
          throw new Error('cache down');
        });
        await tx.query('SELECT 1');
        return 42;
      },
      { onEffectError: (e) => failures.push(e) },
    );
    expect(result).toBe(42);
    expect(failures).toHaveLength(1);
  });

  it('retries the loser of a real deadlock, so both transactions complete', async () => {
    let attempts = 0;
    // Two transactions lock the same rows in opposite orders; PostgreSQL aborts one (40P01).
    const barrier = (() => {
      let arrived = 0;
      let release!: () => void;
      const all = new Promise<void>((r) => (release = r));
      return async () => {
        if (++arrived === 2) release();
        await Promise.race([all, new Promise((r) => setTimeout(r, 500))]);
      };
    })();
    const run = (first: string, second: string) =>
      withTransaction(db.pool, async (tx) => {
        attempts++;
        await tx.query("SET LOCAL deadlock_timeout = '50ms'");
        await tx.query('UPDATE products SET base_price = base_price + 1 WHERE id = $1', [first]);
        await barrier();
        await tx.query('UPDATE products SET base_price = base_price + 1 WHERE id = $1', [second]);
      });
    await Promise.all([run(a, b), run(b, a)]);
    expect(attempts).toBe(3); // two first tries, one retry
    const { rows } = await db.pool.query<{ base_price: number }>(
      'SELECT base_price FROM products WHERE id = ANY($1) ORDER BY name',
      [[a, b]],
    );
    expect(rows.map((r) => r.base_price)).toEqual([102, 202]);
  });

  it('gives up after the bounded number of retries', async () => {
    let attempts = 0;
    const failing = withTransaction(
      db.pool,
      async (tx) => {
        attempts++;
        // A real serialization failure, raised by the server itself.
        await tx.query("DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
      },
      { retries: 2 },
    );
    await expect(failing).rejects.toMatchObject({ code: '40001' });
    expect(attempts).toBe(3);
    const mapped = mapPgError(await failing.catch((e: unknown) => e));
    expect(mapped).toMatchObject({ kind: 'unavailable', code: 'contention' });
  });
});
