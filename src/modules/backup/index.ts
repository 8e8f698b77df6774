import type { ShopFlowModule } from '../module.ts';
import type { BackupService } from './backup.service.ts';

/** Logical backups: scheduled create, verify and prune (the commands are in the CLI). */
export function backupModule(deps: { backup: BackupService }): ShopFlowModule {
  return { name: 'backup', jobs: deps.backup.jobs() };
}
