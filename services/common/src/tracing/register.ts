/**
 * Loaded with `node --import @flowgate/common/tracing/register` before a
 * service's main module, so instrumentation hooks are in place before express,
 * pg, ioredis or amqplib load. Without OTEL_EXPORTER_OTLP_ENDPOINT (or with
 * OTEL_SDK_DISABLED=true) it loads nothing and costs nothing.
 */
import { register } from 'node:module';

const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
if (endpoint && process.env.OTEL_SDK_DISABLED !== 'true') {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const { startTracing } = await import('./startTracing.js');
  startTracing(process.env.OTEL_SERVICE_NAME ?? serviceFromEntryPoint(process.argv[1] ?? ''));
}

/** `services/api/dist/main.js` → `flowgate-api`. */
function serviceFromEntryPoint(entryPoint: string): string {
  const match = /services[/\\]([^/\\]+)[/\\]/.exec(entryPoint);
  return `flowgate-${match?.[1] ?? 'service'}`;
}
