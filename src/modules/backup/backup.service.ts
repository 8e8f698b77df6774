/**
 * Logical backups: a consistent `pg_dump` (custom format) streamed to the backups bucket, never
 * held whole in memory or on local disk, with a manifest written last (time, size, SHA-256, schema
 * version, row counts and checksums of sample rows, all read in the dump's own snapshot). A backup
 * without its manifest (interrupted) is never listed. Verification restores a backup into a scratch
 * database, compares it with its manifest and measures how long the restore took.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import type { Database } from '../../platform/db/pool.ts';
import { borrowClient } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { defineJob, type Job, type JobProgress } from '../../platform/jobs/job.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { findPgTool, libpqEnv, startTool } from './pg-tools.ts';

/** Tables whose row counts a manifest records and a verification compares. */
const COUNTED = [
  'categories',
  'products',
  'inventory',
  'customers',
  'orders',
  'order_items',
  'payment_attempts',
  'reviews',
  'carts',
  'order_archive',
] as const;
/** Tables whose first rows (by id) are checksummed. */
const SAMPLED = ['products', 'customers', 'orders'] as const;
const SAMPLE_ROWS = 1000;
const PREFIX = 'backups/';

export interface BackupManifest {
  id: string;
  createdAt: string;
  finishedAt: string;
  sizeBytes: number;
  sha256: string;
  schemaVersion: string | null;
  serverVersion: string;
  counts: Record<string, number>;
  samples: Record<string, string>;
}

export interface BackupEntry extends BackupManifest {
  verified: { at: string; ok: boolean; restoreMs: number } | null;
}

export interface VerifyReport {
  id: string;
  ok: boolean;
  restoreMs: number;
  mismatches: string[];
  /** Each table's rows: in the manifest and as restored. */
  counts: { table: string; manifest: number; restored: number | undefined }[];
  /** How many tables' sample checksums were compared. */
  samplesCompared: number;
  /** Where the backup was restored (host and scratch database; never the primary in production). */
  restoredOn: string;
}

type Progress = (p: JobProgress) => void;

const dumpKey = (id: string) => `${PREFIX}${id}/dump.pgcustom`;
const manifestKey = (id: string) => `${PREFIX}${id}/manifest.json`;
const verifiedKey = (id: string) => `${PREFIX}${id}/verified.json`;
const ident = (name: string) => pg.escapeIdentifier(name);

/** Counts and sample checksums of the tables, read through `q` (inside one snapshot when it is a transaction). */
async function fingerprint(
  q: pg.ClientBase | pg.Pool,
): Promise<{ counts: Record<string, number>; samples: Record<string, string> }> {
  const counts: Record<string, number> = {};
  const samples: Record<string, string> = {};
  for (const table of COUNTED) {
    // Table names come from the list above (identifiers, quoted), never from input.
    const { rows } = await q.query<{ n: string }>(`SELECT COUNT(*)::text AS n FROM ${ident(table)}`);
    counts[table] = Number(rows[0]!.n);
  }
  for (const table of SAMPLED) {
    const { rows } = await q.query<{ h: string }>(
      `SELECT md5(COALESCE(string_agg(t::text, '|' ORDER BY t.id), '')) AS h
       FROM (SELECT * FROM ${ident(table)} ORDER BY id LIMIT $1) t`,
      [SAMPLE_ROWS],
    );
    samples[table] = rows[0]!.h;
  }
  return { counts, samples };
}

/** Counts bytes and hashes them on the way, reporting progress. */
function meter(onBytes: (n: number) => void) {
  const hash = createHash('sha256');
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      hash.update(chunk);
      onBytes(size);
      done(null, chunk);
    },
  });
  return { stream, size: () => size, digest: () => hash.digest('hex') };
}

export class BackupService {
  constructor(
    private readonly deps: {
      db: Database;
      /** The database's connection URL (its password goes to the tools by environment only). */
      databaseUrl: string;
      objects: ObjectStore;
      pgBinDir?: string;
      /** The PATH the tools are looked for on (from the configuration). */
      searchPath: string;
      retentionDays: number;
      /** The newest this many backups are kept whatever their age (backups that stopped keep the last ones). */
      retentionCount?: number;
      /**
       * A separate PostgreSQL server `verify` restores onto (BACKUP_VERIFY_DB_HOST); without it,
       * a scratch database on the primary's server, refused in production.
       */
      verifyHost?: string;
      /** Who to connect to the verify server as (its own administrator); default the primary's user. */
      verifyLogin?: { user: string; password: string };
      production?: boolean;
    },
  ) {}

