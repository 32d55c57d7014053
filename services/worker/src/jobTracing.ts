import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ProcessDataJob } from '@flowgate/common';
import type { Job } from 'bullmq';

const tracer = trace.getTracer('flowgate-worker');

/**
 * Runs a job inside a consumer span whose parent is the request that enqueued
 * it (W3C context carried in the job data), so an async task is one trace from
 * the POST through the worker, the processor and the logger. No instrumentation
 * covers BullMQ, hence by hand. A no-op tracer when tracing is off.
 */
export function traced<Result>(
  processJob: (job: Job<ProcessDataJob, Result>, token?: string) => Promise<Result>,
): (job: Job<ProcessDataJob, Result>, token?: string) => Promise<Result> {
  return (job, token) => {
    const parent = propagation.extract(ROOT_CONTEXT, job.data.trace ?? {});
    const attributes = {
      'messaging.system': 'bullmq',
      'messaging.operation.type': 'process',
      'messaging.destination.name': job.queueName,
      'messaging.message.id': job.id ?? '',
      'flowgate.job.attempt': job.attemptsMade + 1,
    };
    return tracer.startActiveSpan(`process ${job.queueName}`, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      try {
        return await processJob(job, token);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  };
}
