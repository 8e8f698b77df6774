/**
 * The `shopflow` command. Every subcommand has --help and, on failure, exits non-zero with a
 * one-line reason on standard error.
 */
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from '../config.ts';
import type { AdminKeyScope } from '../http/admin-scopes.ts';
import { VERSION } from '../version.ts';
import { runServe } from './serve.ts';
import { runWorker } from './worker.ts';
import { runMigrate } from './migrate.ts';
import { runSeed } from './seed.ts';
import { runBackfillVariants, runCatalogExport, runCatalogImport } from './catalog.ts';
import { parseExpiresIn, parseScopes, runCreateKey } from './admin.ts';
import { runReconcile } from './inventory.ts';
import { runStatsRefresh } from './stats.ts';
import { runReindex, runSearchReconcile } from './search.ts';
import { runStorageSetup } from './storage.ts';
import { runJob, runJobsList, runRestoreOrder, runRetention } from './jobs.ts';
import { runAnonymize, runExport } from './customers.ts';
import {
  runBackupCreate,
  runBackupList,
  runBackupPrune,
  runBackupRestore,
  runBackupVerify,
} from './backup.ts';

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError(`${name} must be a non-negative integer`);
  return n;
};

/** Wraps an action: config errors and failures become one line on stderr and exit code 1. */
function action<A extends unknown[]>(fn: (...args: A) => Promise<void>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      const reason =
        error instanceof ConfigError
          ? error.problems.join('; ')
          : error instanceof Error
            ? error.message.split('\n')[0]
            : String(error);
      process.stderr.write(`shopflow: ${reason}\n`);
      if (error instanceof ConfigError) process.stderr.write(error.message + '\n');
      process.exitCode = 1;
    }
  };
}

export function buildCli(): Command {
  const program = new Command('shopflow')
    .description('ShopFlow: the data and persistence platform of an e-commerce store')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)');
  for (const add of [
    processCommands,
    databaseCommands,
    jobCommands,
    dataCommands,
    indexAndStorageCommands,
    adminCommands,
  ])
    add(program);
  return program;
}

/** serve, start, worker: the long-running processes. */
function processCommands(program: Command): void {
  program
    .command('serve')
    .description('Serve the HTTP API (and, with SHOPFLOW_ROLE=all, run the worker jobs in the same process)')
    .option('--migrate', 'apply pending migrations before serving (always done on the embedded database)')
    .action(
      action(async (opts: { migrate?: boolean }) =>
        runServe(loadConfig(), { migrate: opts.migrate === true }),
      ),
    );

  program
    .command('start')
    .description(
      'What SHOPFLOW_ROLE says: the API (api, or all: API and worker in one process) or the worker (worker); the container command',
    )
    .action(
      action(async () => {
        const config = loadConfig();
        await (config.role === 'worker' ? runWorker(config) : runServe(config, { migrate: false }));
      }),
    );

  program
    .command('worker')
    .description('Run the background jobs (outbox relay, consumers, schedules) without the HTTP API')
    .action(action(async () => runWorker(loadConfig())));
}

