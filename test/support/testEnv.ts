import { randomBytes } from 'node:crypto';

/**
 * Names that isolate one test run from every other: its own database, queue
 * names and Redis prefix, all carrying a run id. Nothing a previous run left
 * behind can be seen, and global teardown removes what this run made.
 */
const runId = process.env.FLOWGATE_TEST_RUN_ID ?? `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
process.env.FLOWGATE_TEST_RUN_ID = runId;

export const RUN_ID = runId;
export const RUN_PREFIX = `t_${runId}`;

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const RABBITMQ_URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export const DATABASE_NAME = `flowgate_test_${runId}`;
export const DATABASE_URL = (() => {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${DATABASE_NAME}`;
  return url.toString();
})();

/** The API key every test system accepts; DELETE always needs one. */
export const TEST_API_KEY = `test-key-${randomBytes(16).toString('hex')}`;
export const AUTHORIZATION = { authorization: `Bearer ${TEST_API_KEY}` };

const createdNames = new Set<string>();

/** A RabbitMQ queue or exchange name unique to this run (and to `label`); removed at teardown. */
export function uniqueName(label: string): string {
  const name = `${RUN_PREFIX}_${label}_${randomBytes(3).toString('hex')}`;
  createdNames.add(name);
  return name;
}

export function namesCreated(): string[] {
  return [...createdNames];
}

/** The environment of a Flowgate service under test: this run's database, its own queues and prefix. */
export function serviceEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL,
    REDIS_URL,
    RABBITMQ_URL,
    RPC_QUEUE: uniqueName('data_queue'),
    TASK_EVENTS_EXCHANGE: uniqueName('task_events'),
    TASK_LOGS_QUEUE: uniqueName('task_logs'),
    JOBS_QUEUE: 'data',
    BULLMQ_PREFIX: `${RUN_PREFIX}_${randomBytes(3).toString('hex')}`,
    LOG_LEVEL: 'warn',
    API_KEYS: `tests:${TEST_API_KEY}`,
    ...overrides,
  };
}
