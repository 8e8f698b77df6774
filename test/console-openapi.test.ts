/**
 * The console's API client is typed from console/openapi.json, the server's OpenAPI document as
 * committed. When a route changes, this test fails until the file is regenerated
 * (`npm run openapi:update`); the console's build then type-checks against the new document, so
 * a change that breaks the console breaks its build.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';

const FILE = new URL('../console/openapi.json', import.meta.url);

describe('console/openapi.json', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it("is the server's current OpenAPI document", async () => {
    const doc = t.server.swagger() as { info: { version: string } };
    // The version changes with every release and says nothing about the shapes.
    const text = `${JSON.stringify({ ...doc, info: { ...doc.info, version: '0' } }, null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI === '1') await writeFile(FILE, text);
    const committed = await readFile(FILE, 'utf8').catch(() => '');
    expect(committed === text, 'console/openapi.json is stale: run `npm run openapi:update`').toBe(true);
  });
});
