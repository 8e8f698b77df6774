/**
 * OpenTelemetry traces: the HTTP server and client, PostgreSQL (pg), Redis (ioredis) and RabbitMQ
 * (amqplib) calls of a request become spans of one trace, exported over OTLP/HTTP. Loaded only when
 * an endpoint is configured (src/main/telemetry.ts): with none, nothing of OpenTelemetry is even
 * imported. Must start before the instrumented libraries are loaded.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** The OTLP/HTTP endpoint (a collector): spans are sent to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceName: string;
  version: string;
}

/** Starts tracing; resolves the returned function to flush and stop (at shutdown). */
export function startTracing(options: TracingOptions): () => Promise<void> {
  const exporter = new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.name': options.serviceName,
      'service.version': options.version,
    }),
    // Batches leave every second (or at 512 spans): a span costs a buffer slot, not a request.
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        // Health checks every few seconds would be most of the traces and tell nothing.
        ignoreIncomingRequestHook: (req) => (req.url ?? '').startsWith('/health'),
      }),
      // Statement text only (never the values: they carry personal data).
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
    ],
  });
  return async () => {
    unregister();
    await provider.shutdown();
  };
}
