import { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createLogger, LazyChildLogger } from './logger.ts';

/** A logger writing its JSON lines into an array. */
function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger(level, out), lines };
}

describe('request loggers made on first use', () => {
  it('logs with the request id and redaction, and makes no child for levels that are off', async () => {
    const { logger, lines } = capture('warn');
    const app = Fastify({
      loggerInstance: logger,
      logController: new LogController({ disableRequestLogging: true }),
      childLoggerFactory: (parent, bindings, options) =>
        new LazyChildLogger(parent as never, bindings, options) as unknown as FastifyBaseLogger,
    });
    let made = 0;
    app.get('/quiet', (request) => {
      request.log.info('not written');
      made += (request.log as unknown as { made?: unknown }).made === undefined ? 0 : 1;
      return { ok: true };
    });
    app.get('/loud', (request) => {
      request.log.warn({ user: { password: 'secret' } }, 'written');
      request.log.child({ step: 'two' }).error('from a child');
      return { ok: true };
    });
    await app.inject('/quiet');
    const loud = await app.inject({ url: '/loud', headers: { 'x-request-id': 'abc' } });
    expect(loud.statusCode).toBe(200);
    expect(made).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual(['written', 'from a child']);
    expect(typeof lines[0]!.reqId).toBe('string');
    expect(lines[0]).toMatchObject({ user: { password: '[redacted]' } });
    expect(lines[1]).toMatchObject({ reqId: lines[0]!.reqId, step: 'two' });
    expect((app.log as unknown as { level: string }).level).toBe('warn');
    await app.close();
  });
});
