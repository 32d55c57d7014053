import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Every Flowgate metric, registered on one registry per process with a constant
 * `service` label. Services pass the pieces they use to the modules that record them.
 */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'flowgate_' });
  const registers = [registry];

  return {
    registry,
    httpRequests: new Counter({
      name: 'flowgate_http_requests_total',
      help: 'HTTP requests answered, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'flowgate_http_request_duration_seconds',
      help: 'HTTP request duration, by method, route template and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    rpcClientDuration: new Histogram({
      name: 'flowgate_rpc_client_duration_seconds',
      help: 'RPC round trips seen by the caller, by queue, operation and outcome (success, error, timeout, unavailable).',
      labelNames: ['queue', 'operation', 'outcome'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    rpcServerDuration: new Histogram({
      name: 'flowgate_rpc_server_duration_seconds',
      help: 'RPC requests handled by the processor, by queue, operation and outcome (success, error, malformed).',
      labelNames: ['queue', 'operation', 'outcome'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    rpcTimeouts: new Counter({
      name: 'flowgate_rpc_timeouts_total',
      help: 'RPC calls that got no reply within the timeout, by queue and operation.',
      labelNames: ['queue', 'operation'] as const,
      registers,
    }),
    jobs: new Counter({
      name: 'flowgate_jobs_total',
      help: 'Async job attempts finished by the worker, by status (completed, retried, failed).',
      labelNames: ['queue', 'status'] as const,
      registers,
    }),
    jobDuration: new Histogram({
      name: 'flowgate_job_duration_seconds',
      help: 'Duration of one async job attempt, by status.',
      labelNames: ['queue', 'status'] as const,
      buckets: latencyBuckets,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'flowgate_queue_depth',
      help: 'Messages or jobs in a queue as the broker reports them, by queue, broker (bullmq, rabbitmq) and state.',
      labelNames: ['queue', 'broker', 'state'] as const,
      registers,
    }),
    idempotencyReplays: new Counter({
      name: 'flowgate_idempotency_replays_total',
      help: 'Responses replayed from the idempotency store, by route template.',
      labelNames: ['route'] as const,
      registers,
    }),
    taskEventsPublished: new Counter({
      name: 'flowgate_task_events_published_total',
      help: 'Task events confirmed by RabbitMQ (published), returned unrouted and re-sent (returned), or dropped because the outage buffer was full (dropped).',
      labelNames: ['outcome'] as const,
      registers,
    }),
    taskEventsWritten: new Counter({
      name: 'flowgate_task_events_written_total',
      help: 'Task events inserted into task_logs by the logger.',
      registers,
    }),
    taskEventBatchDuration: new Histogram({
      name: 'flowgate_task_event_batch_duration_seconds',
      help: 'Duration of one task_logs batch insert, by outcome.',
      labelNames: ['outcome'] as const,
      buckets: latencyBuckets,
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
