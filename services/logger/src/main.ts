#!/usr/bin/env node
import {
  AmqpConnection,
  commonEnv,
  createDatabase,
  createDatabaseHealth,
  createLogger,
  createMetrics,
  createServiceServer,
  createTaskLogsRepository,
  metricsEnv,
  onShutdown,
  parseEnvOrExit,
  positiveIntSchema,
  postgresEnv,
  rabbitEnv,
  trackRabbitDepth,
} from '@flowgate/common';
import { z } from 'zod';
import { TaskLogConsumer } from './taskLogConsumer.js';

const service = 'logger';
const config = parseEnvOrExit(
  service,
  {
    ...commonEnv,
    ...rabbitEnv,
    ...postgresEnv,
    ...metricsEnv(9103),
    TASK_LOGS_QUEUE: z.string().min(1).default('task_logs'),
    LOGGER_BATCH_SIZE: positiveIntSchema.default(500),
    LOGGER_FLUSH_MS: positiveIntSchema.default(200),
  },
  process.env,
);
const logger = createLogger({ service, level: config.LOG_LEVEL });
const metrics = createMetrics(service);

const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, applicationName: `flowgate-${service}` });
// Probes take recent successful queries as their answer, so a busy pool cannot fail them.
const postgresReachable = createDatabaseHealth(db, { freshForMs: 5_000 });
const connection = await AmqpConnection.open({ url: config.RABBITMQ_URL, connectionName: `flowgate-${service}`, logger });
const consumer = new TaskLogConsumer({
  connection,
  exchange: config.TASK_EVENTS_EXCHANGE,
  queue: config.TASK_LOGS_QUEUE,
  batchSize: config.LOGGER_BATCH_SIZE,
  flushIntervalMs: config.LOGGER_FLUSH_MS,
  repository: createTaskLogsRepository(db),
  logger,
  metrics,
});
consumer.start();
// Logger lag: events published but not yet written to task_logs.
const stopDepth = trackRabbitDepth(connection, [config.TASK_LOGS_QUEUE], metrics);

const http = createServiceServer({
  service,
  registry: metrics.registry,
  ready: async () => ({
    rabbitmq: consumer.isReady,
    postgres: await postgresReachable(),
  }),
});
http.listen(config.METRICS_PORT, () => logger.info({ port: config.METRICS_PORT }, 'logger started'));

onShutdown(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  stopDepth();
  await consumer.stop();
  await connection.close();
  await db.destroy();
  http.close();
});
