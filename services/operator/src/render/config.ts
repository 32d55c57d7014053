// The ConfigMap with the settings every component shares; connection URLs stay in Secrets.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { FlowgateResource } from '../flowgateResource.js';
import { objectMetadata } from './naming.js';

export function configMapName(flowgate: FlowgateResource): string {
  return `${flowgate.metadata.name}-config`;
}

export function renderConfigMap(flowgate: FlowgateResource): V1ConfigMap {
  const { spec } = flowgate;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMetadata(flowgate, configMapName(flowgate)),
    data: {
      LOG_LEVEL: spec.logLevel,
      RPC_QUEUE: 'data_queue',
      RPC_TIMEOUT_MS: String(spec.rpcTimeoutMs),
      TASK_EVENTS_EXCHANGE: 'task_events',
      TASK_LOGS_QUEUE: 'task_logs',
      JOBS_QUEUE: 'data',
      BULLMQ_PREFIX: 'flowgate',
      ...(spec.observability.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: spec.observability.otlpEndpoint } : {}),
    },
  };
}
