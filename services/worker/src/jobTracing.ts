import { tracedReceive, type ProcessDataJob } from '@flowgate/common';
import type { Job } from 'bullmq';

/**
 * Runs a job inside a consumer span whose parent is the request that enqueued
 * it (W3C context carried in the job data), so an async task is one trace from
 * the POST through the worker, the processor and the logger. A no-op span when
 * tracing is off.
 */
export function traced<Result>(
  processJob: (job: Job<ProcessDataJob, Result>, token?: string) => Promise<Result>,
): (job: Job<ProcessDataJob, Result>, token?: string) => Promise<Result> {
  return (job, token) =>
    tracedReceive(job.queueName, job.id ?? '', job.data.trace ?? {}, { 'flowgate.job.attempt': job.attemptsMade + 1 }, () =>
      processJob(job, token),
    );
}
