// One Deployment per component, with probes, resources and a shutdown budget that lets each
// service finish in-flight work (the worker's active jobs above all) before it is killed.
import type { V1Container, V1Deployment, V1EnvVar, V1Probe } from '@kubernetes/client-node';
import { COMPONENTS, type ComponentName, type FlowgateResource } from '../flowgateResource.js';
import { renderConfigMap } from './config.js';
import { API_PORT, METRICS_PORTS, componentImage, componentName, objectMetadata, selectorLabels, shortHash } from './naming.js';
import { basePodSpec, connectionEnv, containerResources, extraEnv, type Connection } from './podTemplate.js';

const DEFAULT_GRACE_SECONDS = 30;
// Leave the runtime this much of the grace period after its own shutdown timeout, so node exits
// by itself instead of being SIGKILLed mid-cleanup.
const SHUTDOWN_MARGIN_SECONDS = 5;
// The api keeps serving this long after SIGTERM-triggering deletion, while endpoints and the
// ingress stop routing to it.
const API_PRESTOP_SLEEP_SECONDS = 5;

const CONNECTIONS: Record<ComponentName, readonly Connection[]> = {
  api: ['rabbitmq', 'redis', 'postgres'],
  worker: ['rabbitmq', 'redis', 'postgres'],
  processor: ['rabbitmq'],
  logger: ['rabbitmq', 'postgres'],
};

/**
 * What each readinessProbe asks. Readiness decides whether a Service sends the pod traffic, so it
 * fails only when the pod can serve none of it. The api serves several route families with
 * different dependencies: its /ready/serving fails only when PostgreSQL, which every data route
 * needs, is down; a RabbitMQ or Redis outage is answered route by route with 503s (its /ready, for
 * humans, still fails on any of them). The worker, processor and logger take no Service traffic,
 * and every job, RPC request or event batch they handle needs each dependency their /ready checks,
 * so /ready is exactly "can this pod work": it holds rollouts (maxUnavailable 0) and reports
 * Degraded during an outage, and the PodDisruptionBudgets' AlwaysAllow lets drains evict them anyway.
 */
export const READINESS_PATHS: Record<ComponentName, string> = {
  api: '/ready/serving',
  worker: '/ready',
  processor: '/ready',
  logger: '/ready',
};

function httpProbe(path: string, port: string, periodSeconds: number, failureThreshold: number): V1Probe {
  return { httpGet: { path, port }, periodSeconds, timeoutSeconds: 3, failureThreshold };
}

function graceSeconds(flowgate: FlowgateResource, component: ComponentName): number {
  return component === 'worker' ? flowgate.spec.components.worker.terminationGracePeriodSeconds : DEFAULT_GRACE_SECONDS;
}

function componentEnv(flowgate: FlowgateResource, component: ComponentName): V1EnvVar[] {
  const { components } = flowgate.spec;
  const shutdownMs = (graceSeconds(flowgate, component) - SHUTDOWN_MARGIN_SECONDS - (component === 'api' ? API_PRESTOP_SLEEP_SECONDS : 0)) * 1000;
  const own: Record<ComponentName, Record<string, string>> = {
    api: { PORT: String(API_PORT), BODY_LIMIT_BYTES: String(components.api.bodyLimitBytes) },
    worker: { METRICS_PORT: String(METRICS_PORTS.worker), WORKER_CONCURRENCY: String(components.worker.concurrency) },
    processor: { METRICS_PORT: String(METRICS_PORTS.processor), PROCESSOR_PREFETCH: String(components.processor.prefetch) },
    logger: {
      METRICS_PORT: String(METRICS_PORTS.logger),
      LOGGER_BATCH_SIZE: String(components.logger.batchSize),
      LOGGER_FLUSH_MS: String(components.logger.flushMs),
    },
  };
  return [
    ...connectionEnv(flowgate, CONNECTIONS[component]),
    ...extraEnv({ ...own[component], OTEL_SERVICE_NAME: `flowgate-${component}`, SHUTDOWN_TIMEOUT_MS: String(shutdownMs) }),
    ...extraEnv(components[component].env),
  ];
}

function container(flowgate: FlowgateResource, component: ComponentName): V1Container {
  const portName = component === 'api' ? 'http' : 'metrics';
  const port = component === 'api' ? API_PORT : METRICS_PORTS[component];
  return {
    name: component,
    image: componentImage(flowgate, component),
    ports: [{ name: portName, containerPort: port, protocol: 'TCP' }],
    env: componentEnv(flowgate, component),
    resources: containerResources(flowgate.spec.components[component].resources),
    startupProbe: httpProbe('/health', portName, 2, 30),
    livenessProbe: httpProbe('/health', portName, 10, 3),
    readinessProbe: httpProbe(READINESS_PATHS[component], portName, 5, 2),
    ...(component === 'api' ? { lifecycle: { preStop: { sleep: { seconds: API_PRESTOP_SLEEP_SECONDS } } } } : {}),
  };
}

/** Whether an autoscaler owns this component's replica count (then the Deployment must not set it). */
function isAutoscaled(flowgate: FlowgateResource, component: ComponentName): boolean {
  return (component === 'worker' || component === 'processor') && flowgate.spec.components[component].autoscaling.enabled;
}

export function renderDeployment(flowgate: FlowgateResource, component: ComponentName): V1Deployment {
  const metricsPort = component === 'api' ? API_PORT : METRICS_PORTS[component];
  const podSpec = basePodSpec(flowgate, container(flowgate, component), component);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMetadata(flowgate, componentName(flowgate, component), component),
    spec: {
      ...(isAutoscaled(flowgate, component) ? {} : { replicas: flowgate.spec.components[component].replicas }),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(flowgate, component) },
      // Never drop below the current capacity during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      template: {
        metadata: {
          labels: { ...objectMetadata(flowgate, '', component).labels },
          annotations: {
            // Rolls the pods when the shared configuration changes.
            'flowgate.dev/config-hash': shortHash(renderConfigMap(flowgate).data),
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(metricsPort),
            'prometheus.io/path': '/metrics',
          },
        },
        spec: { ...podSpec, terminationGracePeriodSeconds: graceSeconds(flowgate, component) },
      },
    },
  };
}

export function renderDeployments(flowgate: FlowgateResource): V1Deployment[] {
  return COMPONENTS.map((component) => renderDeployment(flowgate, component));
}
