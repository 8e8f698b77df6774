/** /console: the built page and assets with their caching and security headers; a clear 503 unbuilt. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_DIR, registerConsole } from '../src/assembly/console.ts';
import { registerErrorHandling } from '../src/http/error-handler.ts';
import { createTestApp, type TestApp } from './app.ts';
import { skipUnless } from './helpers/services.ts';

const built = existsSync(path.join(CONSOLE_DIR, 'index.html'));
skipUnless(built ? undefined : 'the console is not built (npm run build:console)');

describe.skipIf(!built)('console bundle served by the API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      PUBLIC_BASE_URL: 'http://shop.example:3000',
      CDN_BASE_URL: 'https://cdn.example',
    });
  });
  afterAll(async () => t?.close());

  it('serves the page for every console path, never cached, under a policy that lets only it run', async () => {
    for (const url of ['/console', '/console/', '/console/orders/123']) {
      const r = await t.server.inject({ url });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type']).toMatch(/text\/html/);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.body).toContain('<div id="root">');
    }
    const csp = String((await t.server.inject({ url: '/console' })).headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/img-src 'self' data: blob: http:\/\/shop\.example:3000 https:\/\/cdn\.example/);
    expect(csp).toContain("connect-src 'self' http://shop.example:3000 ws://shop.example:3000");
    // API answers keep their own, stricter policy.
    expect((await t.server.inject({ url: '/health/live' })).headers['content-security-policy']).toBe(
      "default-src 'none';frame-ancestors 'none'",
    );
  });

  it('serves hashed assets immutable, and a missing one as a 404', async () => {
    const page = (await t.server.inject({ url: '/console' })).body;
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(page)![1]!;
    const asset = await t.server.inject({ url: script });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await t.server.inject({ url: '/console/assets/nope.js' })).statusCode).toBe(404);
  });
});

describe('console not built', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'shopflow-console-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('answers 503 console_not_built, saying how to build it', async () => {
    const app = Fastify();
    registerErrorHandling(app);
    await registerConsole(app, { dir });
    const r = await app.inject({ url: '/console/products' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({ error: { code: 'console_not_built' } });
    expect(r.json<{ error: { message: string } }>().error.message).toContain('npm run build:console');
    await app.close();
  });
});
