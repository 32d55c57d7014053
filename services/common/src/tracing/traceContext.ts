import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('flowgate');

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

/**
 * Runs `send` inside a messaging producer span (BullMQ has no instrumentation)
 * and hands it that span's W3C context to carry in the message, so the consumer's
 * span becomes its child. A no-op span when tracing is off.
 */
export function tracedSend<T>(destination: string, messageId: string, send: (carrier: Record<string, string>) => Promise<T>): Promise<T> {
  const attributes = bullmqAttributes('send', destination, messageId);
  return tracer.startActiveSpan(`send ${destination}`, { kind: SpanKind.PRODUCER, attributes }, (span) =>
    settleSpan(span, () => send(injectTraceContext())),
  );
}

/** The consumer side of {@link tracedSend}: runs `work` in a span whose parent is the context the message carried. */
export function tracedReceive<T>(
  destination: string,
  messageId: string,
  carrier: Record<string, string>,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(ROOT_CONTEXT, carrier);
  const spanAttributes = { ...bullmqAttributes('process', destination, messageId), ...attributes };
  return tracer.startActiveSpan(`process ${destination}`, { kind: SpanKind.CONSUMER, attributes: spanAttributes }, parent, (span) =>
    settleSpan(span, work),
  );
}

function bullmqAttributes(operation: 'send' | 'process', destination: string, messageId: string) {
  return {
    'messaging.system': 'bullmq',
    'messaging.operation.type': operation,
    'messaging.destination.name': destination,
    'messaging.message.id': messageId,
  };
}

/** Runs `work`, records a failure on `span`, and ends the span either way. */
async function settleSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
    throw error;
  } finally {
    span.end();
  }
}