/** migrate, seed, inventory, stats: the database's schema and contents. */
function databaseCommands(program: Command): void {
  const migrate = program
    .command('migrate')
    .description('Database migrations (node-pg-migrate, migrations/*.sql)');
  migrate
    .command('up')
    .description('Apply pending migrations (all, or the next N)')
    .argument('[N]', 'how many', positiveInt('N'))
    .action(
      action(async (n?: number) => runMigrate(loadConfig(), { direction: 'up', count: n ?? Infinity })),
    );
  migrate
    .command('down')
    .description('Roll back the last migration, the last N, or --all')
    .argument('[N]', 'how many', positiveInt('N'))
    .option('--all', 'roll back every migration')
    .action(
      action(async (n: number | undefined, opts: { all?: boolean }) =>
        runMigrate(loadConfig(), { direction: 'down', count: opts.all ? Infinity : (n ?? 1) }),
      ),
    );
  migrate
    .command('create')
    .description('Create an empty SQL migration file in migrations/')
    .argument('<NAME>', 'what it does, e.g. add-product-variants')
    .action(action(async (name: string) => runMigrate(undefined, { create: name })));
  migrate
    .command('roles')
    .description(
      'Create or update the migrate and app database roles and their grants (run as the administrator, before up)',
    )
    .action(action(async () => runMigrate(loadConfig(), { roles: true })));
  migrate
    .command('lock')
    .description('Record the checksums of new migration files (landed ones are immutable)')
    .action(action(async () => runMigrate(undefined, { lock: true })));

  program
    .command('seed')
    .description('Load a deterministic Brazilian demo catalog (resumable: rerun after an interruption)')
    .requiredOption('--products <N>', 'how many products', positiveInt('--products'))
    .option('--seed <S>', 'random seed: the same seed gives the same catalog', positiveInt('--seed'), 1)
    .option('--batch-size <B>', 'products per transaction', positiveInt('--batch-size'), 20_000)
    .action(
      action(async (opts: { products: number; seed: number; batchSize: number }) =>
        runSeed(loadConfig(), opts),
      ),
    );

  const catalog = program
    .command('catalog')
    .description('The catalog: variants backfill, CSV import and export');
  catalog
    .command('backfill-variants')
    .description(
      'Give every product its default variant and slug and key its stock by it, a batch per transaction (resumable; run before migration 1765300000006 on a large database)',
    )
    .option('--batch-size <B>', 'products per transaction', positiveInt('--batch-size'), 5_000)
    .action(action(async (opts: { batchSize: number }) => runBackfillVariants(loadConfig(), opts)));
  catalog
    .command('import')
    .description(
      'Import a catalog CSV (docs/catalog-import.md): every row validated first; with errors nothing is written (exit 1) unless --partial',
    )
    .argument('<file>', 'the CSV file, one row per variant')
    .option('--dry-run', 'validate and report only')
    .option('--partial', 'write the good products, skip those with a bad row')
    .action(
      action(async (file: string, opts: { dryRun?: boolean; partial?: boolean }) =>
        runCatalogImport(loadConfig(), file, {
          dryRun: opts.dryRun === true,
          partial: opts.partial === true,
        }),
      ),
    );
  catalog
    .command('export')
    .description("Export the live catalog as CSV (the import's columns), to stdout or --output")
    .option('--output <file>', 'write to this file instead of stdout')
    .action(action(async (opts: { output?: string }) => runCatalogExport(loadConfig(), opts)));

  program
    .command('inventory')
    .description('Inventory maintenance')
    .command('reconcile')
    .description('Recompute reserved stock from open orders and report drift (exit 1 when drift is left)')
    .option('--fix', 'repair every drifted product in one transaction')
    .action(
      action(async (opts: { fix?: boolean }) => runReconcile(loadConfig(), { fix: opts.fix === true })),
    );

  program
    .command('stats')
    .description('Product statistics')
    .command('refresh')
    .description('Refresh the product_stats materialized view now')
    .action(action(async () => runStatsRefresh(loadConfig())));
}

/** jobs, retention: work that also runs on a schedule. */
function jobCommands(program: Command): void {
  const jobs = program.command('jobs').description('Scheduled and on-demand jobs');
  jobs
    .command('list')
    .description('Every job with its schedule (cron, UTC), next run and last run')
    .action(action(async () => runJobsList(loadConfig())));
  jobs
    .command('run')
    .description('Run a job now in this process, with progress; recorded like a scheduled run')
    .argument('<name>', 'the job (see jobs list)')
    .action(action(async (name: string) => runJob(loadConfig(), name)));

  const retention = program.command('retention').description('Retention rules: purges and archival');
  retention
    .command('run')
    .description('Run every retention job now, in turn, with progress (each is safe to interrupt and rerun)')
    .action(action(async () => runRetention(loadConfig())));
  retention
    .command('restore-order')
    .description(
      'Bring one archived order back into the orders tables (from cold storage: asks for a restore first and exits 3)',
    )
    .argument('<id>', 'the order id')
    .action(action(async (id: string) => runRestoreOrder(loadConfig(), id)));
}

