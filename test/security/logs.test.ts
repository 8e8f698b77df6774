/**
 * Attack (on the logs): request logs carried signed URLs (`?signature=...`, usable until they
 * expire), search text, file names and client addresses. Now they carry none of them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { loggableUrl } from '../../src/platform/logger.ts';
import { createTestDatabase, type TestDatabase } from '../db.ts';
import { capturedLogger } from '../helpers/log-sink.ts';

describe('request logs', () => {
  let db: TestDatabase;
  let app: App;
  const { logger, lines } = capturedLogger();
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createApp(loadConfig({ DATABASE_URL: db.url, PAYMENT_PROVIDER: 'test' }), {
      logger,
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('keep no signature, search text, file name or client address', async () => {
    const server = await app.buildServer();
    await server.inject({
      url: '/store/search?q=maria+da+silva+cpf+123&size=5',
      remoteAddress: '198.51.100.42',
    });
    await server.inject({
      url: '/storage/userUploads/uploads/guest/abc/minha-foto-de-familia.png?expires=1&signature=s3cr3t',
    });
    await server.close();
    const log = lines.join('\n');
    expect(log).toContain('/store/search?q&size');
    expect(log).not.toMatch(/maria|s3cr3t|minha-foto|198\.51\.100\.42/);
  });

  it('shape URLs for logs', () => {
    expect(loggableUrl('/store/products?limit=2&cursor=abc')).toBe('/store/products?limit&cursor');
    expect(loggableUrl('/store/uploads/uploads/c/x/foto.png')).toBe('/store/uploads/[redacted]');
    expect(loggableUrl('/storage/invoices/invoices/1.pdf?expires=1&signature=x')).toBe(
      '/storage/invoices/[redacted]?expires&signature',
    );
    expect(loggableUrl('/store/products/8f6f2a8e')).toBe('/store/products/8f6f2a8e');
  });
});
