// The pod pieces every Flowgate container shares: non-root, read-only root filesystem, connection
// URLs from Secrets, shared settings from the ConfigMap.
import type { V1Container, V1EnvVar, V1PodSpec, V1ResourceRequirements } from '@kubernetes/client-node';
import type { ComponentName, ConnectionSecretRef, FlowgateResource, ResourceRequirements } from '../flowgateResource.js';
import { configMapName } from './config.js';

// The image's `node` user (see Dockerfile).
const NODE_USER_ID = 1000;

export type Connection = 'postgres' | 'redis' | 'rabbitmq';
const CONNECTION_ENV: Record<Connection, string> = { postgres: 'DATABASE_URL', redis: 'REDIS_URL', rabbitmq: 'RABBITMQ_URL' };

function secretEnv(variable: string, ref: ConnectionSecretRef): V1EnvVar {
  return { name: variable, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } };
}

export function connectionEnv(flowgate: FlowgateResource, connections: readonly Connection[]): V1EnvVar[] {
  return connections.map((connection) => secretEnv(CONNECTION_ENV[connection], flowgate.spec.connections[connection]));
}

export function extraEnv(variables: Record<string, string>): V1EnvVar[] {
  return Object.entries(variables)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
}

/** Quantities may arrive as integers (int-or-string in the CRD); the pod spec wants strings. */
export function containerResources(resources: ResourceRequirements): V1ResourceRequirements {
  const asStrings = (quantities: ResourceRequirements['requests']): Record<string, string> | undefined =>
    quantities && Object.keys(quantities).length > 0
      ? Object.fromEntries(Object.entries(quantities).map(([name, quantity]) => [name, String(quantity)]))
      : undefined;
  const requests = asStrings(resources.requests);
  const limits = asStrings(resources.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

export const restrictedContainerSecurityContext: V1Container['securityContext'] = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
};

export function basePodSpec(flowgate: FlowgateResource, container: V1Container, component: ComponentName | 'migration'): V1PodSpec {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NODE_USER_ID,
      runAsGroup: NODE_USER_ID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(flowgate.spec.image.pullSecrets.length > 0
      ? { imagePullSecrets: flowgate.spec.image.pullSecrets.map((name) => ({ name })) }
      : {}),
    containers: [
      {
        ...container,
        imagePullPolicy: flowgate.spec.image.pullPolicy,
        envFrom: [{ configMapRef: { name: configMapName(flowgate) } }],
        securityContext: restrictedContainerSecurityContext,
        // Node writes nothing else to disk, but libraries may use the temp dir.
        volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
      },
    ],
    volumes: [{ name: 'tmp', emptyDir: { sizeLimit: component === 'migration' ? '16Mi' : '64Mi' } }],
  };
}
