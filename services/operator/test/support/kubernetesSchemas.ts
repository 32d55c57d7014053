// Offline validation of rendered objects against the Kubernetes OpenAPI schemas, using the
// precompiled JSON-schema validators in kubernetes-models (core API groups), plus
// @kubernetes-models/prometheus-operator and @kubernetes-models/keda for the two CRD kinds the
// operator may create, and ajv against our own CRD for Flowgate resources.
import { Ajv } from 'ajv';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Pod, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { flowgateCrd } from '../../src/crd.js';

interface Validatable {
  validate(): void;
}

type ModelConstructor = new (data: never) => Validatable;

const MODELS: Record<string, ModelConstructor> = {
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1/Job': Job,
  'coordination.k8s.io/v1/Lease': Lease,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'v1/ConfigMap': ConfigMap,
  'v1/Pod': Pod,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
};

// The API server ignores x-kubernetes-* and evaluates CEL itself; ajv only needs to skip them.
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validateFlowgate = ajv.compile(flowgateCrd.spec.versions[0].schema.openAPIV3Schema);

export interface KubernetesObjectLike {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown };
}

/** Problems with one object, or [] when it matches its kind's schema. Unknown kinds are a problem too. */
export function schemaProblems(document: unknown): string[] {
  const object = (typeof document === 'object' && document !== null ? document : {}) as KubernetesObjectLike;
  const id = `${String(object.apiVersion)}/${String(object.kind)}`;
  const label = `${id} ${String(object.metadata?.name)}`;
  if (id === 'flowgate.dev/v1alpha1/Flowgate') {
    return validateFlowgate(object) ? [] : (validateFlowgate.errors ?? []).map((error) => `${label}: ${error.instancePath} ${error.message}`);
  }
  const Model = MODELS[id];
  if (!Model) return [`${label}: no schema for this kind`];
  try {
    new Model(object as never).validate();
    return [];
  } catch (error) {
    return [`${label}: ${error instanceof Error ? error.message : String(error)}`];
  }
}
