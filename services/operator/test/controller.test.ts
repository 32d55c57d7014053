// The whole control loop against the in-process API server: watches feed the work queue, the
// queue feeds the reconciler, and a change to an owned Job wakes the owning Flowgate.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterClient } from '../src/clusterClient.js';
import { Controller } from '../src/controller.js';
import { silentLog } from '../src/log.js';
import { Reconciler } from '../src/reconciler.js';
import { WorkQueue } from '../src/workQueue.js';
import { FakeApiServer } from './support/fakeApiServer.js';
import { sampleFlowgate } from './support/sampleFlowgate.js';

async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('controller', function () {
  this.timeout(15_000);

  it('reconciles a new Flowgate from its watch event, and again when its migration Job completes', async () => {
    const server = new FakeApiServer();
    const kubeConfig = await server.start();
    const client = new ClusterClient(kubeConfig);
    // A long requeue delay, so only watch events can drive the second reconcile.
    const reconciler = new Reconciler(client, silentLog, { pendingRequeueMs: 60_000 });
    const controller = new Controller(kubeConfig, client, reconciler, silentLog, {
      resyncMs: 60_000,
      fullResyncMs: 60_000,
      watchTimeoutSeconds: 20,
      retryBaseMs: 20,
      retryMaxMs: 200,
    });
    controller.start();
    try {
      await eventually(() => controller.hasSynced, 'informers synced');
      server.put(sampleFlowgate());
      await eventually(() => server.list('Job').length === 1 && server.list('Deployment').length === 1, 'migration Job and processor applied');
      await sleep(100);
      assert.deepEqual(server.list('Deployment').map((deployment) => deployment.metadata.name), ['flowgate-processor'], 'the rest waits for the migration');

      server.put({ ...server.list('Job')[0]!, status: { conditions: [{ type: 'Complete', status: 'True' }] } });
      await eventually(() => server.list('Deployment').length === 4, 'api, worker and logger rolled after the migration');
    } finally {
      await controller.stop();
      await server.stop();
    }
  });
});

describe('work queue', () => {
  it('runs a key once however often it was added, and again if re-added while running', async () => {
    const queue = new WorkQueue({ retryBaseMs: 10, retryMaxMs: 100 });
    const runs: string[] = [];
    queue.add('a');
    queue.add('a');
    queue.add('b');
    const running = queue.run(async (key) => {
      runs.push(key);
      if (runs.length === 1) queue.add('a');
      await sleep(5);
    }, () => {});
    await eventually(() => runs.length >= 3, 'three runs');
    await sleep(30);
    queue.stop();
    await running;
    assert.deepEqual(runs, ['a', 'b', 'a']);
  });

  it('retries a failing key with growing back-off', async () => {
    const queue = new WorkQueue({ retryBaseMs: 20, retryMaxMs: 1000 });
    const retries: number[] = [];
    let attempts = 0;
    queue.add('flaky');
    const running = queue.run(
      async () => {
        attempts += 1;
        if (attempts < 4) throw new Error('API server unavailable');
      },
      (_key, _error, retryInMs) => retries.push(retryInMs),
    );
    await eventually(() => attempts === 4, 'success after retries');
    queue.stop();
    await running;
    assert.deepEqual(retries, [20, 40, 80]);
  });
});
