import type { AppConfig } from '../config.ts';
import { createDatabase } from '../platform/db/pool.ts';
import { AdminKeysService } from '../modules/admin-keys/admin-keys.service.ts';
import { withDatabase } from './shared.ts';

export async function runCreateKey(config: AppConfig, name: string): Promise<void> {
  await withDatabase(config, async (pool) => {
    const service = new AdminKeysService({ db: createDatabase(pool) });
    const { key, record } = await service.create(name);
    process.stdout.write(
      `Created admin API key "${record.name}" (${record.id}). It is shown only once:\n${key}\n`,
    );
  });
}
