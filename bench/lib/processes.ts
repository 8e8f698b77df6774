/** The processes under test: start and stop them, read their CPU time and memory from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { ROOT } from './options.ts';

/** The machine's Redis (BENCH_REDIS_URL, default 127.0.0.1:6379) when it answers. */
export async function redisUrl(): Promise<string | undefined> {
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 6379), u.hostname, () => {
      s.destroy();
      resolve(url);
    });
    s.on('error', () => resolve(undefined));
  });
}

export interface Started {
  url: string;
  proc: ChildProcess;
  /** The local port of its V8 inspector, when started with `--inspect` (lib/heap.ts). */
  inspectPort?: number;
}

/** Starts a process and resolves with its base URL once it prints one. */
export function startProcess(args: string[], env: Record<string, string>): Promise<Started> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out}`)), 120_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, proc });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

export function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used, in ms; undefined where /proc is not available. */
export function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (ms) used so far by every live process of this command name (e.g. `postgres`: the
 * server and its backends); undefined where /proc is not available. Backends that exited between
 * two readings are not counted, so pools that keep their connections are measured right.
 */
export function cpuMsOf(command: string): number | undefined {
  try {
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command) total += cpuMs(Number(pid)) ?? 0;
      } catch {
        // gone meanwhile
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** A process's resident set in MiB from /proc/<pid>/status (Linux): VmHWM (peak) or VmRSS (now). */
function rssMiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}
export const rssPeakMiB = (pid: number | undefined) => rssMiB(pid, 'VmHWM');
export const rssNowMiB = (pid: number | undefined) => rssMiB(pid, 'VmRSS');
