import { SingleBar, Presets } from 'cli-progress';
import { isTty, type AppConfig } from '../config.ts';
import { withApp } from './shared.ts';

/** Rebuilds the search index with progress; Ctrl+C aborts and leaves the live index untouched. */
export async function runReindex(config: AppConfig): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  const bar = isTty()
    ? new SingleBar({ format: 'reindexing [{bar}] {value}/{total} products' }, Presets.shades_classic)
    : undefined;
  let lastTenth = -1;
  const started = performance.now();
  try {
    await withApp(config, async (app) => {
      const r = await app.services.search.reindex({
        signal: abort.signal,
        onProgress: ({ done, total }) => {
          if (bar) {
            if (!bar.getTotal()) bar.start(total, 0);
            return bar.update(done);
          }
          const tenth = Math.floor((done / total) * 10);
          if (tenth !== lastTenth) {
            lastTenth = tenth;
            process.stderr.write(`reindexing: ${done}/${total} products\n`);
          }
        },
      });
      bar?.stop();
      process.stdout.write(
        `reindexed ${r.indexed} products (${r.caughtUp} caught up) into ${app.services.search.engineName} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
  }
}

/** Reports index drift (exit 1 when some is left); repairs it with `fix`. */
export async function runSearchReconcile(config: AppConfig, options: { fix: boolean }): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.search.reconcile(options);
    process.stdout.write(`missing: ${r.missing}, stale: ${r.stale}, should be gone: ${r.extra}\n`);
    for (const [what, ids] of Object.entries(r.examples)) {
      for (const id of ids) process.stdout.write(`  ${what} ${id}\n`);
    }
    const drift = r.missing + r.stale + r.extra;
    if (drift && !r.fixed) process.exitCode = 1;
    else if (r.fixed) process.stdout.write(`fixed ${drift} documents\n`);
  });
}
