// Wires informers to the work queue and the queue to the reconciler: Flowgate changes enqueue
// the Flowgate; changes to its Deployments and migration Jobs enqueue their owner.
import type { KubeConfig } from '@kubernetes/client-node';
import type { ClusterClient } from './clusterClient.js';
import { FLOWGATE_GROUP, FLOWGATE_PLURAL, FLOWGATE_VERSION } from './flowgateResource.js';
import { Informer, type InformerTiming, type WatchedObject } from './informer.js';
import type { Log } from './log.js';
import type { Reconciler } from './reconciler.js';
import { INSTANCE_LABEL, MANAGED_SELECTOR } from './render/index.js';
import { WorkQueue } from './workQueue.js';

export interface ControllerTiming extends InformerTiming {
  /** Every Flowgate is reconciled at least this often, whatever the watches report. */
  fullResyncMs: number;
}

interface LabelledObject extends WatchedObject {
  metadata?: WatchedObject['metadata'] & { labels?: Record<string, string> };
}

export class Controller {
  readonly queue: WorkQueue;
  readonly informers: Informer<LabelledObject>[];
  private running: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(
    kubeConfig: KubeConfig,
    client: ClusterClient,
    private readonly reconciler: Pick<Reconciler, 'reconcile'>,
    private readonly log: Log,
    private readonly timing: ControllerTiming,
  ) {
    this.queue = new WorkQueue({ retryBaseMs: timing.retryBaseMs, retryMaxMs: timing.retryMaxMs });
    const onError = (error: unknown): void => this.log('warn', 'watch failed; re-listing', { error });
    const flowgateKey = (object: LabelledObject): string => `${object.metadata?.namespace}/${object.metadata?.name}`;
    const ownerKey = (object: LabelledObject): string | undefined => {
      const instance = object.metadata?.labels?.[INSTANCE_LABEL];
      return instance ? `${object.metadata?.namespace}/${instance}` : undefined;
    };
    const enqueueOwner = (object: LabelledObject): void => {
      const key = ownerKey(object);
      if (key) this.queue.add(key);
    };
    const ownedList = (apiVersion: string, kind: string) => () => client.list(apiVersion, kind, '', MANAGED_SELECTOR);
    this.informers = [
      new Informer<LabelledObject>(
        kubeConfig,
        { path: `/apis/${FLOWGATE_GROUP}/${FLOWGATE_VERSION}/${FLOWGATE_PLURAL}`, list: async () => {
          const { items, resourceVersion } = await client.listFlowgates();
          return { items: items as LabelledObject[], resourceVersion };
        } },
        { onUpsert: (object) => this.queue.add(flowgateKey(object)), onDelete: () => {}, onError },
        timing,
      ),
      ...[
        { apiVersion: 'apps/v1', kind: 'Deployment', path: '/apis/apps/v1/deployments' },
        { apiVersion: 'batch/v1', kind: 'Job', path: '/apis/batch/v1/jobs' },
      ].map(
        ({ apiVersion, kind, path }) =>
          new Informer<LabelledObject>(
            kubeConfig,
            { path, labelSelector: MANAGED_SELECTOR, list: ownedList(apiVersion, kind) },
            { onUpsert: enqueueOwner, onDelete: enqueueOwner, onError },
            timing,
          ),
      ),
    ];
  }

  get hasSynced(): boolean {
    return this.informers.every((informer) => informer.hasSynced);
  }

  start(): void {
    for (const informer of this.informers) informer.start();
    this.resyncTimer = setInterval(() => {
      for (const flowgate of this.informers[0]?.list() ?? []) this.queue.add(`${flowgate.metadata?.namespace}/${flowgate.metadata?.name}`);
    }, this.timing.fullResyncMs);
    this.resyncTimer.unref();
    this.running = this.queue.run(
      (key) => this.reconciler.reconcile(key),
      (key, error, retryInMs) => this.log('warn', 'reconcile failed', { key, error, retryInMs }),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.resyncTimer);
    for (const informer of this.informers) informer.stop();
    this.queue.stop();
    await this.running;
  }
}
