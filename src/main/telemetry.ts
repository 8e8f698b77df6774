/**
 * Starts OpenTelemetry tracing before anything else is loaded, when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set (bin/shopflow.js calls this first). The code is ESM: OpenTelemetry's documented loader hook
 * (import-in-the-middle, registered with node:module) lets the instrumentations patch the modules
 * imported afterwards. Off by default, and then free: not one OpenTelemetry module is imported.
 */
import { register } from 'node:module';
import { telemetryConfig } from '../config.ts';
import { VERSION } from '../version.ts';

export async function startTelemetry(): Promise<void> {
  const config = telemetryConfig();
  if (!config.endpoint) return;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const { startTracing } = await import('../platform/telemetry/tracing.ts');
  const stop = startTracing({ endpoint: config.endpoint, serviceName: config.serviceName, version: VERSION });
  // Whatever is still batched goes out when the process ends its work normally.
  process.once('beforeExit', () => void stop());
}
