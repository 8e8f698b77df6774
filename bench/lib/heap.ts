/**
 * A process's memory after a full garbage collection, asked over the V8 inspector protocol (the
 * process was started with `--inspect=127.0.0.1:<port>`, see run.ts). A resident set sampled
 * while a process runs includes the garbage V8 has not collected yet: V8 collects the old
 * generation when it sees fit and sizes its heap to the allocation rate, so a busier process
 * shows a larger resident set without keeping anything more. After a forced full collection what
 * is left is what the process still holds: that is what grows when memory is retained.
 */
import { once } from 'node:events';
import WebSocket from 'ws';
import { rssNowMiB } from './processes.ts';

export interface CollectedMemory {
  /** The V8 heap still in use after the collection, MiB. */
  heapUsedMiB: number;
  /** The resident set right after it, MiB (from /proc). */
  rssMiB: number;
}

const MiB = 1024 * 1024;

export async function memoryAfterGc(pid: number | undefined, inspectPort: number): Promise<CollectedMemory> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl);
  await once(ws, 'open');
  let next = 0;
  const waiting = new Map<number, (m: { result?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown };
    if (m.id !== undefined) waiting.get(m.id)?.(m);
  });
  const call = (method: string) =>
    new Promise<unknown>((resolve, reject) => {
      const id = ++next;
      waiting.set(id, (m) =>
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result),
      );
      ws.send(JSON.stringify({ id, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number };
    return { heapUsedMiB: usage.usedSize / MiB, rssMiB: rssNowMiB(pid) ?? NaN };
  } finally {
    ws.close();
  }
}
