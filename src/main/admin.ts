import type { AppConfig } from '../config.ts';
import { withApp } from './shared.ts';

export async function runCreateKey(config: AppConfig, name: string): Promise<void> {
  await withApp(config, async (app) => {
    const { key, record } = await app.services.adminKeys.create(name);
    process.stdout.write(
      `Created admin API key "${record.name}" (${record.id}). It is shown only once:\n${key}\n`,
    );
  });
}
