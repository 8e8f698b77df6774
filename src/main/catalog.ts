import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SingleBar, Presets } from 'cli-progress';
import type pg from 'pg';
import { isTty, type AppConfig } from '../config.ts';
import { withTransaction } from '../platform/db/transaction.ts';
import { variantsBackfill } from '../modules/catalog/variants.backfill.ts';
import { inventorySql } from '../modules/inventory/inventory.sql.ts';
import { withApp, withDatabase } from './shared.ts';

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

/**
 * `shopflow catalog import FILE.csv`: validates the whole file, then (unless a dry run, or errors
 * without `partial`) writes it in batches. Progress on stderr (the file is read twice: the bar
 * counts bytes over both passes); the summary and every error on stdout. Exit code 1 when the file
 * has errors and nothing was written.
 */
export async function runCatalogImport(
  config: AppConfig,
  file: string,
  opts: { dryRun: boolean; partial: boolean },
): Promise<void> {
  const size = (await stat(file)).size;
  const total = Math.max(1, opts.dryRun ? size : size * 2);
  const bar = isTty()
    ? new SingleBar(
        { format: 'importing [{bar}] {percentage}% | {phase} {rows} rows' },
        Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { phase: 'validating', rows: 0 });
  let read = 0;
  let lastTenth = -1;
  const open = () => {
    const stream = createReadStream(file);
    stream.on('data', (chunk) => {
      read += chunk.length;
      bar?.update(Math.min(read, total));
    });
    return stream;
  };
  try {
    await withApp(config, async (app) => {
      const r = await app.services.catalogFiles.import(open, {
        ...opts,
        onProgress: (phase, rows) => {
          const label = phase === 'validate' ? 'validating' : 'writing';
          if (bar) return bar.update(Math.min(read, total), { phase: label, rows });
          const tenth = Math.floor((read / total) * 10);
          if (tenth !== lastTenth) {
            lastTenth = tenth;
            process.stderr.write(`import: ${label}, ${rows} rows\n`);
          }
        },
      });
      bar?.stop();
      for (const e of r.errors)
        process.stdout.write(`line ${e.line}${e.field ? ` ${e.field}` : ''}: ${e.reason}\n`);
      process.stdout.write(
        `${r.dryRun ? 'dry run' : r.written ? 'imported' : 'nothing written'}: ${r.rows} rows, ` +
          `products ${r.productsCreated} created ${r.productsUpdated} updated, ` +
          `variants ${r.variantsCreated} created ${r.variantsUpdated} updated, ${r.errors.length} errors\n`,
      );
      if (r.errors.length > 0 && !r.written) process.exitCode = 1;
    });
  } finally {
    bar?.stop();
  }
}

/** `shopflow catalog export [--output FILE]`: the live catalog as CSV, to stdout or the file. */
export async function runCatalogExport(config: AppConfig, opts: { output?: string }): Promise<void> {
  await withApp(config, async (app) => {
    const csv = Readable.from(app.services.catalogFiles.exportCsv());
    if (opts.output) await pipeline(csv, createWriteStream(opts.output));
    else await pipeline(csv, process.stdout, { end: false });
  });
}
