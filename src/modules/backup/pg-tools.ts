/**
 * PostgreSQL's own client programs (pg_dump, pg_restore) for logical backups: found in PG_BIN_DIR
 * when it is set, else where Debian installs PostgreSQL 15 or on the PATH; checked to be version 15.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const MAJOR = 15;

async function executable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The path of `tool` (pg_dump, pg_restore) of PostgreSQL 15, or a one-line error saying what to install. */
export async function findPgTool(
  tool: 'pg_dump' | 'pg_restore',
  where: { binDir?: string; searchPath: string },
): Promise<string> {
  const { binDir } = where;
  // PG_BIN_DIR, when set, is the only place looked at: an explicit choice is not second-guessed.
  const dirs = binDir
    ? [binDir]
    : [`/usr/lib/postgresql/${MAJOR}/bin`, ...where.searchPath.split(path.delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const file = path.join(dir, tool);
    if (!(await executable(file))) continue;
    const { stdout } = await run(file, ['--version']).catch(() => ({ stdout: '' }));
    if (new RegExp(`\\(PostgreSQL\\) ${MAJOR}\\.`).test(stdout)) return file;
  }
  throw new Error(
    `${tool} of PostgreSQL ${MAJOR} not found (looked in ${binDir ? `PG_BIN_DIR=${binDir}` : `/usr/lib/postgresql/${MAJOR}/bin and PATH`}): install Debian's postgresql-client-${MAJOR} or set PG_BIN_DIR`,
  );
}

/**
 * Connection settings as libpq environment variables: the password never appears on a command
 * line (where `ps` would show it).
 */
export function libpqEnv(url: string, database?: string): NodeJS.ProcessEnv {
  const u = new URL(url);
  return {
    PGHOST: u.hostname,
    PGPORT: u.port || '5432',
    PGUSER: decodeURIComponent(u.username || 'postgres'),
    ...(u.password ? { PGPASSWORD: decodeURIComponent(u.password) } : {}),
    PGDATABASE: database ?? decodeURIComponent(u.pathname.replace(/^\//, '')),
    PGAPPNAME: 'shopflow-backup',
    ...(u.searchParams.get('sslmode') ? { PGSSLMODE: u.searchParams.get('sslmode')! } : {}),
    ...(u.searchParams.get('sslrootcert') ? { PGSSLROOTCERT: u.searchParams.get('sslrootcert')! } : {}),
  };
}

/** Runs a PostgreSQL tool; resolves with its process (stdin/stdout piped), stderr collected. */
export function startTool(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; done: Promise<void> } {
  const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString('utf8')).slice(-4000)));
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(
              `${path.basename(file)} failed (${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
            ),
          ),
    );
  });
  return { child, done };
}
