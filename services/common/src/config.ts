import { z } from 'zod';

/**
 * Environment variables shared by several services. Each service's main.ts
 * composes the fragments it needs and calls {@link parseEnv} exactly once.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with scheme ${protocols.join(' or ')}`);

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export const commonEnv = {
  LOG_LEVEL: logLevel.default('info'),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(25_000),
};

export const rabbitEnv = {
  RABBITMQ_URL: url(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
  RPC_QUEUE: z.string().min(1).default('data_queue'),
  RPC_TIMEOUT_MS: positiveInt.default(10_000),
  TASK_EVENTS_EXCHANGE: z.string().min(1).default('task_events'),
};

export const redisEnv = {
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  JOBS_QUEUE: z.string().min(1).default('data'),
  BULLMQ_PREFIX: z.string().min(1).default('flowgate'),
};

export const postgresEnv = {
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/flowgate'),
  // 20, not 10: Postgres commits concurrent single-row inserts together (one WAL flush for
  // several), so a pool of 20 inserts ~1.5x faster than 10 under load (docs/performance.md).
  DATABASE_POOL_MAX: positiveInt.default(20),
};

export const jobEnv = {
  JOB_ATTEMPTS: positiveInt.default(5),
  JOB_BACKOFF_MS: positiveInt.default(1_000),
  JOB_KEEP_COMPLETED_SECONDS: positiveInt.default(3_600),
  JOB_KEEP_COMPLETED_COUNT: positiveInt.default(10_000),
  JOB_KEEP_FAILED_SECONDS: positiveInt.default(86_400),
};

export const metricsEnv = (defaultPort: number) => ({
  METRICS_PORT: port.default(defaultPort),
});

export { port as portSchema, positiveInt as positiveIntSchema };

/**
 * Parses `env` against `shape`. Fails with one ConfigError that names every
 * invalid variable, so a misconfigured pod says what to fix in its first log line.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<Shape>> {
  const cleaned = Object.fromEntries(Object.keys(shape).map((key) => [key, emptyToUndefined(env[key])]));
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      const shown = SECRET_NAME.test(variable) ? '(hidden)' : JSON.stringify(redactCredentials(env[variable] ?? ''));
      return `${variable}=${shown}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Variables whose values are never echoed back, even when invalid. */
const SECRET_NAME = /KEY|SECRET|PASSWORD|TOKEN/;

function emptyToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The error is logged, so a password in a URL like amqp://user:secret@host is masked. */
function redactCredentials(value: string): string {
  return value.replace(/(\/\/[^/:@\s]*:)[^@\s]*@/g, '$1***@');
}

/**
 * {@link parseEnv} for a service's composition root: a bad configuration is one
 * line on stderr naming every invalid variable, then exit code 1, not a stack trace.
 */
export function parseEnvOrExit<Shape extends z.ZodRawShape>(
  service: string,
  shape: Shape,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<Shape>> {
  try {
    return parseEnv(shape, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`flowgate-${service}: ${error.message}\n`);
    process.exit(1);
  }
}
