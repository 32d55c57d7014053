// Names, labels and owner references shared by every object rendered for one Flowgate.
import { createHash } from 'node:crypto';
import { FLOWGATE_API_VERSION, FLOWGATE_KIND, type ComponentName, type FlowgateResource } from '../flowgateResource.js';

export const FIELD_MANAGER = 'flowgate-operator';
export const MANAGED_BY = 'flowgate-operator';
export const INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const APPLIED_HASH_ANNOTATION = 'flowgate.dev/applied-hash';
/** Pods in a Flowgate's namespace carrying this label with the Flowgate's name may call its api (the helm test does). */
export const API_CLIENT_LABEL = 'flowgate.dev/api-client';
/** Selects everything this operator manages, across all Flowgates. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

export const METRICS_PORTS: Record<Exclude<ComponentName, 'api'>, number> = { worker: 9101, processor: 9102, logger: 9103 };
export const API_PORT = 8000;

export function componentName(flowgate: FlowgateResource, component: ComponentName): string {
  return `${flowgate.metadata.name}-${component}`;
}

export function selectorLabels(flowgate: FlowgateResource, component?: ComponentName): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'flowgate',
    [INSTANCE_LABEL]: flowgate.metadata.name,
    ...(component ? { [COMPONENT_LABEL]: component } : {}),
  };
}

/** Every pod the operator runs for one Flowgate (components and migration), and nothing a Helm release labels alike. */
export function managedPodLabels(flowgate: FlowgateResource): Record<string, string> {
  return { [INSTANCE_LABEL]: flowgate.metadata.name, [MANAGED_BY_LABEL]: MANAGED_BY };
}

export function commonLabels(flowgate: FlowgateResource, component?: ComponentName | 'migration'): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'flowgate',
    [INSTANCE_LABEL]: flowgate.metadata.name,
    ...(component ? { [COMPONENT_LABEL]: component } : {}),
    'app.kubernetes.io/part-of': 'flowgate',
    'app.kubernetes.io/version': imageTag(flowgate),
    [MANAGED_BY_LABEL]: MANAGED_BY,
  };
}

export interface RenderedMetadata {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }[];
}

export function objectMetadata(flowgate: FlowgateResource, name: string, component?: ComponentName | 'migration'): RenderedMetadata {
  const { uid } = flowgate.metadata;
  return {
    name,
    namespace: flowgate.metadata.namespace,
    labels: commonLabels(flowgate, component),
    // A resource rendered from a file has no uid yet; the operator always has one.
    ...(uid
      ? { ownerReferences: [{ apiVersion: FLOWGATE_API_VERSION, kind: FLOWGATE_KIND, name: flowgate.metadata.name, uid, controller: true, blockOwnerDeletion: true }] }
      : {}),
  };
}

export function imageTag(flowgate: FlowgateResource): string {
  return flowgate.spec.image.tag ?? flowgate.spec.version;
}

export function componentImage(flowgate: FlowgateResource, component: ComponentName): string {
  return flowgate.spec.components[component].image ?? `${flowgate.spec.image.repository}/${component}:${imageTag(flowgate)}`;
}

/** Short, stable digest of a JSON-serialisable value (key order matters; render builds objects deterministically). */
export function shortHash(value: unknown, length = 10): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, length);
}
