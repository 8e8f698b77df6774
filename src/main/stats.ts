import type { AppConfig } from '../config.ts';
import { withApp } from './shared.ts';

export async function runStatsRefresh(config: AppConfig): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.stats.refresh();
    process.stdout.write(`product_stats refreshed in ${r.durationMs} ms\n`);
  });
}
