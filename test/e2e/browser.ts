/**
 * A console under test: a real ShopFlow on a free port and Debian's Chromium (driven by
 * playwright-core) signed in with the test app's key. For the e2e files after the first one.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CONSOLE_DIR } from '../../src/assembly/console.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { freePort } from '../ports.ts';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((f) => existsSync(f));

/** Why the browser suites cannot run here, or undefined. */
export const browserSkip = !CHROMIUM
  ? 'Chromium is not installed (apt-get install chromium)'
  : !existsSync(path.join(CONSOLE_DIR, 'index.html'))
    ? 'the console is not built (npm run build:console)'
    : undefined;

/** expect.poll waits 1 s by default: a busy machine renders later than that. */
export const POLL = { timeout: 15_000 };

const SHOTS = new URL('../../.shopflow/screenshots/', import.meta.url).pathname;

export interface ConsoleUnderTest {
  t: TestApp;
  page: Page;
  base: string;
  /** A call to the API with the test app's key (or `token`). */
  api<T>(method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
  /** A full-page screenshot into .shopflow/screenshots/NAME.png. */
  shot(name: string): Promise<unknown>;
  close(): Promise<void>;
}

/** A JSON call to the API at `base` with an admin key: its status and parsed body (null if none). */
export async function callApi<T>(
  base: string,
  key: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as T };
}

export async function startConsole(): Promise<ConsoleUnderTest> {
  await mkdir(SHOTS, { recursive: true });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t = await createTestApp({ PORT: String(port), PUBLIC_BASE_URL: base });
  await t.server.listen({ port, host: '127.0.0.1' });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM!,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'pt-BR',
      timezoneId: 'America/Sao_Paulo',
      acceptDownloads: true,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    // Signed in as the console does it: the key in the tab's session storage.
    await page.goto(`${base}/console`);
    await page.evaluate(
      (key) =>
        (
          globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }
        ).sessionStorage.setItem('shopflow.adminKey', key),
      t.adminKey,
    );
    await page.reload();
    const b = browser;
    return {
      t,
      page,
      base,
      api: (method, url, body, token) => callApi(base, token ?? t.adminKey, method, url, body),
      shot: (name) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true }),
      async close() {
        await b.close();
        await t.close();
      },
    };
  } catch (error) {
    await browser?.close();
    await t.close();
    throw error;
  }
}
