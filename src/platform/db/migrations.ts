/**
 * The migration runner: node-pg-migrate over the SQL files in `migrations/`.
 * Each file holds `-- Up Migration` and `-- Down Migration` sections.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';

export type RunMigration = Awaited<ReturnType<typeof runner>>[number];

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));
export const CHECKSUMS_FILE = path.join(MIGRATIONS_DIR, 'checksums.json');
const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrateOptions {
  databaseUrl: string;
  direction: 'up' | 'down';
  /** How many migrations; Infinity for all. Default: all for up, one for down. */
  count?: number;
  log?: (line: string) => void;
  /** lock_timeout of the migration's connection (0: wait forever); see migrationUrl. */
  lockTimeoutMillis?: number;
}

/**
 * The connection a migration runs on sets its own timeouts, whatever the server, role or database
 * default: statement_timeout 0 (CREATE INDEX CONCURRENTLY on a large table runs as long as it needs;
 * a cancelled one leaves an INVALID index) and lock_timeout (a migration that waits for a lock held
 * by a long transaction gives up instead of queueing every query of the store behind it; rerun it).
 */
export function migrationUrl(databaseUrl: string, lockTimeoutMillis: number): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c statement_timeout=0 -c lock_timeout=${lockTimeoutMillis}`);
  return url.toString();
}

export async function migrate(options: MigrateOptions): Promise<RunMigration[]> {
  const log = options.log ?? (() => undefined);
  return runner({
    databaseUrl:
      options.lockTimeoutMillis === undefined
        ? options.databaseUrl
        : migrationUrl(options.databaseUrl, options.lockTimeoutMillis),
    dir: MIGRATIONS_DIR,
    ignorePattern: '(\\..*)|(.*\\.(json|md))',
    migrationsTable: MIGRATIONS_TABLE,
    direction: options.direction,
    count: options.count ?? (options.direction === 'up' ? Infinity : 1),
    checkOrder: true,
    singleTransaction: true,
    verbose: false,
    // Several processes may start at once: the second waits for the first's migrations.
    advisoryLockMode: 'wait',
    logger: { debug: () => undefined, info: log, warn: log, error: log },
  });
}

/** What node-pg-migrate runs: SQL files and JavaScript/TypeScript modules (e.g. CONCURRENTLY builds). */
const MIGRATION_FILE = /^\d+_[^/]+\.(sql|js|cjs|mjs|ts)$/;

/** Lists migration files of every kind (not the README or checksums), in the order they run. */
export function migrationFiles(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => MIGRATION_FILE.test(f))
    .sort();
}

export function checksum(file: string): string {
  return createHash('sha256')
    .update(readFileSync(path.join(MIGRATIONS_DIR, file)))
    .digest('hex');
}

export function readChecksums(): Record<string, string> {
  return JSON.parse(readFileSync(CHECKSUMS_FILE, 'utf8')) as Record<string, string>;
}

/**
 * Records the checksum of every migration that has none yet. Existing entries are never rewritten:
 * a landed migration is immutable, and the test suite fails when one changes.
 */
export function lockNewMigrations(): string[] {
  const sums = readChecksums();
  const added: string[] = [];
  for (const file of migrationFiles()) {
    if (sums[file] === undefined) {
      sums[file] = checksum(file);
      added.push(file);
    }
  }
  if (added.length > 0) writeFileSync(CHECKSUMS_FILE, JSON.stringify(sums, null, 2) + '\n');
  return added;
}

/** Writes a new, empty migration file named `<timestamp>_<name>.sql` and returns its path. */
export function createMigrationFile(name: string, now = new Date()): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  if (!slug) throw new Error('migration name must contain letters or digits');
  const file = path.join(MIGRATIONS_DIR, `${now.getTime()}_${slug}.sql`);
  writeFileSync(file, `-- Up Migration\n\n-- Down Migration\n`, { flag: 'wx' });
  return file;
}