  /**
   * When the newest backup was taken and the newest verified one, for the freshness metrics: one
   * listing of the bucket and at most a few small reads, whatever the number of backups.
   */
  async freshness(): Promise<{ newest?: Date; newestVerified?: Date }> {
    const manifests: string[] = [];
    const verified: string[] = [];
    for await (const o of this.deps.objects.list('backups', PREFIX)) {
      const [id, file] = o.key.slice(PREFIX.length).split('/');
      if (file === 'manifest.json') manifests.push(id!);
      if (file === 'verified.json') verified.push(id!);
    }
    const createdAt = async (id: string) => {
      const m = await this.deps.objects.get('backups', manifestKey(id));
      return m ? new Date((JSON.parse(m.body.toString('utf8')) as BackupManifest).createdAt) : undefined;
    };
    const newestId = manifests.sort().at(-1);
    let newestVerified: Date | undefined;
    // Ids start with their UTC time, so the newest sort last; a failed verification is skipped.
    for (const id of verified.sort().reverse().slice(0, 5)) {
      const v = await this.deps.objects.get('backups', verifiedKey(id));
      if (v && (JSON.parse(v.body.toString('utf8')) as { ok: boolean }).ok) {
        newestVerified = await createdAt(id);
        break;
      }
    }
    const newest = newestId ? await createdAt(newestId) : undefined;
    return { ...(newest ? { newest } : {}), ...(newestVerified ? { newestVerified } : {}) };
  }

