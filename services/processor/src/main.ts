#!/usr/bin/env node
import {
  AmqpConnection,
  commonEnv,
  createLogger,
  createMetrics,
  createServiceServer,
  metricsEnv,
  onShutdown,
  parseEnvOrExit,
  positiveIntSchema,
  rabbitEnv,
  RpcServer,
  TaskEventPublisher,
  trackRabbitDepth,
} from '@flowgate/common';
import { createProcessDataRequest } from './processDataRequest.js';

const service = 'processor';
const config = parseEnvOrExit(
  service,
  { ...commonEnv, ...rabbitEnv, ...metricsEnv(9102), PROCESSOR_PREFETCH: positiveIntSchema.default(64) },
  process.env,
);
const logger = createLogger({ service, level: config.LOG_LEVEL });
const metrics = createMetrics(service);

const connection = await AmqpConnection.open({ url: config.RABBITMQ_URL, connectionName: `flowgate-${service}`, logger });
const events = new TaskEventPublisher({ connection, exchange: config.TASK_EVENTS_EXCHANGE, service, logger, metrics });
const server = new RpcServer({
  connection,
  queue: config.RPC_QUEUE,
  prefetch: config.PROCESSOR_PREFETCH,
  handler: createProcessDataRequest({ events, metrics }),
  malformedReply: (detail) => ({ error: { type: 'malformed-request', detail } }),
  logger,
});
server.start();
// The processor's autoscaling signal: requests waiting in the RPC queue.
const stopDepth = trackRabbitDepth(connection, [config.RPC_QUEUE], metrics);

const http = createServiceServer({
  service,
  registry: metrics.registry,
  ready: () => ({ rabbitmq: server.isReady }),
});
http.listen(config.METRICS_PORT, () => logger.info({ port: config.METRICS_PORT, queue: config.RPC_QUEUE }, 'processor started'));

onShutdown(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  stopDepth();
  await server.stop();
  await events.close();
  await connection.close();
  http.close();
});
