/**
 * OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT pointing at a collector (here a stub HTTP server
 * that decodes the OTLP/HTTP JSON the official exporter sends), one order placed against the real
 * server process is one trace: the HTTP server span of POST /store/orders, and under it the
 * PostgreSQL and Redis spans of that request, linked by trace id and parent span ids.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './db.ts';
import {
  AMQP_URL,
  adminKey,
  baseEnv,
  createProducts,
  startServer,
  type ServerProcess,
} from './faults/harness.ts';
import { eventually } from './helpers/eventually.ts';
import { TEST_REDIS_URL } from './redis.ts';

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  scope: string;
  attributes: Record<string, unknown>;
}

/** A collector: every span of every OTLP/HTTP JSON export it receives, flattened. */
async function startCollector(): Promise<{ url: string; spans: Span[]; server: Server }> {
  const spans: Span[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type']?.includes('json')) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceSpans: {
            scopeSpans: {
              scope: { name: string };
              spans: (Omit<Span, 'scope' | 'attributes'> & {
                attributes?: { key: string; value: Record<string, unknown> }[];
              })[];
            }[];
          }[];
        };
        for (const rs of body.resourceSpans)
          for (const ss of rs.scopeSpans)
            for (const s of ss.spans)
              spans.push({
                ...s,
                scope: ss.scope.name,
                attributes: Object.fromEntries(
                  (s.attributes ?? []).map((a) => [a.key, Object.values(a.value)[0]]),
                ),
              });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

describe('OpenTelemetry traces', () => {
  let db: TestDatabase;
  let dataDir: string;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let server: ServerProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(tmpdir(), 'shopflow-tracing-'));
    collector = await startCollector();
    env = { ...baseEnv(dataDir), DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, AMQP_URL };
    server = await startServer({ ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url });
  });
  afterAll(async () => {
    await server?.stop();
    collector?.server.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('makes one order one trace: HTTP server span, PostgreSQL and Redis spans beneath it', async () => {
    const key = await adminKey(env);
    const [productId] = await createProducts(server.base, key, 1, 10);
    const res = await fetch(`${server.base}/store/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ items: [{ productId, quantity: 1 }] }),
    });
    expect(res.status, await res.clone().text()).toBe(201);

    const trace = await eventually(
      () => {
        const roots = collector.spans.filter(
          (s) =>
            s.scope === '@opentelemetry/instrumentation-http' &&
            s.kind === 2 && // SERVER
            s.name.startsWith('POST') &&
            String(s.attributes['http.target'] ?? s.attributes['url.path']).startsWith('/store/orders'),
        );
        expect(roots).toHaveLength(1); // one order, one trace
        const root = roots[0]!;
        const spans = collector.spans.filter((s) => s.traceId === root.traceId);
        const byScope = (scope: string) =>
          spans.filter((s) => s.scope === `@opentelemetry/instrumentation-${scope}`);
        expect(byScope('pg').length).toBeGreaterThan(0);
        expect(byScope('ioredis').length).toBeGreaterThan(0);
        return { root, spans, pg: byScope('pg'), redis: byScope('ioredis') };
      },
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    // Linked: the root has no parent; every other span's parent is a span of the same trace, and
    // following parents from any PostgreSQL or Redis span reaches the HTTP server span.
    expect(trace.root.parentSpanId ?? '').toBe('');
    const byId = new Map(trace.spans.map((s) => [s.spanId, s]));
    for (const span of [...trace.pg, ...trace.redis]) {
      let at: Span | undefined = span;
      for (let hops = 0; at && at !== trace.root && hops < 20; hops++) at = byId.get(at.parentSpanId ?? '');
      expect(at, `${span.scope} ${span.name} reaches the request`).toBe(trace.root);
    }
    // Statement text, never values: no parameter of the order reached the collector.
    for (const span of trace.pg) expect(JSON.stringify(span.attributes)).not.toContain(productId);
  });
});
