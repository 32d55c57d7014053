import { createHash } from 'node:crypto';
import { DependencyUnavailableError, type Metrics } from '@flowgate/common';
import type { Redis } from 'ioredis';
import type { HttpResult } from './httpResult.js';
import { problems } from './problem.js';

export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

interface PendingEntry {
  state: 'pending';
  fingerprint: string;
}
interface DoneEntry {
  state: 'done';
  fingerprint: string;
  result: HttpResult;
}
type Entry = PendingEntry | DoneEntry;

export interface IdempotencyOptions {
  redis: Redis;
  keyPrefix: string;
  /** How long a final response is kept (1 h). */
  ttlSeconds: number;
  /** How long a request may hold its key while running; longer than any request can take. */
  lockSeconds: number;
  metrics?: Pick<Metrics, 'idempotencyReplays'>;
}

export interface IdempotentRequest {
  key: string;
  /** Who is asking (an API key's hash, or anonymous); keys never collide across callers. */
  scope: string;
  route: string;
  /** The raw request body bytes: "the same body" means byte-for-byte the same. */
  body: Buffer;
}

/**
 * Stripe-style idempotency keys in Redis. The first request takes the key with
 * SET NX and runs; its final response (2xx or 4xx) is stored with a fingerprint
 * of the body. A repeat replays it, a repeat with another body is a 422, a
 * repeat while the first still runs is a 409. A 5xx releases the key so a retry
 * after an outage runs again.
 */
export function createIdempotency(options: IdempotencyOptions) {
  const redisKey = (request: IdempotentRequest) =>
    `${options.keyPrefix}:idem:${request.scope}:${request.route}:${sha256(request.key)}`;

  return async function runIdempotently(request: IdempotentRequest, run: () => Promise<HttpResult>): Promise<HttpResult> {
    if (!IDEMPOTENCY_KEY_PATTERN.test(request.key)) {
      throw problems.badRequest('Idempotency-Key must be 1 to 255 printable ASCII characters');
    }
    const key = redisKey(request);
    const fingerprint = sha256(request.body);
    const pending: PendingEntry = { state: 'pending', fingerprint };

    const acquired = await redisCall(() => options.redis.set(key, JSON.stringify(pending), 'EX', options.lockSeconds, 'NX'));
    if (acquired !== 'OK') {
      const raw = await redisCall(() => options.redis.get(key));
      // The holder finished and its entry expired between our SET and GET: treat as in progress, the client retries.
      const existing = raw ? (JSON.parse(raw) as Entry) : pending;
      if (existing.fingerprint !== fingerprint) {
        throw problems.idempotencyMismatch('this Idempotency-Key was already used with a different request body');
      }
      if (existing.state === 'pending') {
        throw problems.conflict('a request with this Idempotency-Key is still being processed; retry later');
      }
      options.metrics?.idempotencyReplays.inc({ route: request.route });
      return { ...existing.result, headers: { ...existing.result.headers, 'Idempotent-Replayed': 'true' } };
    }

    let result: HttpResult;
    try {
      result = await run();
    } catch (error) {
      await options.redis.del(key).catch(() => undefined);
      throw error;
    }
    if (result.status >= 500) {
      await options.redis.del(key).catch(() => undefined);
    } else {
      const done: DoneEntry = { state: 'done', fingerprint, result };
      // If Redis fails here the pending entry expires after lockSeconds; the response itself is still correct.
      await options.redis.set(key, JSON.stringify(done), 'EX', options.ttlSeconds).catch(() => undefined);
    }
    return result;
  };
}

export type RunIdempotently = ReturnType<typeof createIdempotency>;

async function redisCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new DependencyUnavailableError('redis', 'Redis is not reachable', { cause: error });
  }
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
