import type { AppConfig } from '../config.ts';
import { createDatabase } from '../platform/db/pool.ts';
import { StatsService } from '../modules/stats/stats.service.ts';
import { withDatabase } from './shared.ts';

export async function runStatsRefresh(config: AppConfig): Promise<void> {
  await withDatabase(config, async (pool) => {
    const r = await new StatsService({ db: createDatabase(pool) }).refresh();
    process.stdout.write(`product_stats refreshed in ${r.durationMs} ms\n`);
  });
}
