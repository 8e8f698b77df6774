import type { AppConfig } from '../config.ts';
import { createMigrationFile, lockNewMigrations, migrate } from '../platform/db/migrations.ts';
import { ensureDatabaseRoles } from '../platform/db/roles.ts';
import { withDatabase } from './shared.ts';

export type MigrateCommand =
  { direction: 'up' | 'down'; count: number } | { create: string } | { lock: true } | { roles: true };

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
  if ('roles' in cmd) {
    const roles = config.databaseRoles;
    if (!roles)
      throw new Error(
        'migrate roles needs DB_APP_USER, DB_APP_PASSWORD, DB_MIGRATE_USER and DB_MIGRATE_PASSWORD',
      );
    await withDatabase(config, async (pool) => {
      const client = await pool.connect();
      try {
        await ensureDatabaseRoles(client, roles);
      } finally {
        client.release();
      }
    });
    process.stdout.write(`roles ready: ${roles.migrate.user} (migrations), ${roles.app.user} (app)\n`);
    return;
  }
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
