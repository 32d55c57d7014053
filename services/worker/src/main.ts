#!/usr/bin/env node
import {
  AmqpConnection,
  commonEnv,
  createDatabase,
  createDatabaseHealth,
  createLazyJobQueue,
  createLogger,
  createMetrics,
  createRecordsRepository,
  createServiceServer,
  errorMessage,
  jobEnv,
  jobOptionsFrom,
  metricsEnv,
  onShutdown,
  parseEnvOrExit,
  positiveIntSchema,
  postgresEnv,
  rabbitEnv,
  redisEnv,
  redisOptionsFor,
  createRedis,
  RpcClient,
  TaskEventPublisher,
  trackBullmqDepth,
  type Outcome,
  type ProcessDataJob,
} from '@flowgate/common';
import { Worker, type Job } from 'bullmq';
import { createProcessDataJob } from './processDataJob.js';
import { TaskRecovery } from './taskRecovery.js';
import { traced } from './jobTracing.js';

const service = 'worker';
const config = parseEnvOrExit(
  service,
  {
    ...commonEnv,
    ...rabbitEnv,
    ...redisEnv,
    ...postgresEnv,
    ...jobEnv,
    ...metricsEnv(9101),
    WORKER_CONCURRENCY: positiveIntSchema.default(64),
    OUTAGE_RETRY_DELAY_MS: positiveIntSchema.default(2_000),
    WORKER_LOCK_DURATION_MS: positiveIntSchema.default(30_000),
    WORKER_STALLED_INTERVAL_MS: positiveIntSchema.default(15_000),
    RECOVERY_STALE_SECONDS: positiveIntSchema.default(60),
    RECOVERY_INTERVAL_MS: positiveIntSchema.default(15_000),
  },
  process.env,
);
const logger = createLogger({ service, level: config.LOG_LEVEL });
const metrics = createMetrics(service);

const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, applicationName: `flowgate-${service}` });
// Probes take recent successful queries as their answer, so a busy pool cannot fail them.
const postgresReachable = createDatabaseHealth(db, { freshForMs: 5_000 });
const records = createRecordsRepository(db);
const connection = await AmqpConnection.open({ url: config.RABBITMQ_URL, connectionName: `flowgate-${service}`, logger });
const rpc = new RpcClient({ connection, queues: [config.RPC_QUEUE], logger, metrics });
const events = new TaskEventPublisher({ connection, exchange: config.TASK_EVENTS_EXCHANGE, service, logger, metrics });

const worker = new Worker<ProcessDataJob, Outcome>(
  config.JOBS_QUEUE,
  traced(
    createProcessDataJob({
      rpc,
      records,
      events,
      rpcQueue: config.RPC_QUEUE,
      rpcTimeoutMs: config.RPC_TIMEOUT_MS,
      outageRetryDelayMs: config.OUTAGE_RETRY_DELAY_MS,
      logger,
    }),
  ),
  {
    connection: redisOptionsFor({ url: config.REDIS_URL, logger, role: 'blocking', connectionName: `flowgate-${service}` }),
    prefix: config.BULLMQ_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // A worker that dies mid-job stops renewing its lock; once the lock expires the next
    // stalled check hands the job to another worker.
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    maxStalledCount: 3,
  },
);

// BullMQ stamps when an attempt started (processedOn) and when the job finished, so the duration needs no state here.
const finishJob = (job: Job, status: 'completed' | 'retried' | 'failed') => {
  metrics.jobs.inc({ queue: config.JOBS_QUEUE, status });
  if (job.processedOn !== undefined) {
    metrics.jobDuration.observe({ queue: config.JOBS_QUEUE, status }, ((job.finishedOn ?? Date.now()) - job.processedOn) / 1000);
  }
};
worker.on('completed', (job) => {
  finishJob(job, 'completed');
  logger.debug({ task_id: job.id }, 'job completed');
});
worker.on('failed', (job, error) => {
  if (!job) return;
  const final = job.finishedOn !== undefined;
  finishJob(job, final ? 'failed' : 'retried');
  logger.warn({ task_id: job.id, attempt: job.attemptsMade, final, err: errorMessage(error) }, 'job attempt failed');
});
worker.on('error', (error) => logger.warn({ err: errorMessage(error) }, 'worker error'));

// Queue handle for the depth gauge and for re-enqueueing lost tasks, built once Redis answers:
// waiting for Redis here would keep the health server below from listening, and a worker started
// during a Redis outage would fail its liveness probe and restart in a loop.
const depthRedis = createRedis({ url: config.REDIS_URL, logger, role: 'request', connectionName: `flowgate-${service}-metrics` });
const jobQueue = createLazyJobQueue({
  redis: depthRedis,
  name: config.JOBS_QUEUE,
  prefix: config.BULLMQ_PREFIX,
  logger,
  onReady: (queue) => {
    const stopDepth = trackBullmqDepth(queue, metrics);
    const recovery = new TaskRecovery({
      records,
      queue,
      jobOptions: jobOptionsFrom(config),
      staleAfterSeconds: config.RECOVERY_STALE_SECONDS,
      intervalMs: config.RECOVERY_INTERVAL_MS,
      batchSize: 500,
      logger,
    });
    recovery.start();
    return async () => {
      stopDepth();
      await recovery.stop();
    };
  },
});

const http = createServiceServer({
  service,
  registry: metrics.registry,
  ready: async () => {
    const queue = jobQueue.current();
    return {
      rabbitmq: rpc.isReady,
      // Not ready until the queue is built: until then there is no depth gauge and no task recovery.
      redis: worker.isRunning() && queue !== undefined && (await queue.getJobCounts('active').then(() => true, () => false)),
      postgres: await postgresReachable(),
    };
  },
});
http.listen(config.METRICS_PORT, () =>
  logger.info({ port: config.METRICS_PORT, queue: config.JOBS_QUEUE, concurrency: config.WORKER_CONCURRENCY }, 'worker started'),
);

onShutdown(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  // close() waits for active jobs to finish; new jobs are not taken meanwhile.
  await worker.close();
  await jobQueue.close();
  depthRedis.disconnect();
  rpc.close();
  await events.close();
  await connection.close();
  await db.destroy();
  http.close();
});
