import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Outcome, ProcessDataJob } from './contracts.js';
import type { Logger } from './logging.js';

export type JobQueue = Queue<ProcessDataJob, Outcome>;

export interface LazyJobQueueOptions {
  /** A fail-fast ('request') client; the queue shares it, so enqueueing during an outage fails at once. */
  redis: Redis;
  name: string;
  prefix: string;
  logger: Logger;
  /**
   * Runs once, when the queue is usable (e.g. to track its depth or start task
   * recovery); returns what stops it, which close() awaits.
   */
  onReady?: (queue: JobQueue) => () => void | Promise<void>;
}

export interface LazyJobQueue {
  readonly name: string;
  /** The queue once Redis has answered; undefined until then, so callers can refuse at once. */
  current(): JobQueue | undefined;
  close(): Promise<void>;
}

/**
 * Builds the BullMQ queue only once Redis is connected. BullMQ checks the Redis
 * version when a Queue is built, and on a fail-fast client that is not connected
 * that check fails and leaves the Queue unusable for good; waiting for Redis before
 * listening would instead keep the service (and its liveness probe) down with Redis.
 * Shared by the api (enqueueing) and the worker (depth gauge, task recovery).
 */
export function createLazyJobQueue(options: LazyJobQueueOptions): LazyJobQueue {
  const { redis, logger } = options;
  let queue: JobQueue | undefined;
  let building: Promise<void> | undefined;
  let stopOnReady: (() => void | Promise<void>) | undefined;
  let closed = false;

  const build = async (): Promise<void> => {
    const candidate: JobQueue = new Queue<ProcessDataJob, Outcome>(options.name, { connection: redis, prefix: options.prefix });
    candidate.on('error', (error) => logger.debug({ err: error.message }, 'queue connection error'));
    try {
      await candidate.waitUntilReady();
    } catch (error) {
      // Redis left again before BullMQ's check finished; this Queue never recovers, so the next 'ready' builds another.
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'job queue not ready; retrying when redis reconnects');
      await candidate.close().catch(() => undefined);
      return;
    }
    if (closed) {
      await candidate.close();
      return;
    }
    redis.off('ready', onRedisReady);
    queue = candidate;
    stopOnReady = options.onReady?.(candidate);
    logger.info({ queue: options.name }, 'job queue ready');
  };

  function onRedisReady(): void {
    if (queue || building || closed) return;
    building = build().finally(() => {
      building = undefined;
    });
  }

  redis.on('ready', onRedisReady);
  if (redis.status === 'ready') onRedisReady();

  return {
    name: options.name,
    current: () => queue,
    async close() {
      closed = true;
      redis.off('ready', onRedisReady);
      await building;
      await stopOnReady?.();
      await queue?.close();
    },
  };
}
