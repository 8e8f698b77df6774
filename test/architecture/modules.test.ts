/**
 * Nothing a module defines is left unwired: every job and consumer declared in the source
 * (defineJob / defineConsumer) is scheduled or subscribed by the worker, every route written in a
 * routes file is registered on the server and listed in the OpenAPI document, and that document is
 * valid for a standard OpenAPI parser.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { CONSUMERS } from '../../infra/lib/names.ts';
import { cronVariable } from '../../src/platform/jobs/job.ts';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Every `<fn>({ name: '<x>'` in the source: the declared names. */
function declared(fn: string): string[] {
  const re = new RegExp(`${fn}\\(\\{\\s*name: '([^']+)'`, 'g');
  return sourceFiles().flatMap((f) => [...readFileSync(f, 'utf8').matchAll(re)].map((m) => m[1]!));
}

/** Every route written in a routes file: method and path. */
function writtenRoutes(): { method: string; url: string }[] {
  const re = /\.(get|post|put|patch|delete)\(\s*'(\/[^']*)'/g;
  return sourceFiles()
    .filter((f) => f.endsWith('.routes.ts'))
    .flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(re)].map((m) => ({ method: m[1]!.toUpperCase(), url: m[2]! })),
    );
}

const WEBSOCKETS = new Set(['GET /store/ws']);

describe('modules are wired', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Every schedule on (the defaults), so that every job a module defines must be scheduled.
    t = await createTestApp();
    await t.app.worker.start();
  });
  afterAll(async () => t?.close());

  it('schedules every job defined in the source', () => {
    const jobs = declared('defineJob');
    expect(jobs.length).toBeGreaterThanOrEqual(5);
    expect([...t.app.worker.running.jobs].sort()).toEqual([...new Set(jobs)].sort());
    // The three that the first layout defined but never scheduled.
    expect(t.app.worker.running.jobs).toEqual(
      expect.arrayContaining(['prune-outbox', 'search-reconcile', 'search-popularity-sync']),
    );
  });

  it('names each job in its own module only (its schedule and retention step travel with it)', () => {
    const code = [...sourceFiles(), ...sourceFiles(path.resolve(SRC, '../bench'))].map((f) => ({
      f: path.relative(SRC, f),
      text: readFileSync(f, 'utf8'),
    }));
    for (const job of declared('defineJob')) {
      const where = code.filter((c) => c.text.includes(`'${job}'`)).map((c) => c.f);
      expect(where, job).toHaveLength(1);
    }
  });

  it('gives the infrastructure the consumers and job schedules the code has', () => {
    // Each consumer with a queue of its own has a dead-letter queue alarm in the stack; an inline
    // one (run by the relay, no queue) has none. Each CRON_ variable the stack sets names a job.
    const specs = t.app.modules.flatMap((m) => m.consumers ?? []);
    expect([...new Set(specs.map((c) => c.name))].sort()).toEqual(
      [...new Set(declared('defineConsumer'))].sort(),
    );
    const queued = specs.filter((c) => !c.inline).map((c) => c.name);
    expect(queued.length).toBeGreaterThan(0);
    expect([...CONSUMERS].sort()).toEqual([...new Set(queued)].sort());
    const settings = readFileSync(path.resolve(SRC, '../infra/lib/settings.ts'), 'utf8');
    const variables = [...settings.matchAll(/\b(CRON_[A-Z0-9_]+)\b/g)].map((m) => m[1]!);
    expect(variables.length).toBeGreaterThan(0);
    const jobs = new Set(declared('defineJob').map(cronVariable));
    for (const v of variables) expect(jobs, v).toContain(v);
  });

  it('subscribes every consumer defined in the source', () => {
    const consumers = declared('defineConsumer');
    expect(consumers.length).toBeGreaterThanOrEqual(2);
    expect([...t.app.worker.running.consumers].sort()).toEqual([...new Set(consumers)].sort());
  });

  it('registers every route written in a routes file and lists it in the OpenAPI document', async () => {
    const routes = writtenRoutes();
    expect(routes.length).toBeGreaterThan(40);
    const doc = (await t.server.inject('/docs/json')).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    for (const r of routes) {
      expect(t.server.hasRoute({ method: r.method, url: r.url }), `${r.method} ${r.url}`).toBe(true);
      // OpenAPI describes HTTP operations; @fastify/websocket hides the WebSocket upgrade from it
      // (docs/api.md describes that channel).
      if (WEBSOCKETS.has(`${r.method} ${r.url}`)) continue;
      const openApiPath = r.url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');
      const operation = doc.paths[openApiPath]?.[r.method.toLowerCase()] as
        { responses: Record<string, unknown> } | undefined;
      expect(operation, `${r.method} ${r.url} in /docs/json`).toBeDefined();
      // Its error answers are documented too (the shared Error schema, or the route's own).
      const codes = Object.keys(operation!.responses);
      expect(codes.some((c) => c.startsWith('4')) && codes.some((c) => c.startsWith('5')), r.url).toBe(true);
    }
  });

  it('serves an OpenAPI document that a standard parser validates', async () => {
    const doc = (await t.server.inject('/docs/json')).json<Parameters<typeof SwaggerParser.validate>[0]>();
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeDefined();
  });
});