  /** Dumps the database to the backups bucket; resolves with the manifest once it is written. */
  async create(onProgress?: Progress): Promise<BackupManifest> {
    const pgDump = await findPgTool('pg_dump', {
      binDir: this.deps.pgBinDir,
      searchPath: this.deps.searchPath,
    });
    const createdAt = new Date();
    const id = `${createdAt
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
    const borrowed = await borrowClient(this.deps.db.primary);
    const client = borrowed.client;
    try {
      // One snapshot for the dump and for what the manifest says about it.
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows: snap } = await client.query<{ s: string; v: string }>(
        'SELECT pg_export_snapshot() AS s, current_setting($1) AS v',
        ['server_version'],
      );
      const facts = await fingerprint(client);
      const { rows: migration } = await client.query<{ name: string }>(
        'SELECT name FROM pgmigrations ORDER BY run_on DESC, id DESC LIMIT 1',
      );
      const dump = startTool(
        pgDump,
        ['--format=custom', `--snapshot=${snap[0]!.s}`, '--no-owner', '--no-privileges'],
        libpqEnv(this.deps.databaseUrl),
      );
      dump.child.stdin!.end();
      const m = meter((n) => onProgress?.({ done: n, unit: 'bytes' }));
      const uploaded = this.deps.objects.upload('backups', dumpKey(id), dump.child.stdout!.pipe(m.stream), {
        contentType: 'application/octet-stream',
        metadata: { backup: id },
      });
      // If pg_dump fails, the upload must fail too (never a partial dump under its key). Its
      // output can also end before its exit status is known, so the upload may already be stored:
      // then it is deleted (no manifest is written either way, so nothing is ever listed).
      try {
        await Promise.all([
          dump.done.catch((err: unknown) => {
            m.stream.destroy(err as Error);
            throw err;
          }),
          uploaded,
        ]);
      } catch (error) {
        await uploaded.catch(() => undefined);
        await this.deps.objects.delete('backups', dumpKey(id)).catch(() => undefined);
        throw error;
      }
      const manifest: BackupManifest = {
        id,
        createdAt: createdAt.toISOString(),
        finishedAt: new Date().toISOString(),
        sizeBytes: m.size(),
        sha256: m.digest(),
        schemaVersion: migration[0]?.name ?? null,
        serverVersion: snap[0]!.v,
        ...facts,
      };
      await this.deps.objects.put(
        'backups',
        manifestKey(id),
        Buffer.from(JSON.stringify(manifest, null, 2)),
        {
          contentType: 'application/json',
        },
      );
      return manifest;
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      borrowed.release();
    }
  }

  /** Backups with a manifest, newest first, with their last verification. */
  async list(): Promise<BackupEntry[]> {
    const entries: BackupEntry[] = [];
    for await (const o of this.deps.objects.list('backups', PREFIX)) {
      if (!o.key.endsWith('/manifest.json')) continue;
      const manifest = await this.deps.objects.get('backups', o.key);
      if (!manifest) continue;
      const m = JSON.parse(manifest.body.toString('utf8')) as BackupManifest;
      const v = await this.deps.objects.get('backups', verifiedKey(m.id));
      entries.push({
        ...m,
        verified: v ? (JSON.parse(v.body.toString('utf8')) as BackupEntry['verified']) : null,
      });
    }
    return entries.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  private async manifest(id?: string): Promise<BackupManifest> {
    const all = await this.list();
    const found = id ? all.find((b) => b.id === id) : all[0];
    if (!found) throw AppError.notFound('Backup', id ? { id } : { reason: 'there is no backup yet' });
    return found;
  }

  /** Streams a backup's dump into `database` (which must exist) with pg_restore. */
  private async restoreInto(
    m: BackupManifest,
    database: string,
    clean: boolean,
    onProgress?: Progress,
    serverUrl = this.deps.databaseUrl,
  ) {
    const pgRestore = await findPgTool('pg_restore', {
      binDir: this.deps.pgBinDir,
      searchPath: this.deps.searchPath,
    });
    const source = await this.deps.objects.getStream('backups', dumpKey(m.id));
    if (!source) throw new Error(`backup ${m.id} has no dump`);
    const restore = startTool(
      pgRestore,
      [
        '--no-owner',
        '--no-privileges',
        '--exit-on-error',
        ...(clean ? ['--clean', '--if-exists'] : []),
        `--dbname=${database}`,
      ],
      { ...libpqEnv(serverUrl, database) },
    );
    const m2 = meter((n) => onProgress?.({ done: n, total: m.sizeBytes, unit: 'bytes' }));
    await Promise.all([pipeline(source, m2.stream, restore.child.stdin!), restore.done]);
    if (m2.digest() !== m.sha256)
      throw new Error(`backup ${m.id}: the dump read back does not match its checksum`);
  }

  private async withDatabase<T>(
    database: string,
    fn: (pool: pg.Pool) => Promise<T>,
    serverUrl = this.deps.databaseUrl,
  ): Promise<T> {
    const url = new URL(serverUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
    pool.on('error', () => undefined);
    try {
      return await fn(pool);
    } finally {
      await pool.end();
    }
  }

  /**
   * Restores a backup (the newest without `id`) into a scratch database, checks its counts and
   * sample checksums against the manifest, reports the restore time, and drops the scratch database.
   */
  async verify(id?: string, onProgress?: Progress): Promise<VerifyReport> {
    const m = await this.manifest(id);
    if (!this.deps.verifyHost && this.deps.production)
      throw new Error(
        'backup verify restores onto a separate server in production, never the primary: set BACKUP_VERIFY_DB_HOST',
      );
    const server = new URL(this.deps.databaseUrl);
    if (this.deps.verifyHost) server.hostname = this.deps.verifyHost;
    if (this.deps.verifyLogin) {
      server.username = encodeURIComponent(this.deps.verifyLogin.user);
      server.password = encodeURIComponent(this.deps.verifyLogin.password);
    }
    const serverUrl = server.toString();
    const scratch = `shopflow_verify_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Pool({ connectionString: serverUrl, max: 1 });
    admin.on('error', () => undefined);
    // CREATE/DROP DATABASE take no parameters: the name is generated above (hex) and quoted.
    try {
      await admin.query(`CREATE DATABASE ${ident(scratch)}`);
    } catch (e) {
      await admin.end();
      throw e;
    }
    const started = performance.now();
    try {
      await this.restoreInto(m, scratch, false, onProgress, serverUrl);
      const restoreMs = Math.round(performance.now() - started);
      const got = await this.withDatabase(scratch, (pool) => fingerprint(pool), serverUrl);
      const mismatches = [
        ...Object.entries(m.counts)
          .filter(([t, n]) => got.counts[t] !== n)
          .map(([t, n]) => `${t}: ${got.counts[t]} rows restored, ${n} in the manifest`),
        ...Object.entries(m.samples)
          .filter(([t, h]) => got.samples[t] !== h)
          .map(([t]) => `${t}: sample checksum differs`),
      ];
      const report: VerifyReport = {
        id: m.id,
        ok: mismatches.length === 0,
        restoreMs,
        mismatches,
        counts: Object.entries(m.counts).map(([table, n]) => ({
          table,
          manifest: n,
          restored: got.counts[table],
        })),
        samplesCompared: Object.keys(m.samples).length,
        restoredOn: `${new URL(serverUrl).hostname}/${scratch}`,
      };
      await this.deps.objects.put(
        'backups',
        verifiedKey(m.id),
        Buffer.from(JSON.stringify({ at: new Date().toISOString(), ok: report.ok, restoreMs })),
        { contentType: 'application/json' },
      );
      return report;
    } finally {
      // The generated scratch name again, quoted (DROP DATABASE takes no parameters).
      await admin.query(`DROP DATABASE IF EXISTS ${ident(scratch)} WITH (FORCE)`).finally(() => admin.end());
    }
  }

