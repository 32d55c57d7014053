import { context, propagation, trace } from '@opentelemetry/api';

/** Trace and span ids of the active span, for log lines; empty when tracing is off. */
export function activeTraceIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/** The active context as W3C headers (`traceparent`, `tracestate`), for carriers no instrumentation covers. */
export function injectTraceContext(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Exports spans still buffered; called at shutdown before the process exits. */
export async function flushTracing(): Promise<void> {
  const provider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = provider.getDelegate?.() as { forceFlush?: () => Promise<void> } | undefined;
  await delegate?.forceFlush?.().catch(() => undefined);
}
