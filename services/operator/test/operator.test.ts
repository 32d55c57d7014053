// The operator's cluster code (ClusterClient, Reconciler, Informer, LeaderElector) driven through
// the real @kubernetes/client-node against an in-process API server.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig } from '@kubernetes/client-node';
import { ClusterClient } from '../src/clusterClient.js';
import { Informer } from '../src/informer.js';
import { LeaderElector } from '../src/leaderElection.js';
import { silentLog } from '../src/log.js';
import { Reconciler } from '../src/reconciler.js';
import { FakeApiServer, type StoredObject } from './support/fakeApiServer.js';
import { sampleFlowgate } from './support/sampleFlowgate.js';

const KEY = 'default/flowgate';

async function eventually(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** Plays the Job and Deployment controllers: finishes the migration and makes every Deployment ready. */
function settleWorkloads(server: FakeApiServer): void {
  for (const job of server.list('Job')) {
    server.put({ ...job, status: { conditions: [{ type: 'Complete', status: 'True' }], succeeded: 1 } });
  }
  for (const deployment of server.list('Deployment')) {
    const replicas = (deployment.spec as { replicas?: number }).replicas ?? 1;
    server.put({
      ...deployment,
      status: { observedGeneration: deployment.metadata.generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas },
    });
  }
}

function condition(flowgate: StoredObject | undefined, type: string): { status: string; reason: string; observedGeneration: number } | undefined {
  const conditions = (flowgate?.status as { conditions?: { type: string; status: string; reason: string; observedGeneration: number }[] } | undefined)?.conditions;
  return conditions?.find((candidate) => candidate.type === type);
}

describe('operator against an API server', function () {
  this.timeout(15_000);
  let server: FakeApiServer;
  let kubeConfig: KubeConfig;
  let reconciler: Reconciler;

  beforeEach(async () => {
    server = new FakeApiServer();
    kubeConfig = await server.start();
    reconciler = new Reconciler(new ClusterClient(kubeConfig), silentLog, { pendingRequeueMs: 1000, now: () => new Date('2026-01-01T00:00:00Z') });
    server.put(sampleFlowgate());
  });

  afterEach(() => server.stop());

  it('applies the migration Job first and holds api, worker and logger until it completes', async () => {
    const result = await reconciler.reconcile(KEY);
    const deployments = server.list('Deployment').map((deployment) => deployment.metadata.name).sort();
    assert.deepEqual(deployments, ['flowgate-processor']);
    assert.equal(server.list('Job').length, 1);
    assert.deepEqual(result, { requeueAfterMs: 1000 });
    const flowgate = server.get('Flowgate', 'default', 'flowgate');
    assert.equal(condition(flowgate, 'Progressing')?.reason, 'Migrating');
    assert.equal(condition(flowgate, 'Ready')?.status, 'False');

    const applies = server.mutatingRequests().filter((request) => request.method === 'PATCH' && !request.path.endsWith('/status'));
    assert.ok(applies.every((request) => request.contentType?.startsWith('application/apply-patch+yaml')), 'every write is a server-side apply');

    server.put({ ...server.list('Job')[0]!, status: { conditions: [{ type: 'Complete', status: 'True' }] } });
    await reconciler.reconcile(KEY);
    assert.deepEqual(server.list('Deployment').map((deployment) => deployment.metadata.name).sort(), [
      'flowgate-api',
      'flowgate-logger',
      'flowgate-processor',
      'flowgate-worker',
    ]);
  });

  it('creates every object owned by the Flowgate, and reports Ready with observedGeneration', async () => {
    await reconciler.reconcile(KEY);
    settleWorkloads(server);
    await reconciler.reconcile(KEY);
    settleWorkloads(server);
    const result = await reconciler.reconcile(KEY);
    assert.equal(result, undefined);

    const flowgate = server.get('Flowgate', 'default', 'flowgate')!;
    for (const kind of ['ConfigMap', 'NetworkPolicy', 'Service', 'Job', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress']) {
      const objects = server.list(kind);
      assert.ok(objects.length > 0, `${kind} created`);
      for (const object of objects) {
        const owners = (object.metadata['ownerReferences'] ?? []) as { uid: string; controller: boolean }[];
        assert.deepEqual(owners.map((owner) => [owner.uid, owner.controller]), [[flowgate.metadata.uid, true]], `${kind}/${object.metadata.name} owned`);
      }
    }
    assert.equal(condition(flowgate, 'Ready')?.status, 'True');
    assert.equal(condition(flowgate, 'Degraded')?.status, 'False');
    assert.equal(condition(flowgate, 'Ready')?.observedGeneration, 1);
    const status = flowgate.status as { observedGeneration: number; components: Record<string, { readyReplicas: number }> };
    assert.equal(status.observedGeneration, 1);
    assert.equal(status.components['api']?.readyReplicas, 2);
    // No prometheus-operator or KEDA in this cluster: no ServiceMonitor, and that is not a problem for hpa.
    assert.ok(!server.requests.some((request) => request.path.includes('servicemonitors')));
  });

  it('sends no changes when reconciling an unchanged resource again', async () => {
    for (let round = 0; round < 3; round += 1) {
      await reconciler.reconcile(KEY);
      settleWorkloads(server);
    }
    await reconciler.reconcile(KEY);
    const before = server.mutatingRequests().length;
    await reconciler.reconcile(KEY);
    assert.equal(server.mutatingRequests().length, before, 'second reconcile of an unchanged resource wrote nothing');
    assert.deepEqual(reconciler.lastOutcome.get(KEY), { applied: 0, deleted: 0, statusWritten: false });
  });

  it('re-applies what changed and deletes what is no longer wanted', async () => {
    for (let round = 0; round < 3; round += 1) {
      await reconciler.reconcile(KEY);
      settleWorkloads(server);
    }
    const stored = server.get('Flowgate', 'default', 'flowgate')!;
    const spec = structuredClone(stored.spec) as { ingress: { enabled: boolean }; components: { api: { replicas: number } } };
    spec.ingress.enabled = false;
    spec.components.api.replicas = 3;
    server.put({ ...stored, spec });
    const mutationsBefore = server.mutatingRequests().length;
    await reconciler.reconcile(KEY);

    assert.equal(server.list('Ingress').length, 0, 'ingress deleted');
    assert.equal((server.get('Deployment', 'default', 'flowgate-api')?.spec as { replicas: number }).replicas, 3);
    const writes = server.mutatingRequests().slice(mutationsBefore);
    assert.deepEqual(
      writes.map((request) => `${request.method} ${request.path}`).sort(),
      [
        'DELETE /apis/networking.k8s.io/v1/namespaces/default/ingresses/flowgate',
        'PATCH /apis/apps/v1/namespaces/default/deployments/flowgate-api',
        'PATCH /apis/flowgate.dev/v1alpha1/namespaces/default/flowgates/flowgate/status',
      ],
    );
    const flowgate = server.get('Flowgate', 'default', 'flowgate');
    assert.equal(condition(flowgate, 'Ready')?.observedGeneration, 2);
  });

  it('deletes its NetworkPolicies when spec.networkPolicy is switched off', async () => {
    await reconciler.reconcile(KEY);
    assert.equal(server.list('NetworkPolicy').length, 5);
    const stored = server.get('Flowgate', 'default', 'flowgate')!;
    server.put({ ...stored, spec: { ...(stored.spec as object), networkPolicy: { enabled: false } } });
    await reconciler.reconcile(KEY);
    assert.equal(server.list('NetworkPolicy').length, 0);
    assert.equal(reconciler.lastOutcome.get(KEY)?.deleted, 5);
  });

  it('reports Degraded when KEDA is selected but not installed, and when the migration fails', async () => {
    const stored = server.get('Flowgate', 'default', 'flowgate')!;
    server.put({ ...stored, spec: { ...(stored.spec as object), autoscaling: { provider: 'keda' } } });
    await reconciler.reconcile(KEY);
    let flowgate = server.get('Flowgate', 'default', 'flowgate');
    assert.equal(condition(flowgate, 'Degraded')?.status, 'True');
    assert.equal(server.list('HorizontalPodAutoscaler').length, 0);

    server.put({ ...server.list('Job')[0]!, status: { conditions: [{ type: 'Failed', status: 'True' }] } });
    await reconciler.reconcile(KEY);
    flowgate = server.get('Flowgate', 'default', 'flowgate');
    assert.equal(condition(flowgate, 'Degraded')?.reason, 'MigrationFailed');
  });

  it('does nothing for a Flowgate that no longer exists', async () => {
    server.remove('Flowgate', 'default', 'flowgate');
    const before = server.mutatingRequests().length;
    assert.equal(await reconciler.reconcile(KEY), undefined);
    assert.equal(server.mutatingRequests().length, before);
  });
});

describe('informer', function () {
  this.timeout(15_000);
  let server: FakeApiServer;
  let kubeConfig: KubeConfig;
  let informer: Informer<StoredObject> | undefined;

  beforeEach(async () => {
    server = new FakeApiServer();
    kubeConfig = await server.start();
  });

  afterEach(async () => {
    informer?.stop();
    await server.stop();
  });

  function startInformer(resyncMs = 60_000): { upserts: string[]; deletes: string[]; errors: unknown[] } {
    const seen = { upserts: [] as string[], deletes: [] as string[], errors: [] as unknown[] };
    const client = new ClusterClient(kubeConfig);
    informer = new Informer<StoredObject>(
      kubeConfig,
      {
        path: '/apis/flowgate.dev/v1alpha1/flowgates',
        list: async () => {
          const { items, resourceVersion } = await client.listFlowgates();
          return { items: items as StoredObject[], resourceVersion };
        },
      },
      {
        onUpsert: (object) => seen.upserts.push(`${object.metadata.name}@${object.metadata.resourceVersion}`),
        onDelete: (object) => seen.deletes.push(object.metadata.name),
        onError: (error) => seen.errors.push(error),
      },
      { resyncMs, watchTimeoutSeconds: 20, retryBaseMs: 20, retryMaxMs: 200 },
    );
    informer.start();
    return seen;
  }

  it('lists, then watches from the list resourceVersion', async () => {
    server.put(sampleFlowgate());
    const seen = startInformer();
    await eventually(() => seen.upserts.length === 1, 'initial list');
    const second = sampleFlowgate();
    second.metadata.name = 'second';
    server.put(second);
    await eventually(() => seen.upserts.some((entry) => entry.startsWith('second@')), 'watch event');
    server.remove('Flowgate', 'default', 'second');
    await eventually(() => seen.deletes.includes('second'), 'delete event');
    assert.equal(informer?.listCount, 1);
    const watches = server.requests.filter((request) => request.path.endsWith('?watch'));
    assert.ok(watches.length >= 1);
  });

  it('re-lists after 410 Gone and notices deletions it missed', async () => {
    server.put(sampleFlowgate());
    const doomed = sampleFlowgate();
    doomed.metadata.name = 'doomed';
    server.put(doomed);
    const seen = startInformer();
    await eventually(() => seen.upserts.length === 2, 'initial list');

    server.compact();
    server.dropWatches();
    // While no watch is open, an object disappears; only a re-list can reveal it.
    server.remove('Flowgate', 'default', 'doomed');
    server.compact();
    await eventually(() => seen.deletes.includes('doomed'), 'missed deletion found by re-list');
    assert.ok((informer?.listCount ?? 0) >= 2);
  });

  it('re-lists periodically', async () => {
    server.put(sampleFlowgate());
    startInformer(150);
    await eventually(() => (informer?.listCount ?? 0) >= 3, 'periodic re-lists', 3000);
  });
});

describe('leader election', function () {
  this.timeout(10_000);
  let server: FakeApiServer;
  let kubeConfig: KubeConfig;

  beforeEach(async () => {
    server = new FakeApiServer();
    kubeConfig = await server.start();
  });

  afterEach(() => server.stop());

  it('lets one identity hold the Lease until it expires or is released', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const settings = { namespace: 'flowgate', name: 'flowgate-operator', leaseDurationSeconds: 15, renewIntervalMs: 1000 };
    const first = new LeaderElector(kubeConfig, { ...settings, identity: 'operator-a' }, silentLog, () => now);
    const second = new LeaderElector(kubeConfig, { ...settings, identity: 'operator-b' }, silentLog, () => now);

    assert.equal(await first.tryAcquireOrRenew(), true);
    assert.equal(await second.tryAcquireOrRenew(), false);
    assert.equal(await first.tryAcquireOrRenew(), true, 'the holder renews');

    now = new Date(now.getTime() + 16_000);
    assert.equal(await second.tryAcquireOrRenew(), true, 'an expired lease is taken over');
    const lease = server.get('Lease', 'flowgate', 'flowgate-operator');
    assert.equal((lease?.spec as { holderIdentity: string; leaseTransitions: number }).holderIdentity, 'operator-b');
    assert.equal((lease?.spec as { leaseTransitions: number }).leaseTransitions, 1);
  });

  it('releases the Lease on stop so a standby takes over at once', async () => {
    const settings = { namespace: 'flowgate', name: 'flowgate-operator', leaseDurationSeconds: 15, renewIntervalMs: 50 };
    const first = new LeaderElector(kubeConfig, { ...settings, identity: 'operator-a' }, silentLog);
    let elected = false;
    first.start(() => (elected = true), () => assert.fail('lease lost'));
    await eventually(() => elected, 'election');
    await first.stop();
    const second = new LeaderElector(kubeConfig, { ...settings, identity: 'operator-b' }, silentLog);
    assert.equal(await second.tryAcquireOrRenew(), true);
  });
});