  /**
   * Restores a backup into `target`, a new database (created) or, with `force`, an existing one
   * (its objects dropped first). Refuses a database that holds tables without `force`.
   */
  async restore(id: string, target: string, options: { force?: boolean; onProgress?: Progress } = {}) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(target))
      throw AppError.invalid('The target database name must be lowercase letters, digits and _', [
        { field: 'targetDb', message: 'invalid' },
      ]);
    const m = await this.manifest(id);
    const { rows } = await this.deps.db.primary.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      target,
    ]);
    // CREATE DATABASE takes no parameters: the name passed the pattern above and is quoted.
    if (rows.length === 0) await this.deps.db.primary.query(`CREATE DATABASE ${ident(target)}`);
    else {
      const tables = await this.withDatabase(target, async (pool) =>
        Number(
          (
            await pool.query<{ n: string }>(
              "SELECT COUNT(*)::text AS n FROM pg_tables WHERE schemaname = 'public'",
            )
          ).rows[0]!.n,
        ),
      );
      if (tables > 0 && !options.force)
        throw AppError.conflict(
          'target_not_empty',
          `Database ${target} holds ${tables} tables: add --force to replace them`,
        );
    }
    const started = performance.now();
    await this.restoreInto(m, target, rows.length > 0, options.onProgress);
    return { id: m.id, target, restoreMs: Math.round(performance.now() - started) };
  }

  /** Deletes backups older than the retention, never the newest verified one nor the newest `retentionCount`. */
  async prune(): Promise<{ deleted: string[]; kept: number }> {
    const all = await this.list(); // newest first
    const newestVerified = all.find((b) => b.verified?.ok)?.id;
    const cutoff = Date.now() - this.deps.retentionDays * 86_400_000;
    const keepNewest = this.deps.retentionCount ?? 0;
    const deleted: string[] = [];
    for (const [i, b] of all.entries()) {
      if (Date.parse(b.createdAt) >= cutoff || b.id === newestVerified || i < keepNewest) continue;
      // The manifest goes first: a prune cut off midway leaves no listed backup without its dump.
      await this.deps.objects.delete('backups', manifestKey(b.id));
      for await (const o of this.deps.objects.list('backups', `${PREFIX}${b.id}/`))
        await this.deps.objects.delete('backups', o.key);
      deleted.push(b.id);
    }
    return { deleted, kept: all.length - deleted.length };
  }

  jobs(): Job[] {
    return [
      defineJob({
        name: 'backup-create',
        schedule: '7 * * * *',
        description: 'Dumps the database (pg_dump, custom format) to the backups bucket, with a manifest',
        run: async ({ progress }) => {
          const m = await this.create(progress);
          return { id: m.id, bytes: m.sizeBytes };
        },
      }),
      defineJob({
        name: 'backup-verify',
        schedule: '30 5 * * *',
        description: 'Restores the newest backup into a scratch database and checks it against its manifest',
        run: async ({ progress }) => {
          const r = await this.verify(undefined, progress);
          if (!r.ok)
            throw new Error(`backup ${r.id} does not match its manifest: ${r.mismatches.join('; ')}`);
          return { id: r.id, restoreMs: r.restoreMs };
        },
      }),
      defineJob({
        name: 'backup-prune',
        schedule: '45 5 * * *',
        description: `Deletes backups older than ${this.deps.retentionDays} days (never the newest verified one nor the newest ${this.deps.retentionCount ?? 0})`,
        run: async () => {
          const r = await this.prune();
          return { deleted: r.deleted.length, kept: r.kept };
        },
      }),
    ];
  }
}
