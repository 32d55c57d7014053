import type { Redis } from 'ioredis';
import type { IncrementResponse, Store } from 'express-rate-limit';

export interface SharedRateLimitStoreOptions {
  redis: Pick<Redis, 'pipeline' | 'del'>;
  /** Redis key prefix; a client's count lives at `<prefix><client>:<window start>`. */
  prefix: string;
  windowMs: number;
  /** How often local hits are added to the shared counts (and the other replicas' hits learnt). */
  syncIntervalMs: number;
  /** Called when a sync fails after succeeding, and once it succeeds again. */
  onSyncStateChange?: (failing: boolean, error?: unknown) => void;
}

interface WindowCount {
  windowStart: number;
  /** The client's count in Redis as of the last sync, every replica's hits included. */
  shared: number;
  /** Hits counted here and not yet added to Redis. */
  pending: number;
}

/**
 * A fixed-window rate-limit store for express-rate-limit, shared by every api
 * replica through Redis without a round trip per request. Each replica counts
 * its hits in memory and adds them to the client's Redis counter every
 * `syncIntervalMs` (one pipeline for all clients), reading back the total of all
 * replicas. A client's count is therefore exact on one replica and at most
 * `syncIntervalMs` late about the others.
 *
 * A Redis call per request (rate-limit-redis) took about a quarter of the api's
 * CPU per sync request. While Redis is unreachable the limit keeps working on
 * local counts, and the hits are added once it is back.
 */
export class SharedRateLimitStore implements Store {
  readonly localKeys = false;
  private readonly counts = new Map<string, WindowCount>();
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> | undefined;
  private failing = false;

  constructor(private readonly options: SharedRateLimitStoreOptions) {
    this.timer = setInterval(() => void this.sync(), options.syncIntervalMs).unref();
  }

  increment(key: string): IncrementResponse {
    const count = this.current(key);
    count.pending += 1;
    return { totalHits: count.shared + count.pending, resetTime: new Date(count.windowStart + this.options.windowMs) };
  }

  decrement(key: string): void {
    // Only a hit of the current window can be taken back; a new window has none to undo.
    const count = this.counts.get(key);
    if (count?.windowStart === this.windowStart(Date.now())) count.pending -= 1;
  }

  async resetKey(key: string): Promise<void> {
    const count = this.current(key);
    this.counts.delete(key);
    await this.options.redis.del(this.redisKey(key, count.windowStart));
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.sync();
  }

  /** Adds every client's pending hits to Redis and learns the shared totals; one sync at a time. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const currentWindow = this.windowStart(Date.now());
    const batch: { key: string; count: WindowCount; hits: number }[] = [];
    for (const [key, count] of this.counts) {
      // A finished window's count no longer limits anyone.
      if (count.windowStart < currentWindow) this.counts.delete(key);
      else if (count.pending !== 0) batch.push({ key, count, hits: count.pending });
    }
    if (batch.length === 0) return;

    const pipeline = this.options.redis.pipeline();
    for (const { key, count, hits } of batch) {
      const redisKey = this.redisKey(key, count.windowStart);
      // Expiry a little past the window's end, so a slow replica's late sync still finds the key.
      pipeline.incrby(redisKey, hits).pexpire(redisKey, this.options.windowMs + 2 * this.options.syncIntervalMs + 1_000);
      count.pending -= hits;
    }
    let results: [Error | null, unknown][] | null;
    try {
      results = await pipeline.exec();
    } catch (error) {
      results = null;
      this.setFailing(true, error);
    }
    let failure: Error | undefined;
    batch.forEach(({ count, hits }, index) => {
      const [error, total] = results?.[index * 2] ?? [new Error('no reply')];
      if (error || typeof total !== 'number') {
        failure ??= error ?? new Error('no reply');
        count.pending += hits; // counted again at the next sync
      } else {
        count.shared = total;
      }
    });
    this.setFailing(failure !== undefined, failure);
  }

  private setFailing(failing: boolean, error?: unknown): void {
    if (failing === this.failing) return;
    this.failing = failing;
    this.options.onSyncStateChange?.(failing, error);
  }

  private current(key: string): WindowCount {
    const windowStart = this.windowStart(Date.now());
    let count = this.counts.get(key);
    if (count?.windowStart !== windowStart) {
      count = { windowStart, shared: 0, pending: 0 };
      this.counts.set(key, count);
    }
    return count;
  }

  private windowStart(now: number): number {
    return now - (now % this.options.windowMs);
  }

  private redisKey(key: string, windowStart: number): string {
    return `${this.options.prefix}${key}:${windowStart}`;
  }
}
