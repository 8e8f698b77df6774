/** Tracing (OpenTelemetry): read on its own, before the rest of the configuration. */
import { ConfigError, type Env } from './kit.ts';

/**
 * Tracing's settings, read before the rest of the configuration (and before the traced libraries
 * load): OTEL_EXPORTER_OTLP_ENDPOINT (an OTLP/HTTP collector; unset: no tracing) and
 * OTEL_SERVICE_NAME (default shopflow-<SHOPFLOW_ROLE>).
 */
export function telemetryConfig(env: Env = process.env): { endpoint?: string; serviceName: string } {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint))
    throw new ConfigError([`OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: ${endpoint}`]);
  return {
    ...(endpoint ? { endpoint } : {}),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || `shopflow-${env.SHOPFLOW_ROLE ?? 'all'}`,
  };
}
