// Queue-depth autoscaling: the worker follows BullMQ waiting jobs, the processor follows
// data_queue ready messages. Either autoscaling/v2 HPAs on external metrics (served by
// prometheus-adapter with the rules in k8s/monitoring/) or KEDA ScaledObjects.
import type { V2HorizontalPodAutoscaler, V2HorizontalPodAutoscalerBehavior } from '@kubernetes/client-node';
import { QUEUE_SCALED_COMPONENTS, type FlowgateResource, type QueueScaledComponent } from '../flowgateResource.js';
import { INSTANCE_LABEL, componentName, objectMetadata } from './naming.js';
import type { Manifest } from './manifest.js';

export const QUEUE_DEPTH_METRIC = 'flowgate_queue_depth';
// Prometheus' spelling of the Service label the ServiceMonitor copies onto every series.
export const INSTANCE_METRIC_LABEL = INSTANCE_LABEL.replace(/[./-]/g, '_');

const QUEUE_SERIES: Record<QueueScaledComponent, Record<string, string>> = {
  worker: { queue: 'data', broker: 'bullmq', state: 'waiting' },
  processor: { queue: 'data_queue', broker: 'rabbitmq', state: 'ready' },
};

function seriesLabels(flowgate: FlowgateResource, component: QueueScaledComponent): Record<string, string> {
  return { ...QUEUE_SERIES[component], [INSTANCE_METRIC_LABEL]: flowgate.metadata.name };
}

function behavior(flowgate: FlowgateResource): V2HorizontalPodAutoscalerBehavior {
  return {
    // React to a backlog at once, at most doubling (or +4 pods) every 30s.
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 100, periodSeconds: 30 },
        { type: 'Pods', value: 4, periodSeconds: 30 },
      ],
    },
    // Shrink only after the queue stayed short for the whole window, and then gradually.
    scaleDown: {
      stabilizationWindowSeconds: flowgate.spec.autoscaling.scaleDownStabilizationSeconds,
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }],
    },
  };
}

function renderHpa(flowgate: FlowgateResource, component: QueueScaledComponent): V2HorizontalPodAutoscaler {
  const { autoscaling } = flowgate.spec.components[component];
  const name = componentName(flowgate, component);
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMetadata(flowgate, name, component),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics: [
        {
          type: 'External',
          external: {
            metric: { name: QUEUE_DEPTH_METRIC, selector: { matchLabels: seriesLabels(flowgate, component) } },
            target: { type: 'AverageValue', averageValue: String(autoscaling.targetQueueDepth) },
          },
        },
      ],
      behavior: behavior(flowgate),
    },
  };
}

/** The PromQL KEDA runs; max() because every replica of a service exports the same queue depth. */
export function queueDepthQuery(flowgate: FlowgateResource, component: QueueScaledComponent): string {
  const matchers = Object.entries({ namespace: flowgate.metadata.namespace, ...seriesLabels(flowgate, component) })
    .map(([label, value]) => `${label}="${value}"`)
    .join(',');
  return `max(${QUEUE_DEPTH_METRIC}{${matchers}})`;
}

function renderScaledObject(flowgate: FlowgateResource, component: QueueScaledComponent): Manifest {
  const { autoscaling } = flowgate.spec.components[component];
  const name = componentName(flowgate, component);
  return {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: objectMetadata(flowgate, name, component),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicaCount: autoscaling.minReplicas,
      maxReplicaCount: autoscaling.maxReplicas,
      advanced: { horizontalPodAutoscalerConfig: { behavior: behavior(flowgate) } },
      triggers: [
        {
          type: 'prometheus',
          metadata: {
            serverAddress: flowgate.spec.autoscaling.prometheusAddress,
            query: queueDepthQuery(flowgate, component),
            threshold: String(autoscaling.targetQueueDepth),
          },
        },
      ],
    },
  };
}

export function renderAutoscalers(flowgate: FlowgateResource): (V2HorizontalPodAutoscaler | Manifest)[] {
  return QUEUE_SCALED_COMPONENTS.filter((component) => flowgate.spec.components[component].autoscaling.enabled).map((component) =>
    flowgate.spec.autoscaling.provider === 'keda' ? renderScaledObject(flowgate, component) : renderHpa(flowgate, component),
  );
}
