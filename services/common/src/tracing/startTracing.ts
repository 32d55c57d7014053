import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';

// /ready/serving is the api's readinessProbe: the kubelet asks it every few seconds.
const HEALTH_PATHS = new Set(['/health', '/ready', '/ready/serving', '/metrics']);

/** The OpenTelemetry NodeSDK with OTLP/HTTP export and the instrumentations Flowgate's stack needs. */
export function startTracing(serviceName: string): NodeSDK {
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      new HttpInstrumentation({
        // Probe and scrape traffic would drown the request traces.
        ignoreIncomingRequestHook: (request) => HEALTH_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
        // The OTLP exporter's own requests must not be traced.
        ignoreOutgoingRequestHook: () => true,
      }),
      new ExpressInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
    ],
  });
  sdk.start();
  return sdk;
}
