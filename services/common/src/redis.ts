import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logging.js';

export interface RedisClientOptions {
  url: string;
  logger: Logger;
  /**
   * Request/response clients fail fast while disconnected (the caller answers 503);
   * BullMQ workers need blocking clients that wait through an outage instead.
   */
  role: 'request' | 'blocking';
  connectionName: string;
}

/** ioredis options whose retry strategy is always a function, the form BullMQ's types accept. */
export type FlowgateRedisOptions = Omit<RedisOptions, 'retryStrategy'> & { retryStrategy: (attempt: number) => number };

/** ioredis options for a role; BullMQ takes these to build its own connections. */
export function redisOptionsFor(options: RedisClientOptions): FlowgateRedisOptions {
  const url = new URL(options.url);
  const base: FlowgateRedisOptions = {
    host: url.hostname,
    port: Number(url.port || 6379),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    connectionName: options.connectionName,
    connectTimeout: 2_000,
    retryStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, 3_000),
  };
  return options.role === 'request'
    ? { ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2_000 }
    : { ...base, enableOfflineQueue: true, maxRetriesPerRequest: null };
}

export function createRedis(options: RedisClientOptions): Redis {
  const client = new Redis(redisOptionsFor(options));
  let wasReady = false;
  client.on('ready', () => {
    wasReady = true;
    options.logger.info({ connection: options.connectionName }, 'redis connected');
  });
  client.on('error', (error: Error) => {
    // ioredis emits an error per failed reconnect attempt; log the first of each outage loudly.
    if (wasReady) options.logger.warn({ err: error, connection: options.connectionName }, 'redis connection lost; reconnecting');
    wasReady = false;
  });
  return client;
}
