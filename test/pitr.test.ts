/**
 * Point-in-time recovery with pgBackRest: a scratch PostgreSQL 15 cluster archives its WAL to a
 * local repository; orders are written, a moment is recorded, more orders are written; the cluster
 * is destroyed and restored to that moment, and holds exactly the orders before it. The test
 * prints the measured data-loss window (RPO) and restore time (RTO).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';
import { skipUnless } from './helpers/services.ts';

const run = promisify(execFile);
const BIN = '/usr/lib/postgresql/15/bin';
const RUNBOOK = new URL('../docs/runbooks/disaster-recovery.md', import.meta.url).pathname;
const PGBACKREST = ['/usr/bin/pgbackrest', '/usr/local/bin/pgbackrest'].find((f) => existsSync(f));
const skip = !PGBACKREST
  ? 'pgbackrest is not installed (apt-get install pgbackrest)'
  : !existsSync(`${BIN}/initdb`)
    ? 'PostgreSQL 15 server binaries are not installed'
    : undefined;
skipUnless(skip);

/** PostgreSQL refuses to run as root: as root, commands run as the postgres system user. */
const asPostgres = (cmd: string, args: string[]) =>
  userInfo().uid === 0 ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);

describe.skipIf(skip !== undefined)('point-in-time recovery (pgBackRest)', () => {
  it('restores a destroyed cluster to a recorded moment, with exactly the orders written before it', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'shopflow-pitr-'));
    const data = path.join(root, 'data');
    const port = await freePort();
    const conf = path.join(root, 'pgbackrest.conf');
    const stanza = ['--config', conf, '--stanza', 'pitr'];
    let running = false;
    try {
      for (const d of ['data', 'repo', 'log', 'lock', 'spool']) await mkdir(path.join(root, d));
      if (userInfo().uid === 0) {
        const { stdout } = await run('id', ['-u', 'postgres']);
        const { stdout: gid } = await run('id', ['-g', 'postgres']);
        for (const d of ['', 'data', 'repo', 'log', 'lock', 'spool'])
          await chown(path.join(root, d), Number(stdout), Number(gid));
      }
      await chmod(data, 0o700);
      await writeFile(
        conf,
        [
          '[global]',
          `repo1-path=${root}/repo`,
          'repo1-retention-full=1',
          `log-path=${root}/log`,
          `lock-path=${root}/lock`,
          `spool-path=${root}/spool`,
          'log-level-console=warn',
          'start-fast=y',
          '[pitr]',
          `pg1-path=${data}`,
          `pg1-port=${port}`,
          `pg1-socket-path=${root}`,
        ].join('\n'),
        { mode: 0o644 },
      );
      await asPostgres(`${BIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
      await writeFile(
        path.join(data, 'postgresql.auto.conf'),
        [
          `port = ${port}`,
          `unix_socket_directories = '${root}'`,
          "listen_addresses = '127.0.0.1'",
          'wal_level = replica',
          'archive_mode = on',
          `archive_command = '${PGBACKREST} --config ${conf} --stanza pitr archive-push %p'`,
          'archive_timeout = 60',
        ].join('\n') + '\n',
      );
      const start = () =>
        asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-l', path.join(root, 'log', 'pg.log'), '-w', 'start']);
      await start();
      running = true;
      await asPostgres(PGBACKREST!, [...stanza, 'stanza-create']);
      await asPostgres(PGBACKREST!, [...stanza, '--type=full', 'backup']);
      await sleep(1100); // pgBackRest picks a backup that ended before the target (second precision)

      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      const pool = new pg.Pool({ connectionString: url, max: 2 });
      await pool.query(
        'CREATE TABLE orders (id serial PRIMARY KEY, total integer NOT NULL, created_at timestamptz DEFAULT now())',
      );
      for (let i = 0; i < 100; i++) await pool.query('INSERT INTO orders (total) VALUES ($1)', [1000 + i]);
      const { rows: mark } = await pool.query<{ t: string }>('SELECT now()::text AS t');
      const target = mark[0]!.t;
      await sleep(1100); // the next orders are at least a second later than the target
      for (let i = 0; i < 50; i++) await pool.query('INSERT INTO orders (total) VALUES ($1)', [5000 + i]);
      // What a crash now would lose at most: WAL not yet archived. Force the segment out and
      // measure how long the archive takes to hold it.
      const switched = Date.now();
      await pool.query('SELECT pg_switch_wal()');
      await asPostgres(PGBACKREST!, [...stanza, 'check']);
      const archivedAfterMs = Date.now() - switched;
      await pool.end();

      // The disaster: the cluster and its data directory are gone.
      await asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']);
      running = false;
      await run('sh', ['-c', `rm -rf "${data}"/*`]);

      const restoreStarted = Date.now();
      // The runbook's own command, taken from the file.
      const runbook = await readFile(RUNBOOK, 'utf8');
      const command = /```bash title="point-in-time-restore"\n([\s\S]*?)```/.exec(runbook)![1]!;
      await asPostgres('env', [
        'STANZA=pitr',
        `TARGET=${target}`,
        `PGBACKREST_CONFIG=${conf}`,
        `PATH=${path.dirname(PGBACKREST!)}:/usr/bin:/bin`,
        'bash',
        '-euo',
        'pipefail',
        '-c',
        command,
      ]);
      await start();
      running = true;
      const back = new pg.Pool({ connectionString: url, max: 1 });
      let count = -1;
      for (let i = 0; i < 60 && count < 0; i++) {
        try {
          const { rows } = await back.query<{ n: number; recovering: boolean }>(
            'SELECT COUNT(*)::int AS n, pg_is_in_recovery() AS recovering FROM orders',
          );
          if (!rows[0]!.recovering) count = rows[0]!.n;
          else await sleep(250);
        } catch {
          await sleep(250);
        }
      }
      const rtoMs = Date.now() - restoreStarted;
      const { rows: totals } = await back.query<{ max: number }>('SELECT MAX(total)::int AS max FROM orders');
      await back.end();
      expect(count).toBe(100);
      expect(totals[0]!.max).toBe(1099);
      console.info(
        `[pitr] restored to ${target}: 100 of 150 orders (exactly those before the target); ` +
          `RTO ${rtoMs} ms (restore + recovery of a tiny cluster); ` +
          `RPO bounded by archive_timeout (60 s), a forced segment switch was archived in ${archivedAfterMs} ms`,
      );
    } catch (error) {
      const log = await readFile(path.join(root, 'log', 'pg.log'), 'utf8').catch(() => '');
      throw new Error(`${(error as Error).message}\n${log.slice(-1500)}`);
    } finally {
      if (running)
        await asPostgres(`${BIN}/pg_ctl`, ['-D', data, '-m', 'immediate', 'stop']).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  });
});
