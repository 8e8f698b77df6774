/** A logger whose JSON lines are kept in memory, for tests that read what was logged. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/platform/logger.ts';

export function capturedLogger(level = 'info'): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}
