/**
 * The database identities ShopFlow runs as, created and granted by `shopflow db roles` with the
 * master (administrator) credentials, idempotently (run it before every `migrate up`):
 *
 * - a migrate group role that owns the public schema and everything in it (DDL), and whose login
 *   user the migration task connects as (its sessions start with SET ROLE to the group, so what a
 *   migration creates is owned by the group, whichever login created it);
 * - an app group role with DML on the schema's tables and usage of its sequences, present and
 *   future (default privileges of the migrate role): no CREATE on the schema, no ownership, so no
 *   CREATE TABLE, ALTER or DROP; its login user is what the api and worker connect as.
 *
 * Privileges go to NOLOGIN group roles and the login users are members: Secrets Manager's
 * multi-user rotation creates a `<user>_clone` login with the same memberships, so the clone has
 * the same rights. Nothing is interpolated: every statement is composed by the server (format()
 * with %I for identifiers and %L for the password) from bound parameters.
 */
import type pg from 'pg';

export interface LoginRole {
  user: string;
  password: string;
}

export interface DatabaseRoles {
  app: LoginRole;
  migrate: LoginRole;
  /** The NOLOGIN roles holding the privileges; default shopflow_app and shopflow_migrate. */
  appGroup?: string;
  migrateGroup?: string;
}

/** Runs one statement that the server composes from `template` (format() directives) and `args`. */
async function exec(client: pg.ClientBase, template: string, ...args: string[]): Promise<void> {
  const placeholders = args.map((_, i) => `$${i + 2}::text`).join(', ');
  const { rows } = await client.query<{ sql: string }>(
    `SELECT format($1::text${placeholders ? `, ${placeholders}` : ''}) AS sql`,
    [template, ...args],
  );
  await client.query(rows[0]!.sql);
}

async function roleExists(client: pg.ClientBase, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  return rowCount === 1;
}

async function ensureGroup(client: pg.ClientBase, name: string): Promise<void> {
  if (!(await roleExists(client, name))) await exec(client, 'CREATE ROLE %I NOLOGIN', name);
}

/** The login user: created, or its password reset to the secret's (rotation keeps them equal). */
async function ensureLogin(client: pg.ClientBase, login: LoginRole, group: string): Promise<void> {
  const verb = (await roleExists(client, login.user)) ? 'ALTER' : 'CREATE';
  await exec(
    client,
    `${verb} ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L`,
    login.user,
    login.password,
  );
  await exec(client, 'GRANT %I TO %I', group, login.user);
}

/** Creates or updates the roles and grants in the connected database; safe to run again. */
export async function ensureDatabaseRoles(client: pg.ClientBase, roles: DatabaseRoles): Promise<void> {
  const app = roles.appGroup ?? 'shopflow_app';
  const owner = roles.migrateGroup ?? 'shopflow_migrate';
  await client.query('BEGIN');
  try {
    await ensureGroup(client, owner);
    await ensureGroup(client, app);
    // The administrator must be a member of the new owner to hand it the schema (RDS: not superuser).
    await exec(client, 'GRANT %I TO CURRENT_USER', owner);
    await ensureLogin(client, roles.migrate, owner);
    await ensureLogin(client, roles.app, app);
    // Migrations run as the owner group, so the objects they create belong to it.
    await exec(client, 'ALTER ROLE %I SET role = %L', roles.migrate.user, owner);
    // CREATE on the database: the migrations' trusted extensions (pg_trgm, unaccent).
    await exec(
      client,
      'GRANT CREATE, CONNECT, TEMPORARY ON DATABASE %I TO %I',
      await database(client),
      owner,
    );
    await exec(client, 'GRANT CONNECT ON DATABASE %I TO %I', await database(client), app);
    await exec(client, 'ALTER SCHEMA public OWNER TO %I', owner);
    await client.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await handOver(client, owner);
    await exec(client, 'GRANT USAGE ON SCHEMA public TO %I', app);
    for (const grant of [
      'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO %I',
      'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO %I',
      'ALTER DEFAULT PRIVILEGES FOR ROLE %2$I IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %1$I',
      'ALTER DEFAULT PRIVILEGES FOR ROLE %2$I IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO %1$I',
    ])
      await exec(client, grant, app, owner);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  }
}

/**
 * Objects of the schema the administrator owns (migrated or restored before the roles existed) go
 * to the owner role, so later migrations may alter them: tables, views, sequences not owned by a
 * column, functions and types, not those of extensions. The statements come from the catalog,
 * composed by the server (%I; regprocedure prints a quoted signature).
 */
async function handOver(client: pg.ClientBase, owner: string): Promise<void> {
  const { rows } = await client.query<{ sql: string }>(
    `SELECT format('ALTER %s %s OWNER TO %I', kind, name, $1::text) AS sql FROM (
       SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
              format('%I.%I', n.nspname, c.relname) AS name, c.oid, 'pg_class'::regclass AS cls
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner = current_user::regrole
         AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
         AND n.nspname = 'public'
       UNION ALL
       SELECT 'FUNCTION', p.oid::regprocedure::text, p.oid, 'pg_proc'::regclass
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = 'public' AND p.proowner = current_user::regrole
       UNION ALL
       SELECT 'TYPE', format('%I.%I', n.nspname, t.typname), t.oid, 'pg_type'::regclass
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE n.nspname = 'public' AND t.typowner = current_user::regrole AND t.typtype IN ('e', 'd')
     ) o
     WHERE NOT EXISTS (SELECT 1 FROM pg_depend e
                       WHERE e.classid = o.cls AND e.objid = o.oid AND e.deptype = 'e')`,
    [owner],
  );
  for (const { sql } of rows) await client.query(sql);
}

async function database(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ name: string }>('SELECT current_database() AS name');
  return rows[0]!.name;
}
