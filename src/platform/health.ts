/** Readiness: each configured dependency reports its status; only required ones fail readiness. */
export interface HealthCheck {
  name: string;
  /** A required dependency being down makes the process not ready (503). */
  required: boolean;
  /** Resolves when healthy; rejects (or times out) when not. */
  check(): Promise<unknown>;
}

export interface DependencyStatus {
  status: 'ok' | 'down';
  latencyMs: number;
  required: boolean;
  error?: string;
}

export interface Readiness {
  ready: boolean;
  status: 'ok' | 'degraded' | 'down';
  dependencies: Record<string, DependencyStatus>;
}

export async function checkReadiness(checks: HealthCheck[], timeoutMs = 2000): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async (c): Promise<[string, DependencyStatus]> => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [
          c.name,
          { status: 'ok', latencyMs: Math.round(performance.now() - started), required: c.required },
        ];
      } catch (error) {
        return [
          c.name,
          {
            status: 'down',
            latencyMs: Math.round(performance.now() - started),
            required: c.required,
            error: error instanceof Error ? error.message : 'unavailable',
          },
        ];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const dependencies = Object.fromEntries(results);
  const requiredDown = results.some(([, s]) => s.required && s.status === 'down');
  const anyDown = results.some(([, s]) => s.status === 'down');
  return {
    ready: !requiredDown,
    status: requiredDown ? 'down' : anyDown ? 'degraded' : 'ok',
    dependencies,
  };
}
