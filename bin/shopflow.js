#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
// Tracing first (when OTEL_EXPORTER_OTLP_ENDPOINT is set): it must see pg, ioredis and amqplib load.
const { startTelemetry } = await import('../src/main/telemetry.ts');
await startTelemetry();
await import('../src/main/cli.ts');
