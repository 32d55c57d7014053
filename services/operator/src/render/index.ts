// Everything the operator applies for one Flowgate, in apply order, each stamped with a digest
// of its own content so an unchanged object need not be sent again.
import type { FlowgateResource } from '../flowgateResource.js';
import { renderAutoscalers } from './autoscaling.js';
import { renderConfigMap } from './config.js';
import { renderDeployments } from './deployments.js';
import { renderDisruptionBudgets } from './disruptionBudgets.js';
import { renderIngress } from './ingress.js';
import type { Manifest } from './manifest.js';
import { renderMigrationJob } from './migration.js';
import { APPLIED_HASH_ANNOTATION, shortHash } from './naming.js';
import { renderNetworkPolicies } from './networkPolicies.js';
import { renderServiceMonitor } from './serviceMonitor.js';
import { renderServices } from './services.js';

export type { Manifest } from './manifest.js';

/** Optional APIs the cluster may lack; the operator discovers them, `render` assumes them. */
export interface ClusterCapabilities {
  serviceMonitors: boolean;
}

export interface ManagedKind {
  apiVersion: string;
  kind: string;
}

/** Every kind the operator may create, so it can find (and prune) what it created earlier. */
export const MANAGED_KINDS: readonly ManagedKind[] = [
  { apiVersion: 'v1', kind: 'ConfigMap' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' },
];

// JSON round trip: drops undefined fields and detaches the result from the typed builders.
function asManifest(object: object): Manifest {
  return JSON.parse(JSON.stringify(object)) as Manifest;
}

function stampAppliedHash(manifest: Manifest): Manifest {
  const hash = shortHash(manifest, 16);
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, [APPLIED_HASH_ANNOTATION]: hash } } };
}

export function renderManifests(flowgate: FlowgateResource, capabilities: ClusterCapabilities): Manifest[] {
  const { spec } = flowgate;
  const objects: object[] = [
    renderConfigMap(flowgate),
    // Before any pod, so none starts unprotected.
    ...(spec.networkPolicy.enabled ? renderNetworkPolicies(flowgate) : []),
    ...renderServices(flowgate),
    renderMigrationJob(flowgate),
    ...renderDeployments(flowgate),
    ...renderAutoscalers(flowgate),
    ...(spec.podDisruptionBudget.enabled ? renderDisruptionBudgets(flowgate) : []),
    ...(spec.ingress.enabled ? [renderIngress(flowgate)] : []),
    ...(spec.observability.serviceMonitor.enabled && capabilities.serviceMonitors ? [renderServiceMonitor(flowgate)] : []),
  ];
  return objects.map((object) => stampAppliedHash(asManifest(object)));
}
export { APPLIED_HASH_ANNOTATION, COMPONENT_LABEL, FIELD_MANAGER, INSTANCE_LABEL, MANAGED_SELECTOR } from './naming.js';