/** customers, backup: personal data and the database's copies. */
function dataCommands(program: Command): void {
  const customers = program.command('customers').description("Customers' personal data (GDPR/LGPD)");
  customers
    .command('anonymize')
    .description(
      "Erase a customer's personal data everywhere it lives (idempotent; recorded in the audit log)",
    )
    .argument('<id>', 'the customer id')
    .action(action(async (id: string) => runAnonymize(loadConfig(), id)));
  customers
    .command('export')
    .description('Write everything held about a customer as one JSON document to standard output')
    .argument('<id>', 'the customer id')
    .action(action(async (id: string) => runExport(loadConfig(), id)));

  const backup = program.command('backup').description('Logical backups (pg_dump) in the backups bucket');
  backup
    .command('create')
    .description('Dump the database to the backups bucket (streamed), with a manifest')
    .action(action(async () => runBackupCreate(loadConfig())));
  backup
    .command('list')
    .description('Backups, newest first, with their last verification')
    .action(action(async () => runBackupList(loadConfig())));
  backup
    .command('verify')
    .description(
      'Restore a backup (the newest by default) into a scratch database and check it (exit 1 on a mismatch)',
    )
    .option('--id <ID>', 'the backup')
    .action(action(async (opts: { id?: string }) => runBackupVerify(loadConfig(), opts.id)));
  backup
    .command('restore')
    .description('Restore a backup into a new database (or, with --force, over an existing one)')
    .requiredOption('--id <ID>', 'the backup')
    .requiredOption('--target-db <NAME>', 'the database to restore into')
    .option('--force', 'replace what the target database holds')
    .action(
      action(async (opts: { id: string; targetDb: string; force?: boolean }) =>
        runBackupRestore(loadConfig(), opts),
      ),
    );
  backup
    .command('prune')
    .description('Delete backups older than BACKUP_RETENTION_DAYS, never the newest verified one')
    .action(action(async () => runBackupPrune(loadConfig())));
}

/** search, storage: the search index and the object store. */
function indexAndStorageCommands(program: Command): void {
  const search = program.command('search').description('The product search index');
  search
    .command('reindex')
    .description('Rebuild the index in batches into a new one and swap it in (searches keep answering)')
    .action(action(async () => runReindex(loadConfig())));
  search
    .command('reconcile')
    .description(
      'Compare the catalog with the index; report missing, stale and extra documents (exit 1 when left)',
    )
    .option('--fix', 'repair what differs')
    .action(
      action(async (opts: { fix?: boolean }) => runSearchReconcile(loadConfig(), { fix: opts.fix === true })),
    );

  program
    .command('storage')
    .description('Object storage')
    .command('setup')
    .description(
      'Create missing buckets; apply versioning, encryption, public access block and lifecycle rules (idempotent)',
    )
    .action(action(async () => runStorageSetup(loadConfig())));
}

/** admin: API keys. */
function adminCommands(program: Command): void {
  const admin = program.command('admin').description('Administration');
  admin
    .command('create-key')
    .description('Create an admin API key; prints it as the last line (only its hash is stored)')
    .requiredOption('--name <NAME>', 'a label for the key, unique among live keys')
    .requiredOption(
      '--scopes <LIST>',
      'comma-separated scopes: catalog, inventory, orders, refunds, customers, privacy, operations, keys, or * (all)',
      parseScopes,
    )
    .option(
      '--expires-in <DURATION>',
      'lifetime, e.g. 90d, 12h or 30m (default: never expires)',
      parseExpiresIn,
    )
    .action(
      action(async (opts: { name: string; scopes: AdminKeyScope[]; expiresIn?: number }) =>
        runCreateKey(loadConfig(), opts),
      ),
    );
}

await buildCli().parseAsync(process.argv);
