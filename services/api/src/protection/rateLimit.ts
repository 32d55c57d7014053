import type { Redis } from 'ioredis';
import { ipKeyGenerator, rateLimit, type Options } from 'express-rate-limit';
import type { Request, RequestHandler } from 'express';
import { errorMessage, type Logger } from '@flowgate/common';
import { problems, problemResult } from '../problem.js';
import { sendResult } from '../httpResult.js';
import { callerOf } from './apiKeys.js';
import { SharedRateLimitStore } from './sharedRateLimitStore.js';

export interface RateLimitOptions {
  redis: Pick<Redis, 'pipeline' | 'del'>;
  keyPrefix: string;
  /** Requests per window per client; 0 turns limiting off. */
  max: number;
  windowSeconds: number;
  openPaths: ReadonlySet<string>;
  logger: Logger;
}

export interface RateLimit {
  middleware: RequestHandler;
  /** Adds the last local hits to the shared counts; at shutdown. */
  close(): Promise<void>;
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
 * Per-client fixed-window rate limit shared by every api replica through Redis
 * ({@link SharedRateLimitStore}). A client is its API key when it sent one, else
 * its address (nginx's X-Forwarded-For, trusted from loopback and private
 * networks only). While Redis is down each replica goes on limiting with its own
 * counts.
 */
export function createRateLimit(options: RateLimitOptions): RateLimit | undefined {
  if (options.max === 0) return undefined;
  const store = new SharedRateLimitStore({
    redis: options.redis,
    prefix: `${options.keyPrefix}:ratelimit:`,
    windowMs: options.windowSeconds * 1000,
    syncIntervalMs: 100,
    onSyncStateChange: (failing, error) => {
      if (failing) options.logger.warn({ err: errorMessage(error) }, 'rate-limit counts not shared while Redis is unreachable; limiting per replica');
      else options.logger.info('rate-limit counts shared again');
    },
  });
  const settings: Partial<Options> = {
    windowMs: options.windowSeconds * 1000,
    limit: options.max,
    // RateLimit-Policy and RateLimit (IETF draft 7). Draft 8's partition key is a SHA-256 of the
    // client's key, hashed on every request: ~15% of the api's HTTP handling for a header field.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // This check guesses from the key generator's source whether it groups IPv6 clients; addressKey
    // does (through ipKeyGenerator), but the guess cannot see that and printed a stack trace at start.
    validate: { keyGeneratorIpFallback: false },
    skip: (request: Request) => options.openPaths.has(request.path),
    keyGenerator: (request: Request) => {
      const caller = callerOf(request);
      if (caller) return `key:${caller}`;
      return addressKey(request.ip ?? 'unknown');
    },
    store,
    handler: (request, response) => {
      const resetTime = (request as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfterSeconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
      const detail = `more than ${options.max} requests in ${options.windowSeconds} s from this client; retry later`;
      sendResult(response, problemResult(problems.tooManyRequests(detail, retryAfterSeconds), request.originalUrl));
    },
  };
  return { middleware: rateLimit(settings), close: () => store.shutdown() };
}
