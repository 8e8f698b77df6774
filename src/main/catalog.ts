import type pg from 'pg';
import type { AppConfig } from '../config.ts';
import { withTransaction } from '../platform/db/transaction.ts';
import { variantsBackfill } from '../modules/catalog/variants.backfill.ts';
import { inventorySql } from '../modules/inventory/inventory.sql.ts';
import { withDatabase } from './shared.ts';

/**
 * `shopflow catalog backfill-variants`: gives every product its default variant and slug, and
 * keys its stock row by that variant, a batch per transaction (see variants.backfill.ts). Prints
 * progress; interrupt and rerun at will.
 */
export async function runBackfillVariants(config: AppConfig, opts: { batchSize: number }): Promise<void> {
  await withDatabase(config, async (pool) => {
    const result = await backfillVariants(pool, {
      batchSize: opts.batchSize,
      onProgress: (done, ms) =>
        process.stderr.write(`backfill: ${done} products (${Math.round(done / (ms / 1000))}/s)\n`),
    });
    process.stdout.write(`backfill-variants: ${result.products} products in ${result.ms} ms\n`);
  });
}

/** The backfill loop (also used by the upgrade test): returns how many products it went through. */
export async function backfillVariants(
  pool: pg.Pool,
  opts: { batchSize: number; onProgress?: (done: number, ms: number) => void; signal?: AbortSignal },
): Promise<{ products: number; ms: number }> {
  const started = performance.now();
  let after: string | null = null;
  let done = 0;
  for (;;) {
    if (opts.signal?.aborted) break;
    const ids: string[] = await withTransaction(pool, async (tx) => {
      const batch = await variantsBackfill.batch(tx, after, opts.batchSize);
      if (batch.length) await inventorySql.keyByDefaultVariant(tx, batch);
      return batch;
    });
    if (ids.length === 0) break;
    after = ids[ids.length - 1]!;
    done += ids.length;
    opts.onProgress?.(done, performance.now() - started);
  }
  return { products: done, ms: Math.round(performance.now() - started) };
}
