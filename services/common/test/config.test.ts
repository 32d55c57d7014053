import assert from 'node:assert/strict';
import { z } from 'zod';
import { ConfigError, commonEnv, metricsEnv, parseEnv, postgresEnv, rabbitEnv, redisEnv } from '../src/config.js';

const shape = { ...commonEnv, ...rabbitEnv, ...redisEnv, ...postgresEnv, ...metricsEnv(9100) };

function configError(env: Record<string, string>): ConfigError {
  try {
    parseEnv(shape, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('parseEnv', () => {
  it('gives local defaults when nothing is set, and treats blank values as unset', () => {
    const config = parseEnv(shape, { RPC_QUEUE: '  ', LOG_LEVEL: '' });
    assert.equal(config.RABBITMQ_URL, 'amqp://guest:guest@127.0.0.1:5672');
    assert.equal(config.RPC_QUEUE, 'data_queue');
    assert.equal(config.RPC_TIMEOUT_MS, 10_000);
    assert.equal(config.LOG_LEVEL, 'info');
    assert.equal(config.METRICS_PORT, 9100);
    assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
  });

  it('coerces numbers and accepts valid URLs', () => {
    const config = parseEnv(shape, { RPC_TIMEOUT_MS: '2500', METRICS_PORT: '65535', DATABASE_URL: 'postgresql://u@db:5432/x', LOG_LEVEL: 'debug' });
    assert.equal(config.RPC_TIMEOUT_MS, 2500);
    assert.equal(config.METRICS_PORT, 65535);
    assert.equal(config.DATABASE_URL, 'postgresql://u@db:5432/x');
    assert.equal(config.LOG_LEVEL, 'debug');
  });

  it('names the variable and its value for each invalid setting', () => {
    for (const [variable, value] of [
      ['RPC_TIMEOUT_MS', '-5'],
      ['RPC_TIMEOUT_MS', '10abc'],
      ['RPC_TIMEOUT_MS', '1.5'],
      ['METRICS_PORT', '70000'],
      ['LOG_LEVEL', 'loud'],
      ['REDIS_URL', 'http://127.0.0.1:6379'],
      ['RABBITMQ_URL', 'not a url'],
    ] as const) {
      const error = configError({ [variable]: value });
      assert.ok(error.message.includes(`${variable}=${JSON.stringify(value)}`), error.message);
    }
  });

  it('reports every invalid variable in one error', () => {
    const error = configError({ RPC_TIMEOUT_MS: '0', DATABASE_POOL_MAX: 'many', LOG_LEVEL: 'verbose' });
    for (const variable of ['RPC_TIMEOUT_MS', 'DATABASE_POOL_MAX', 'LOG_LEVEL']) assert.ok(error.message.includes(variable), error.message);
  });

  it('masks passwords in the values it reports', () => {
    const error = configError({ DATABASE_URL: 'mysql://admin:s3cret@db:3306/x' });
    assert.ok(error.message.includes('DATABASE_URL'));
    assert.ok(!error.message.includes('s3cret'), error.message);
    assert.ok(error.message.includes('mysql://admin:***@db:3306/x'), error.message);
  });

  it('parses service-specific shapes composed with the shared ones', () => {
    const config = parseEnv({ ...commonEnv, WORKER_CONCURRENCY: z.coerce.number().int().positive().default(8) }, { WORKER_CONCURRENCY: '3' });
    assert.equal(config.WORKER_CONCURRENCY, 3);
    assert.equal(config.SHUTDOWN_TIMEOUT_MS, 25_000);
  });
});
