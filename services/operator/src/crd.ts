// The CustomResourceDefinition for Flowgate. This module is the single source of the resource's
// schema: the chart's crds/ file is generated from it (`flowgate-operator crd`, checked by a test),
// and `render FILE` applies the same defaults the API server applies from it.
import { FLOWGATE_GROUP, FLOWGATE_KIND, FLOWGATE_PLURAL, FLOWGATE_VERSION } from './flowgateResource.js';

export interface JsonSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema;
  items?: JsonSchema;
  required?: string[];
  default?: unknown;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-validations'?: { rule: string; message: string }[];
}

// Kubernetes resource.Quantity syntax (e.g. 250m, 1, 512Mi, 1e3).
const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const quantity = (description: string): JsonSchema => ({
  description,
  'x-kubernetes-int-or-string': true,
  pattern: QUANTITY_PATTERN,
});

const quantities = (description: string): JsonSchema => ({
  type: 'object',
  description,
  properties: { cpu: quantity('CPU, e.g. 100m.'), memory: quantity('Memory, e.g. 256Mi.') },
});

const resources = (requests: { cpu: string; memory: string }, limits: { memory: string }): JsonSchema => ({
  type: 'object',
  description: 'Container resource requests and limits. No CPU limit by default, to avoid throttling Node.js.',
  default: { requests, limits },
  properties: {
    requests: quantities('Requested CPU and memory.'),
    limits: quantities('CPU and memory limits.'),
  },
});

const replicas = (fallback: number): JsonSchema => ({
  type: 'integer',
  description: 'Replicas when autoscaling is off (and the initial count when it is on).',
  minimum: 0,
  maximum: 100,
  default: fallback,
});

const extraEnv: JsonSchema = {
  type: 'object',
  description: 'Extra environment variables for this component, applied after the operator-managed ones.',
  additionalProperties: { type: 'string' },
  default: {},
};

const image: JsonSchema = {
  type: 'string',
  description: 'Full image reference for this component; overrides spec.image.',
  minLength: 1,
};

const componentProperties = (replicaDefault: number, requests: { cpu: string; memory: string }, memoryLimit: string) => ({
  replicas: replicas(replicaDefault),
  image,
  resources: resources(requests, { memory: memoryLimit }),
  env: extraEnv,
});

const autoscaling = (what: string, targetDefault: number): JsonSchema => ({
  type: 'object',
  description: `Scale on ${what}.`,
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    minReplicas: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
    maxReplicas: { type: 'integer', minimum: 1, maximum: 100, default: 10 },
    targetQueueDepth: {
      type: 'integer',
      description: `Average ${what} per replica the autoscaler aims for.`,
      minimum: 1,
      maximum: 100000,
      default: targetDefault,
    },
  },
  'x-kubernetes-validations': [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' }],
});

const secretRef = (description: string, defaultName: string, defaultKey: string): JsonSchema => ({
  type: 'object',
  description,
  default: {},
  properties: {
    name: { type: 'string', pattern: DNS_SUBDOMAIN_PATTERN, maxLength: 253, default: defaultName },
    key: { type: 'string', minLength: 1, default: defaultKey },
  },
});

const labels = (description: string, defaultLabels?: Record<string, string>): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: { type: 'string' },
  ...(defaultLabels ? { default: defaultLabels } : {}),
});

const peer = (what: string, namespaceDefault: Record<string, string>): JsonSchema => ({
  type: 'object',
  description: `Pods of ${what}.`,
  default: {},
  properties: {
    namespaceLabels: labels('Labels of their namespace; {} matches every namespace.', namespaceDefault),
    podLabels: labels('Labels of the pods in it; {} matches every pod there.', {}),
  },
});

// Standard ports of PostgreSQL, Redis, AMQP, AMQPS and OTLP (gRPC, HTTP).
const DEFAULT_EGRESS_PORTS = [5432, 6379, 5672, 5671, 4317, 4318];

