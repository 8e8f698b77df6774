import type { AppConfig } from '../config.ts';
import type { JobProgress } from '../platform/jobs/job.ts';
import { withApp } from './shared.ts';

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Progress on stderr at most once a second: bytes so far (and of how many). */
function progress(what: string): (p: JobProgress) => void {
  let last = 0;
  return (p) => {
    if (Date.now() - last < 1000) return;
    last = Date.now();
    process.stderr.write(`${what}: ${mb(p.done)}${p.total ? ` of ${mb(p.total)}` : ''}\n`);
  };
}

export async function runBackupCreate(config: AppConfig): Promise<void> {
  await withApp(config, async (app) => {
    const started = performance.now();
    const m = await app.services.backup.create(progress('dumping'));
    process.stdout.write(
      `backup ${m.id}: ${mb(m.sizeBytes)} in ${((performance.now() - started) / 1000).toFixed(1)} s, schema ${m.schemaVersion ?? '-'}, ${m.counts.orders} orders, ${m.counts.products} products\n`,
    );
  });
}

export async function runBackupList(config: AppConfig): Promise<void> {
  await withApp(config, async (app) => {
    const all = await app.services.backup.list();
    if (all.length === 0) process.stdout.write('no backups\n');
    for (const b of all)
      process.stdout.write(
        `${b.id}  ${b.createdAt}  ${mb(b.sizeBytes)}  schema ${b.schemaVersion ?? '-'}  ${
          b.verified
            ? `verified ${b.verified.ok ? 'ok' : 'FAILED'} ${b.verified.at} (restore ${b.verified.restoreMs} ms)`
            : 'not verified'
        }\n`,
      );
  });
}

export async function runBackupVerify(config: AppConfig, id?: string): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.backup.verify(id, progress('restoring'));
    process.stdout.write(
      `backup ${r.id}: ${r.ok ? 'verified' : 'MISMATCH'}; restore took ${r.restoreMs} ms (the measured RTO of this path), restored on ${r.restoredOn}\n`,
    );
    // What was compared, table by table: rows in the manifest and rows restored.
    for (const c of r.counts)
      process.stdout.write(
        `  ${c.table}: ${c.restored ?? 'missing'} rows restored, ${c.manifest} in the manifest\n`,
      );
    process.stdout.write(`  sample checksums compared: ${r.samplesCompared} tables\n`);
    for (const m of r.mismatches) process.stdout.write(`  ${m}\n`);
    if (!r.ok) process.exitCode = 1;
  });
}

export async function runBackupRestore(
  config: AppConfig,
  options: { id: string; targetDb: string; force?: boolean },
): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.backup.restore(options.id, options.targetDb, {
      force: options.force === true,
      onProgress: progress('restoring'),
    });
    process.stdout.write(`backup ${r.id} restored into ${r.target} in ${r.restoreMs} ms\n`);
  });
}

export async function runBackupPrune(config: AppConfig): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.backup.prune();
    process.stdout.write(`deleted ${r.deleted.length} backups, kept ${r.kept}\n`);
    for (const id of r.deleted) process.stdout.write(`  deleted ${id}\n`);
  });
}
