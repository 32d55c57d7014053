// A prometheus-operator ServiceMonitor for all four Services.
import type { FlowgateResource } from '../flowgateResource.js';
import { INSTANCE_LABEL, objectMetadata, selectorLabels } from './naming.js';
import type { Manifest } from './manifest.js';

export function renderServiceMonitor(flowgate: FlowgateResource): Manifest {
  const { interval } = flowgate.spec.observability.serviceMonitor;
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: objectMetadata(flowgate, flowgate.metadata.name),
    spec: {
      selector: { matchLabels: selectorLabels(flowgate) },
      namespaceSelector: { matchNames: [flowgate.metadata.namespace] },
      // Copied onto every series so autoscaling can tell two Flowgates in one namespace apart.
      targetLabels: [INSTANCE_LABEL],
      endpoints: [
        // The metrics keep their own `service` label (flowgate-api, ...), which dashboards group by.
        { port: 'http', path: '/metrics', interval, honorLabels: true },
        { port: 'metrics', path: '/metrics', interval, honorLabels: true },
      ],
    },
  };
}
