// Reconciles one Flowgate: render the wanted objects, apply the ones whose content changed, hold
// back api/worker/logger until the migration Job for this version has completed, delete objects
// no longer wanted, and write status. Running it twice on an unchanged cluster writes nothing.
import type { KubernetesObject, V1Deployment, V1Job } from '@kubernetes/client-node';
import type { ClusterClient } from './clusterClient.js';
import { COMPONENTS, type ComponentName, type FlowgateResource } from './flowgateResource.js';
import type { Log } from './log.js';
import { InvalidFlowgateError, parseFlowgate } from './parseFlowgate.js';
import {
  APPLIED_HASH_ANNOTATION,
  COMPONENT_LABEL,
  INSTANCE_LABEL,
  MANAGED_KINDS,
  MANAGED_SELECTOR,
  renderManifests,
  type ManagedKind,
  type Manifest,
} from './render/index.js';
import { computeStatus, migrationState, statusChanged, type ObservedState } from './status.js';
import type { HandlerResult } from './workQueue.js';

// Components that read or write Postgres, so they must not run against an unmigrated schema.
const NEEDS_MIGRATION: ReadonlySet<ComponentName> = new Set(['api', 'worker', 'logger']);
const OPTIONAL_KINDS = new Set(['ServiceMonitor', 'ScaledObject']);

export interface ReconcileOutcome {
  applied: number;
  deleted: number;
  statusWritten: boolean;
}

export interface ReconcilerOptions {
  /** How soon to look again while something is still rolling out (watch events usually come first). */
  pendingRequeueMs: number;
  now?: () => Date;
}

function identity(object: { kind?: string; metadata?: { name?: string } }): string {
  return `${object.kind}/${object.metadata?.name}`;
}

function isHeldComponent(manifest: Manifest): boolean {
  const component = manifest.metadata.labels[COMPONENT_LABEL] as ComponentName | undefined;
  return manifest.kind === 'Deployment' && component !== undefined && NEEDS_MIGRATION.has(component);
}

export class Reconciler {
  /** Outcome of the latest reconcile per key; tests read it. */
  readonly lastOutcome = new Map<string, ReconcileOutcome>();

  constructor(
    private readonly client: ClusterClient,
    private readonly log: Log,
    private readonly options: ReconcilerOptions,
  ) {}

  async reconcile(key: string): Promise<HandlerResult> {
    const [namespace = '', name = ''] = key.split('/');
    const stored = await this.client.readFlowgate(namespace, name);
    // Deleted: the garbage collector removes everything through the ownerReferences.
    if (stored === undefined) return;
    let flowgate: FlowgateResource;
    try {
      flowgate = parseFlowgate(stored);
    } catch (error) {
      // The CRD schema should have refused it; retrying cannot help until the spec changes.
      if (error instanceof InvalidFlowgateError) {
        this.log('error', 'invalid Flowgate spec', { key, problems: error.problems });
        return;
      }
      throw error;
    }
    if (flowgate.metadata.deletionTimestamp) return;

    const problems: string[] = [];
    const served = await this.servedKinds(flowgate, problems);
    const desired = renderManifests(flowgate, { serviceMonitors: served.has('ServiceMonitor') }).filter(
      (manifest) => manifest.kind !== 'ScaledObject' || served.has('ScaledObject'),
    );
    const live = await this.listOwned(flowgate, served);
    const liveByIdentity = new Map(live.map((object) => [identity(object), object]));

    const desiredJob = desired.find((manifest) => manifest.kind === 'Job');
    const liveJob = desiredJob ? (liveByIdentity.get(identity(desiredJob)) as V1Job | undefined) : undefined;
    const migration = migrationState(liveJob);

    const outcome: ReconcileOutcome = { applied: 0, deleted: 0, statusWritten: false };
    const fresh = new Map<string, KubernetesObject>();
    for (const manifest of desired) {
      if (migration !== 'complete' && isHeldComponent(manifest)) continue;
      const current = liveByIdentity.get(identity(manifest));
      if (current?.metadata?.annotations?.[APPLIED_HASH_ANNOTATION] === manifest.metadata.annotations?.[APPLIED_HASH_ANNOTATION]) continue;
      fresh.set(identity(manifest), await this.client.apply(manifest));
      outcome.applied += 1;
    }

    const wanted = new Set(desired.map(identity));
    for (const object of live) {
      if (wanted.has(identity(object))) continue;
      await this.client.delete({ apiVersion: object.apiVersion ?? '', kind: object.kind ?? '', namespace, name: object.metadata?.name ?? '' });
      outcome.deleted += 1;
    }

    const observed: ObservedState = {
      deployments: this.deploymentsByComponent(flowgate, fresh, liveByIdentity),
      migration,
      ...(migration === 'complete' ? { migratedVersion: flowgate.spec.image.tag ?? flowgate.spec.version } : {}),
      problems,
    };
    const status = computeStatus(flowgate, observed, (this.options.now ?? (() => new Date()))());
    if (statusChanged(flowgate.status, status)) {
      await this.client.writeStatus(flowgate, status);
      outcome.statusWritten = true;
    }
    this.lastOutcome.set(key, outcome);
    if (outcome.applied > 0 || outcome.deleted > 0 || outcome.statusWritten) this.log('info', 'reconciled', { key, ...outcome });
    const ready = status.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True';
    return ready ? undefined : { requeueAfterMs: this.options.pendingRequeueMs };
  }

  private async servedKinds(flowgate: FlowgateResource, problems: string[]): Promise<Set<string>> {
    const served = new Set(MANAGED_KINDS.filter((kind) => !OPTIONAL_KINDS.has(kind.kind)).map((kind) => kind.kind));
    if (await this.client.servesKind('monitoring.coreos.com/v1', 'ServiceMonitor')) served.add('ServiceMonitor');
    if (await this.client.servesKind('keda.sh/v1alpha1', 'ScaledObject')) served.add('ScaledObject');
    else if (flowgate.spec.autoscaling.provider === 'keda') {
      problems.push('autoscaling.provider is keda but the cluster does not serve keda.sh/v1alpha1 ScaledObject');
    }
    return served;
  }

  /** Objects this Flowgate controls, found by label and confirmed by controller ownerReference. */
  private async listOwned(flowgate: FlowgateResource, served: Set<string>): Promise<KubernetesObject[]> {
    const selector = `${MANAGED_SELECTOR},${INSTANCE_LABEL}=${flowgate.metadata.name}`;
    const kinds: ManagedKind[] = MANAGED_KINDS.filter((kind) => served.has(kind.kind));
    const lists = await Promise.all(kinds.map((kind) => this.client.list(kind.apiVersion, kind.kind, flowgate.metadata.namespace, selector)));
    return lists.flatMap((list) => list.items).filter((object) =>
      (object.metadata?.ownerReferences ?? []).some((owner) => owner.controller === true && owner.uid === flowgate.metadata.uid),
    );
  }

  private deploymentsByComponent(
    flowgate: FlowgateResource,
    fresh: Map<string, KubernetesObject>,
    live: Map<string, KubernetesObject>,
  ): ObservedState['deployments'] {
    const byComponent: ObservedState['deployments'] = {};
    for (const component of COMPONENTS) {
      const id = `Deployment/${flowgate.metadata.name}-${component}`;
      const deployment = (fresh.get(id) ?? live.get(id)) as V1Deployment | undefined;
      if (deployment) byComponent[component] = deployment;
    }
    return byComponent;
  }
}
