import { SingleBar, Presets } from 'cli-progress';
import { isTty, type AppConfig } from '../config.ts';
import { createApp } from '../app.ts';
import { pgCode } from '../platform/db/pg-errors.ts';
import { isEmbedded } from './embedded.ts';
import { commandLogger } from './shared.ts';

/** From this many products, seeding into an empty search index bulk-loads it. */
const BULK_FROM = 50_000;

export async function runSeed(
  config: AppConfig,
  opts: { products: number; seed: number; batchSize: number },
): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => {
    process.stderr.write('\ninterrupting after the current batch; rerun the same command to resume\n');
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const bar = isTty()
    ? new SingleBar(
        { format: 'seeding [{bar}] {percentage}% | {value}/{total} products | {eta_formatted} left' },
        Presets.shades_classic,
      )
    : undefined;
  let lastTenth = -1;
  const started = performance.now();
  try {
    const app = await createApp(config, { logger: commandLogger(config), migrate: isEmbedded(config) });
    try {
      // Into an empty search index, a large catalog is bulk-loaded (search structures built once at
      // the end); otherwise each batch is indexed as it commits. Either way the products are
      // searchable when seeding ends.
      const bulk = opts.products >= BULK_FROM ? await app.services.search.bulkLoad() : undefined;
      bar?.start(opts.products, 0);
      const seeding = app.services.seed.seed({
        products: opts.products,
        seed: opts.seed,
        batchSize: Math.max(1, opts.batchSize),
        signal: abort.signal,
        // A batch this run wrote is indexed from the rows it wrote; one found from an earlier run is
        // read back from the catalog.
        onBatch: (batch) =>
          !bulk
            ? app.services.search.sync(batch.productIds)
            : batch.rows
              ? bulk.addSources(batch.rows)
              : bulk.add(batch.productIds),
        handOverPresent: bulk !== undefined,
        bulk: opts.products >= BULK_FROM,
        onPhase: (message) => process.stderr.write(`${bar ? '\n' : ''}${message}\n`),
        onProgress: (done, total) => {
          if (bar) return bar.update(done);
          const tenth = Math.floor((done / total) * 10);
          if (tenth !== lastTenth) {
            lastTenth = tenth;
            process.stderr.write(`seeding: ${done}/${total} products\n`);
          }
        },
      });
      let result: Awaited<typeof seeding>;
      try {
        result = await seeding;
      } catch (error) {
        await bulk?.abort();
        throw error;
      }
      bar?.stop();
      if (bulk) {
        process.stderr.write('building the search index...\n');
        await bulk.finish();
      }
      const secs = (performance.now() - started) / 1000;
      process.stdout.write(
        `seeded ${result.inserted} products (${result.skipped} already present) in ${result.categories} categories in ${secs.toFixed(1)} s\n`,
      );
    } finally {
      await app.close();
    }
  } catch (error) {
    bar?.stop();
    if (abort.signal.aborted)
      throw new Error(
        'interrupted; committed batches are kept, rerun to resume (catalog indexes a bulk seed set aside are built by the rerun)',
      );
    if (pgCode(error) === '42P01')
      throw new Error('the database is not migrated: run `shopflow migrate up` first');
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
