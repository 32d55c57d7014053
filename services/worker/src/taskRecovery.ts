import type { Logger, Outcome, ProcessDataJob, RecordsRepository } from '@flowgate/common';
import { errorMessage } from '@flowgate/common';
import type { JobsOptions, Queue } from 'bullmq';

export interface TaskRecoveryOptions {
  records: Pick<RecordsRepository, 'findStaleProcessing' | 'touch'>;
  queue: Pick<Queue<ProcessDataJob, Outcome>, 'add' | 'getJob'>;
  jobOptions: JobsOptions;
  /** A Processing record untouched this long, with no job in Redis, is re-enqueued. */
  staleAfterSeconds: number;
  intervalMs: number;
  batchSize: number;
  logger: Logger;
}

/**
 * Re-enqueues accepted async tasks whose job Redis no longer has: Redis was
 * restarted without persistence, or the api died between writing the record and
 * adding the job. The record (written before every 202) is the source of truth;
 * the job id is the task id, so concurrent recoverers in several workers add it once.
 */
export class TaskRecovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly options: TaskRecoveryOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass; returns how many tasks were re-enqueued. */
  runOnce(): Promise<number> {
    this.running ??= this.recover().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async recover(): Promise<number> {
    let requeued = 0;
    try {
      const stale = await this.options.records.findStaleProcessing(this.options.staleAfterSeconds, this.options.batchSize);
      for (const record of stale) {
        if (await this.options.queue.getJob(record.task_id)) {
          await this.options.records.touch(record.task_id);
          continue;
        }
        await this.options.queue.add(
          'process-data',
          { task_id: record.task_id, payload: record.payload, description: record.description as ProcessDataJob['description'] },
          { ...this.options.jobOptions, jobId: record.task_id },
        );
        await this.options.records.touch(record.task_id);
        requeued += 1;
      }
      if (requeued > 0) this.options.logger.warn({ requeued }, 're-enqueued async tasks whose jobs were lost');
    } catch (error) {
      this.options.logger.debug({ err: errorMessage(error) }, 'task recovery pass skipped');
    }
    return requeued;
  }
}
