import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { SharedRateLimitStore } from '../src/protection/sharedRateLimitStore.js';
import { REDIS_URL, uniqueName } from '../../../test/support/testEnv.js';
import { TcpProxy } from '../../../test/support/tcpProxy.js';

/** A day: windows align to the epoch, and a test must not straddle two of them. */
const WINDOW_MS = 86_400_000;
/** Long enough that only the test's own sync() calls share counts. */
const MANUAL_SYNC_MS = 3_600_000;

describe('SharedRateLimitStore (this run\'s Redis keys)', () => {
  let redis: Redis;
  const stores: SharedRateLimitStore[] = [];
  const newStore = (prefix: string, client: Redis = redis, onSyncStateChange?: (failing: boolean) => void) => {
    const store = new SharedRateLimitStore({ redis: client, prefix, windowMs: WINDOW_MS, syncIntervalMs: MANUAL_SYNC_MS, ...(onSyncStateChange ? { onSyncStateChange } : {}) });
    stores.push(store);
    return store;
  };

  before(() => {
    redis = new Redis(REDIS_URL);
  });
  after(async () => {
    for (const store of stores) await store.shutdown().catch(() => undefined);
    redis.disconnect();
  });

  it('counts hits per client without Redis in between, and reports when the window resets', () => {
    const store = newStore(`${uniqueName('rl')}:`);
    const first = store.increment('ip:10.0.0.1');
    assert.equal(first.totalHits, 1);
    assert.equal(store.increment('ip:10.0.0.1').totalHits, 2);
    assert.equal(store.increment('ip:10.0.0.2').totalHits, 1, 'clients are counted apart');
    const resetMs = first.resetTime!.getTime();
    assert.equal(resetMs % WINDOW_MS, 0, 'windows are aligned, so every replica agrees on them');
    assert.ok(resetMs > Date.now() && resetMs <= Date.now() + WINDOW_MS);
  });

  it('shares counts between replicas through Redis at each sync', async () => {
    const prefix = `${uniqueName('rl')}:`;
    const [one, two] = [newStore(prefix), newStore(prefix)];
    for (let hit = 0; hit < 3; hit++) one.increment('key:alice');
    two.increment('key:alice');
    await one.sync();
    await two.sync();
    assert.equal(two.increment('key:alice').totalHits, 5, 'replica two learnt replica one\'s three hits');
    assert.equal(one.increment('key:alice').totalHits, 4, 'replica one has not synced since two\'s hit');
    await one.sync();
    assert.equal(one.increment('key:alice').totalHits, 6, 'now it has');
    const [key] = await redis.keys(`${prefix}key:alice:*`);
    assert.ok(key, 'the shared count lives in Redis');
    assert.equal(Number(await redis.get(key)), 5, 'the last hit of each replica is still local');
    assert.ok((await redis.pttl(key)) > WINDOW_MS, 'the count expires a little after its window');
  });

  it('goes on limiting on local counts while Redis is unreachable, and shares the hits once it is back', async () => {
    const prefix = `${uniqueName('rl')}:`;
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(REDIS_URL).port || 6379) });
    const flaky = new Redis(proxy.rewrite(REDIS_URL), { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    flaky.on('error', () => undefined);
    const changes: boolean[] = [];
    try {
      await new Promise((resolve) => flaky.once('ready', resolve));
      const store = newStore(prefix, flaky, (failing) => changes.push(failing));
      store.increment('ip:10.0.0.9');
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 100));
      await store.sync();
      assert.equal(store.increment('ip:10.0.0.9').totalHits, 2, 'hits still counted while Redis is away');
      assert.deepEqual(changes, [true]);

      proxy.restore();
      await new Promise((resolve) => flaky.once('ready', resolve));
      await store.sync();
      assert.deepEqual(changes, [true, false]);
      const [key] = await redis.keys(`${prefix}ip:10.0.0.9:*`);
      assert.equal(Number(await redis.get(key!)), 2, 'the hits of the outage were added, none twice');
    } finally {
      flaky.disconnect();
      await proxy.close();
    }
  });

  it('decrement takes back a hit of the current window, and never makes a count negative', () => {
    const store = newStore(`${uniqueName('rl')}:`);
    store.increment('ip:10.0.0.4');
    store.increment('ip:10.0.0.4');
    store.decrement('ip:10.0.0.4');
    assert.equal(store.increment('ip:10.0.0.4').totalHits, 2);
    store.decrement('ip:10.0.0.5');
    assert.equal(store.increment('ip:10.0.0.5').totalHits, 1, 'nothing to take back from a client never seen');
  });

  it('resetKey forgets a client here and in Redis', async () => {
    const prefix = `${uniqueName('rl')}:`;
    const store = newStore(prefix);
    store.increment('ip:10.0.0.3');
    await store.sync();
    await store.resetKey('ip:10.0.0.3');
    assert.deepEqual(await redis.keys(`${prefix}ip:10.0.0.3:*`), []);
    assert.equal(store.increment('ip:10.0.0.3').totalHits, 1);
  });
});