const networkPolicy: JsonSchema = {
  type: 'object',
  description:
    'NetworkPolicies for the Flowgate pods: nothing reaches them but the ingress controller, Prometheus and declared api clients. ' +
    'Pods in the same namespace labelled flowgate.dev/api-client=<Flowgate name> may always call the api.',
  default: {},
  properties: {
    enabled: { type: 'boolean', default: true },
    ingressController: peer('the ingress controller, which alone serves the api to the outside', { 'kubernetes.io/metadata.name': 'ingress-nginx' }),
    monitoring: peer('Prometheus, which may scrape every metrics port', { 'kubernetes.io/metadata.name': 'monitoring' }),
    apiClients: {
      type: 'array',
      description: 'Further in-cluster callers of the api. A client without namespaceLabels is looked for in the Flowgate namespace.',
      maxItems: 16,
      default: [],
      items: {
        type: 'object',
        properties: {
          namespaceLabels: labels('Labels of the namespace the client runs in.'),
          podLabels: labels('Labels of the client pods; absent or {} matches every pod there.'),
        },
      },
    },
    egress: {
      type: 'object',
      description:
        'Restrict outgoing traffic to DNS and these TCP ports (any address: broker and database addresses sit in Secrets the operator never reads). ' +
        'Off by default; turn it on once ports match your connection URLs and OTLP endpoint.',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        ports: {
          type: 'array',
          items: { type: 'integer', minimum: 1, maximum: 65535 },
          maxItems: 32,
          default: DEFAULT_EGRESS_PORTS,
          'x-kubernetes-list-type': 'set',
        },
      },
    },
  },
};

const specSchema: JsonSchema = {
  type: 'object',
  description: 'One Flowgate installation: api, worker, processor and logger plus their wiring.',
  required: ['version'],
  properties: {
    version: {
      type: 'string',
      description: 'Flowgate version; the image tag unless spec.image.tag is set.',
      minLength: 1,
      maxLength: 128,
      pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$',
    },
    image: {
      type: 'object',
      default: {},
      properties: {
        repository: {
          type: 'string',
          description: 'Registry path the images live under; a component image is <repository>/<component>:<tag>.',
          minLength: 1,
          default: 'ghcr.io/flowgate',
        },
        tag: { type: 'string', description: 'Image tag; defaults to spec.version.', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$' },
        pullPolicy: { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'], default: 'IfNotPresent' },
        pullSecrets: {
          type: 'array',
          items: { type: 'string', pattern: DNS_SUBDOMAIN_PATTERN },
          maxItems: 16,
          default: [],
          'x-kubernetes-list-type': 'set',
        },
      },
    },
    logLevel: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: 'info' },
    rpcTimeoutMs: {
      type: 'integer',
      description: 'How long the api and the worker wait for a processor (RPC_TIMEOUT_MS); the Ingress read timeout is 20 s longer, so the api answers 504 itself.',
      minimum: 100,
      maximum: 300000,
      default: 10000,
    },
    components: {
      type: 'object',
      default: {},
      properties: {
        api: {
          type: 'object',
          default: {},
          properties: {
            ...componentProperties(2, { cpu: '100m', memory: '128Mi' }, '512Mi'),
            bodyLimitBytes: {
              type: 'integer',
              description: 'Largest request body the api accepts (BODY_LIMIT_BYTES); the Ingress enforces the same limit.',
              minimum: 1024,
              maximum: 67108864,
              default: 1048576,
            },
          },
        },
        worker: {
          type: 'object',
          default: {},
          properties: {
            ...componentProperties(1, { cpu: '100m', memory: '128Mi' }, '512Mi'),
            autoscaling: autoscaling('BullMQ waiting jobs', 20),
            concurrency: { type: 'integer', description: 'Jobs one worker runs at once.', minimum: 1, maximum: 256, default: 8 },
            terminationGracePeriodSeconds: {
              type: 'integer',
              description: 'Time a worker gets on shutdown to finish its active jobs.',
              minimum: 10,
              maximum: 3600,
              default: 120,
            },
          },
        },
        processor: {
          type: 'object',
          default: {},
          properties: {
            ...componentProperties(1, { cpu: '100m', memory: '128Mi' }, '512Mi'),
            autoscaling: autoscaling('data_queue ready messages', 50),
            prefetch: { type: 'integer', description: 'RabbitMQ prefetch per processor.', minimum: 1, maximum: 1000, default: 16 },
          },
        },
        logger: {
          type: 'object',
          default: {},
          properties: {
            ...componentProperties(1, { cpu: '50m', memory: '96Mi' }, '256Mi'),
            batchSize: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
            flushMs: { type: 'integer', minimum: 10, maximum: 60000, default: 1000 },
          },
        },
      },
    },
    autoscaling: {
      type: 'object',
      default: {},
      properties: {
        provider: {
          type: 'string',
          description: 'hpa: autoscaling/v2 HPAs on external metrics served by prometheus-adapter; keda: KEDA ScaledObjects.',
          enum: ['hpa', 'keda'],
          default: 'hpa',
        },
        scaleDownStabilizationSeconds: {
          type: 'integer',
          description: 'How long the queue must stay short before replicas are removed, so scaling does not flap.',
          minimum: 0,
          maximum: 3600,
          default: 300,
        },
        prometheusAddress: {
          type: 'string',
          description: 'Prometheus URL KEDA queries (keda provider only).',
          default: 'http://prometheus-operated.monitoring.svc:9090',
        },
      },
    },
    connections: {
      type: 'object',
      description: 'Secrets holding the connection URLs.',
      default: {},
      properties: {
        postgres: secretRef('Secret key holding DATABASE_URL (postgres://...).', 'flowgate-connections', 'DATABASE_URL'),
        redis: secretRef('Secret key holding REDIS_URL (redis://...).', 'flowgate-connections', 'REDIS_URL'),
        rabbitmq: secretRef('Secret key holding RABBITMQ_URL (amqp://...).', 'flowgate-connections', 'RABBITMQ_URL'),
      },
    },
    ingress: {
      type: 'object',
      default: {},
      properties: {
        enabled: { type: 'boolean', default: false },
        className: { type: 'string', default: 'nginx' },
        host: { type: 'string', description: 'Host name; empty matches every host.', default: '', maxLength: 253 },
        tls: {
          type: 'object',
          default: {},
          properties: {
            enabled: { type: 'boolean', default: false },
            secretName: { type: 'string', default: '' },
          },
        },
      },
    },
    observability: {
      type: 'object',
      default: {},
      properties: {
        serviceMonitor: {
          type: 'object',
          description: 'A prometheus-operator ServiceMonitor, created only when its CRD exists in the cluster.',
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$', default: '15s' },
          },
        },
        otlpEndpoint: { type: 'string', description: 'OTLP/HTTP endpoint for traces; empty disables export.', default: '' },
      },
    },
    podDisruptionBudget: {
      type: 'object',
      default: {},
      properties: { enabled: { type: 'boolean', default: true } },
    },
    networkPolicy,
  },
};

