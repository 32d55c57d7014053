// The Flowgate custom resource (flowgates.flowgate.dev/v1alpha1) as the operator sees it, and the
// defaulting that both the API server (through the CRD's schema defaults) and `render FILE` apply,
// so a manifest rendered from a file matches what the operator renders for the stored resource.

export const FLOWGATE_GROUP = 'flowgate.dev';
export const FLOWGATE_VERSION = 'v1alpha1';
export const FLOWGATE_API_VERSION = `${FLOWGATE_GROUP}/${FLOWGATE_VERSION}`;
export const FLOWGATE_KIND = 'Flowgate';
export const FLOWGATE_PLURAL = 'flowgates';

export const COMPONENTS = ['api', 'worker', 'processor', 'logger'] as const;
export type ComponentName = (typeof COMPONENTS)[number];
export const QUEUE_SCALED_COMPONENTS = ['worker', 'processor'] as const;
export type QueueScaledComponent = (typeof QUEUE_SCALED_COMPONENTS)[number];

export interface ResourceQuantities {
  cpu?: string;
  memory?: string;
}

export interface ResourceRequirements {
  requests?: ResourceQuantities;
  limits?: ResourceQuantities;
}

export interface ComponentAutoscaling {
  enabled: boolean;
  minReplicas: number;
  maxReplicas: number;
  /** Queue messages per replica the HPA aims for (worker: BullMQ waiting jobs; processor: RabbitMQ ready messages). */
  targetQueueDepth: number;
}

export interface ComponentSpec {
  replicas: number;
  /** Full image reference; overrides spec.image for this component (skaffold/Tilt set these). */
  image?: string;
  resources: ResourceRequirements;
  /** Extra environment variables, applied after the operator's own. */
  env: Record<string, string>;
}

export interface QueueScaledComponentSpec extends ComponentSpec {
  autoscaling: ComponentAutoscaling;
}

/** Pods matched by labels; absent namespaceLabels means the Flowgate's own namespace, {} matches everything. */
export interface PeerLabels {
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
}

export interface NetworkPolicySpec {
  enabled: boolean;
  /** Where the ingress controller runs; it alone (besides Prometheus and api clients) reaches the api. */
  ingressController: Required<PeerLabels>;
  /** Where Prometheus runs; it may scrape every component's metrics port. */
  monitoring: Required<PeerLabels>;
  /** Further callers of the api, besides pods labelled flowgate.dev/api-client=<name> in the same namespace. */
  apiClients: PeerLabels[];
  /** Off by default: broker and database addresses live in Secrets the operator never reads. */
  egress: { enabled: boolean; ports: number[] };
}

export interface ConnectionSecretRef {
  name: string;
  key: string;
}

export interface FlowgateSpec {
  version: string;
  image: { repository: string; tag?: string; pullPolicy: 'Always' | 'IfNotPresent' | 'Never'; pullSecrets: string[] };
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  /** How long the api and the worker wait for a processor's answer; the ingress outlasts it. */
  rpcTimeoutMs: number;
  components: {
    api: ComponentSpec & { bodyLimitBytes: number };
    worker: QueueScaledComponentSpec & { concurrency: number; terminationGracePeriodSeconds: number };
    processor: QueueScaledComponentSpec & { prefetch: number };
    logger: ComponentSpec & { batchSize: number; flushMs: number };
  };
  autoscaling: {
    provider: 'hpa' | 'keda';
    scaleDownStabilizationSeconds: number;
    /** Prometheus base URL KEDA queries; only used when provider is keda. */
    prometheusAddress: string;
  };
  connections: { postgres: ConnectionSecretRef; redis: ConnectionSecretRef; rabbitmq: ConnectionSecretRef };
  ingress: { enabled: boolean; className: string; host: string; tls: { enabled: boolean; secretName: string } };
  observability: {
    serviceMonitor: { enabled: boolean; interval: string };
    otlpEndpoint: string;
  };
  podDisruptionBudget: { enabled: boolean };
  networkPolicy: NetworkPolicySpec;
}

export interface FlowgateCondition {
  type: 'Ready' | 'Progressing' | 'Degraded';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface ComponentStatus {
  replicas: number;
  readyReplicas: number;
}

export interface FlowgateStatus {
  observedGeneration?: number;
  version?: string;
  migratedVersion?: string;
  components?: Partial<Record<ComponentName, ComponentStatus>>;
  conditions?: FlowgateCondition[];
}

export interface ObjectMetadata {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
}

/** A Flowgate as stored: spec fields may be missing when it was created without the CRD defaults (render FILE). */
export interface FlowgateResource {
  apiVersion: typeof FLOWGATE_API_VERSION;
  kind: typeof FLOWGATE_KIND;
  metadata: ObjectMetadata;
  spec: FlowgateSpec;
  status?: FlowgateStatus;
}
