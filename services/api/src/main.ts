#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import {
  AmqpConnection,
  InFlight,
  commonEnv,
  createDatabase,
  createDatabaseHealth,
  createLazyJobQueue,
  createLogger,
  createMetrics,
  createRecordsRepository,
  createRedis,
  createTaskLogsRepository,
  jobEnv,
  jobOptionsFrom,
  onShutdown,
  parseEnvOrExit,
  portSchema,
  positiveIntSchema,
  postgresEnv,
  rabbitEnv,
  redisEnv,
  RpcClient,
  TaskEventPublisher,
  trackBullmqDepth,
} from '@flowgate/common';
import { z } from 'zod';
import { createApp } from './app.js';
import { createDataService } from './dataService.js';
import { createIdempotency } from './idempotency.js';
import { configureHttpServer } from './httpServer.js';
import { apiKeysSetting, callerOf, createApiKeyAuth } from './protection/apiKeys.js';
import { createRateLimit } from './protection/rateLimit.js';
import { SERVING_PROBE_PATH } from './readiness.js';
import { securityHeaders } from './protection/securityHeaders.js';
import { trustProxyProblem } from './trustProxy.js';

const service = 'api';
const config = parseEnvOrExit(
  service,
  {
    ...commonEnv,
    ...rabbitEnv,
    ...redisEnv,
    ...postgresEnv,
    ...jobEnv,
    PORT: portSchema.default(8000),
    BODY_LIMIT_BYTES: positiveIntSchema.default(1_048_576),
    BODY_BUDGET_BYTES: positiveIntSchema.default(33_554_432),
    IDEMPOTENCY_TTL_SECONDS: positiveIntSchema.default(3_600),
    API_KEYS: apiKeysSetting,
    REQUIRE_API_KEY: z.enum(['true', 'false']).default('false'),
    RATE_LIMIT_MAX: z.coerce.number().int().min(0).default(60_000),
    RATE_LIMIT_WINDOW_SECONDS: positiveIntSchema.default(60),
    TRUST_PROXY: z
      .string()
      .min(1)
      .default('loopback, linklocal, uniquelocal')
      .superRefine((setting, context) => {
        const problem = trustProxyProblem(setting);
        if (problem) context.addIssue({ code: 'custom', message: `not a list of addresses, subnets or loopback/linklocal/uniquelocal: ${problem}` });
      }),
  },
  process.env,
);
const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const logger = createLogger({ service, level: config.LOG_LEVEL });
const metrics = createMetrics(service);

const db = createDatabase({ url: config.DATABASE_URL, poolMax: config.DATABASE_POOL_MAX, applicationName: `flowgate-${service}` });
// Probes take recent successful queries as their answer, so a busy pool cannot fail them.
const postgresReachable = createDatabaseHealth(db, { freshForMs: 5_000 });
const redis = createRedis({ url: config.REDIS_URL, logger, role: 'request', connectionName: `flowgate-${service}` });
const connection = await AmqpConnection.open({ url: config.RABBITMQ_URL, connectionName: `flowgate-${service}`, logger });
const rpc = new RpcClient({ connection, queues: [config.RPC_QUEUE], logger, metrics });
const events = new TaskEventPublisher({ connection, exchange: config.TASK_EVENTS_EXCHANGE, service, logger, metrics });
// Built once Redis answers, so the api listens (and passes its liveness probe) while Redis is down.
const queue = createLazyJobQueue({
  redis,
  name: config.JOBS_QUEUE,
  prefix: config.BULLMQ_PREFIX,
  logger,
  onReady: (ready) => trackBullmqDepth(ready, metrics),
});
const records = createRecordsRepository(db);

// Probes and scrapes never need a key and are never rate limited.
const openPaths = new Set(['/health', '/ready', SERVING_PROBE_PATH, '/metrics']);
const auth = createApiKeyAuth(config.API_KEYS);
const rateLimit = createRateLimit({
  redis,
  keyPrefix: config.BULLMQ_PREFIX,
  max: config.RATE_LIMIT_MAX,
  windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS,
  openPaths,
  logger,
});

const inFlight = new InFlight();
const app = createApp({
  dataService: createDataService({
    rpc,
    records,
    queue,
    events,
    rpcQueue: config.RPC_QUEUE,
    rpcTimeoutMs: config.RPC_TIMEOUT_MS,
    redisTimeoutMs: 2_000,
    jobOptions: jobOptionsFrom(config),
  }),
  records,
  taskLogs: createTaskLogsRepository(db),
  runIdempotently: createIdempotency({
    redis,
    keyPrefix: config.BULLMQ_PREFIX,
    ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    lockSeconds: Math.ceil(config.RPC_TIMEOUT_MS / 1000) + 60,
    metrics,
  }),
  metrics,
  logger,
  bodyLimitBytes: config.BODY_LIMIT_BYTES,
  bodyBudgetBytes: config.BODY_BUDGET_BYTES,
  version,
  trustProxy: config.TRUST_PROXY,
  inFlight,
  guards: [securityHeaders(), auth.guardAll(config.REQUIRE_API_KEY === 'true', openPaths), ...(rateLimit ? [rateLimit.middleware] : [])],
  requireDeletePermission: auth.requireForDelete,
  forgetJob: async (taskId) => {
    await queue.current()?.remove(taskId);
  },
  callerScope: (request) => callerOf(request) ?? 'anonymous',
  ready: async () => {
    const [redisOk, postgresOk] = await Promise.all([
      redis.ping().then(() => true, () => false),
      postgresReachable(),
    ]);
    // Redis counts as ready only with the queue built: until then async requests are refused.
    return { rabbitmq: rpc.isReady, redis: redisOk && queue.current() !== undefined, postgres: postgresOk };
  },
});

const server = configureHttpServer(app, logger, { bodyLimitBytes: config.BODY_LIMIT_BYTES });
server.listen(config.PORT, () => logger.info({ port: config.PORT, version }, 'api started'));

onShutdown(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
  // Stop accepting, let in-flight requests finish, then close the clients they use.
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  // Sockets can close (the client or nginx left) while their handlers still wait on RPC or the database.
  await inFlight.idle();
  rpc.close();
  await events.close();
  await connection.close();
  await queue.close();
  await rateLimit?.close();
  redis.disconnect();
  await db.destroy();
});
