import type { JobsOptions } from 'bullmq';

export interface JobSettings {
  JOB_ATTEMPTS: number;
  JOB_BACKOFF_MS: number;
  JOB_KEEP_COMPLETED_SECONDS: number;
  JOB_KEEP_COMPLETED_COUNT: number;
  JOB_KEEP_FAILED_SECONDS: number;
}

/**
 * Options of every async job, wherever it is added (api, or worker re-enqueueing):
 * exponential back-off, and finished jobs trimmed by age and count since their
 * results live on in PostgreSQL.
 */
export function jobOptionsFrom(settings: JobSettings): JobsOptions {
  return {
    attempts: settings.JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: settings.JOB_BACKOFF_MS },
    removeOnComplete: { age: settings.JOB_KEEP_COMPLETED_SECONDS, count: settings.JOB_KEEP_COMPLETED_COUNT },
    removeOnFail: { age: settings.JOB_KEEP_FAILED_SECONDS },
  };
}