const conditionSchema: JsonSchema = {
  type: 'object',
  required: ['type', 'status', 'reason', 'lastTransitionTime'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer', minimum: 0 },
  },
};

const componentStatus: JsonSchema = {
  type: 'object',
  properties: { replicas: { type: 'integer' }, readyReplicas: { type: 'integer' } },
};

const statusSchema: JsonSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer' },
    version: { type: 'string' },
    migratedVersion: { type: 'string', description: 'Image tag whose migration Job last completed.' },
    components: {
      type: 'object',
      properties: { api: componentStatus, worker: componentStatus, processor: componentStatus, logger: componentStatus },
    },
    conditions: {
      type: 'array',
      items: conditionSchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
  },
};

export const flowgateOpenApiSchema: JsonSchema = {
  type: 'object',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
};

export const flowgateCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: {
    name: `${FLOWGATE_PLURAL}.${FLOWGATE_GROUP}`,
    labels: { 'app.kubernetes.io/name': 'flowgate', 'app.kubernetes.io/component': 'crd' },
  },
  spec: {
    group: FLOWGATE_GROUP,
    names: { kind: FLOWGATE_KIND, listKind: `${FLOWGATE_KIND}List`, plural: FLOWGATE_PLURAL, singular: 'flowgate', shortNames: ['fg'], categories: ['flowgate'] },
    scope: 'Namespaced',
    versions: [
      {
        name: FLOWGATE_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Version', type: 'string', jsonPath: '.spec.version' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: { openAPIV3Schema: flowgateOpenApiSchema },
      },
    ],
  },
} as const;
