import type { AppConfig } from '../config.ts';
import { createMigrationFile, lockNewMigrations, migrate } from '../platform/db/migrations.ts';
import { withDatabase } from './shared.ts';

export type MigrateCommand =
  { direction: 'up' | 'down'; count: number } | { create: string } | { lock: true };

export async function runMigrate(config: AppConfig | undefined, cmd: MigrateCommand): Promise<void> {
  if ('create' in cmd) {
    process.stdout.write(`${createMigrationFile(cmd.create)}\n`);
    return;
  }
  if ('lock' in cmd) {
    const added = lockNewMigrations();
    process.stdout.write(added.length ? `recorded: ${added.join(', ')}\n` : 'nothing new to record\n');
    return;
  }
  if (!config) throw new Error('no configuration');
  await withDatabase(config, async (_pool, url) => {
    const ran = await migrate({
      databaseUrl: url,
      direction: cmd.direction,
      count: cmd.count,
      lockTimeoutMillis: config.migrationLockTimeoutMillis,
    });
    const verb = cmd.direction === 'up' ? 'applied' : 'rolled back';
    process.stdout.write(
      ran.length
        ? ran.map((m) => `${verb} ${m.name}\n`).join('')
        : `nothing to ${cmd.direction === 'up' ? 'apply' : 'roll back'}\n`,
    );
  });
}
