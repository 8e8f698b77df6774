/**
 * Once per test run: find a PostgreSQL server (the machine's, or an embedded one on a bare
 * machine), migrate a template database, and hand its name to the test files, which clone it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../src/platform/db/migrations.ts';
import {
  canConnect,
  startEmbeddedPostgres,
  type EmbeddedPostgresHandle,
} from '../src/platform/db/embedded.ts';
import { freePort } from './ports.ts';
import { SERVICES_REQUIRED } from './helpers/services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    templateDb: string;
    runId: string;
    pgSource: 'server' | 'embedded';
  }
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export function withDbUrl(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${database}`;
  return u.toString();
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const requireServices = SERVICES_REQUIRED;
  let adminUrl = process.env.TEST_DATABASE_URL ?? DEFAULT_ADMIN_URL;
  let embedded: EmbeddedPostgresHandle | undefined;
  let embeddedDir: string | undefined;
  let source: 'server' | 'embedded' = 'server';

  if (!(await canConnect(adminUrl, 2000))) {
    if (requireServices)
      throw new Error(
        `SHOPFLOW_REQUIRE_SERVICES=1 but PostgreSQL is not reachable at ${new URL(adminUrl).host}`,
      );
    console.warn(
      `PostgreSQL not reachable at ${new URL(adminUrl).host}: starting an embedded one for the tests`,
    );
    embeddedDir = await mkdtemp(path.join(tmpdir(), 'shopflow-test-pg-'));
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(embeddedDir, 'pg'),
      port: await freePort(),
      database: 'postgres',
    });
    adminUrl = embedded.adminUrl;
    source = 'embedded';
  }

  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const templateDb = `shopflow_tpl_${runId}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(templateDb)}`);
  await migrate({ databaseUrl: withDbUrl(adminUrl, templateDb), direction: 'up' });
  await admin.end();

  project.provide('pgAdminUrl', adminUrl);
  project.provide('templateDb', templateDb);
  project.provide('runId', runId);
  project.provide('pgSource', source);

  return async () => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    // This run's template and any test database a crashed file left behind.
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE $2',
      [templateDb, `shopflow_t_${runId}_%`],
    );
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
    }
    await client.end();
    await embedded?.stop();
    if (embeddedDir) await rm(embeddedDir, { recursive: true, force: true });
  };
}
