import type { Redis } from 'ioredis';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { Request, RequestHandler } from 'express';
import { problems, problemResult } from '../problem.js';
import { sendResult } from '../httpResult.js';
import { callerOf } from './apiKeys.js';

export interface RateLimitOptions {
  redis: Redis;
  keyPrefix: string;
  /** Requests per window per client; 0 turns limiting off. */
  max: number;
  windowSeconds: number;
  openPaths: ReadonlySet<string>;
}

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/**
 * The rate-limit key of a client without an API key. ipKeyGenerator groups IPv6
 * clients by /56, so rotating addresses within a prefix cannot dodge the limit.
 * IPv4 addresses, also in the IPv6-mapped form a dual-stack socket reports
 * ("::ffff:10.0.0.1"), are used as they are: parsing them cost ~3% of the api's
 * CPU under load.
 */
export function addressKey(ip: string): string {
  const ipv4 = IPV4_MAPPED.exec(ip)?.[1] ?? (ip.includes(':') ? undefined : ip);
  return `ip:${ipv4 ?? ipKeyGenerator(ip)}`;
}

/**
 * Per-client fixed-window rate limit shared by every api replica through Redis.
 * A client is its API key when it sent one, else its address (nginx's
 * X-Forwarded-For, trusted from loopback and private networks only). If Redis is
 * down the limit is skipped rather than turning an outage into refusals.
 */
export function createRateLimit(options: RateLimitOptions): RequestHandler | undefined {
  if (options.max === 0) return undefined;
  const settings: Partial<Options> = {
    windowMs: options.windowSeconds * 1000,
    limit: options.max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    passOnStoreError: true,
    skip: (request: Request) => options.openPaths.has(request.path),
    keyGenerator: (request: Request) => {
      const caller = callerOf(request);
      if (caller) return `key:${caller}`;
      return addressKey(request.ip ?? 'unknown');
    },
    store: new RedisStore({
      prefix: `${options.keyPrefix}:ratelimit:`,
      sendCommand: (command: string, ...args: string[]) =>
        options.redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (request, response) => {
      const resetTime = (request as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfterSeconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
      const detail = `more than ${options.max} requests in ${options.windowSeconds} s from this client; retry later`;
      sendResult(response, problemResult(problems.tooManyRequests(detail, retryAfterSeconds), request.originalUrl));
    },
  };
  return rateLimit(settings);
}
