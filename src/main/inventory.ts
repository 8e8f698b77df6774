import type { AppConfig } from '../config.ts';
import { withApp } from './shared.ts';

/** Prints every drifted reservation; repairs them with `fix`. Exit code 1 when drift is left. */
export async function runReconcile(config: AppConfig, options: { fix: boolean }): Promise<void> {
  await withApp(config, async (app) => {
    const { drift, fixed } = await app.services.inventory.reconcile(options);
    if (drift.length === 0) {
      process.stdout.write('inventory reconciled: no drift\n');
      return;
    }
    process.stdout.write('product_id                            reserved  expected\n');
    for (const d of drift) {
      process.stdout.write(
        `${d.productId}  ${String(d.reservedQuantity).padStart(8)}  ${String(d.expectedReserved).padStart(8)}\n`,
      );
    }
    process.stdout.write(
      fixed
        ? `fixed ${drift.length} products\n`
        : `${drift.length} products drifted (rerun with --fix to repair)\n`,
    );
    if (!fixed) process.exitCode = 1;
  });
}
